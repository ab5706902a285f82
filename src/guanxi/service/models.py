"""Service desk rows: tickets with their messages, attachments and history; categories, agent
groups and assignment rules; SLA policies and business calendars; inbound mail; callbacks.

A ticket is visible like a record owned by its assignee in its team (`visible_to`); its
messages, attachments and history follow the ticket. SLA due times are stored on the ticket
so that the breach sweep is one indexed query; a pause pushes them forward on resume.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel
from guanxi.core.scoping import ScopedQuerySet


class TicketType(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    FAULT = "fault", _("Fault")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    REQUEST = "request", _("Request")


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = [
    TicketPriority.LOW,
    TicketPriority.NORMAL,
    TicketPriority.HIGH,
    TicketPriority.URGENT,
]


class TicketChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    WEB = "web", _("Web form")
    PORTAL = "portal", _("Portal")
    CHAT = "chat", _("Chat")
    API = "api", _("API")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting on customer")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting on third party")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


# Which status may follow which; anything else is refused with a clear error.
TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.NEW: frozenset(
        {
            TicketStatus.OPEN,
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.WAITING_THIRD_PARTY,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.OPEN: frozenset(
        {
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.WAITING_THIRD_PARTY,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.WAITING_CUSTOMER: frozenset(
        {TicketStatus.OPEN, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.WAITING_THIRD_PARTY: frozenset(
        {TicketStatus.OPEN, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.REOPENED}),
    TicketStatus.CLOSED: frozenset({TicketStatus.REOPENED}),
    TicketStatus.REOPENED: frozenset(
        {
            TicketStatus.OPEN,
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.WAITING_THIRD_PARTY,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
}

# Statuses in which the ticket still needs work (the SLA clocks run unless paused).
ACTIVE_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.WAITING_CUSTOMER,
    TicketStatus.WAITING_THIRD_PARTY,
    TicketStatus.REOPENED,
)
# Waiting on the customer stops the clocks; waiting on a third party does not.
PAUSED_STATUSES = (TicketStatus.WAITING_CUSTOMER,)


class TicketCategory(models.Model):
    """A nestable ticket category (账单 → 发票); may route to an agent group."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    group = models.ForeignKey(
        "service.AgentGroup",
        verbose_name=_("handled by group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="categories",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering: ClassVar[list[str]] = ["name", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="service_category_unique_name_in_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AgentGroup(TimeStampedModel):
    """A group of agents that tickets are assigned within; its manager receives escalations."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_groups",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_agent_groups",
    )

    class Meta:
        verbose_name = _("agent group")
        verbose_name_plural = _("agent groups")
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentMembership(models.Model):
    """An agent in a group, with skills (comma-separated) and when they last got a ticket."""

    group = models.ForeignKey(AgentGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_memberships"
    )
    skills = models.CharField(_("skills"), max_length=200, blank=True)
    is_available = models.BooleanField(_("available"), default=True)
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["group", "user"], name="service_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}:{self.user_id}"

    def skill_set(self) -> set[str]:
        return {s.strip().lower() for s in self.skills.split(",") if s.strip()}


class AssignmentStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LOAD = "load", _("Fewest open tickets")


class AssignmentRule(models.Model):
    """When a new ticket matches (category, type, channel, blank = any), pick an agent of
    `group`, optionally only those with `skill`, by round robin or by load. Lowest position
    first."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=100)
    category = models.ForeignKey(
        TicketCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    type = models.CharField(_("type"), max_length=12, choices=TicketType.choices, blank=True)
    channel = models.CharField(
        _("channel"), max_length=8, choices=TicketChannel.choices, blank=True
    )
    skill = models.CharField(_("skill"), max_length=40, blank=True)
    group = models.ForeignKey(
        AgentGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="rules"
    )
    strategy = models.CharField(
        _("strategy"),
        max_length=12,
        choices=AssignmentStrategy.choices,
        default=AssignmentStrategy.ROUND_ROBIN,
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Every change bumps it; an edit that read an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering: ClassVar[list[str]] = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(TimeStampedModel):
    """Working hours per weekday in a time zone, with holidays and make-up working days.

    `hours` maps an ISO weekday ("1" = Monday … "7" = Sunday) to [["09:00", "18:00"], …].
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    hours = models.JSONField(_("working hours"), default=dict)
    is_default = models.BooleanField(_("default calendar"), default=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    WORKDAY = "workday", _("Make-up working day")


class CalendarDay(models.Model):
    """A date that differs from the weekly pattern: a public holiday or a make-up working day
    (调休, worked with the hours of `workday_like`, an ISO weekday, Monday by default)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering: ClassVar[list[str]] = ["date"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["calendar", "date"], name="service_calendar_day"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


class SlaPolicy(TimeStampedModel):
    """First-response and resolution targets in business minutes for a tier's SLA class
    (blank = customers without one) and a priority, with what to do before and at a breach."""

    name = models.CharField(_("name"), max_length=100)
    sla_class = models.CharField(_("SLA class"), max_length=20, blank=True)
    priority = models.CharField(_("priority"), max_length=8, choices=TicketPriority.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response within (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution within (minutes)"))
    warn_before_minutes = models.PositiveIntegerField(_("warn before (minutes)"), default=30)
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="policies",
    )
    escalate_to_group = models.ForeignKey(
        AgentGroup,
        verbose_name=_("escalate to group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    raise_priority = models.BooleanField(_("raise priority at breach"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering: ClassVar[list[str]] = ["sla_class", "priority"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["sla_class", "priority"], name="service_sla_unique_class_priority"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TicketQuerySet(ScopedQuerySet["Ticket"]):
    scope_owner_field = "assignee"
    scope_team_field = "team"


class Ticket(TimeStampedModel):
    """A customer's request for service. `number` is "T-" + the id padded to 6 digits.

    SLA: `first_response_due_at` / `resolution_due_at` are computed in business time from
    the policy; while paused (`paused_at` set) the sweep ignores them, and on resume they move
    forward by the business time spent paused.
    """

    # NULL until the id is known (set right after insert); unique allows many NULLs.
    number = models.CharField(_("ticket number"), max_length=20, unique=True, null=True)  # noqa: DJ001
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    type = models.CharField(
        _("type"), max_length=12, choices=TicketType.choices, default=TicketType.INQUIRY
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    category = models.ForeignKey(
        TicketCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=TicketChannel.choices, default=TicketChannel.WEB
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    group = models.ForeignKey(
        AgentGroup,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    sla_class = models.CharField(_("SLA class"), max_length=20, blank=True)
    sla_policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True)
    warned_at = models.DateTimeField(_("breach warning sent at"), null=True, blank=True)
    response_breached_at = models.DateTimeField(
        _("first response breached at"), null=True, blank=True
    )
    resolution_breached_at = models.DateTimeField(
        _("resolution breached at"), null=True, blank=True
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tickets",
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes: ClassVar[list[models.Index]] = [
            # The working queues (mine, the team's open ones), newest first: only the active
            # tickets, so a queue page reads 51 index entries instead of walking the table.
            models.Index(
                fields=["assignee", "-id"],
                name="ticket_assignee_queue",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            models.Index(
                fields=["team", "-id"],
                name="ticket_team_queue",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            models.Index(fields=["customer", "-id"], name="ticket_customer_recent"),
            # The SLA sweep: open, unpaused tickets whose next deadline has passed.
            models.Index(
                fields=["resolution_due_at"],
                name="ticket_sla_resolution_due",
                condition=Q(resolution_breached_at__isnull=True, paused_at__isnull=True)
                & Q(resolved_at__isnull=True),
            ),
            models.Index(
                fields=["first_response_due_at"],
                name="ticket_sla_response_due",
                condition=Q(
                    first_responded_at__isnull=True,
                    response_breached_at__isnull=True,
                    paused_at__isnull=True,
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def reference(self) -> str:
        """The tag put in mail subjects so replies thread back: "[#T-000123]"."""
        return f"[#{self.number}]"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def allowed_transitions(self) -> list[str]:
        allowed = TRANSITIONS.get(self.status, frozenset())
        return [s for s in TicketStatus.values if s in allowed]


class MessageQuerySet(ScopedQuerySet["TicketMessage"]):
    scope_owner_field = "ticket__assignee"
    scope_team_field = "ticket__team"


class TicketMessage(models.Model):
    """A public reply (mailed to the contact) or an internal note on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    internal = models.BooleanField(_("internal note"), default=False)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_messages",
    )
    author_contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_messages",
    )
    author_email = models.CharField(_("sender address"), max_length=254, blank=True)
    body = models.TextField(_("message"))
    channel = models.CharField(
        _("channel"), max_length=8, choices=TicketChannel.choices, default=TicketChannel.WEB
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["ticket", "created_at"], name="ticket_message_thread"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}:{self.pk}"

    @property
    def from_customer(self) -> bool:
        return self.author_user_id is None


def _attachment_path(instance: TicketAttachment, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{filename}"


class TicketAttachment(models.Model):
    """A file on a ticket (or on one of its messages), checked by extension and content."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        TicketMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    file = models.FileField(upload_to=_attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=120)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket attachment")
        verbose_name_plural = _("ticket attachments")
        ordering: ClassVar[list[str]] = ["pk"]

    def __str__(self) -> str:
        return self.original_name


class TicketChange(models.Model):
    """One line of a ticket's history: who changed what from which value to which."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field = models.CharField(_("field"), max_length=40)
    old_value = models.CharField(_("from"), max_length=200, blank=True)
    new_value = models.CharField(_("to"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket change")
        verbose_name_plural = _("ticket changes")
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["ticket", "created_at"], name="ticket_change_history"),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class TicketLink(models.Model):
    """A ticket linked to another record: an order, an opportunity, anything with an id."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    label = models.CharField(_("label"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["ticket", "content_type", "object_id"], name="service_link_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.label or f"{self.content_type_id}:{self.object_id}"


class InboundMailStatus(models.TextChoices):
    CREATED = "created", _("New ticket")
    REPLIED = "replied", _("Reply on a ticket")
    UNMATCHED = "unmatched", _("Unmatched, waiting for an agent")
    RESOLVED = "resolved", _("Handled by an agent")
    DISCARDED = "discarded", _("Discarded by an agent")


class InboundMail(models.Model):
    """Every message received, kept raw: what became of it, and why when nothing did."""

    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    raw = models.BinaryField(_("raw message"))
    status = models.CharField(_("outcome"), max_length=10, choices=InboundMailStatus.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mails"
    )

    class Meta:
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mail")
        ordering: ClassVar[list[str]] = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return self.subject or self.message_id


class CallbackStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CallbackOutcome(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    NEUTRAL = "neutral", _("Neutral")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")
    UNREACHABLE = "unreachable", _("Could not reach")


class CallbackQuerySet(ScopedQuerySet["Callback"]):
    scope_owner_field = "agent"
    scope_team_field = "team"


class Callback(TimeStampedModel):
    """A follow-up call (回访) to a customer, after a resolved ticket or on a tier's schedule."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="service_callbacks"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_callbacks",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(_("due at"), db_index=True)
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.PENDING
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=CallbackOutcome.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    task_id = models.PositiveBigIntegerField(null=True, blank=True)
    interaction_id = models.PositiveBigIntegerField(null=True, blank=True)

    objects = CallbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering: ClassVar[list[str]] = ["due_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # One callback per resolved ticket: a reopen-and-resolve does not add another.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ticket__isnull=False), name="callback_per_ticket"
            ),
        ]

    def __str__(self) -> str:
        return self.reason


class CallbackSchedule(models.Model):
    """Call every customer whose tier has `sla_class` every `every_days` days."""

    sla_class = models.CharField(_("SLA class"), max_length=20, unique=True)
    every_days = models.PositiveIntegerField(_("every (days)"), default=90)
    group = models.ForeignKey(
        AgentGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("callback schedule")
        verbose_name_plural = _("callback schedules")

    def __str__(self) -> str:
        return self.sla_class
