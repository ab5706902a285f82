"""Service desk API schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from guanxi.core.schemas import InputSchema
from guanxi.service.models import AgentGroup, Ticket, TicketMessage
from guanxi.service.selectors import ClockState

Queue = Literal["mine", "unassigned", "breach_soon", "team", "closed", "all"]


class Ref(Schema):
    id: int
    name: str


class TicketQuery(Schema):
    queue: Queue = "team"
    status: str = ""
    priority: str = ""
    category_id: int | None = None
    customer_id: int | None = None
    assignee_id: int | None = None
    q: str = ""
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class TicketOut(Schema):
    id: int
    number: str | None
    subject: str
    status: str
    priority: str
    type: str
    channel: str
    customer: Ref
    assignee: Ref | None
    category: Ref | None
    created_at: dt.datetime
    first_response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    response_breached: bool
    resolution_breached: bool
    paused: bool

    @staticmethod
    def fields_of(ticket: Ticket) -> dict[str, Any]:
        assignee, category = ticket.assignee, ticket.category
        return {
            "id": ticket.pk,
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "type": ticket.type,
            "channel": ticket.channel,
            "customer": Ref(id=ticket.customer_id, name=ticket.customer.name),
            "assignee": Ref(id=assignee.pk, name=assignee.username) if assignee else None,
            "category": Ref(id=category.pk, name=category.name) if category else None,
            "created_at": ticket.created_at,
            "first_response_due_at": ticket.first_response_due_at,
            "resolution_due_at": ticket.resolution_due_at,
            "response_breached": ticket.response_breached_at is not None,
            "resolution_breached": ticket.resolution_breached_at is not None,
            "paused": ticket.paused_at is not None,
        }

    @classmethod
    def of(cls, ticket: Ticket) -> TicketOut:
        return cls(**cls.fields_of(ticket))


class ClockOut(Schema):
    name: str
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    state: str
    minutes_left: int | None

    @classmethod
    def of(cls, clock: ClockState) -> ClockOut:
        return cls(**clock.__dict__)


class TicketDetailOut(TicketOut):
    description: str
    contact: Ref | None
    sla_class: str
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    merged_into_id: int | None
    allowed_transitions: list[str]
    clocks: list[ClockOut]
    version: int

    @classmethod
    def detail(cls, ticket: Ticket, clocks: list[ClockState]) -> TicketDetailOut:
        contact = ticket.contact
        return cls(
            **TicketOut.fields_of(ticket),
            description=ticket.description,
            contact=Ref(id=contact.pk, name=contact.name) if contact else None,
            sla_class=ticket.sla_class,
            first_responded_at=ticket.first_responded_at,
            resolved_at=ticket.resolved_at,
            closed_at=ticket.closed_at,
            merged_into_id=ticket.merged_into_id,
            allowed_transitions=ticket.allowed_transitions(),
            clocks=[ClockOut.of(c) for c in clocks],
            version=ticket.version,
        )


class TicketIn(InputSchema):
    customer_id: int
    subject: str = Field(..., max_length=200)
    description: str = ""
    contact_id: int | None = None
    channel: str = "api"
    type: str = "inquiry"
    priority: str = "normal"
    category_id: int | None = None


class TicketPatch(InputSchema):
    version: int
    subject: str | None = Field(None, max_length=200)
    description: str | None = None
    type: str | None = None
    priority: str | None = None
    category_id: int | None = None


class TransitionIn(InputSchema):
    status: str
    version: int | None = None


class AssignIn(InputSchema):
    assignee_id: int | None
    version: int | None = None


class ReplyIn(InputSchema):
    body: str = Field(..., max_length=100_000)
    internal: bool = False


class MessageOut(Schema):
    id: int
    internal: bool
    author: str
    from_customer: bool
    body: str
    channel: str
    created_at: dt.datetime

    @classmethod
    def of(cls, message: TicketMessage) -> MessageOut:
        author = message.author_user or message.author_contact
        return cls(
            id=message.pk,
            internal=message.internal,
            author=str(author) if author else message.author_email,
            from_customer=message.from_customer,
            body=message.body,
            channel=message.channel,
            created_at=message.created_at,
        )


class ChangeOut(Schema):
    field: str
    old_value: str
    new_value: str
    actor: str | None
    created_at: dt.datetime


class MergeIn(InputSchema):
    target_id: int


class LinkIn(InputSchema):
    kind: Literal["order", "opportunity"]
    object_id: int


class LinkOut(Schema):
    id: int
    kind: str
    object_id: int
    label: str


class BulkIn(InputSchema):
    ids: list[int] = Field(..., min_length=1, max_length=500)
    action: Literal["assign", "status"]
    assignee_id: int | None = None
    status: str = ""


class BulkOut(Schema):
    changed: int
    errors: list[dict[str, str]]


class InboundOut(Schema):
    id: int
    status: str
    reason: str
    sender: str
    subject: str
    ticket_id: int | None
    received_at: dt.datetime


class SettleIn(InputSchema):
    ticket_id: int | None = None
    customer_id: int | None = None
    discard: bool = False


class AttainmentOut(Schema):
    key: Any
    label: str
    tickets: int
    response_pct: float | None
    resolution_pct: float | None


class CallbackOut(Schema):
    id: int
    customer: Ref
    ticket_id: int | None
    agent: Ref | None
    due_at: dt.datetime
    reason: str
    status: str
    outcome: str


class CallbackDoneIn(InputSchema):
    outcome: str
    notes: str = ""


class PolicyIn(InputSchema):
    name: str
    sla_class: str = ""
    priority: str
    first_response_minutes: int
    resolution_minutes: int
    warn_before_minutes: int = 30
    calendar_id: int | None = None
    escalate_to_group_id: int | None = None
    raise_priority: bool = True


class PolicyOut(Schema):
    id: int
    name: str
    sla_class: str
    priority: str
    first_response_minutes: int
    resolution_minutes: int
    warn_before_minutes: int
    calendar_id: int | None
    escalate_to_group_id: int | None
    raise_priority: bool


class CalendarIn(InputSchema):
    name: str
    time_zone: str = "Asia/Shanghai"
    hours: dict[str, list[list[str]]]
    is_default: bool = False


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    hours: dict[str, Any]
    is_default: bool


class CalendarDaysIn(InputSchema):
    year: int = Field(..., ge=2000, le=2100)
    text: str


class CategoryIn(InputSchema):
    name: str
    parent_id: int | None = None
    group_id: int | None = None


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    group_id: int | None


class MemberIn(InputSchema):
    user_id: int
    skills: list[str] = Field(default_factory=list, description='e.g. ["vip", "发票"]')
    is_available: bool | None = Field(
        None, description="False: in the group but gets no new tickets; leave out to keep it."
    )


class GroupIn(InputSchema):
    name: str
    team_id: int | None = None
    manager_id: int | None = Field(None, description="Receives the group's escalations.")
    members: list[MemberIn] | None = Field(
        None, description="Replaces the members and their skills; leave out to keep them."
    )
    version: int | None = Field(None, description="The version read; a stale edit is a 409.")


class MemberOut(Schema):
    user_id: int
    username: str
    skills: list[str]
    is_available: bool


class GroupOut(Schema):
    id: int
    name: str
    team_id: int | None
    manager_id: int | None
    members: list[MemberOut]
    version: int

    @staticmethod
    def of(group: AgentGroup) -> GroupOut:
        return GroupOut(
            id=group.pk,
            name=group.name,
            team_id=group.team_id,
            manager_id=group.manager_id,
            members=[
                MemberOut(
                    user_id=m.user_id,
                    username=m.user.username,
                    skills=sorted(m.skill_set()),
                    is_available=m.is_available,
                )
                for m in group.memberships.all()
            ],
            version=group.version,
        )


class RuleIn(InputSchema):
    name: str
    position: int = 100
    category_id: int | None = Field(None, description="Blank: any category.")
    type: str = Field("", description="Ticket type; blank: any.")
    channel: str = Field("", description="Channel; blank: any.")
    skill: str = Field("", description="Only members with this skill; blank: all members.")
    group_id: int
    strategy: Literal["round_robin", "load"] = "round_robin"
    is_active: bool = True
    version: int | None = Field(None, description="The version read; a stale edit is a 409.")


class RuleOut(Schema):
    id: int
    name: str
    position: int
    category_id: int | None
    type: str
    channel: str
    skill: str
    group_id: int
    strategy: str
    is_active: bool
    version: int
