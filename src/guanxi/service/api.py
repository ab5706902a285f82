"""Service desk API: tickets (queue, open, edit, reply, workflow, assign, merge, link, bulk),
inbound mail (the raw RFC 822 webhook and the unmatched list), callbacks, SLA settings and
attainment reports."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.core.errors import DomainError
from guanxi.core.pagination import keyset_page
from guanxi.core.permissions import require_perm
from guanxi.core.schemas import PageOut
from guanxi.customers.selectors import contact_get, customer_get
from guanxi.service import callbacks, inbound, selectors, services
from guanxi.service.models import AgentGroup
from guanxi.service.schemas import (
    AssignIn,
    AttainmentOut,
    BulkIn,
    BulkOut,
    CalendarDaysIn,
    CalendarIn,
    CalendarOut,
    CallbackDoneIn,
    CallbackOut,
    CategoryIn,
    CategoryOut,
    ChangeOut,
    GroupIn,
    GroupOut,
    InboundOut,
    LinkIn,
    LinkOut,
    MergeIn,
    MessageOut,
    PolicyIn,
    PolicyOut,
    Ref,
    ReplyIn,
    RuleIn,
    RuleOut,
    SettleIn,
    TicketDetailOut,
    TicketIn,
    TicketOut,
    TicketPatch,
    TicketQuery,
    TransitionIn,
)

router = Router(tags=["service"])
MAX_INBOUND_BYTES = 30 * 1024 * 1024


def _detail(request: HttpRequest, ticket_id: int) -> TicketDetailOut:
    ticket = selectors.ticket_get(actor=api_actor(request), pk=ticket_id)
    return TicketDetailOut.detail(ticket, selectors.ticket_clocks(ticket=ticket))


@router.get("/service/tickets", response=PageOut[TicketOut], summary="A queue of tickets")
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> PageOut[TicketOut]:
    filters = selectors.TicketFilters(
        queue=query.queue,
        status=query.status,
        priority=query.priority,
        category_id=query.category_id,
        customer_id=query.customer_id,
        assignee_id=query.assignee_id,
        q=query.q,
    )
    page = keyset_page(
        selectors.ticket_queue_page(actor=api_actor(request), filters=filters),
        cursor=query.cursor,
        limit=query.limit,
    )
    return PageOut[TicketOut](
        items=[TicketOut.of(t) for t in page.items], next_cursor=page.next_cursor, limit=page.limit
    )


@router.post("/service/tickets", response={201: TicketDetailOut})
def create_ticket(request: HttpRequest, payload: TicketIn) -> Status[TicketDetailOut]:
    actor = api_actor(request)
    customer = customer_get(actor=actor, pk=payload.customer_id)
    contact = contact_get(actor=actor, pk=payload.contact_id) if payload.contact_id else None
    category = selectors.category_get(pk=payload.category_id) if payload.category_id else None
    ticket = services.ticket_open(
        actor=actor,
        customer=customer,
        contact=contact,
        category=category,
        subject=payload.subject,
        description=payload.description,
        channel=payload.channel,
        type=payload.type,
        priority=payload.priority,
    )
    return Status(201, _detail(request, ticket.pk))


@router.get("/service/tickets/{int:ticket_id}", response=TicketDetailOut)
def get_ticket(request: HttpRequest, ticket_id: int) -> TicketDetailOut:
    return _detail(request, ticket_id)


@router.patch("/service/tickets/{int:ticket_id}", response=TicketDetailOut)
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketPatch) -> TicketDetailOut:
    actor = api_actor(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True, exclude={"version"})
    if "category_id" in values:
        category_id = values.pop("category_id")
        values["category"] = selectors.category_get(pk=category_id) if category_id else None
    services.ticket_update(actor=actor, ticket=ticket, version=payload.version, **values)
    return _detail(request, ticket_id)


@router.post("/service/tickets/{int:ticket_id}/transition", response=TicketDetailOut)
def transition_ticket(
    request: HttpRequest, ticket_id: int, payload: TransitionIn
) -> TicketDetailOut:
    actor = api_actor(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    services.ticket_transition(
        actor=actor, ticket=ticket, status=payload.status, version=payload.version
    )
    return _detail(request, ticket_id)


@router.post("/service/tickets/{int:ticket_id}/assign", response=TicketDetailOut)
def assign_ticket(request: HttpRequest, ticket_id: int, payload: AssignIn) -> TicketDetailOut:
    actor = api_actor(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    assignee = (
        selectors.agent_get(actor=actor, pk=payload.assignee_id) if payload.assignee_id else None
    )
    services.ticket_assign(actor=actor, ticket=ticket, assignee=assignee, version=payload.version)
    return _detail(request, ticket_id)


@router.get("/service/tickets/{int:ticket_id}/messages", response=list[MessageOut])
def list_messages(request: HttpRequest, ticket_id: int) -> list[MessageOut]:
    ticket = selectors.ticket_get(actor=api_actor(request), pk=ticket_id)
    return [MessageOut.of(m) for m in selectors.ticket_messages(ticket=ticket)]


@router.post("/service/tickets/{int:ticket_id}/messages", response={201: MessageOut})
def reply_ticket(request: HttpRequest, ticket_id: int, payload: ReplyIn) -> Status[MessageOut]:
    actor = api_actor(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    message = services.ticket_reply(
        actor=actor, ticket=ticket, body=payload.body, internal=payload.internal
    )
    return Status(201, MessageOut.of(message))


@router.get("/service/tickets/{int:ticket_id}/history", response=list[ChangeOut])
def ticket_history(request: HttpRequest, ticket_id: int) -> list[ChangeOut]:
    ticket = selectors.ticket_get(actor=api_actor(request), pk=ticket_id)
    return [
        ChangeOut(
            field=c.field,
            old_value=c.old_value,
            new_value=c.new_value,
            actor=str(c.actor) if c.actor else None,
            created_at=c.created_at,
        )
        for c in selectors.ticket_history(ticket=ticket)
    ]


@router.post("/service/tickets/{int:ticket_id}/merge", response=TicketDetailOut)
def merge_ticket(request: HttpRequest, ticket_id: int, payload: MergeIn) -> TicketDetailOut:
    """Merge this ticket (a duplicate) into `target_id`; answers with the target."""
    actor = api_actor(request)
    source = selectors.ticket_get(actor=actor, pk=ticket_id)
    target = selectors.ticket_get(actor=actor, pk=payload.target_id)
    services.ticket_merge(actor=actor, source=source, target=target)
    return _detail(request, target.pk)


@router.post("/service/tickets/{int:ticket_id}/links", response={201: LinkOut})
def link_ticket(request: HttpRequest, ticket_id: int, payload: LinkIn) -> Status[LinkOut]:
    actor = api_actor(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    target = selectors.link_target(actor=actor, kind=payload.kind, object_id=payload.object_id)
    link = services.ticket_link(actor=actor, ticket=ticket, target=target)
    return Status(
        201, LinkOut(id=link.pk, kind=payload.kind, object_id=link.object_id, label=link.label)
    )


@router.post("/service/tickets/bulk", response=BulkOut)
def bulk_tickets(request: HttpRequest, payload: BulkIn) -> BulkOut:
    actor = api_actor(request)
    tickets = selectors.ticket_list(
        actor=actor, filters=selectors.TicketFilters(queue="all")
    ).filter(pk__in=payload.ids)
    if payload.action == "assign":
        value: Any = (
            selectors.agent_get(actor=actor, pk=payload.assignee_id)
            if payload.assignee_id
            else None
        )
    else:
        value = payload.status
    result = services.tickets_bulk(actor=actor, tickets=tickets, action=payload.action, value=value)
    return BulkOut(changed=result.changed, errors=result.errors)


# --- inbound mail -----------------------------------------------------------------------


def _inbound_out(mail: Any) -> InboundOut:
    return InboundOut(
        id=mail.pk,
        status=mail.status,
        reason=mail.reason,
        sender=mail.sender,
        subject=mail.subject,
        ticket_id=mail.ticket_id,
        received_at=mail.received_at,
    )


@router.post(
    "/service/inbound-mail",
    response={202: InboundOut},
    summary="Deliver one raw RFC 822 message (body: message/rfc822) from a mail gateway",
)
def receive_mail(request: HttpRequest) -> Status[InboundOut]:
    """For gateways that POST received mail (an MTA pipe, a cloud mail service): send the
    raw message as the body with a bearer token of an integration user holding
    service.create. The message is stored first, then placed by the rules of
    `guanxi.service.inbound`; the answer says where it went."""
    require_perm(api_actor(request), "service.create")
    raw = request.body
    if not raw:
        raise DomainError(_("Send the raw message as the request body."), field="body")
    if len(raw) > MAX_INBOUND_BYTES:
        raise DomainError(_("The message is too large."), field="body")
    return Status(202, _inbound_out(inbound.mail_receive(raw)))


@router.get("/service/inbound-mail", response=list[InboundOut])
def list_unmatched_mail(request: HttpRequest) -> list[InboundOut]:
    return [_inbound_out(m) for m in selectors.inbound_list(actor=api_actor(request))[:200]]


@router.post("/service/inbound-mail/{int:mail_id}/settle", response=InboundOut)
def settle_mail(request: HttpRequest, mail_id: int, payload: SettleIn) -> InboundOut:
    actor = api_actor(request)
    mail = selectors.inbound_get(actor=actor, pk=mail_id)
    ticket = selectors.ticket_get(actor=actor, pk=payload.ticket_id) if payload.ticket_id else None
    customer = customer_get(actor=actor, pk=payload.customer_id) if payload.customer_id else None
    inbound.inbound_settle(
        actor=actor, mail=mail, ticket=ticket, customer=customer, discard=payload.discard
    )
    mail.refresh_from_db()
    return _inbound_out(mail)


# --- reports and callbacks ----------------------------------------------------------------


@router.get("/service/reports/attainment", response=list[AttainmentOut])
def attainment(request: HttpRequest, by: str = "tier") -> list[AttainmentOut]:
    """SLA attainment per tier (SLA class), agent or category, in percent of decided clocks."""
    rows = selectors.sla_attainment(actor=api_actor(request), by=by)
    return [AttainmentOut(**row) for row in rows]


@router.get("/service/callbacks", response=list[CallbackOut])
def list_callbacks(request: HttpRequest) -> list[CallbackOut]:
    return [
        CallbackOut(
            id=c.pk,
            customer=Ref(id=c.customer_id, name=c.customer.name),
            ticket_id=c.ticket_id,
            agent=Ref(id=c.agent.pk, name=c.agent.username) if c.agent else None,
            due_at=c.due_at,
            reason=c.reason,
            status=c.status,
            outcome=c.outcome,
        )
        for c in selectors.callback_list(actor=api_actor(request))[:200]
    ]


@router.post("/service/callbacks/{int:callback_id}/complete", response=CallbackOut)
def complete_callback(request: HttpRequest, callback_id: int, payload: CallbackDoneIn) -> Any:
    actor = api_actor(request)
    callback = selectors.callback_get(actor=actor, pk=callback_id)
    callbacks.callback_complete(
        actor=actor, callback=callback, outcome=payload.outcome, notes=payload.notes
    )
    c = selectors.callback_get(actor=actor, pk=callback_id)
    return CallbackOut(
        id=c.pk,
        customer=Ref(id=c.customer_id, name=c.customer.name),
        ticket_id=c.ticket_id,
        agent=Ref(id=c.agent.pk, name=c.agent.username) if c.agent else None,
        due_at=c.due_at,
        reason=c.reason,
        status=c.status,
        outcome=c.outcome,
    )


# --- settings -------------------------------------------------------------------------------


def _policy_values(payload: PolicyIn) -> dict[str, Any]:
    values = payload.model_dump(exclude={"calendar_id", "escalate_to_group_id"})
    values["calendar"] = (
        selectors.calendar_get(pk=payload.calendar_id) if payload.calendar_id else None
    )
    values["escalate_to_group"] = (
        selectors.group_get(pk=payload.escalate_to_group_id)
        if payload.escalate_to_group_id
        else None
    )
    return values


@router.get("/service/sla-policies", response=list[PolicyOut])
def list_policies(request: HttpRequest) -> list[Any]:
    require_perm(api_actor(request), "service.view")
    return list(selectors.policy_list())


@router.post("/service/sla-policies", response={201: PolicyOut})
def create_policy(request: HttpRequest, payload: PolicyIn) -> Status[Any]:
    policy = services.policy_save(actor=api_actor(request), values=_policy_values(payload))
    return Status(201, policy)


@router.put("/service/sla-policies/{int:policy_id}", response=PolicyOut)
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyIn) -> Any:
    policy = selectors.policy_get(pk=policy_id)
    return services.policy_save(
        actor=api_actor(request), values=_policy_values(payload), policy=policy
    )


@router.get("/service/calendars", response=list[CalendarOut])
def list_calendars(request: HttpRequest) -> list[Any]:
    require_perm(api_actor(request), "service.view")
    return list(selectors.calendar_list())


@router.post("/service/calendars", response={201: CalendarOut})
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Status[Any]:
    calendar = services.calendar_save(actor=api_actor(request), **payload.model_dump())
    return Status(201, calendar)


@router.put("/service/calendars/{int:calendar_id}/days", response=dict[str, int])
def set_calendar_days(
    request: HttpRequest, calendar_id: int, payload: CalendarDaysIn
) -> dict[str, int]:
    """Replace a year's holidays and make-up working days ("2026-10-01 holiday 国庆节" lines)."""
    calendar = selectors.calendar_get(pk=calendar_id)
    count = services.calendar_days_set(
        actor=api_actor(request), calendar=calendar, year=payload.year, text=payload.text
    )
    return {"days": count}


