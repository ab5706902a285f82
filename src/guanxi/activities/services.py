"""Commands of activities: create, edit, complete, snooze and cancel tasks; send in-app
notifications (optionally by mail too); send due reminders; issue and revoke calendar tokens.

Permissions: every signed-in user may create and edit tasks they own, and read their own
notifications. Creating a task for someone else needs "sales.create"; editing or completing a
task that another user owns needs "sales.edit" (and the task must be in the actor's scope).
`actor=None` is the system (jobs, event handlers, other domains' automation): no checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from guanxi.accounts.models import User
from guanxi.activities.models import (
    CalendarToken,
    Notification,
    Priority,
    Source,
    Status,
    Task,
)
from guanxi.core import events
from guanxi.core.errors import DomainError, check_version
from guanxi.core.permissions import has_perm
from guanxi.customers.models import Customer

logger = logging.getLogger(__name__)

REMINDER_BATCH = 500


def _is_active_user(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def _check_owner(actor: User | None, owner: User, permission: str) -> None:
    if actor is None:
        return
    if not _is_active_user(actor):
        raise PermissionDenied(permission)
    if owner.pk != actor.pk and not has_perm(actor, permission):
        raise PermissionDenied(permission)


def _check_customer(actor: User | None, customer: Customer | None) -> None:
    if actor is None or customer is None:
        return
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise DomainError(_("Choose a customer you can see."), field="customer")


def _check_choice(value: str, choices: Iterable[str], field: str) -> None:
    if value not in set(choices):
        raise DomainError(_("Choose one of the listed values."), field=field)


def _check_times(due_at: dt.datetime | None, remind_at: dt.datetime | None) -> None:
    for name, value in (("due_at", due_at), ("remind_at", remind_at)):
        if value is not None and timezone.is_naive(value):
            raise DomainError(_("Give the time with its time zone."), field=name)


def _as_datetime(value: Any, all_day: bool) -> tuple[dt.datetime | None, bool]:
    """A bare date (from a caller with a day, not a time) means midnight, all day."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return day_start(value), True
    return value, all_day


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the server's time zone (how an all-day task stores its day)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@transaction.atomic
def task_create(
    *,
    actor: User | None,
    owner: User,
    title: str,
    due_at: dt.datetime | dt.date | None = None,
    remind_at: dt.datetime | dt.date | None = None,
    priority: str = "normal",
    customer: Customer | None = None,
    related: models.Model | None = None,
    description: str = "",
    source: str = "",
    all_day: bool = False,
) -> Task:
    """Create an open task for `owner` (in the owner's team); publishes task.created.

    `related` is any record (a lead, an opportunity, a ticket), kept as content type + id.
    `source` names where the task came from ("lead", "grading", "ticket", or any domain's
    word). An all-day task's `due_at` is moved to midnight of its day; a bare date is one.
    """
    _check_owner(actor, owner, "sales.create")
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Give the task a title."), field="title")
    _check_choice(priority, Priority.values, "priority")
    source = (source or Source.MANUAL).strip()[:40]
    due_at, all_day = _as_datetime(due_at, all_day)
    remind_at, _ignored = _as_datetime(remind_at, False)
    _check_times(due_at, remind_at)
    _check_customer(actor, customer)
    if all_day and due_at is not None:
        due_at = day_start(timezone.localtime(due_at).date())
    task = Task(
        title=title,
        description=description,
        owner=owner,
        created_by=actor,
        team_id=owner.team_id,
        due_at=due_at,
        all_day=all_day and due_at is not None,
        remind_at=remind_at,
        priority=priority,
        customer=customer,
        source=source,
    )
    if related is not None:
        task.related_type = ContentType.objects.get_for_model(related)
        task.related_id = related.pk
    task.full_clean(exclude=["related_type", "created_by", "team", "customer", "owner"])
    task.save()
    events.publish_on_commit("task.created", task_id=task.pk, owner_id=owner.pk)
    return task


def _check_editable(actor: User | None, task: Task) -> None:
    if actor is None:
        return
    if not _is_active_user(actor):
        raise PermissionDenied("sales.edit")
    if task.owner_id == actor.pk:
        return
    if not has_perm(actor, "sales.edit"):
        raise PermissionDenied("sales.edit")


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk)


EDITABLE_FIELDS = (
    "title",
    "description",
    "due_at",
    "all_day",
    "remind_at",
    "priority",
    "customer",
    "owner",
)


