"""Queries of activities, always scoped to the acting user: task lists and filters, "my day",
the calendar range, notifications (this app's and grading's, read-only), feed tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.activities.models import CalendarToken, Notification, Status, Task

# Records a task may point at generically, by "app_label.model".
RELATED_TYPES = ("leads.lead", "sales.opportunity", "service.ticket")

SORTS: dict[str, tuple[str, ...]] = {
    "due": ("due_sort", "pk"),
    "-due": ("-due_sort", "-pk"),
    "priority": ("priority_rank", "due_sort", "pk"),
    "-created": ("-pk",),
}
DEFAULT_SORT = "due"


@dataclass
class TaskFilters:
    status: str = Status.OPEN
    due: str = ""  # overdue, today, week, none
    priority: str = ""
    related: str = ""  # customer, none, or one of RELATED_TYPES
    customer_id: int | None = None
    owner: str = "me"  # me, or "" for everyone the actor may see, or a user id
    q: str = ""
    sort: str = DEFAULT_SORT

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORTS.get(self.sort, SORTS[DEFAULT_SORT])


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[midnight of `day`, midnight of the next day) in the server's time zone."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    return start, end


def task_list_base(*, actor: User) -> QuerySet[Task]:
    """Tasks the actor may see: their own, plus their role's owner/team scope."""
    return Task.objects.visible_to(actor)


def related_type_id(label: str) -> int | None:
    """The content type id of "app_label.model", or None when that app is not installed."""
    app_label, _dot, model = label.partition(".")
    if not apps.is_installed(f"guanxi.{app_label}"):
        return None
    try:
        return ContentType.objects.get_by_natural_key(app_label, model).pk
    except ContentType.DoesNotExist:
        return None


def task_list(*, actor: User, filters: TaskFilters, today: dt.date | None = None) -> QuerySet[Task]:
    """Tasks the actor may see, narrowed by the filters (sorted by the caller's keyset page)."""
    qs = task_list_base(actor=actor).select_related("owner", "customer", "related_type")
    if filters.status in Status.values:
        qs = qs.filter(status=filters.status)
    if filters.owner == "me":
        qs = qs.filter(owner=actor)
    elif filters.owner.isdigit():
        qs = qs.filter(owner_id=int(filters.owner))
    today = today or timezone.localdate()
    start, end = day_bounds(today)
    if filters.due == "overdue":
        qs = qs.filter(due_at__lt=start)
    elif filters.due == "today":
        qs = qs.filter(due_at__gte=start, due_at__lt=end)
    elif filters.due == "week":
        qs = qs.filter(due_at__gte=start, due_at__lt=start + dt.timedelta(days=7))
    elif filters.due == "none":
        qs = qs.filter(due_at__isnull=True)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.related == "customer":
        qs = qs.filter(customer__isnull=False)
    elif filters.related == "none":
        qs = qs.filter(customer__isnull=True, related_type__isnull=True)
    elif filters.related in RELATED_TYPES:
        type_id = related_type_id(filters.related)
        qs = qs.filter(related_type_id=type_id) if type_id else qs.none()
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.q:
        qs = qs.filter(title__icontains=filters.q[:100])
    return qs


