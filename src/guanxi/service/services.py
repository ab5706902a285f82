"""Service desk commands: open, reply, move through the workflow, assign, merge, link, attach.

Every command takes the acting user first (None for the system: inbound mail, the portal's
contacts, periodic jobs), checks the "service" permission for users, writes, records the
change in the ticket's history and publishes its event after commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import events
from guanxi.core.errors import DomainError, check_version
from guanxi.core.permissions import require_perm
from guanxi.core.tasks import enqueue
from guanxi.customers.models import Contact, Customer, CustomerStatus
from guanxi.customers.selectors import customer_get
from guanxi.grading.selectors import service_policy
from guanxi.interactions.files import Upload, check_uploads
from guanxi.interactions.services import max_attachment_bytes
from guanxi.service.business import Clock
from guanxi.service.models import (
    ACTIVE_STATUSES,
    PAUSED_STATUSES,
    PRIORITY_ORDER,
    TRANSITIONS,
    AgentGroup,
    AgentMembership,
    AssignmentRule,
    AssignmentStrategy,
    BusinessCalendar,
    CalendarDay,
    CalendarDayKind,
    CallbackSchedule,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketChange,
    TicketChannel,
    TicketLink,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketType,
)

MAX_FILES = 10
BULK_LIMIT = 500
EDITABLE_FIELDS = ("subject", "description", "type", "priority", "category", "contact")


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise DomainError(_("“%(value)s” is not a valid choice.") % {"value": value}, field=field)
    return value


def _log(ticket: Ticket, actor: User | None, changes: Iterable[tuple[str, Any, Any]]) -> None:
    rows = [
        TicketChange(
            ticket=ticket,
            actor=actor,
            field=field,
            old_value=str(old if old is not None else "")[:200],
            new_value=str(new if new is not None else "")[:200],
        )
        for field, old, new in changes
        if old != new
    ]
    TicketChange.objects.bulk_create(rows)


def _number(pk: int) -> str:
    return f"T-{pk:06d}"


# --- SLA ------------------------------------------------------------------------------------


def sla_class_of(customer_id: int) -> str:
    """The SLA class of the customer's tier in the primary grading scheme ("" without one)."""
    tier = service_policy(customer_id=customer_id)
    return (tier.sla_class or "") if tier is not None else ""


def sla_policy_for(sla_class: str, priority: str) -> SlaPolicy | None:
    """The policy for the class and priority, else the classless one for the priority."""
    policies = {
        p.sla_class: p
        for p in SlaPolicy.objects.filter(
            sla_class__in={sla_class, ""}, priority=priority
        ).select_related("calendar")
    }
    return policies.get(sla_class) or policies.get("")


def clock_of(policy: SlaPolicy | None) -> Clock:
    return Clock.of(policy.calendar if policy is not None else None)


def _sla_start(ticket: Ticket, *, start: dt.datetime) -> None:
    """Set the ticket's policy and due times from `start` (the ticket's opening)."""
    ticket.sla_class = sla_class_of(ticket.customer_id)
    policy = sla_policy_for(ticket.sla_class, ticket.priority)
    ticket.sla_policy = policy
    if policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        return
    clock = clock_of(policy)
    ticket.first_response_due_at = clock.add(start, policy.first_response_minutes)
    ticket.resolution_due_at = clock.add(start, policy.resolution_minutes)


def _sla_pause(ticket: Ticket, now: dt.datetime) -> None:
    if ticket.paused_at is None:
        ticket.paused_at = now


def _sla_resume(ticket: Ticket, now: dt.datetime) -> None:
    """Move the due times forward: what was left at the pause is left again now."""
    if ticket.paused_at is None:
        return
    policy = ticket.sla_policy
    clock = Clock.of(None) if policy is None else Clock.of(policy.calendar)
    paused = ticket.paused_at
    for name in ("first_response_due_at", "resolution_due_at"):
        due = getattr(ticket, name)
        if due is not None and due > paused:
            setattr(ticket, name, clock.add(now, clock.between(paused, due)))
    ticket.paused_at = None


# --- assignment -----------------------------------------------------------------------------


