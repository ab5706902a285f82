"""API schemas of activities: types and lengths here, rules in the services."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from guanxi.activities.models import Task
from guanxi.activities.selectors import NotificationRow
from guanxi.core.schemas import InputSchema

PriorityName = Literal["low", "normal", "high", "urgent"]
RelatedType = Literal["leads.lead", "sales.opportunity", "service.ticket"]


class Ref(Schema):
    id: int
    name: str


class RelatedRef(Schema):
    type: str
    id: int


class TaskIn(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    due_at: dt.datetime | None = None
    all_day: bool = False
    remind_at: dt.datetime | None = None
    priority: PriorityName = "normal"
    owner_id: int | None = None
    customer_id: int | None = None
    related_type: RelatedType | None = None
    related_id: int | None = None


class TaskPatch(InputSchema):
    version: int
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    due_at: dt.datetime | None = None
    all_day: bool | None = None
    remind_at: dt.datetime | None = None
    priority: PriorityName | None = None
    owner_id: int | None = None
    customer_id: int | None = None


class VersionIn(InputSchema):
    version: int | None = None


class SnoozeIn(InputSchema):
    until: dt.datetime
    version: int | None = None


class IdsIn(InputSchema):
    ids: list[int] = Field(min_length=1, max_length=1000)


class TaskQuery(Schema):
    status: Literal["open", "done", "cancelled", ""] = "open"
    due: Literal["overdue", "today", "week", "none", ""] = ""
    priority: PriorityName | Literal[""] = ""
    related: Literal[
        "customer", "none", "leads.lead", "sales.opportunity", "service.ticket", ""
    ] = ""
    customer_id: int | None = None
    owner: str = Field("me", max_length=20, pattern=r"^(me|\d*)$")
    q: str = Field("", max_length=100)
    sort: Literal["due", "-due", "priority", "-created"] = "due"
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class TaskOut(Schema):
    id: int
    title: str
    description: str
    status: str
    priority: str
    due_at: dt.datetime | None
    all_day: bool
    remind_at: dt.datetime | None
    reminded_at: dt.datetime | None
    completed_at: dt.datetime | None
    owner: Ref
    customer: Ref | None
    related: RelatedRef | None
    source: str
    created_at: dt.datetime
    version: int

    @staticmethod
    def from_task(task: Task) -> TaskOut:
        related_type = task.related_type
        return TaskOut(
            id=task.pk,
            title=task.title,
            description=task.description,
            status=task.status,
            priority=task.priority,
            due_at=task.due_at,
            all_day=task.all_day,
            remind_at=task.remind_at,
            reminded_at=task.reminded_at,
            completed_at=task.completed_at,
            owner=Ref(id=task.owner_id, name=str(task.owner)),
            customer=Ref(id=task.customer.pk, name=task.customer.name) if task.customer else None,
            related=RelatedRef(
                type=f"{related_type.app_label}.{related_type.model}", id=task.related_id
            )
            if related_type is not None and task.related_id is not None
            else None,
            source=task.source,
            created_at=task.created_at,
            version=task.version,
        )


class NotificationOut(Schema):
    kind: Literal["activity", "grading"]
    id: int
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def from_row(row: NotificationRow) -> NotificationOut:
        return NotificationOut(
            kind=row.kind,  # type: ignore[arg-type]  # one of the two kinds by construction
            id=row.pk,
            title=row.title,
            body=row.body,
            url=row.url,
            created_at=row.created_at,
            read_at=row.read_at,
        )


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_before: dt.datetime | None
    unread: int


class CountOut(Schema):
    count: int


class CalendarTokenOut(Schema):
    url: str
    prefix: str
    created_at: dt.datetime


class FollowUpOut(Schema):
    id: int
    customer: Ref
    due_on: dt.date
    kind: str
    reason: str


class MyDayOut(Schema):
    today: dt.date
    overdue: list[TaskOut]
    due_today: list[TaskOut]
    follow_ups: list[FollowUpOut]
