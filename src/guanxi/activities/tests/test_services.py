"""Task commands: create, edit with a version, complete, snooze, bulk complete, and notify."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from guanxi.activities.models import Notification, Task
from guanxi.activities.services import (
    notify,
    task_complete,
    task_create,
    task_snooze,
    task_update,
    tasks_complete,
)
from guanxi.activities.tests.conftest import local
from guanxi.core import events
from guanxi.core.errors import DomainError, StaleEdit

pytestmark = pytest.mark.django_db


def test_task_create_keeps_the_customer_and_the_related_record(
    rep: Any, make_customer: Any
) -> None:
    customer = make_customer(rep)
    due = timezone.now() + dt.timedelta(days=1)

    task = task_create(
        actor=rep,
        owner=rep,
        title="Call back",
        due_at=due,
        priority="high",
        customer=customer,
        related=customer,
        source="lead",
    )

    stored = Task.objects.get(pk=task.pk)
    assert (stored.title, stored.priority, stored.status, stored.source) == (
        "Call back",
        "high",
        "open",
        "lead",
    )
    assert stored.customer == customer
    assert stored.related == customer
    assert stored.related_type == ContentType.objects.get_for_model(customer)
    assert stored.team == rep.team
    assert stored.due_at == due


def test_an_all_day_task_is_due_at_midnight_of_its_day(rep: Any) -> None:
    task = task_create(
        actor=rep, owner=rep, title="Visit", due_at=local(2026, 12, 3, 15, 30), all_day=True
    )

    assert task.due_at == local(2026, 12, 3)
    assert task.all_day is True


def test_task_create_refuses_an_unknown_priority_and_creates_nothing(rep: Any) -> None:
    with pytest.raises(DomainError) as error:
        task_create(actor=rep, owner=rep, title="Call", priority="whenever")

    assert error.value.field == "priority"
    assert Task.objects.count() == 0


def test_task_create_refuses_a_blank_title(rep: Any) -> None:
    with pytest.raises(DomainError) as error:
        task_create(actor=rep, owner=rep, title="   ")

    assert error.value.field == "title"
    assert Task.objects.count() == 0


def test_task_create_refuses_a_customer_outside_the_actors_scope(
    rep: Any, make_user: Any, teams: dict[str, Any], make_customer: Any
) -> None:
    foreign = make_customer(make_user("sales-rep", teams["other"]))

    with pytest.raises(DomainError) as error:
        task_create(actor=rep, owner=rep, title="Peek", customer=foreign)

    assert error.value.field == "customer"
    assert Task.objects.count() == 0


def test_task_create_for_someone_else_needs_the_sales_create_permission(
    make_user: Any, teams: dict[str, Any]
) -> None:
    agent = make_user("service-agent", teams["service"])
    other = make_user("sales-rep", teams["service"])

    with pytest.raises(PermissionDenied):
        task_create(actor=agent, owner=other, title="Not mine to give")

    assert Task.objects.count() == 0


def test_a_user_without_the_sales_module_may_still_keep_their_own_tasks(
    make_user: Any, teams: dict[str, Any]
) -> None:
    agent = make_user("service-agent", teams["service"])

    task = task_create(actor=agent, owner=agent, title="Call the caller back")

    assert task_complete(actor=agent, task=task).status == "done"


def test_task_create_publishes_task_created_after_commit(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[dict[str, Any]] = []

    def handler(**payload: Any) -> None:
        seen.append(payload)

    events.subscribe("task.created", handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            task = task_create(actor=rep, owner=rep, title="Quote")
    finally:
        events.unsubscribe("task.created", handler)

    assert seen == [{"task_id": task.pk, "owner_id": rep.pk}]


def test_a_stale_edit_is_refused_and_changes_nothing(rep: Any, make_task: Any) -> None:
    task = make_task(rep, title="Original")
    task_update(actor=rep, task=task, version=1, title="First editor")

    with pytest.raises(StaleEdit):
        task_update(actor=rep, task=task, version=1, title="Second editor")

    stored = Task.objects.get(pk=task.pk)
    assert (stored.title, stored.version) == ("First editor", 2)


def test_editing_a_teammates_task_needs_the_sales_edit_permission(
    make_user: Any, teams: dict[str, Any], make_task: Any
) -> None:
    agent = make_user("service-agent", teams["service"])
    colleague = make_user("service-agent", teams["service"])
    task = make_task(colleague, title="Theirs")

    with pytest.raises(PermissionDenied):
        task_update(actor=agent, task=task, title="Mine now")

    assert Task.objects.get(pk=task.pk).title == "Theirs"


def test_changing_the_reminder_time_rearms_a_sent_reminder(rep: Any, make_task: Any) -> None:
    task = make_task(rep, remind_at=timezone.now())
    Task.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
    task.refresh_from_db()

    task_update(actor=rep, task=task, remind_at=timezone.now() + dt.timedelta(hours=2))

    assert Task.objects.get(pk=task.pk).reminded_at is None


def test_completing_publishes_task_completed_and_records_the_time(
    rep: Any, make_task: Any, django_capture_on_commit_callbacks: Any
) -> None:
    task = make_task(rep)
    seen: list[dict[str, Any]] = []

    def handler(**payload: Any) -> None:
        seen.append(payload)

    events.subscribe("task.completed", handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            done = task_complete(actor=rep, task=task, version=1)
    finally:
        events.unsubscribe("task.completed", handler)

    assert (done.status, done.version) == ("done", 2)
    assert done.completed_at is not None
    assert seen == [{"task_id": task.pk, "owner_id": rep.pk}]


def test_snoozing_moves_the_due_time_and_the_reminder(rep: Any, make_task: Any) -> None:
    task = make_task(rep, due_in=-2, remind_at=timezone.now() - dt.timedelta(hours=3))
    Task.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
    until = timezone.now() + dt.timedelta(days=1)

    task_snooze(actor=rep, task=Task.objects.get(pk=task.pk), until=until)

    stored = Task.objects.get(pk=task.pk)
    assert (stored.due_at, stored.remind_at, stored.reminded_at) == (until, until, None)


def test_bulk_complete_touches_only_the_actors_own_open_tasks(
    rep: Any, make_user: Any, teams: dict[str, Any], make_task: Any
) -> None:
    mine = [make_task(rep, title=f"Mine {n}") for n in range(3)]
    teammate = make_task(make_user("sales-rep", teams["east"]), title="Teammate's")

    changed = tasks_complete(actor=rep, ids=[t.pk for t in [*mine, teammate]])

    assert changed == 3
    assert sorted(Task.objects.filter(status="done").values_list("pk", flat=True)) == sorted(
        t.pk for t in mine
    )


def test_notify_with_email_stores_the_notification_and_mails_the_user(
    rep: Any, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            user=rep, title="Tier changed", body="Gold now", url="/x/", email=True
        )

    messages = smtp_server.wait_for(1)
    assert Notification.objects.get(pk=notification.pk).emailed_at is not None
    assert [m["To"] for m in messages] == ["rep@example.com"]
    assert messages[0]["Subject"] == "Tier changed"
    assert "Gold now" in messages[0].get_content()


def test_notify_without_email_sends_no_mail(rep: Any, smtp_server: Any) -> None:
    notify(user=rep, title="Quiet")

    assert Notification.objects.filter(user=rep, title="Quiet").count() == 1
    assert smtp_server.wait_for(1, timeout=0.3) == []


def test_a_bare_due_date_from_another_domain_makes_an_all_day_task(rep: Any) -> None:
    task = task_create(
        actor=None, owner=rep, title="Instalment due", due_at=dt.date(2026, 12, 3), source="quote"
    )

    assert (task.due_at, task.all_day, task.source) == (local(2026, 12, 3), True, "quote")
