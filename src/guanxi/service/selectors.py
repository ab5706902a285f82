"""Service desk queries, always scoped to the acting user: queues, a ticket with its thread,
history and clocks, a customer's tickets, unmatched mail, SLA attainment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.core.permissions import has_perm
from guanxi.customers.models import Customer
from guanxi.service.business import Clock
from guanxi.service.models import (
    ACTIVE_STATUSES,
    AgentGroup,
    AgentMembership,
    AssignmentRule,
    BusinessCalendar,
    Callback,
    CallbackStatus,
    InboundMail,
    InboundMailStatus,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketChange,
    TicketLink,
    TicketMessage,
)

QUEUES = ("mine", "unassigned", "breach_soon", "team", "closed")
QUEUE_FIELDS = (
    "pk",
    "number",
    "subject",
    "status",
    "priority",
    "type",
    "created_at",
    "first_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "response_breached_at",
    "resolution_breached_at",
    "paused_at",
    "customer_id",
    "customer__name",
    "assignee_id",
    "assignee__username",
    "category_id",
    "category__name",
)
BREACH_SOON = dt.timedelta(hours=4)


@dataclass
class TicketFilters:
    queue: str = "team"
    status: str = ""
    priority: str = ""
    category_id: int | None = None
    customer_id: int | None = None
    assignee_id: int | None = None
    q: str = ""


def ticket_list(*, actor: User, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """Tickets the actor may see, in a queue: mine, unassigned, breaching soon, the team's
    open ones, closed; newest first."""
    filters = filters or TicketFilters()
    qs = Ticket.objects.visible_to(actor)
    if filters.queue == "closed":
        qs = qs.exclude(status__in=ACTIVE_STATUSES)
    elif filters.queue != "all":
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    if filters.queue == "mine":
        qs = qs.filter(assignee_id=actor.pk)
    elif filters.queue == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif filters.queue == "breach_soon":
        horizon = timezone.now() + BREACH_SOON
        qs = qs.filter(paused_at__isnull=True).filter(
            Q(first_responded_at__isnull=True, first_response_due_at__lte=horizon)
            | Q(resolution_due_at__lte=horizon)
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.category_id is not None:
        qs = qs.filter(category_id=filters.category_id)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(Q(number__iexact=term) | Q(subject__icontains=term))
    return qs.order_by("-pk")


def ticket_queue_page(*, actor: User, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """`ticket_list` narrowed to the columns the queue shows, customer and assignee joined."""
    return (
        ticket_list(actor=actor, filters=filters)
        .select_related("customer", "assignee", "category")
        .only(*QUEUE_FIELDS)
    )


def ticket_get(*, actor: User, pk: int) -> Ticket:
    """A ticket the actor may see (Http404 otherwise), its people and policy joined."""
    ticket = (
        Ticket.objects.visible_to(actor)
        .select_related("customer", "contact", "assignee", "category", "group", "sla_policy")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def ticket_files(*, ticket: Ticket) -> QuerySet[TicketAttachment]:
    """The files on the ticket itself (sent when it was opened or added later), not on a
    message."""
    return ticket.attachments.filter(message__isnull=True)


def attachment_get(*, actor: User, pk: int) -> TicketAttachment:
    """A file on a ticket the actor may see (Http404 otherwise)."""
    found = TicketAttachment.objects.filter(
        pk=pk, ticket__in=Ticket.objects.visible_to(actor)
    ).first()
    if found is None:
        raise Http404
    return found


def ticket_messages(*, ticket: Ticket, internal: bool = True) -> QuerySet[TicketMessage]:
    qs = ticket.messages.select_related("author_user", "author_contact").prefetch_related(
        "attachments"
    )
    return qs if internal else qs.filter(internal=False)


def ticket_history(*, ticket: Ticket) -> QuerySet[TicketChange]:
    return ticket.changes.select_related("actor").order_by("created_at", "pk")


def ticket_links(*, ticket: Ticket) -> list[dict[str, Any]]:
    links = TicketLink.objects.filter(ticket=ticket).select_related("content_type")
    return [
        {
            "pk": link.pk,
            "kind": link.content_type.model,
            "object_id": link.object_id,
            "label": link.label,
        }
        for link in links
    ]


@dataclass
class ClockState:
    name: str
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    state: str  # met, breached, running, paused, none
    minutes_left: int | None


def ticket_clocks(*, ticket: Ticket, now: dt.datetime | None = None) -> list[ClockState]:
    """The first-response and resolution clocks as the ticket page shows them."""
    now = now or timezone.now()
    policy = ticket.sla_policy
    clock = Clock.of(policy.calendar if policy is not None else None)
    rows = [
        (
            _("First response"),
            ticket.first_response_due_at,
            ticket.first_responded_at,
            ticket.response_breached_at,
        ),
        (
            _("Resolution"),
            ticket.resolution_due_at,
            ticket.resolved_at,
            ticket.resolution_breached_at,
        ),
    ]
    states = []
    for name, due, done, breached in rows:
        if due is None:
            states.append(ClockState(str(name), None, done, "none", None))
            continue
        if done is not None:
            state = "breached" if breached is not None or done > due else "met"
            states.append(ClockState(str(name), due, done, state, None))
            continue
        if breached is not None or due <= now:
            states.append(ClockState(str(name), due, None, "breached", -clock.between(due, now)))
            continue
        start = ticket.paused_at or now
        state = "paused" if ticket.paused_at is not None else "running"
        states.append(ClockState(str(name), due, None, state, clock.between(start, due)))
    return states


def customer_tickets(*, actor: User, customer: Customer, limit: int = 20) -> list[Ticket]:
    """A customer's latest tickets the actor may see (for the customer 360 panel)."""
    return list(
        Ticket.objects.visible_to(actor)
        .filter(customer=customer)
        .select_related("assignee")
        .only("pk", "number", "subject", "status", "priority", "created_at", "assignee__username")
        .order_by("-pk")[:limit]
    )