def _rule_for(ticket: Ticket) -> AssignmentRule | None:
    rules = AssignmentRule.objects.filter(is_active=True).filter(
        Q(category__isnull=True) | Q(category_id=ticket.category_id),
        Q(type="") | Q(type=ticket.type),
        Q(channel="") | Q(channel=ticket.channel),
    )
    return rules.select_related("group").order_by("position", "pk").first()


def _pick_agent(rule: AssignmentRule) -> User | None:
    """An available member of the rule's group (with its skill): the one who waited longest
    since their last ticket (round robin), or the one with the fewest open tickets (load).
    The membership row is locked so that two tickets at once do not go to the same agent."""
    members = list(
        AgentMembership.objects.select_for_update(of=("self",))
        .filter(group=rule.group, is_available=True, user__is_active=True)
        .select_related("user")
        .order_by(F("last_assigned_at").asc(nulls_first=True), "pk")
    )
    if rule.skill:
        wanted = rule.skill.strip().lower()
        members = [m for m in members if wanted in m.skill_set()]
    if not members:
        return None
    if rule.strategy == AssignmentStrategy.LOAD:
        loads = dict(
            Ticket.objects.filter(
                assignee_id__in=[m.user_id for m in members], status__in=ACTIVE_STATUSES
            )
            .values_list("assignee_id")
            .annotate(n=Count("pk"))
            .values_list("assignee_id", "n")
        )
        chosen = min(members, key=lambda m: loads.get(m.user_id, 0))
    else:
        chosen = members[0]
    chosen.last_assigned_at = timezone.now()
    chosen.save(update_fields=["last_assigned_at"])
    return chosen.user


def _auto_assign(ticket: Ticket) -> None:
    rule = _rule_for(ticket)
    group = rule.group if rule is not None else None
    if group is None and ticket.category_id is not None:
        category = TicketCategory.objects.select_related("group").get(pk=ticket.category_id)
        group = category.group
    if group is None:
        return
    ticket.group = group
    if group.team_id is not None:
        ticket.team_id = group.team_id
    if rule is not None:
        ticket.assignee = _pick_agent(rule)


# --- tickets --------------------------------------------------------------------------------


