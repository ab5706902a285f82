"""API schemas of the sales domain: types and lengths here, rules in the services. Money
leaves as decimal strings ("1288.00") so that no client rounds it through a float."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema
from guanxi.sales.models import Opportunity, OpportunityLine, Pipeline, Stage


class Ref(Schema):
    id: int
    name: str


def _ref(obj: Any, label: str | None = None) -> Ref | None:
    if obj is None:
        return None
    return Ref(id=obj.pk, name=label if label is not None else str(obj))


class StageOut(Schema):
    id: int
    name: str
    name_zh: str
    label: str
    order: int
    probability: int
    required_fields: list[str]

    @classmethod
    def from_stage(cls, stage: Stage) -> StageOut:
        return cls(
            id=stage.pk,
            name=stage.name,
            name_zh=stage.name_zh,
            label=stage.label,
            order=stage.order,
            probability=stage.probability,
            required_fields=list(stage.required_fields or []),
        )


class PipelineOut(Schema):
    id: int
    name: str
    name_zh: str
    label: str
    is_default: bool
    is_active: bool
    version: int
    stages: list[StageOut]

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline, stages: list[Stage]) -> PipelineOut:
        return cls(
            id=pipeline.pk,
            name=pipeline.name,
            name_zh=pipeline.name_zh,
            label=pipeline.label,
            is_default=pipeline.is_default,
            is_active=pipeline.is_active,
            version=pipeline.version,
            stages=[StageOut.from_stage(s) for s in stages],
        )


class PipelineIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    name_zh: str = Field("", max_length=100)
    is_default: bool = False
    is_active: bool = True


class PipelinePatch(PipelineIn):
    version: int


class StageIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    name_zh: str = Field("", max_length=100)
    probability: int = Field(0, ge=0, le=100)
    required_fields: list[str] = Field(default_factory=list, max_length=20)
    order: int | None = Field(None, ge=0, le=1000)


class OpportunityIn(InputSchema):
    customer_id: int
    name: str = Field(min_length=1, max_length=200)
    amount: Decimal | None = None
    contact_id: int | None = None
    owner_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    expected_close: dt.date | None = None
    source: str = Field("", max_length=40)
    heat: str = Field("warm", max_length=4)
    forecast_category: str = Field("pipeline", max_length=10)
    next_step: str = Field("", max_length=300)
    description: str = Field("", max_length=10_000)


class OpportunityPatch(InputSchema):
    version: int
    name: str | None = Field(None, min_length=1, max_length=200)
    amount: Decimal | None = None
    contact_id: int | None = None
    owner_id: int | None = None
    expected_close: dt.date | None = None
    source: str | None = Field(None, max_length=40)
    heat: str | None = Field(None, max_length=4)
    forecast_category: str | None = Field(None, max_length=10)
    next_step: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=10_000)


class MoveIn(InputSchema):
    stage_id: int
    version: int | None = None


class CloseIn(InputSchema):
    status: str = Field(max_length=4)
    reason_id: int
    note: str = Field("", max_length=300)
    version: int | None = None


class VersionIn(InputSchema):
    version: int | None = None


class LineIn(InputSchema):
    product_id: int
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    discount: Decimal = Decimal(0)


class LinesIn(InputSchema):
    version: int | None = None
    lines: list[LineIn] = Field(max_length=200)


class CompetitorIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    strengths: str = Field("", max_length=300)
    weaknesses: str = Field("", max_length=300)


class InteractionIn(InputSchema):
    channel: str = Field(max_length=10)
    summary: str = Field(min_length=1, max_length=2000)


class LineOut(Schema):
    id: int
    product: Ref
    quantity: str
    unit_price: str
    discount: str
    amount: str

    @classmethod
    def from_line(cls, line: OpportunityLine) -> LineOut:
        return cls(
            id=line.pk,
            product=Ref(id=line.product_id, name=line.product.name),
            quantity=str(line.quantity),
            unit_price=str(line.unit_price),
            discount=str(line.discount),
            amount=str(line.amount),
        )


class CompetitorOut(Schema):
    id: int
    name: str
    strengths: str
    weaknesses: str


class OpportunityOut(Schema):
    id: int
    name: str
    customer: Ref
    contact: Ref | None
    owner: Ref | None
    team_id: int | None
    pipeline: Ref
    stage: Ref
    probability: int
    amount: str
    expected_close: dt.date | None
    source: str
    heat: str
    forecast_category: str
    next_step: str
    status: str
    close_reason: Ref | None
    closed_at: dt.datetime | None
    stage_entered_at: dt.datetime
    created_at: dt.datetime
    version: int

    @classmethod
    def from_opportunity(cls, o: Opportunity) -> OpportunityOut:
        owner = o.owner
        return cls(
            id=o.pk,
            name=o.name,
            customer=Ref(id=o.customer_id, name=o.customer.name),
            contact=_ref(o.contact, o.contact.name if o.contact else None),
            owner=_ref(owner, (owner.get_full_name() or owner.username) if owner else None),
            team_id=o.team_id,
            pipeline=Ref(id=o.pipeline_id, name=o.pipeline.label),
            stage=Ref(id=o.stage_id, name=o.stage.label),
            probability=o.stage.probability,
            amount=str(o.amount),
            expected_close=o.expected_close,
            source=o.source,
            heat=o.heat,
            forecast_category=o.forecast_category,
            next_step=o.next_step,
            status=o.status,
            close_reason=_ref(o.close_reason),
            closed_at=o.closed_at,
            stage_entered_at=o.stage_entered_at,
            created_at=o.created_at,
            version=o.version,
        )


class OpportunityDetailOut(OpportunityOut):
    description: str
    lines: list[LineOut]
    competitors: list[CompetitorOut]


class OpportunityQuery(Schema):
    pipeline_id: int | None = None
    stage_id: int | None = None
    status: str = Field("", max_length=4)
    owner_id: int | None = None
    customer_id: int | None = None
    heat: str = Field("", max_length=4)
    source: str = Field("", max_length=40)
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    q: str = Field("", max_length=100)
    sort: str = Field("-created", max_length=20)
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class ColumnOut(Schema):
    stage: StageOut
    count: int
    amount: str
    weighted: str
    cards: list[OpportunityOut]


class FunnelRowOut(Schema):
    stage: StageOut
    reached: int
    amount: str
    current: int
    conversion: float | None
    average_days: float | None


class FunnelOut(Schema):
    rows: list[FunnelRowOut]
    won: int
    won_amount: str
    lost: int
    total: int


class ForecastQuery(Schema):
    date_from: dt.date
    date_to: dt.date
    period: str = Field("month", pattern="^(month|quarter)$")
    group: str = Field("owner", pattern="^(owner|team|company)$")
    pipeline_id: int | None = None


class ForecastRowOut(Schema):
    period: dt.date
    group_id: int | None
    group_label: str
    count: int
    pipeline: str
    weighted: str
    best_case: str
    commit: str
    won: str


class WinLossRowOut(Schema):
    key: str
    won: int
    lost: int
    won_amount: str
    lost_amount: str
    win_rate: float | None


class TargetIn(InputSchema):
    user_id: int | None = None
    team_id: int | None = None
    period_start: dt.date
    period_end: dt.date
    amount: Decimal = Field(ge=0)


class AttainmentOut(Schema):
    target_id: int
    user_id: int | None
    team_id: int | None
    label: str
    period_start: dt.date
    period_end: dt.date
    target: str
    won: str
    percent: float | None


class QuoteIn(InputSchema):
    valid_until: dt.date | None = None
    notes: str = Field("", max_length=5000)


class DecisionIn(InputSchema):
    approve: bool
    comment: str = Field("", max_length=500)
    version: int | None = None


class InstalmentIn(InputSchema):
    due_on: dt.date
    amount: Decimal = Field(gt=0)


class AcceptIn(InputSchema):
    version: int | None = None
    instalments: list[InstalmentIn] = Field(default_factory=list, max_length=60)


class InstalmentOut(Schema):
    sequence: int
    due_on: dt.date
    amount: str
    reminder_task_id: int | None
    invoice_id: int | None = None
    invoice_number: str | None = None
    paid_amount: str = "0.00"
    outstanding: str = "0.00"
    status: str = ""


class QuoteLineOut(Schema):
    product_id: int
    description: str
    quantity: str
    unit_price: str
    discount: str
    amount: str


class QuoteOut(Schema):
    id: int
    number: str | None
    opportunity_id: int
    status: str
    valid_until: dt.date
    subtotal: str
    discount_total: str
    total: str
    max_discount: str
    discount_limit: str
    decision_comment: str
    order_id: int | None
    version: int
    lines: list[QuoteLineOut]
    instalments: list[InstalmentOut]

    @classmethod
    def from_quote(cls, quote: Any, parts: dict[str, Any]) -> QuoteOut:
        return cls(
            id=quote.pk,
            number=quote.number,
            opportunity_id=quote.opportunity_id,
            status=quote.status,
            valid_until=quote.valid_until,
            subtotal=str(quote.subtotal),
            discount_total=str(quote.discount_total),
            total=str(quote.total),
            max_discount=str(quote.max_discount),
            discount_limit=str(quote.discount_limit),
            decision_comment=quote.decision_comment,
            order_id=quote.order_id,
            version=quote.version,
            lines=[
                QuoteLineOut(
                    product_id=line.product_id,
                    description=line.description,
                    quantity=str(line.quantity),
                    unit_price=str(line.unit_price),
                    discount=str(line.discount),
                    amount=str(line.amount),
                )
                for line in parts["lines"]
            ],
            instalments=[
                InstalmentOut(
                    sequence=row.sequence,
                    due_on=row.due_on,
                    amount=str(row.amount),
                    reminder_task_id=row.reminder_task_id,
                    invoice_id=row.invoice_id,
                    invoice_number=row.invoice.number if row.invoice else None,
                    paid_amount=str(row.invoice.paid_amount) if row.invoice else "0.00",
                    outstanding=str(row.invoice.outstanding if row.invoice else row.amount),
                    status=row.invoice.status if row.invoice else "",
                )
                for row in parts["instalments"]
            ],
        )