def inbound_list(
    *, actor: User, status: str = InboundMailStatus.UNMATCHED
) -> QuerySet[InboundMail]:
    """Received mail by outcome, newest first; agents who may edit tickets see it."""
    if not has_perm(actor, "service.edit"):
        raise PermissionDenied("service.edit")
    return InboundMail.objects.filter(status=status).defer("raw").order_by("-pk")


def inbound_get(*, actor: User, pk: int) -> InboundMail:
    mail = inbound_list(actor=actor, status=InboundMailStatus.UNMATCHED).filter(pk=pk).first()
    if mail is None:
        raise Http404
    return mail


def category_list() -> QuerySet[TicketCategory]:
    return TicketCategory.objects.select_related("parent", "group").order_by("name", "pk")


def category_get(*, pk: int) -> TicketCategory:
    category = TicketCategory.objects.filter(pk=pk).first()
    if category is None:
        raise Http404
    return category


def group_list() -> QuerySet[AgentGroup]:
    return AgentGroup.objects.select_related("manager", "team").prefetch_related(
        "memberships__user"
    )


def rule_list() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.select_related("category", "group")


def policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.select_related("calendar", "escalate_to_group")


def calendar_list() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.prefetch_related("days")


def calendar_get(*, pk: int) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.filter(pk=pk).first()
    if calendar is None:
        raise Http404
    return calendar


def agent_choices(*, actor: User) -> QuerySet[User]:
    """Active users who may work tickets, in the actor's scope of teams."""
    qs = User.objects.filter(is_active=True).order_by("username")
    team = actor.team
    if not actor.is_superuser and team is not None:
        qs = qs.filter(team__path__startswith=team.path)
    return qs.only("pk", "username", "first_name", "last_name")


ATTAINMENT_KEYS = {
    "tier": ("sla_class",),
    "agent": ("assignee_id", "assignee__username"),
    "category": ("category_id", "category__name"),
}


