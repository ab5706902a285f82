from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from guanxi.activities.models import Notification, Task
from guanxi.activities.services import notify, task_create
from guanxi.core.errors import DomainError

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_task_create_refuses_an_unknown_priority_and_creates_nothing(rep: Any) -> None:
    with pytest.raises(DomainError) as error:
        task_create(actor=rep, owner=rep, title="Call", priority="whenever")

    assert error.value.field == "priority"
    assert Task.objects.count() == 0


def test_task_create_for_someone_else_needs_the_sales_create_permission(
    make_user: Any, teams: dict[str, Any]
) -> None:
    agent = make_user("service-agent", teams["service"])
    other = make_user("sales-rep", teams["service"])

    with pytest.raises(PermissionDenied):
        task_create(actor=agent, owner=other, title="Not mine to give")

    assert Task.objects.count() == 0


def test_notify_with_email_stores_the_notification_and_mails_the_user(
    rep: Any, smtp_server: Any
) -> None:
    notification = notify(user=rep, title="Tier changed", body="Gold now", url="/x/", email=True)

    messages = smtp_server.wait_for(1)
    assert Notification.objects.get(pk=notification.pk).emailed_at is not None
    assert [m["To"] for m in messages] == ["rep@example.com"]
    assert messages[0]["Subject"] == "Tier changed"
    assert "Gold now" in messages[0].get_content()