@transaction.atomic
def task_update(
    *, actor: User | None, task: Task, version: int | None = None, **changes: Any
) -> Task:
    """Change a task's fields (title, description, due_at, all_day, remind_at, priority,
    customer, owner). Refuses a stale `version`. A new reminder time re-arms the reminder."""
    _check_editable(actor, task)
    current = _locked(task)
    check_version(current.version, version)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("This field cannot be changed."), field=sorted(unknown)[0])
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"]:
            raise DomainError(_("Give the task a title."), field="title")
    if "priority" in changes:
        _check_choice(changes["priority"], Priority.values, "priority")
    _check_times(changes.get("due_at"), changes.get("remind_at"))
    if "customer" in changes:
        _check_customer(actor, changes["customer"])
    if "owner" in changes and changes["owner"].pk != current.owner_id:
        _check_owner(actor, changes["owner"], "sales.edit")
        changes["team_id"] = changes["owner"].team_id
    for field, value in changes.items():
        setattr(current, field, value)
    if current.all_day and current.due_at is not None:
        current.due_at = day_start(timezone.localtime(current.due_at).date())
    if current.due_at is None:
        current.all_day = False
    if "remind_at" in changes:
        current.reminded_at = None
    current.bump_version()
    current.full_clean(exclude=["related_type", "created_by", "team", "customer", "owner"])
    current.save()
    return current


@transaction.atomic
def task_complete(*, actor: User | None, task: Task, version: int | None = None) -> Task:
    """Mark an open task done; publishes task.completed. Completing a done task changes
    nothing (a double click is harmless)."""
    _check_editable(actor, task)
    current = _locked(task)
    check_version(current.version, version)
    if current.status == Status.DONE:
        return current
    if current.status == Status.CANCELLED:
        raise DomainError(_("A cancelled task cannot be completed."), field="status")
    current.status = Status.DONE
    current.completed_at = timezone.now()
    current.bump_version()
    current.save()
    events.publish_on_commit("task.completed", task_id=current.pk, owner_id=current.owner_id)
    return current


@transaction.atomic
def task_reopen(*, actor: User | None, task: Task, version: int | None = None) -> Task:
    """Reopen a done or cancelled task."""
    _check_editable(actor, task)
    current = _locked(task)
    check_version(current.version, version)
    if current.status == Status.OPEN:
        return current
    current.status = Status.OPEN
    current.completed_at = None
    current.bump_version()
    current.save()
    return current


@transaction.atomic
def task_cancel(*, actor: User | None, task: Task, version: int | None = None) -> Task:
    """Cancel an open task (it leaves every list of things to do)."""
    _check_editable(actor, task)
    current = _locked(task)
    check_version(current.version, version)
    if current.status == Status.CANCELLED:
        return current
    current.status = Status.CANCELLED
    current.bump_version()
    current.save()
    return current


@transaction.atomic
def task_snooze(
    *, actor: User | None, task: Task, until: dt.datetime, version: int | None = None
) -> Task:
    """Move an open task's due time (and its reminder) to `until`; re-arms the reminder."""
    _check_editable(actor, task)
    _check_times(until, None)
    current = _locked(task)
    check_version(current.version, version)
    if current.status != Status.OPEN:
        raise DomainError(_("Only an open task can be snoozed."), field="status")
    if current.all_day:
        until = day_start(timezone.localtime(until).date())
    current.due_at = until
    if current.remind_at is not None:
        current.remind_at = until
        current.reminded_at = None
    current.bump_version()
    current.save()
    return current


def tasks_complete(*, actor: User, ids: list[int]) -> int:
    """Complete many tasks at once (those among `ids` the actor may see and edit);
    one UPDATE, then task.completed for each. Returns how many changed."""
    from guanxi.activities.selectors import task_list_base

    qs = task_list_base(actor=actor).filter(pk__in=ids[:1000], status=Status.OPEN)
    if not has_perm(actor, "sales.edit"):
        qs = qs.filter(owner=actor)
    with transaction.atomic():
        done_ids = list(qs.select_for_update().values_list("pk", flat=True))
        now = timezone.now()
        changed = Task.objects.filter(pk__in=done_ids).update(
            status=Status.DONE, completed_at=now, version=models.F("version") + 1
        )
        rows = list(Task.objects.filter(pk__in=done_ids).values_list("pk", "owner_id"))
        for task_id, owner_id in rows:
            events.publish_on_commit("task.completed", task_id=task_id, owner_id=owner_id)
    return changed


# ---------------------------------------------------------------- notifications


def _send_mail(user: User, title: str, body: str, url: str, connection: Any = None) -> bool:
    if not user.email:
        return False
    text = body
    if url:
        base = getattr(settings, "GUANXI_BASE_URL", "").rstrip("/")
        text = f"{body}\n\n{base}{url}" if body else f"{base}{url}"
    message = EmailMessage(
        subject=title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        connection=connection,
    )
    try:
        message.send()
    except OSError:  # the in-app notification stands even when the mail server is down
        logger.exception("notification mail to user %s failed", user.pk)
        return False
    return True