@router.get("/service/categories", response=list[CategoryOut])
def list_categories(request: HttpRequest) -> list[Any]:
    require_perm(api_actor(request), "service.view")
    return list(selectors.category_list())


@router.post("/service/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryIn) -> Status[Any]:
    parent = selectors.category_get(pk=payload.parent_id) if payload.parent_id else None
    group = selectors.group_get(pk=payload.group_id) if payload.group_id else None
    category = services.category_save(
        actor=api_actor(request), name=payload.name, parent=parent, group=group
    )
    return Status(201, category)


# --- agent groups and assignment rules ------------------------------------------------------


def _group_values(
    request: HttpRequest, payload: GroupIn, group: AgentGroup | None = None
) -> dict[str, Any]:
    actor = api_actor(request)
    team = None
    if payload.team_id is not None:
        team = selectors.team_find(payload.team_id)
        if team is None:
            raise DomainError(_("Unknown team."), field="team_id")
    manager = (
        selectors.agent_get(actor=actor, pk=payload.manager_id) if payload.manager_id else None
    )
    members, away = None, None
    if payload.members is not None:
        members = [
            (selectors.agent_get(actor=actor, pk=m.user_id), ",".join(m.skills))
            for m in payload.members
        ]
        # A member without `is_available` keeps what it has (new members: available).
        was_away = selectors.away_member_ids(group) if group is not None else set()
        away = {
            m.user_id
            for m in payload.members
            if m.is_available is False or (m.is_available is None and m.user_id in was_away)
        }
    return {
        "actor": actor,
        "name": payload.name,
        "team": team,
        "manager": manager,
        "members": members,
        "away": away,
        "version": payload.version,
    }


def _group_out(group_id: int) -> GroupOut:
    return GroupOut.of(selectors.group_list().get(pk=group_id))


@router.get("/service/agent-groups", response=list[GroupOut], summary="Agent groups")
def list_groups(request: HttpRequest) -> list[GroupOut]:
    require_perm(api_actor(request), "service.view")
    return [GroupOut.of(g) for g in selectors.group_list()]


@router.post("/service/agent-groups", response={201: GroupOut}, summary="Create an agent group")
def create_group(request: HttpRequest, payload: GroupIn) -> Status[GroupOut]:
    require_perm(api_actor(request), "service.admin")
    group = services.group_save(**_group_values(request, payload))
    return Status(201, _group_out(group.pk))


@router.put("/service/agent-groups/{int:group_id}", response=GroupOut, summary="Change a group")
def update_group(request: HttpRequest, group_id: int, payload: GroupIn) -> GroupOut:
    """Rename, move, change the manager and (when `members` is given) replace the members."""
    require_perm(api_actor(request), "service.admin")
    group = selectors.group_get(pk=group_id)
    services.group_save(group=group, **_group_values(request, payload, group))
    return _group_out(group.pk)


@router.delete(
    "/service/agent-groups/{int:group_id}", response={204: None}, summary="Delete a group"
)
def delete_group(request: HttpRequest, group_id: int, version: int | None = None) -> Status[None]:
    """Refused (400) while an assignment rule or callback schedule still uses the group."""
    services.group_delete(
        actor=api_actor(request), group=selectors.group_get(pk=group_id), version=version
    )
    return Status(204, None)


def _rule_values(payload: RuleIn) -> dict[str, Any]:
    values = payload.model_dump(exclude={"category_id", "group_id", "version"})
    values["category"] = (
        selectors.category_get(pk=payload.category_id) if payload.category_id else None
    )
    values["group"] = selectors.group_get(pk=payload.group_id)
    return values


@router.get("/service/assignment-rules", response=list[RuleOut], summary="Assignment rules")
def list_rules(request: HttpRequest) -> list[Any]:
    """In the order they are tried: the first active rule matching a new ticket assigns it."""
    require_perm(api_actor(request), "service.view")
    return list(selectors.rule_list())


@router.post(
    "/service/assignment-rules", response={201: RuleOut}, summary="Create an assignment rule"
)
def create_rule(request: HttpRequest, payload: RuleIn) -> Status[Any]:
    actor = api_actor(request)
    require_perm(actor, "service.admin")
    return Status(201, services.rule_save(actor=actor, values=_rule_values(payload)))


@router.put("/service/assignment-rules/{int:rule_id}", response=RuleOut, summary="Change a rule")
def update_rule(request: HttpRequest, rule_id: int, payload: RuleIn) -> Any:
    actor = api_actor(request)
    require_perm(actor, "service.admin")
    rule = selectors.rule_get(pk=rule_id)
    return services.rule_save(
        actor=actor, values=_rule_values(payload), rule=rule, version=payload.version
    )


@router.delete(
    "/service/assignment-rules/{int:rule_id}", response={204: None}, summary="Delete a rule"
)
def delete_rule(request: HttpRequest, rule_id: int, version: int | None = None) -> Status[None]:
    """`?version=` (the version read) refuses the delete (409) when the rule changed since."""
    actor = api_actor(request)
    require_perm(actor, "service.admin")
    services.rule_delete(actor=actor, rule=selectors.rule_get(pk=rule_id), version=version)
    return Status(204, None)