def task_get(*, actor: User, pk: int) -> Task:
    """One task in the actor's scope; a foreign one is a 404."""
    found = (
        task_list_base(actor=actor)
        .select_related("owner", "customer", "created_by", "related_type")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def related_get(*, actor: User, label: str, pk: int) -> models.Model:
    """A lead, opportunity or ticket the actor may see, to link a task to (404 otherwise)."""
    if label not in RELATED_TYPES:
        raise Http404
    app_label, _dot, model_name = label.partition(".")
    if not apps.is_installed(f"guanxi.{app_label}"):
        raise Http404
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as error:
        raise Http404 from error
    manager: Any = model._default_manager
    qs = manager.visible_to(actor) if hasattr(manager, "visible_to") else manager.none()
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found  # type: ignore[no-any-return]  # a model instance from a dynamic manager


def related_label(task: Task) -> str:
    """What a task points at ("Opportunity #12"), without loading the record."""
    if task.related_type_id is None or task.related_id is None:
        return ""
    related_type = task.related_type
    name = related_type.name if related_type is not None else ""
    return f"{str(name).capitalize()} #{task.related_id}"


def customer_tasks(*, actor: User, customer_id: int, limit: int = 20) -> list[Task]:
    """Open tasks on a customer the actor may see, soonest due first (the 360 panel)."""
    return list(
        task_list_base(actor=actor)
        .filter(customer_id=customer_id, status=Status.OPEN)
        .select_related("owner")
        .order_by("due_sort", "pk")[:limit]
    )


@dataclass
class MyDay:
    today: dt.date
    overdue: list[Task]
    due_today: list[Task]
    follow_ups: list[Any]
    limit: int


def _my_day_sets(actor: User, today: dt.date) -> tuple[QuerySet[Task], QuerySet[Task], Any]:
    """The actor's open tasks due before today (overdue) and today, and the grading
    follow-ups due by today that they own."""
    from guanxi.grading import selectors as grading

    start, end = day_bounds(today)
    mine = Task.objects.filter(owner=actor, status=Status.OPEN)
    return (
        mine.filter(due_at__lt=start),
        mine.filter(due_at__gte=start, due_at__lt=end),
        grading.follow_up_list(actor=actor, owner_id=actor.pk, overdue_only=True, today=today),
    )


def my_day(*, actor: User, today: dt.date | None = None, limit: int = 100) -> MyDay:
    """The actor's overdue and today's tasks and their follow-ups due (see _my_day_sets), the
    first `limit` of each. Three queries."""
    today = today or timezone.localdate()
    overdue, due_today, follow_ups = _my_day_sets(actor, today)
    joined = ("customer", "owner", "related_type")
    return MyDay(
        today=today,
        overdue=list(overdue.select_related(*joined).order_by("due_at", "pk")[:limit]),
        due_today=list(
            due_today.select_related(*joined).order_by("due_at", "priority_rank", "pk")[:limit]
        ),
        follow_ups=list(follow_ups[:limit]),
        limit=limit,
    )


def my_day_counts(*, actor: User, today: dt.date | None = None) -> dict[str, int]:
    """How many tasks `my_day` lists as overdue and due today, and follow-ups due. Three
    counts."""
    sets = _my_day_sets(actor, today or timezone.localdate())
    return dict(zip(("overdue", "due_today", "follow_ups"), (s.count() for s in sets), strict=True))


def calendar_tasks(
    *, actor: User, start: dt.date, end: dt.date, include_done: bool = True, limit: int = 2000
) -> list[Task]:
    """The actor's own tasks due in [start, end) (dates in the server's time zone)."""
    first, _ignored = day_bounds(start)
    last, _ignored = day_bounds(end - dt.timedelta(days=1))
    qs = Task.objects.filter(owner=actor, due_at__gte=first, due_at__lt=last + dt.timedelta(days=1))
    statuses = [Status.OPEN, Status.DONE] if include_done else [Status.OPEN]
    return list(qs.filter(status__in=statuses).order_by("due_at", "pk")[:limit])


def feed_tasks(*, user: User, now: dt.datetime | None = None, limit: int = 2000) -> list[Task]:
    """What a user's iCalendar feed holds: their open tasks with a due time, and those done
    in the last 30 days (so a calendar still shows what was finished)."""
    now = now or timezone.now()
    return list(
        Task.objects.filter(owner=user, due_at__isnull=False)
        .filter(
            Q(status=Status.OPEN)
            | Q(status=Status.DONE, completed_at__gte=now - dt.timedelta(days=30))
        )
        .select_related("customer")
        .order_by("due_at", "pk")[:limit]
    )


def calendar_token_user(*, secret: str) -> User | None:
    """The active user whose unrevoked feed token this is; None otherwise."""
    if not secret or len(secret) > 100:
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    token = (
        CalendarToken.objects.filter(
            token_hash=digest, revoked_at__isnull=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        CalendarToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def calendar_token_active(*, actor: User) -> CalendarToken | None:
    return CalendarToken.objects.filter(user=actor, revoked_at__isnull=True).first()


# ---------------------------------------------------------------- notifications

ACTIVITY, GRADING = "activity", "grading"


@dataclass
class NotificationRow:
    """One line under the bell, from this app's notifications or grading's (read-only)."""

    kind: str
    pk: int
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.pk}"

    @property
    def link(self) -> str:
        """The URL when it is a path on this site; anything else is not linked."""
        return self.url if self.url.startswith("/") and not self.url.startswith("//") else ""


def unread_count(*, actor: User) -> int:
    """Unread notifications of the actor, this app's plus grading's (two index lookups)."""
    from guanxi.grading import selectors as grading

    own = Notification.objects.filter(user=actor, read_at__isnull=True).count()
    return own + grading.notification_list(actor=actor, unread_only=True).count()


def _grading_row(notification: Any, language: str) -> NotificationRow:
    change = notification.change
    title = notification.title
    body = notification.body
    if change is not None:

        def tier(value: Any) -> str:
            if value is None:
                return _("ungraded")
            return str(value.name_zh if language.startswith("zh") else value.name_en)

        name = notification.customer.name if notification.customer is not None else ""
        title = title or _("%(customer)s: tier changed") % {"customer": name}
        body = body or f"{tier(change.from_tier)} → {tier(change.to_tier)}"
    url = f"/customers/{notification.customer_id}/" if notification.customer_id else ""
    return NotificationRow(
        kind=GRADING,
        pk=notification.pk,
        title=title or _("Grading"),
        body=body,
        url=url,
        created_at=notification.created_at,
        read_at=notification.read_at,
    )


def notification_rows(
    *,
    actor: User,
    unread_only: bool = False,
    before: dt.datetime | None = None,
    limit: int = 50,
) -> tuple[list[NotificationRow], dt.datetime | None]:
    """The actor's newest notifications from both sources, merged newest first, and the
    cursor (a creation time) for the next page, None at the end. Two queries."""
    from guanxi.grading import selectors as grading

    own = Notification.objects.filter(user=actor)
    theirs = grading.notification_list(actor=actor, unread_only=unread_only)
    if unread_only:
        own = own.filter(read_at__isnull=True)
    if before is not None:
        own = own.filter(created_at__lt=before)
        theirs = theirs.filter(created_at__lt=before)
    language = get_language() or "en"
    rows = [
        NotificationRow(
            kind=ACTIVITY,
            pk=n.pk,
            title=n.title,
            body=n.body,
            url=n.url,
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in own.order_by("-created_at", "-pk")[: limit + 1]
    ] + [_grading_row(n, language) for n in theirs[: limit + 1]]
    rows.sort(key=lambda row: (row.created_at, row.pk), reverse=True)
    page = rows[:limit]
    cursor = page[-1].created_at if len(rows) > limit else None
    return page, cursor


def notification_get(*, actor: User, pk: int) -> Notification:
    """One of the actor's own notifications; anyone else's is a 404."""
    found = Notification.objects.filter(user=actor, pk=pk).first()
    if found is None:
        raise Http404
    return found