def notify(
    *, user: User, title: str, body: str = "", url: str = "", email: bool = False
) -> Notification:
    """Create an in-app notification for `user`; with `email=True` also mail it to the
    user's address (after commit, when called inside a transaction)."""
    notification = Notification.objects.create(
        user=user, title=title[:200], body=body, url=url[:500]
    )
    if email and user.email:

        def send() -> None:
            if _send_mail(user, title, body, url):
                Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())

        transaction.on_commit(send)
    return notification


def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    """Mark one of the actor's notifications read (a foreign one is refused)."""
    if notification.user_id != actor.pk:
        raise PermissionDenied("notification")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read (their grading ones too, through
    grading's own service)."""
    from guanxi.grading import services as grading

    now = timezone.now()
    changed = Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=now)
    return changed + grading.notifications_mark_read(actor=actor)


def grading_notification_mark_read(*, actor: User, pk: int) -> int:
    """Mark one of the actor's grading notifications read (grading's service; 0 if foreign)."""
    from guanxi.grading import services as grading

    return grading.notifications_mark_read(actor=actor, ids=[pk])


# ---------------------------------------------------------------- reminders


def reminders_send(*, now: dt.datetime | None = None, batch_size: int = REMINDER_BATCH) -> int:
    """Send the reminder of every open task whose `remind_at` has passed and that has not
    been reminded: one notification (and a mail) per task; returns how many were sent.

    Works in batches of `batch_size` tasks, each claimed with one UPDATE that only touches
    rows still unreminded, so a second run (or a concurrent one) sends nothing twice.
    """
    now = now or timezone.now()
    sent = 0
    last_pk = 0
    while True:
        candidates = list(
            Task.objects.filter(
                status=Status.OPEN,
                remind_at__isnull=False,
                remind_at__lte=now,
                reminded_at__isnull=True,
                pk__gt=last_pk,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not candidates:
            return sent
        last_pk = candidates[-1]
        with transaction.atomic():
            claimed = list(
                Task.objects.select_for_update(skip_locked=True)
                .filter(pk__in=candidates, reminded_at__isnull=True)
                .values_list("pk", flat=True)
            )
            Task.objects.filter(pk__in=claimed, reminded_at__isnull=True).update(reminded_at=now)
            tasks = list(Task.objects.filter(pk__in=claimed).select_related("owner", "customer"))
            notifications = [_reminder_notification(task) for task in tasks]
            Notification.objects.bulk_create(notifications, batch_size=batch_size)
        sent += len(tasks)
        _mail_reminders(tasks, notifications)


def _reminder_notification(task: Task) -> Notification:
    owner = task.owner
    language = settings.LANGUAGE_CODE
    with override(language):
        title = _("Reminder: %(title)s") % {"title": task.title}
        parts = []
        if task.due_at is not None:
            due = timezone.localtime(task.due_at)
            parts.append(
                _("Due %(when)s")
                % {
                    "when": due.strftime("%Y-%m-%d")
                    if task.all_day
                    else due.strftime("%Y-%m-%d %H:%M")
                }
            )
        if task.customer is not None:
            parts.append(_("Customer: %(name)s") % {"name": task.customer.name})
        if task.description:
            parts.append(task.description)
    return Notification(
        user=owner,
        title=title[:200],
        body="\n".join(parts),
        url=f"/activities/tasks/{task.pk}/",
        task=task,
    )


def _mail_reminders(tasks: list[Task], notifications: list[Notification]) -> None:
    """Mail the batch's reminders over one SMTP connection; records which went out."""
    connection = get_connection(fail_silently=False)
    mailed: list[int] = []
    try:
        connection.open()
        for task, notification in zip(tasks, notifications, strict=True):
            if _send_mail(
                task.owner, notification.title, notification.body, notification.url, connection
            ):
                mailed.append(task.pk)
    except OSError:
        logger.exception("reminder mail connection failed")
    finally:
        connection.close()
    if mailed:
        Notification.objects.filter(task_id__in=mailed, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )


# ---------------------------------------------------------------- calendar tokens


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def calendar_token_issue(*, actor: User) -> tuple[CalendarToken, str]:
    """Issue a new calendar feed secret for the actor (revoking their older ones); the
    secret is returned once, only its hash is kept."""
    if not _is_active_user(actor):
        raise PermissionDenied("calendar")
    CalendarToken.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    secret = secrets.token_urlsafe(32)
    token = CalendarToken.objects.create(
        user=actor, token_hash=token_hash(secret), prefix=secret[:8]
    )
    return token, secret


def calendar_tokens_revoke(*, actor: User) -> int:
    """Revoke every calendar feed secret of the actor; subscribed calendars stop updating."""
    return CalendarToken.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
