"""Activities API: tasks (list, create, read, edit, complete, reopen, cancel, snooze, bulk
complete), notifications (this app's and grading's) and the calendar feed token."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.accounts.models import User
from guanxi.activities import selectors, services
from guanxi.activities.schemas import (
    CalendarTokenOut,
    CountOut,
    FollowUpOut,
    IdsIn,
    MyDayOut,
    NotificationOut,
    NotificationPage,
    SnoozeIn,
    TaskIn,
    TaskOut,
    TaskPatch,
    TaskQuery,
    VersionIn,
)
from guanxi.activities.schemas import Ref as RefOut
from guanxi.core.errors import DomainError
from guanxi.core.idempotency import idempotent
from guanxi.core.pagination import keyset_page
from guanxi.core.schemas import PageOut

router = Router(tags=["activities"])


def _owner(actor: User, owner_id: int | None) -> User:
    if owner_id is None or owner_id == actor.pk:
        return actor
    from guanxi.customers.selectors import assignable_users

    found = assignable_users(actor=actor).filter(pk=owner_id).first()
    if found is None:
        raise DomainError(_("Choose an owner you may give tasks to."), field="owner_id")
    return found


def _customer(actor: User, customer_id: int | None) -> Any:
    if customer_id is None:
        return None
    from guanxi.customers.selectors import customer_get

    try:
        return customer_get(actor=actor, pk=customer_id)
    except Http404 as error:
        raise DomainError(_("Choose a customer you can see."), field="customer_id") from error


def _task_out(actor: User, pk: int) -> TaskOut:
    return TaskOut.from_task(selectors.task_get(actor=actor, pk=pk))


# --- tasks ----------------------------------------------------------------------------------


@router.get("/tasks", response=PageOut[TaskOut], summary="Tasks in the actor's scope, filtered")
def list_tasks(request: HttpRequest, query: Query[TaskQuery]) -> PageOut[TaskOut]:
    actor = api_actor(request)
    filters = selectors.TaskFilters(
        status=query.status,
        due=query.due,
        priority=query.priority,
        related=query.related,
        customer_id=query.customer_id,
        owner=query.owner,
        q=query.q,
        sort=query.sort,
    )
    page = keyset_page(
        selectors.task_list(actor=actor, filters=filters),
        cursor=query.cursor,
        limit=query.limit,
        ordering=filters.ordering,
    )
    return PageOut[TaskOut](
        items=[TaskOut.from_task(t) for t in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post(
    "/tasks",
    response={201: TaskOut},
    summary="Create a task (send Idempotency-Key to make retries safe)",
)
def create_task(request: HttpRequest, payload: TaskIn) -> Status[Any]:
    actor = api_actor(request)

    def run() -> tuple[int, Any]:
        related = None
        if (payload.related_type is None) != (payload.related_id is None):
            raise DomainError(
                _("Give both the related record's type and its id."), field="related_id"
            )
        if payload.related_type is not None and payload.related_id is not None:
            try:
                related = selectors.related_get(
                    actor=actor, label=payload.related_type, pk=payload.related_id
                )
            except Http404 as error:
                raise DomainError(_("Choose a record you can see."), field="related_id") from error
        task = services.task_create(
            actor=actor,
            owner=_owner(actor, payload.owner_id),
            title=payload.title,
            description=payload.description,
            due_at=payload.due_at,
            all_day=payload.all_day,
            remind_at=payload.remind_at,
            priority=payload.priority,
            customer=_customer(actor, payload.customer_id),
            related=related,
        )
        return 201, _task_out(actor, task.pk).model_dump(mode="json")

    status, body = idempotent(request, run)
    return Status(status, body)


@router.post(
    "/tasks/complete", response=CountOut, summary="Complete many tasks; returns how many changed"
)
def complete_tasks(request: HttpRequest, payload: IdsIn) -> CountOut:
    return CountOut(count=services.tasks_complete(actor=api_actor(request), ids=payload.ids))


@router.get("/tasks/{int:task_id}", response=TaskOut)
def get_task(request: HttpRequest, task_id: int) -> TaskOut:
    return _task_out(api_actor(request), task_id)


@router.patch("/tasks/{int:task_id}", response=TaskOut, summary="Change a task (send its version)")
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch) -> TaskOut:
    actor = api_actor(request)
    task = selectors.task_get(actor=actor, pk=task_id)
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True, exclude={"version"})
    if "owner_id" in changes:
        changes["owner"] = _owner(actor, changes.pop("owner_id"))
    if "customer_id" in changes:
        changes["customer"] = _customer(actor, changes.pop("customer_id"))
    if changes.get("title") is None:
        changes.pop("title", None)
    if changes.get("priority") is None:
        changes.pop("priority", None)
    if changes.get("all_day") is None:
        changes.pop("all_day", None)
    if "description" in changes and changes["description"] is None:
        changes["description"] = ""
    services.task_update(actor=actor, task=task, version=payload.version, **changes)
    return _task_out(actor, task_id)


@router.post("/tasks/{int:task_id}/complete", response=TaskOut)
def complete_task(request: HttpRequest, task_id: int, payload: VersionIn) -> TaskOut:
    actor = api_actor(request)
    task = selectors.task_get(actor=actor, pk=task_id)
    services.task_complete(actor=actor, task=task, version=payload.version)
    return _task_out(actor, task_id)


@router.post("/tasks/{int:task_id}/reopen", response=TaskOut)
def reopen_task(request: HttpRequest, task_id: int, payload: VersionIn) -> TaskOut:
    actor = api_actor(request)
    task = selectors.task_get(actor=actor, pk=task_id)
    services.task_reopen(actor=actor, task=task, version=payload.version)
    return _task_out(actor, task_id)


@router.post("/tasks/{int:task_id}/cancel", response=TaskOut)
def cancel_task(request: HttpRequest, task_id: int, payload: VersionIn) -> TaskOut:
    actor = api_actor(request)
    task = selectors.task_get(actor=actor, pk=task_id)
    services.task_cancel(actor=actor, task=task, version=payload.version)
    return _task_out(actor, task_id)


@router.post("/tasks/{int:task_id}/snooze", response=TaskOut)
def snooze_task(request: HttpRequest, task_id: int, payload: SnoozeIn) -> TaskOut:
    actor = api_actor(request)
    task = selectors.task_get(actor=actor, pk=task_id)
    services.task_snooze(actor=actor, task=task, until=payload.until, version=payload.version)
    return _task_out(actor, task_id)


@router.get(
    "/my-day",
    response=MyDayOut,
    summary="The actor's overdue and today's tasks and the grading follow-ups due by today",
)
def get_my_day(request: HttpRequest) -> MyDayOut:
    day = selectors.my_day(actor=api_actor(request))
    return MyDayOut(
        today=day.today,
        overdue=[TaskOut.from_task(t) for t in day.overdue],
        due_today=[TaskOut.from_task(t) for t in day.due_today],
        follow_ups=[
            FollowUpOut(
                id=f.pk,
                customer=RefOut(id=f.customer_id, name=f.customer.name),
                due_on=f.due_on,
                kind=f.kind,
                reason=f.reason_label,
            )
            for f in day.follow_ups
        ],
    )


# --- notifications --------------------------------------------------------------------------


@router.get(
    "/notifications",
    response=NotificationPage,
    summary="The actor's notifications (tasks and grading), newest first",
)
def list_notifications(
    request: HttpRequest,
    unread: bool = False,
    before: dt.datetime | None = None,
    limit: int = 50,
) -> NotificationPage:
    actor = api_actor(request)
    rows, cursor = selectors.notification_rows(
        actor=actor, unread_only=unread, before=before, limit=max(1, min(limit, 200))
    )
    return NotificationPage(
        items=[NotificationOut.from_row(row) for row in rows],
        next_before=cursor,
        unread=selectors.unread_count(actor=actor),
    )


@router.get("/notifications/unread-count", response=CountOut)
def count_unread_notifications(request: HttpRequest) -> CountOut:
    return CountOut(count=selectors.unread_count(actor=api_actor(request)))


@router.post("/notifications/read", response=CountOut, summary="Mark every notification read")
def read_all_notifications(request: HttpRequest) -> CountOut:
    return CountOut(count=services.notifications_mark_all_read(actor=api_actor(request)))


@router.post("/notifications/{kind}/{int:notification_id}/read", response={204: None})
def read_notification(request: HttpRequest, kind: str, notification_id: int) -> Status[None]:
    actor = api_actor(request)
    if kind == selectors.ACTIVITY:
        notification = selectors.notification_get(actor=actor, pk=notification_id)
        services.notification_mark_read(actor=actor, notification=notification)
    elif kind == selectors.GRADING:
        services.grading_notification_mark_read(actor=actor, pk=notification_id)
    else:
        raise Http404
    return Status(204, None)


# --- calendar feed --------------------------------------------------------------------------


@router.post(
    "/calendar/token",
    response={201: CalendarTokenOut},
    summary="Issue a new iCalendar feed address (the old one stops working); shown once",
)
def issue_calendar_token(request: HttpRequest) -> Status[CalendarTokenOut]:
    actor = api_actor(request)
    token, secret = services.calendar_token_issue(actor=actor)
    url = request.build_absolute_uri(reverse("activities:feed", args=[secret]))
    return Status(201, CalendarTokenOut(url=url, prefix=token.prefix, created_at=token.created_at))


@router.delete("/calendar/token", response={204: None}, summary="Revoke the feed address")
def revoke_calendar_token(request: HttpRequest) -> Status[None]:
    services.calendar_tokens_revoke(actor=api_actor(request))
    return Status(204, None)
