"""API schemas of the leads domain: types and lengths here, rules in the services. Phones
and emails always leave masked; `POST /leads/{id}/reveal` returns one in full (logged)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from guanxi.accounts.models import User
from guanxi.core.schemas import InputSchema
from guanxi.leads.models import Lead, LeadEvent, LeadForm, PoolMove


class LeadIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    company: str = Field("", max_length=200)
    title: str = Field("", max_length=120)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    region: str = Field("", max_length=50)
    industry: str | None = Field(None, max_length=10, description="An industry code")
    size_band: str = Field("", max_length=10)
    source: str = Field("api", max_length=12)
    message: str = Field("", max_length=5000)
    owner_id: int | None = None
    auto_assign: bool = Field(False, description="Hand the lead to the assignment rules")


class LeadPatch(InputSchema):
    version: int
    name: str | None = Field(None, min_length=1, max_length=120)
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=120)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    region: str | None = Field(None, max_length=50)
    industry: str | None = Field(None, max_length=10)
    size_band: str | None = Field(None, max_length=10)
    message: str | None = Field(None, max_length=5000)


class LeadQuery(Schema):
    q: str = Field("", max_length=60)
    status: str = Field("", max_length=12)
    intent: str = Field("", max_length=1)
    source: str = Field("", max_length=12)
    owner_id: int | None = None
    unassigned: bool = False
    duplicates: bool = False
    sort: str = Field("-created", max_length=10)
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class BreakdownItem(Schema):
    label: str
    kind: str
    points: float
    count: int


class LeadOut(Schema):
    id: int
    name: str
    company: str
    title: str
    phone: str
    email: str
    region: str
    industry: str | None
    size_band: str
    source: str
    form_id: int | None
    status: str
    intent: str
    intent_by_hand: bool
    score: int
    score_breakdown: list[BreakdownItem]
    owner_id: int | None
    team_id: int | None
    duplicate_of_id: int | None
    matched_customer_id: int | None
    customer_id: int | None
    opportunity_id: int | None
    consent_given: bool
    created_at: dt.datetime
    version: int

    @classmethod
    def from_lead(cls, lead: Lead, actor: User) -> LeadOut:
        from guanxi.leads.selectors import lead_contact_points

        points = lead_contact_points(lead=lead)
        return cls(
            id=lead.pk,
            name=lead.name,
            company=lead.company,
            title=lead.title,
            phone=points["phone"],
            email=points["email"],
            region=lead.region,
            industry=lead.industry.code if lead.industry_id and lead.industry else None,
            size_band=lead.size_band,
            source=lead.source,
            form_id=lead.form_id,
            status=lead.status,
            intent=lead.intent,
            intent_by_hand=lead.intent_by_hand,
            score=lead.score,
            score_breakdown=[BreakdownItem(**item) for item in _items(lead.score_breakdown)],
            owner_id=lead.owner_id,
            team_id=lead.team_id,
            duplicate_of_id=lead.duplicate_of_id,
            matched_customer_id=lead.matched_customer_id,
            customer_id=lead.customer_id,
            opportunity_id=lead.opportunity_id,
            consent_given=lead.consent_given,
            created_at=lead.created_at,
            version=lead.version,
        )


def _items(breakdown: Any) -> list[dict[str, Any]]:
    return [
        {
            "label": str(item.get("label", "")),
            "kind": str(item.get("kind", "")),
            "points": float(item.get("points", 0)),
            "count": int(item.get("count", 0)),
        }
        for item in breakdown or []
    ]


class ModelOpinion(Schema):
    score: int
    auc: float
    factors: list[dict[str, Any]]


class LeadDetailOut(LeadOut):
    model: ModelOpinion | None = None


class EventOut(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime
    actor_id: int | None
    detail: str

    @classmethod
    def from_event(cls, event: LeadEvent) -> EventOut:
        return cls(
            id=event.pk,
            kind=event.kind,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            detail=event.detail,
        )


class IntentIn(InputSchema):
    intent: str = Field("", max_length=1, description='S, A, B, C or "" for the score rules')
    version: int | None = None


class StatusIn(InputSchema):
    status: str = Field(max_length=12)
    reason: str = Field("", max_length=300)
    version: int | None = None


class EventIn(InputSchema):
    kind: str = Field(max_length=14)
    detail: str = Field("", max_length=500)
    occurred_at: dt.datetime | None = None


class ConvertIn(InputSchema):
    attach_to_customer_id: int | None = None
    create_opportunity: bool = True
    opportunity_name: str = Field("", max_length=200)
    amount: Decimal | None = None
    version: int | None = None


class AssignIn(InputSchema):
    owner_id: int
    version: int | None = None


class RevealIn(InputSchema):
    field: str = Field(max_length=10)


class RevealOut(Schema):
    field: str
    value: str


class FormIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    slug: str = Field(min_length=3, max_length=60)
    heading: str = Field(min_length=1, max_length=200)
    intro: str = Field("", max_length=5000)
    fields: list[str] = Field(default_factory=lambda: ["name", "email"])
    required_fields: list[str] = Field(default_factory=lambda: ["name"])
    consent_wording: str = Field("", max_length=5000)
    consent_required: bool = True
    consent_purpose: str = Field("processing", max_length=20)
    thank_you: str = Field(min_length=1, max_length=5000)
    team_id: int | None = None
    embed_origins: str = Field("", max_length=500)
    is_active: bool = True


class FormOut(Schema):
    id: int
    name: str
    slug: str
    heading: str
    intro: str
    fields: list[str]
    required_fields: list[str]
    consent_wording: str
    consent_required: bool
    consent_purpose: str
    thank_you: str
    team_id: int | None
    embed_origins: str
    is_active: bool
    url: str

    @classmethod
    def from_form(cls, form: LeadForm) -> FormOut:
        from django.urls import reverse

        return cls(
            id=form.pk,
            name=form.name,
            slug=form.slug,
            heading=form.heading,
            intro=form.intro,
            fields=list(form.fields),
            required_fields=list(form.required_fields),
            consent_wording=form.consent_wording,
            consent_required=form.consent_required,
            consent_purpose=form.consent_purpose,
            thank_you=form.thank_you,
            team_id=form.team_id,
            embed_origins=form.embed_origins,
            is_active=form.is_active,
            url=reverse("leads:public-form", args=[form.slug]),
        )


class PoolQuery(Schema):
    q: str = Field("", max_length=60)
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class PoolRowOut(Schema):
    id: int
    name: str
    phone: str
    email: str
    region: str
    team: str
    industry: str
    created_at: dt.datetime


class AllowanceOut(Schema):
    quota: int
    claimed_today: int
    max_held: int
    held: int
    left: int
    cooling_off_days: int


class ClaimOut(Schema):
    kind: str
    id: int
    owner_id: int


class ReleaseIn(InputSchema):
    reason: str = Field("", max_length=300)


class MoveOut(Schema):
    id: int
    kind: str
    customer_id: int | None
    lead_id: int | None
    user_id: int | None
    reason: str
    created_at: dt.datetime

    @classmethod
    def from_move(cls, move: PoolMove) -> MoveOut:
        return cls(
            id=move.pk,
            kind=move.kind,
            customer_id=move.customer_id,
            lead_id=move.lead_id,
            user_id=move.user_id,
            reason=move.reason,
            created_at=move.created_at,
        )


class PoolRuleIn(InputSchema):
    team_id: int | None = None
    tier_id: int | None = None
    no_follow_up_days: int | None = Field(None, ge=1, le=3650)
    no_deal_days: int | None = Field(None, ge=1, le=3650)


class PoolRuleOut(Schema):
    id: int
    team_id: int | None
    tier_id: int | None
    no_follow_up_days: int | None
    no_deal_days: int | None


class PoolPolicyIn(InputSchema):
    team_id: int | None = None
    daily_claim_quota: int = Field(20, ge=0, le=10000)
    max_held: int = Field(300, ge=0, le=1000000)
    cooling_off_days: int = Field(30, ge=0, le=3650)
    warn_days: int = Field(3, ge=0, le=365)


class PoolPolicyOut(Schema):
    id: int
    team_id: int | None
    daily_claim_quota: int
    max_held: int
    cooling_off_days: int
    warn_days: int


class ScoringRuleIn(InputSchema):
    factor: str = Field(max_length=10)
    value: str = Field(min_length=1, max_length=80)
    points: int = Field(ge=-100, le=100)


class ScoringRuleOut(Schema):
    id: int
    factor: str
    value: str
    points: int
    is_active: bool


class AssignmentRuleIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    team_id: int
    method: str = Field(max_length=12)
    region: str = Field("", max_length=50)
    industry: str | None = Field(None, max_length=10)
    member_ids: list[int] = Field(default_factory=list)
    position: int = Field(0, ge=0, le=1000)


class AssignmentRuleOut(Schema):
    id: int
    name: str
    team_id: int
    method: str
    region: str
    industry_id: int | None
    member_ids: list[int]
    position: int


class LeadModelOut(Schema):
    offered: bool
    converted: int
    disqualified: int
    minimum: int
    active: bool
    auc: float | None
    trained_at: dt.datetime | None