def sla_attainment(
    *, actor: User, by: str, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per tier (SLA class), agent or category: tickets with a policy, and how many met their
    first-response and resolution targets (only decided clocks count), as percentages."""
    if by not in ATTAINMENT_KEYS:
        raise Http404
    qs = Ticket.objects.visible_to(actor).filter(sla_policy__isnull=False)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    rows = (
        qs.values(*ATTAINMENT_KEYS[by])
        .annotate(
            tickets=Count("pk"),
            response_decided=Count(
                "pk",
                filter=Q(first_responded_at__isnull=False) | Q(response_breached_at__isnull=False),
            ),
            response_met=Count(
                "pk",
                filter=Q(first_responded_at__isnull=False, response_breached_at__isnull=True),
            ),
            resolution_decided=Count(
                "pk", filter=Q(resolved_at__isnull=False) | Q(resolution_breached_at__isnull=False)
            ),
            resolution_met=Count(
                "pk", filter=Q(resolved_at__isnull=False, resolution_breached_at__isnull=True)
            ),
        )
        .order_by(*ATTAINMENT_KEYS[by])
    )
    result = []
    for row in rows:
        label = row.get("assignee__username") or row.get("category__name") or row.get("sla_class")
        result.append(
            {
                "key": row[ATTAINMENT_KEYS[by][0]],
                "label": label or _("(none)"),
                "tickets": row["tickets"],
                "response_pct": _pct(row["response_met"], row["response_decided"]),
                "resolution_pct": _pct(row["resolution_met"], row["resolution_decided"]),
            }
        )
    return result


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def callback_list(*, actor: User, pending_only: bool = True) -> QuerySet[Callback]:
    qs = Callback.objects.visible_to(actor).select_related("customer", "ticket", "agent")
    if pending_only:
        qs = qs.filter(status=CallbackStatus.PENDING)
    return qs.order_by("due_at", "pk")


def callback_get(*, actor: User, pk: int) -> Callback:
    callback = callback_list(actor=actor, pending_only=False).filter(pk=pk).first()
    if callback is None:
        raise Http404
    return callback


def link_target(*, actor: User, kind: str, object_id: int) -> Any:
    """The record a link points at ("order", "opportunity") when its app is installed and the
    actor may see it (Http404 otherwise)."""
    labels = {"order": ("commerce", "order"), "opportunity": ("sales", "opportunity")}
    if kind not in labels:
        raise Http404
    try:
        model = ContentType.objects.get_by_natural_key(*labels[kind]).model_class()
    except ContentType.DoesNotExist as error:
        raise Http404 from error
    if model is None:
        raise Http404
    qs = model._default_manager.all()
    if hasattr(qs, "visible_to"):
        qs = qs.visible_to(actor)
    target = qs.filter(pk=object_id).first()
    if target is None:
        raise Http404
    return target


def agent_get(*, actor: User, pk: int) -> User:
    agent = agent_choices(actor=actor).filter(pk=pk).first()
    if agent is None:
        raise Http404
    return agent


def away_member_ids(group: AgentGroup) -> set[int]:
    """The users in the group marked away (they get no new tickets)."""
    return set(
        AgentMembership.objects.filter(group=group, is_available=False).values_list(
            "user_id", flat=True
        )
    )


def my_memberships(user: Any) -> list[AgentMembership]:
    """The agent's own group memberships, for the away/available toggle on the queue."""
    return list(
        AgentMembership.objects.filter(user=user).select_related("group").order_by("group__name")
    )


def my_membership_get(*, actor: Any, pk: int) -> AgentMembership:
    """One of the actor's own memberships; anyone else's is a 404."""
    membership = AgentMembership.objects.filter(pk=pk, user=actor).select_related("group").first()
    if membership is None:
        raise Http404
    return membership


def group_get(*, pk: int) -> AgentGroup:
    group = AgentGroup.objects.filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


def policy_get(*, pk: int) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(pk=pk).first()
    if policy is None:
        raise Http404
    return policy


def rule_get(*, pk: int) -> AssignmentRule:
    rule = AssignmentRule.objects.select_related("group").filter(pk=pk).first()
    if rule is None:
        raise Http404
    return rule


def team_choices() -> QuerySet[Team]:
    """Every team, in tree order, for a group's team field (administrators only)."""
    return Team.objects.order_by("path")


def team_find(pk: int) -> Team | None:
    return Team.objects.filter(pk=pk).first()
