"""Activities: tasks (with a due time, a reminder and a link to any record), in-app
notifications and the secret tokens behind each user's iCalendar feed.

Tasks are visible through the owner/team scope; a notification and a calendar token belong
to one user and are only ever read by that user.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.core.models import TimeStampedModel
from guanxi.core.scoping import ScopedQuerySet


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Sorting by priority: urgent first.
PRIORITY_RANK: dict[str, int] = {
    Priority.URGENT: 0,
    Priority.HIGH: 1,
    Priority.NORMAL: 2,
    Priority.LOW: 3,
}
# Where tasks without a due time sort: after every dated one (keyset pages need a value).
NO_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Source(models.TextChoices):
    MANUAL = "manual", _("Manual")
    GRADING = "grading", _("Grading follow-up")
    LEAD = "lead", _("Lead")
    OPPORTUNITY = "opportunity", _("Opportunity")
    TICKET = "ticket", _("Ticket")
    OTHER = "other", _("Other")


class TaskQuerySet(ScopedQuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        return self.filter(status=Status.OPEN)


class Task(TimeStampedModel):
    """Something a user has to do, by a time (`due_at`) or on a day (`all_day`).

    An all-day task stores midnight of its day in the server's time zone in `due_at`.
    `remind_at` is when the reminder goes out; `reminded_at` records that it did, so that a
    rerun of the reminder job sends nothing twice.
    """

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    due_sort = models.DateTimeField(editable=False, default=NO_DUE)
    all_day = models.BooleanField(_("all day"), default=False)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    priority_rank = models.PositiveSmallIntegerField(editable=False, default=2)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    related_type = models.ForeignKey(
        ContentType,
        verbose_name=_("related record type"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    related_id = models.PositiveBigIntegerField(_("related record id"), null=True, blank=True)
    related = GenericForeignKey("related_type", "related_id")
    # Free text so that any domain can name itself; the known sources get a label.
    source = models.CharField(_("source"), max_length=40, default=Source.MANUAL, blank=True)

    history = HistoricalRecords(
        excluded_fields=["updated_at", "reminded_at", "due_sort", "priority_rank"]
    )
    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_status_due"),
            models.Index(fields=["team", "status", "due_at"], name="task_team_status_due"),
            models.Index(fields=["owner", "due_sort", "id"], name="task_owner_due_sort"),
            models.Index(fields=["customer", "status"], name="task_customer_status"),
            models.Index(fields=["related_type", "related_id"], name="task_related"),
            # The reminder job's scan: only rows still waiting for their reminder.
            models.Index(
                fields=["remind_at"],
                name="task_reminder_due",
                condition=Q(reminded_at__isnull=True, status="open", remind_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.due_sort = self.due_at or NO_DUE
        self.priority_rank = PRIORITY_RANK.get(self.priority, 2)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    @property
    def source_label(self) -> str:
        labels = dict(Source.choices)
        return str(labels.get(self.source, self.source))


class Notification(models.Model):
    """An in-app message to one user, shown under the bell in the top bar."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="activity_notifications",
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    task = models.ForeignKey(
        Task,
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "-id"], name="notification_user_recent"),
            models.Index(
                fields=["user"], name="notification_user_unread", condition=Q(read_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CalendarToken(models.Model):
    """The secret in a user's iCalendar feed URL; only its SHA-256 is stored.

    Revoking sets `revoked_at`; a revoked token's feed answers 404.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_tokens",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")
        ordering: ClassVar[list[str]] = ["-pk"]

    def __str__(self) -> str:
        return f"{self.prefix}…"
