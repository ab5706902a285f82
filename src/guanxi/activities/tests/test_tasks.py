"""The reminder job: due reminders become a notification and a mail, once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from celery.schedules import crontab

from guanxi.activities.models import Notification, Task
from guanxi.activities.services import reminders_send
from guanxi.activities.tasks import reminders_send_task
from guanxi.activities.tests.conftest import local
from guanxi.core.tasks import PERIODIC

pytestmark = pytest.mark.django_db

NINE = local(2026, 12, 1, 9, 0)


def test_the_reminder_job_runs_every_minute() -> None:
    job = PERIODIC["activities.reminders"]

    assert job.task is reminders_send_task
    assert job.schedule == crontab(minute="*")


def test_a_due_reminder_notifies_in_the_app_and_by_mail(
    rep: Any, make_task: Any, make_customer: Any, smtp_server: Any
) -> None:
    customer = make_customer(rep, name="王芳")
    task = make_task(rep, title="Call Wang Fang", due_at=NINE, remind_at=NINE, customer=customer)

    with time_machine.travel(NINE + dt.timedelta(seconds=30), tick=False):
        sent = reminders_send_task.run()

    assert sent == 1
    notification = Notification.objects.get(user=rep)
    assert notification.title == "Reminder: Call Wang Fang"
    assert "王芳" in notification.body
    assert notification.url == f"/activities/tasks/{task.pk}/"
    assert notification.emailed_at is not None
    messages = smtp_server.wait_for(1)
    assert [(m["To"], m["Subject"]) for m in messages] == [
        ("rep@example.com", "Reminder: Call Wang Fang")
    ]
    assert Task.objects.get(pk=task.pk).reminded_at is not None


def test_a_reminder_not_yet_due_sends_nothing(rep: Any, make_task: Any, smtp_server: Any) -> None:
    make_task(rep, remind_at=NINE)

    with time_machine.travel(NINE - dt.timedelta(minutes=1), tick=False):
        sent = reminders_send()

    assert sent == 0
    assert Notification.objects.count() == 0
    assert smtp_server.wait_for(1, timeout=0.3) == []
    assert Task.objects.get().reminded_at is None


def test_running_the_job_twice_reminds_once(rep: Any, make_task: Any, smtp_server: Any) -> None:
    make_task(rep, remind_at=NINE)

    with time_machine.travel(NINE + dt.timedelta(minutes=1), tick=False):
        first = reminders_send()
        second = reminders_send()

    assert (first, second) == (1, 0)
    assert Notification.objects.count() == 1
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1


def test_done_and_cancelled_tasks_are_not_reminded(
    rep: Any, make_task: Any, smtp_server: Any
) -> None:
    make_task(rep, title="Done", remind_at=NINE)
    make_task(rep, title="Cancelled", remind_at=NINE)
    Task.objects.filter(title="Done").update(status="done")
    Task.objects.filter(title="Cancelled").update(status="cancelled")

    with time_machine.travel(NINE + dt.timedelta(minutes=1), tick=False):
        sent = reminders_send()

    assert sent == 0
    assert Notification.objects.count() == 0


def test_reminders_go_out_in_batches_with_one_notification_each(
    rep: Any, make_user: Any, teams: dict[str, Any], make_task: Any, smtp_server: Any
) -> None:
    other = make_user("sales-rep", teams["north"], email="north@example.com")
    for n in range(5):
        make_task(rep, title=f"Rep {n}", remind_at=NINE - dt.timedelta(minutes=n))
    make_task(other, title="North", remind_at=NINE)

    with time_machine.travel(NINE, tick=False):
        sent = reminders_send(batch_size=2)

    assert sent == 6
    assert Notification.objects.filter(user=rep).count() == 5
    assert Notification.objects.filter(user=other).count() == 1
    recipients = sorted(m["To"] for m in smtp_server.wait_for(6))
    assert recipients == ["north@example.com"] + ["rep@example.com"] * 5


def test_a_user_without_an_email_address_still_gets_the_in_app_reminder(
    make_user: Any, teams: dict[str, Any], make_task: Any, smtp_server: Any
) -> None:
    silent = make_user("sales-rep", teams["east"], email="")
    make_task(silent, remind_at=NINE)

    with time_machine.travel(NINE, tick=False):
        sent = reminders_send()

    assert sent == 1
    assert Notification.objects.get(user=silent).emailed_at is None
    assert smtp_server.wait_for(1, timeout=0.3) == []