@transaction.atomic
def ticket_open(
    *,
    actor: User | None,
    customer: Customer,
    subject: str,
    description: str,
    contact: Contact | None = None,
    channel: str = "web",
    type: str = "inquiry",
    priority: str = "normal",
    category: TicketCategory | None = None,
    files: Sequence[UploadedFile] | None = None,
) -> Ticket:
    """Open a ticket for a customer (visible to the actor, when there is one).

    Sets its SLA clocks from the customer's tier and the priority, assigns it by the first
    matching assignment rule, stores checked attachments. Publishes ticket.created.
    """
    if actor is not None:
        require_perm(actor, "service.create")
        customer = customer_get(actor=actor, pk=customer.pk)
    if customer.status == CustomerStatus.MERGED:
        raise DomainError(
            _("This customer was merged into another; open the ticket there."), field="customer"
        )
    subject = subject.strip()
    errors = []
    if not subject:
        errors.append({"field": "subject", "message": _("Give the ticket a subject.")})
    if contact is not None and contact.customer_id != customer.pk:
        errors.append(
            {"field": "contact", "message": _("The contact belongs to another customer.")}
        )
    uploads, file_errors = check_files(files or [])
    errors += file_errors
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    ticket = Ticket(
        customer=customer,
        contact=contact,
        channel=_choice(channel, TicketChannel, "channel"),
        type=_choice(type, TicketType, "type"),
        priority=_choice(priority, TicketPriority, "priority"),
        category=category,
        subject=subject[:200],
        description=description,
        team_id=actor.team_id if actor is not None else customer.team_id,
    )
    now = timezone.now()
    _sla_start(ticket, start=now)
    _auto_assign(ticket)
    ticket.save()
    ticket.number = _number(ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    _store(ticket, None, uploads, actor)
    _log(ticket, actor, [("status", "", ticket.status)])
    events.publish_on_commit("ticket.created", ticket_id=ticket.pk, customer_id=customer.pk)
    return ticket


def _locked(ticket: Ticket) -> Ticket:
    # No joins: PostgreSQL refuses FOR UPDATE beside an outer join (the nullable policy).
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _set_status(ticket: Ticket, status: str, now: dt.datetime) -> None:
    """Move the ticket to `status` when the workflow allows it; keep the clocks in step."""
    if status not in TicketStatus.values:
        raise DomainError(
            _("“%(value)s” is not a valid choice.") % {"value": status}, field="status"
        )
    if status not in TRANSITIONS.get(ticket.status, frozenset()):
        raise DomainError(
            _("A ticket that is “%(current)s” cannot become “%(wanted)s”.")
            % {
                "current": TicketStatus(ticket.status).label,
                "wanted": TicketStatus(status).label,
            },
            field="status",
        )
    if status in PAUSED_STATUSES:
        _sla_pause(ticket, now)
    elif ticket.paused_at is not None:
        _sla_resume(ticket, now)
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif status == TicketStatus.REOPENED:
        ticket.resolved_at = ticket.closed_at = None
        policy = ticket.sla_policy
        if policy is not None and ticket.resolution_breached_at is None:
            # A reopened ticket gets a fresh resolution target from now.
            ticket.resolution_due_at = Clock.of(policy.calendar).add(now, policy.resolution_minutes)
    ticket.status = status


def ticket_transition(
    *, actor: User | None, ticket: Ticket, status: str, version: int | None = None
) -> Ticket:
    """Move a ticket through the workflow; a move the workflow does not allow is refused.

    Waiting on the customer pauses the SLA clocks; leaving it resumes them. Resolving
    publishes ticket.resolved (callbacks and surveys follow it).
    """
    if actor is not None:
        require_perm(actor, "service.edit")
    with transaction.atomic():
        ticket = _locked(ticket)
        check_version(ticket.version, version)
        old = ticket.status
        _set_status(ticket, status, timezone.now())
        ticket.bump_version()
        ticket.save()
        _log(ticket, actor, [("status", old, status)])
        if status == TicketStatus.RESOLVED:
            events.publish_on_commit("ticket.resolved", ticket_id=ticket.pk)
    return ticket


@transaction.atomic
def ticket_reply(
    *,
    actor: User | None,
    ticket: Ticket,
    body: str,
    internal: bool = False,
    contact: Contact | None = None,
    files: Sequence[UploadedFile] | None = None,
    author_email: str = "",
    message_id: str = "",
    channel: str = "",
) -> TicketMessage:
    """Add a public reply or (agents only) an internal note; refused on a closed ticket.

    An agent's first public reply stops the first-response clock and a new ticket becomes
    open; a public reply is mailed to the contact. A customer's reply (actor None) resumes a
    ticket waiting on them and reopens a resolved one. Publishes ticket.replied.
    """
    if actor is not None:
        require_perm(actor, "service.edit")
    body = body.strip()
    if not body:
        raise DomainError(_("Write a message."), field="body")
    if actor is None and internal:
        raise DomainError(_("Only agents write internal notes."), field="internal")
    uploads, errors = check_files(files or [])
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    ticket = _locked(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise DomainError(
            _("Ticket %(number)s is closed; open a new ticket instead.")
            % {"number": ticket.number},
            field="ticket",
        )
    now = timezone.now()
    old_status = ticket.status
    if not internal:
        if actor is not None:
            if ticket.first_responded_at is None:
                ticket.first_responded_at = now
            if ticket.status in (TicketStatus.NEW, TicketStatus.REOPENED):
                _set_status(ticket, TicketStatus.OPEN, now)
        elif ticket.status == TicketStatus.WAITING_CUSTOMER:
            _set_status(ticket, TicketStatus.OPEN, now)
        elif ticket.status == TicketStatus.RESOLVED:
            _set_status(ticket, TicketStatus.REOPENED, now)
    message = TicketMessage.objects.create(
        ticket=ticket,
        internal=internal,
        author_user=actor,
        author_contact=contact,
        author_email=author_email[:254],
        body=body,
        channel=channel or (TicketChannel.WEB if actor is not None else TicketChannel.PORTAL),
        message_id=message_id[:255] or make_message_id(),
    )
    _store(ticket, message, uploads, actor)
    ticket.bump_version()
    ticket.save()
    _log(ticket, actor, [("status", old_status, ticket.status)])
    if actor is not None and not internal and ticket.contact_id is not None:
        from guanxi.service.tasks import reply_mail_send_task

        enqueue(reply_mail_send_task, message_id=message.pk)
    events.publish_on_commit(
        "ticket.replied", ticket_id=ticket.pk, message_id=message.pk, internal=internal
    )
    return message


def make_message_id() -> str:
    return f"<{uuid.uuid4().hex}@guanxi.service>"


@transaction.atomic
def ticket_update(
    *, actor: User, ticket: Ticket, version: int | None = None, **values: Any
) -> Ticket:
    """Change a ticket's subject, description, type, priority, category or contact.

    A stale version is refused. A new priority re-targets clocks that have not breached.
    """
    require_perm(actor, "service.edit")
    ticket = _locked(ticket)
    check_version(ticket.version, version)
    changes = []
    for field in EDITABLE_FIELDS:
        if field not in values:
            continue
        value = values[field]
        if field == "type":
            _choice(value, TicketType, "type")
        if field == "priority":
            _choice(value, TicketPriority, "priority")
        if field == "subject" and not str(value).strip():
            raise DomainError(_("Give the ticket a subject."), field="subject")
        if field == "contact" and value is not None and value.customer_id != ticket.customer_id:
            raise DomainError(_("The contact belongs to another customer."), field="contact")
        old = getattr(ticket, field)
        if old != value:
            changes.append((field, old, value))
            setattr(ticket, field, value)
    if any(field == "priority" for field, _old, _new in changes) and ticket.is_active:
        start = ticket.created_at
        breached = (ticket.response_breached_at, ticket.resolution_breached_at)
        response, resolution = ticket.first_response_due_at, ticket.resolution_due_at
        _sla_start(ticket, start=start)
        if breached[0] is not None:
            ticket.first_response_due_at = response
        if breached[1] is not None:
            ticket.resolution_due_at = resolution
    ticket.bump_version()
    ticket.save()
    _log(ticket, actor, changes)
    return ticket


@transaction.atomic
def ticket_assign(
    *, actor: User | None, ticket: Ticket, assignee: User | None, version: int | None = None
) -> Ticket:
    """Give the ticket to an agent (None: back to unassigned); the ticket joins their team."""
    if actor is not None:
        require_perm(actor, "service.edit")
    if assignee is not None and not assignee.is_active:
        raise DomainError(_("This user is inactive."), field="assignee")
    ticket = _locked(ticket)
    check_version(ticket.version, version)
    old = ticket.assignee
    ticket.assignee = assignee
    if assignee is not None and assignee.team_id is not None:
        ticket.team_id = assignee.team_id
    ticket.bump_version()
    ticket.save()
    _log(ticket, actor, [("assignee", old, assignee)])
    return ticket


@dataclass
class BulkResult:
    changed: int
    errors: list[dict[str, str]]


def tickets_bulk(
    *, actor: User, tickets: models.QuerySet[Ticket], action: str, value: Any
) -> BulkResult:
    """Assign ("assign", a user or None) or move ("status", a status) many tickets.

    Assignment is one UPDATE plus the history rows; a status move goes ticket by ticket
    through the workflow and reports the ones it refused, changing the rest.
    """
    require_perm(actor, "service.edit")
    ids = list(tickets.order_by("pk").values_list("pk", flat=True)[: BULK_LIMIT + 1])
    if len(ids) > BULK_LIMIT:
        raise DomainError(
            _("Choose at most %(count)s tickets at a time.") % {"count": BULK_LIMIT},
            field="tickets",
        )
    if action == "assign":
        assignee: User | None = value
        with transaction.atomic():
            rows = list(
                Ticket.objects.select_for_update()
                .filter(pk__in=ids)
                .values_list("pk", "assignee_id")
            )
            update: dict[str, Any] = {"assignee": assignee, "version": F("version") + 1}
            if assignee is not None and assignee.team_id is not None:
                update["team_id"] = assignee.team_id
            changed = Ticket.objects.filter(pk__in=ids).update(**update)
            new = str(assignee) if assignee is not None else ""
            TicketChange.objects.bulk_create(
                TicketChange(
                    ticket_id=pk,
                    actor=actor,
                    field="assignee",
                    old_value=str(old or ""),
                    new_value=new,
                )
                for pk, old in rows
            )
        return BulkResult(changed=changed, errors=[])
    if action == "status":
        errors = []
        changed = 0
        for ticket in Ticket.objects.filter(pk__in=ids).only("pk", "number"):
            try:
                ticket_transition(actor=actor, ticket=ticket, status=str(value))
            except DomainError as error:
                errors.append({"field": ticket.number or str(ticket.pk), "message": error.message})
            else:
                changed += 1
        return BulkResult(changed=changed, errors=errors)
    raise DomainError(_("Unknown bulk action."), field="action")


@transaction.atomic
def ticket_merge(*, actor: User, source: Ticket, target: Ticket) -> Ticket:
    """Merge a duplicate into `target`: its messages and files move, it closes with a link."""
    require_perm(actor, "service.edit")
    if source.pk == target.pk:
        raise DomainError(_("A ticket cannot be merged into itself."), field="target")
    source, target = _locked(source), _locked(target)
    if source.customer_id != target.customer_id:
        raise DomainError(_("Only tickets of the same customer can be merged."), field="target")
    if target.status == TicketStatus.CLOSED or target.merged_into_id is not None:
        raise DomainError(_("The target ticket is closed."), field="target")
    moved = TicketMessage.objects.filter(ticket=source).update(ticket=target)
    TicketAttachment.objects.filter(ticket=source).update(ticket=target)
    TicketMessage.objects.create(
        ticket=target,
        internal=True,
        author_user=actor,
        body=_("Merged from %(number)s: %(subject)s\n\n%(description)s")
        % {"number": source.number, "subject": source.subject, "description": source.description},
    )
    old = source.status
    if source.status != TicketStatus.CLOSED:
        now = timezone.now()
        source.status = TicketStatus.CLOSED
        source.closed_at = now
        source.resolved_at = source.resolved_at or now
        source.paused_at = None
    source.merged_into = target
    source.bump_version()
    source.save()
    _log(source, actor, [("status", old, source.status), ("merged_into", "", target.number)])
    _log(target, actor, [("merged", "", f"{source.number} ({moved})")])
    return target


@transaction.atomic
def ticket_link(
    *, actor: User, ticket: Ticket, target: models.Model, label: str = ""
) -> TicketLink:
    """Link the ticket to another record (an order, an opportunity); linking twice is one link."""
    require_perm(actor, "service.edit")
    if target.pk is None:
        raise DomainError(_("Link an existing record."), field="target")
    link, _created = TicketLink.objects.get_or_create(
        ticket=ticket,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        defaults={"label": (label or str(target))[:200]},
    )
    _log(ticket, actor, [("link", "", link.label)])
    return link


# --- attachments ----------------------------------------------------------------------------


def check_files(files: Sequence[UploadedFile]) -> tuple[list[Upload], list[dict[str, str]]]:
    """Size, type (by extension and by content, interactions' table) and digest of each file."""
    if len(files) > MAX_FILES:
        message = _("A message holds at most %(count)s files.") % {"count": MAX_FILES}
        return [], [{"field": "files", "message": message}]
    return check_uploads(files, max_attachment_bytes())


def _store(
    ticket: Ticket, message: TicketMessage | None, uploads: list[Upload], actor: User | None
) -> list[TicketAttachment]:
    """Write the files and their rows; on failure remove the files already written."""
    rows = []
    try:
        for upload in uploads:
            row = TicketAttachment(
                ticket=ticket,
                message=message,
                original_name=upload.name,
                size=upload.size,
                content_type=upload.content_type,
                sha256=upload.sha256,
                uploaded_by=actor,
            )
            extension = upload.name.rsplit(".", 1)[-1].lower()
            row.file.save(f"{uuid.uuid4().hex}.{extension}", upload.file, save=False)
            rows.append(row)
        TicketAttachment.objects.bulk_create(rows)
    except BaseException:
        for row in rows:
            default_storage.delete(row.file.name)
        raise
    return rows


@transaction.atomic
def attachments_add(
    *, actor: User | None, ticket: Ticket, files: Sequence[UploadedFile]
) -> list[TicketAttachment]:
    """Attach checked files to a ticket; one bad file refuses them all."""
    if actor is not None:
        require_perm(actor, "service.edit")
    uploads, errors = check_files(files)
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    return _store(ticket, None, uploads, actor)


def raise_priority(priority: str) -> str:
    index = PRIORITY_ORDER.index(TicketPriority(priority))
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


# --- settings: categories, SLA policies, calendars ------------------------------------------


@transaction.atomic
def category_save(
    *,
    actor: User,
    name: str,
    parent: TicketCategory | None = None,
    group: AgentGroup | None = None,
    category: TicketCategory | None = None,
) -> TicketCategory:
    """Create or rename a category; a category cannot sit under itself or its descendants."""
    require_perm(actor, "service.admin")
    category = category or TicketCategory()
    name = name.strip()
    if not name:
        raise DomainError(_("Give the category a name."), field="name")
    walker = parent
    while walker is not None:
        if category.pk is not None and walker.pk == category.pk:
            raise DomainError(_("A category cannot sit under itself."), field="parent")
        walker = walker.parent
    duplicate = TicketCategory.objects.filter(parent=parent, name=name).exclude(pk=category.pk)
    if duplicate.exists():
        raise DomainError(_("This category already exists here."), field="name")
    category.name, category.parent, category.group = name, parent, group
    category.save()
    return category


@transaction.atomic
def policy_save(
    *, actor: User, values: dict[str, Any], policy: SlaPolicy | None = None
) -> SlaPolicy:
    """Create or change an SLA policy (targets in business minutes, both above zero)."""
    require_perm(actor, "service.admin")
    policy = policy or SlaPolicy()
    for field in (
        "name",
        "sla_class",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "warn_before_minutes",
        "calendar",
        "escalate_to_group",
        "raise_priority",
    ):
        if field in values:
            setattr(policy, field, values[field])
    errors = []
    if not str(policy.name or "").strip():
        errors.append({"field": "name", "message": _("Give the policy a name.")})
    if policy.priority not in TicketPriority.values:
        errors.append({"field": "priority", "message": _("Choose one of the allowed values.")})
    errors.extend(
        {"field": field, "message": _("Enter a number of minutes above zero.")}
        for field in ("first_response_minutes", "resolution_minutes")
        if not isinstance(getattr(policy, field), int) or getattr(policy, field) <= 0
    )
    clash = SlaPolicy.objects.filter(sla_class=policy.sla_class, priority=policy.priority)
    if clash.exclude(pk=policy.pk).exists():
        errors.append(
            {"field": "priority", "message": _("A policy for this class and priority exists.")}
        )
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    if policy.pk:
        policy.bump_version()
    policy.save()
    return policy


def _hours(value: Any) -> dict[str, list[list[str]]]:
    """Working hours as {"1": [["09:00", "12:00"], …]}; each span must start before it ends."""
    if not isinstance(value, dict):
        raise DomainError(_("Working hours are not in the expected form."), field="hours")
    cleaned: dict[str, list[list[str]]] = {}
    for day, spans in value.items():
        if str(day) not in {str(d) for d in range(1, 8)} or not isinstance(spans, list):
            raise DomainError(_("Working hours are not in the expected form."), field="hours")
        for span in spans:
            try:
                start, end = (
                    dt.time.fromisoformat(s) if s != "24:00" else dt.time.max for s in span
                )
            except (TypeError, ValueError) as error:
                raise DomainError(
                    _("“%(value)s” is not a time span like 09:00–18:00.") % {"value": span},
                    field="hours",
                ) from error
            if start >= end:
                raise DomainError(
                    _("“%(value)s” ends before it starts.") % {"value": "–".join(span)},
                    field="hours",
                )
        cleaned[str(day)] = [[str(a), str(b)] for a, b in spans]
    return cleaned


@transaction.atomic
def calendar_save(
    *,
    actor: User,
    name: str,
    hours: Any,
    time_zone: str = "Asia/Shanghai",
    is_default: bool = False,
    calendar: BusinessCalendar | None = None,
) -> BusinessCalendar:
    """Create or change a business calendar; one calendar at most is the default."""
    require_perm(actor, "service.admin")
    import zoneinfo

    if time_zone not in zoneinfo.available_timezones():
        raise DomainError(_("Unknown time zone."), field="time_zone")
    if not name.strip():
        raise DomainError(_("Give the calendar a name."), field="name")
    calendar = calendar or BusinessCalendar()
    calendar.name, calendar.time_zone = name.strip(), time_zone
    calendar.hours, calendar.is_default = _hours(hours), is_default
    if is_default:
        BusinessCalendar.objects.exclude(pk=calendar.pk).update(is_default=False)
    calendar.save()
    return calendar


@transaction.atomic
def calendar_days_set(*, actor: User, calendar: BusinessCalendar, year: int, text: str) -> int:
    """Replace a year's holidays and make-up working days from lines like
    "2026-10-01 holiday 国庆节" or "2026-10-10 workday 国庆调休"; a bad line refuses all."""
    require_perm(actor, "service.admin")
    rows, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split(maxsplit=2)
        if not parts or parts[0].startswith("#"):
            continue
        try:
            day = dt.date.fromisoformat(parts[0])
            kind = parts[1] if len(parts) > 1 else ""
        except ValueError:
            day, kind = None, ""
        if day is None or kind not in CalendarDayKind.values or day.year != year:
            errors.append(
                {
                    "field": f"days.{number}",
                    "message": _("Line %(number)s: write “%(year)s-MM-DD holiday|workday name”.")
                    % {"number": number, "year": year},
                }
            )
            continue
        rows.append(
            CalendarDay(
                calendar=calendar,
                date=day,
                kind=kind,
                name=(parts[2] if len(parts) > 2 else "")[:100],
            )
        )
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    calendar.days.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def group_save(
    *,
    actor: User,
    name: str,
    team: Any = None,
    manager: User | None = None,
    members: list[tuple[User, str]] | None = None,
    group: AgentGroup | None = None,
    version: int | None = None,
    away: set[int] | None = None,
) -> AgentGroup:
    """Create or change an agent group and (when given) replace its members and their skills.
    `away` (user ids) marks members unavailable, the others available; None keeps each
    member's availability as it is.

    An edit carries the version its editor read; a group changed since is refused (409)."""
    require_perm(actor, "service.admin")
    name = name.strip()
    errors: list[dict[str, str]] = []
    if not name:
        errors.append({"field": "name", "message": _("Give the group a name.")})
    elif AgentGroup.objects.filter(name=name).exclude(pk=getattr(group, "pk", 0) or 0).exists():
        errors.append({"field": "name", "message": _("A group with this name exists.")})
    if manager is not None and not manager.is_active:
        errors.append({"field": "manager", "message": _("The manager's account is disabled.")})
    if members is not None:
        users = [u for u, _s in members]
        if len({u.pk for u in users}) != len(users):
            errors.append({"field": "members", "message": _("A member is listed twice.")})
        errors.extend(
            {
                "field": "members",
                "message": _("%(name)s's account is disabled.") % {"name": u.username},
            }
            for u in users
            if not u.is_active
        )
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    if group is not None and group.pk:
        group = AgentGroup.objects.select_for_update().get(pk=group.pk)
        check_version(group.version, version)
        group.bump_version()
    group = group or AgentGroup()
    group.name, group.team, group.manager = name, team, manager
    group.save()
    if members is not None:
        group.memberships.exclude(user__in=[u for u, _s in members]).delete()
        for user, skills in members:
            defaults: dict[str, Any] = {"skills": _skills(skills)}
            if away is not None:
                defaults["is_available"] = user.pk not in away
            AgentMembership.objects.update_or_create(group=group, user=user, defaults=defaults)
    return group


def _skills(value: str | Iterable[str]) -> str:
    """Skills as one comma-separated, lower-case list without repeats ("VIP, 发票")."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    seen: dict[str, None] = {}
    for part in parts:
        skill = part.strip().lower()
        if skill:
            seen.setdefault(skill, None)
    return ", ".join(seen)[:200]


@transaction.atomic
def group_delete(*, actor: User, group: AgentGroup, version: int | None = None) -> None:
    """Delete an agent group that no assignment rule or callback schedule uses any more; its
    tickets, categories and policies keep working without a group."""
    require_perm(actor, "service.admin")
    group = AgentGroup.objects.select_for_update().get(pk=group.pk)
    check_version(group.version, version)
    rules = AssignmentRule.objects.filter(group=group).count()
    if rules:
        raise DomainError(
            _("%(count)s assignment rule(s) send tickets to this group; change them first.")
            % {"count": rules},
            field="group",
        )
    if CallbackSchedule.objects.filter(group=group).exists():
        raise DomainError(_("A callback schedule uses this group; change it first."), field="group")
    group.delete()


@transaction.atomic
def rule_save(
    *,
    actor: User,
    values: dict[str, Any],
    rule: AssignmentRule | None = None,
    version: int | None = None,
) -> AssignmentRule:
    """Create or change an assignment rule: a new ticket matching its category, type and
    channel (blank = any) goes to an agent of its group (with its skill, when set), by round
    robin or by fewest open tickets.

    An edit carries the version its editor read; a rule changed since is refused (409)."""
    require_perm(actor, "service.admin")
    if rule is not None and rule.pk:
        rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
        check_version(rule.version, version)
    rule = rule or AssignmentRule()
    for field in (
        "name",
        "position",
        "category",
        "type",
        "channel",
        "skill",
        "group",
        "strategy",
        "is_active",
    ):
        if field in values:
            setattr(rule, field, values[field])
    rule.name = str(rule.name or "").strip()
    rule.skill = str(rule.skill or "").strip().lower()
    errors: list[dict[str, str]] = []
    if not rule.name:
        errors.append({"field": "name", "message": _("Give the rule a name.")})
    if not isinstance(rule.position, int) or rule.position < 0:
        errors.append({"field": "position", "message": _("Enter a position of 0 or more.")})
    allowed = {
        "type": ["", *TicketType.values],
        "channel": ["", *TicketChannel.values],
        "strategy": AssignmentStrategy.values,
    }
    errors.extend(
        {"field": field, "message": _("Choose one of the allowed values.")}
        for field, choices in allowed.items()
        if getattr(rule, field) not in choices
    )
    if len(rule.skill) > 40:
        errors.append({"field": "skill", "message": _("A skill has at most 40 characters.")})
    group_id: int | None = getattr(rule, "group_id", None)
    if group_id is None:
        errors.append({"field": "group", "message": _("Choose the group that gets the tickets.")})
    elif rule.skill and not any(
        rule.skill in m.skill_set() for m in AgentMembership.objects.filter(group=group_id)
    ):
        errors.append(
            {
                "field": "skill",
                "message": _("No member of this group has the skill “%(skill)s”.")
                % {"skill": rule.skill},
            }
        )
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    if rule.pk:
        rule.version = (rule.version or 0) + 1
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, actor: User, rule: AssignmentRule, version: int | None = None) -> None:
    """Delete an assignment rule; tickets it assigned keep their agent. A delete that read an
    older version of the rule is refused (409)."""
    require_perm(actor, "service.admin")
    rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    check_version(rule.version, version)
    rule.delete()


@transaction.atomic
def membership_set_available(
    *, actor: User, membership: AgentMembership, available: bool
) -> AgentMembership:
    """An agent marks themselves away (no new tickets from this group) or available again.
    Only the agent themselves may do it; an admin changes others on the group page."""
    require_perm(actor, "service.view")
    if membership.user_id != actor.pk:
        raise PermissionDenied
    AgentMembership.objects.filter(pk=membership.pk).update(is_available=available)
    membership.is_available = available
    return membership
