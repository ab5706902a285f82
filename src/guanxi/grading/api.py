"""Grading API: metrics catalogue, presets, schemes and tiers, evaluation runs, a customer's
grades with explanations, overrides, follow-ups, notifications and reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.core.errors import DomainError
from guanxi.core.pagination import keyset_page
from guanxi.core.permissions import require_perm
from guanxi.core.schemas import InputSchema, PageOut
from guanxi.customers.selectors import customer_get
from guanxi.grading import selectors, services
from guanxi.grading.metrics import CATALOGUE
from guanxi.grading.models import Scheme

router = Router(tags=["grading"])


class MetricOut(Schema):
    name: str
    label: str
    description: str
    unit: str


class PresetOut(Schema):
    code: str
    name_zh: str
    name_en: str
    description: str
    method: str
    installed: bool


class TierIO(Schema):
    code: str = Field(max_length=40)
    name_zh: str = Field(max_length=80)
    name_en: str = Field(max_length=80)
    condition: str = Field("", max_length=2000)
    color: str = Field("secondary", max_length=20)
    is_fallback: bool = False
    follow_up_days: int | None = Field(None, ge=1, le=3650)
    preferred_channels: list[str] = Field(default_factory=list, max_length=20)
    sla_class: str = Field("", max_length=20)
    points_multiplier: Decimal = Field(Decimal("1"), ge=0, le=100)
    max_discount_percent: Decimal = Field(Decimal("0"), ge=0, le=100)
    account_manager_level: str = Field("", max_length=40)
    care_actions: list[str] = Field(default_factory=list, max_length=20)


class TierOut(TierIO):
    id: int
    rank: int


class SchemeOut(Schema):
    id: int
    code: str
    name_zh: str
    name_en: str
    description: str
    kinds: list[str]
    method: str
    config: dict[str, Any]
    preset: str
    is_active: bool
    is_primary: bool
    schedule: str
    retention_ranks: int
    last_evaluated_at: dt.datetime | None
    version: int
    tiers: list[TierOut]

    @staticmethod
    def of(scheme: Scheme) -> SchemeOut:
        return SchemeOut(
            id=scheme.pk,
            code=scheme.code,
            name_zh=scheme.name_zh,
            name_en=scheme.name_en,
            description=scheme.description,
            kinds=list(scheme.kinds or []),
            method=scheme.method,
            config=scheme.config or {},
            preset=scheme.preset,
            is_active=scheme.is_active,
            is_primary=scheme.is_primary,
            schedule=scheme.schedule,
            retention_ranks=scheme.retention_ranks,
            last_evaluated_at=scheme.last_evaluated_at,
            version=scheme.version,
            tiers=[
                TierOut.model_validate(tier, from_attributes=True) for tier in scheme.tiers.all()
            ],
        )


class SchemeIn(InputSchema):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")
    name_zh: str = Field(min_length=1, max_length=80)
    name_en: str = Field(min_length=1, max_length=80)
    description: str = Field("", max_length=2000)
    kinds: list[str] = Field(default_factory=list, max_length=4)
    method: str
    config: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = False
    is_primary: bool = False
    schedule: str = ""
    retention_ranks: int = Field(0, ge=0, le=20)
    tiers: list[TierIO] = Field(min_length=1, max_length=30)


class SchemePatch(InputSchema):
    version: int
    name_zh: str | None = Field(None, min_length=1, max_length=80)
    name_en: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=2000)
    kinds: list[str] | None = Field(None, max_length=4)
    method: str | None = None
    config: dict[str, Any] | None = None
    is_active: bool | None = None
    is_primary: bool | None = None
    schedule: str | None = None
    retention_ranks: int | None = Field(None, ge=0, le=20)
    tiers: list[TierIO] | None = Field(None, min_length=1, max_length=30)


class RunOut(Schema):
    id: int
    scheme_id: int
    is_preview: bool
    status: str
    step: str
    progress: int
    evaluated: int
    changed: int
    result: dict[str, Any]
    message: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ReadingOut(Schema):
    name: str
    label: str
    value: Any
    unit: str


class GradeOut(Schema):
    scheme_id: int
    scheme_code: str
    tier_code: str | None
    tier_name_zh: str | None
    tier_name_en: str | None
    rule_tier_code: str | None
    condition: str
    fallback: bool
    score: str
    readings: list[ReadingOut]
    overridden: bool
    override_reason: str
    override_expires_at: dt.datetime | None
    evaluated_at: dt.datetime | None


class ChangeOut(Schema):
    scheme_id: int
    from_tier: str | None
    to_tier: str | None
    changed_at: dt.datetime
    reason: str
    explanation: str


class OverrideIn(InputSchema):
    scheme_id: int
    tier_code: str | None = Field(None, max_length=40)
    reason: str = Field("", max_length=500)
    expires_at: dt.datetime | None = None


class FollowUpOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    owner_id: int | None
    kind: str
    due_on: dt.date
    reason: str
    tier_code: str | None


class FollowUpQuery(Schema):
    owner_id: int | None = None
    overdue: bool = False
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class NotificationOut(Schema):
    id: int
    customer_id: int | None
    scheme_code: str | None
    from_tier: str | None
    to_tier: str | None
    reason: str | None
    created_at: dt.datetime
    read: bool


class ReadIn(InputSchema):
    ids: list[int] | None = Field(None, max_length=500)


@router.get("/grading/metrics", response=list[MetricOut], summary="The metric catalogue")
def list_metrics(request: HttpRequest) -> list[MetricOut]:
    return [
        MetricOut(name=m.name, label=str(m.label), description=str(m.description), unit=str(m.unit))
        for m in CATALOGUE.values()
    ]


@router.get("/grading/presets", response=list[PresetOut])
def list_presets(request: HttpRequest) -> list[PresetOut]:
    require_perm(api_actor(request), "grading.view")
    return [
        PresetOut(**{**item, "description": str(item["description"])})
        for item in selectors.presets_available()
    ]


@router.post("/grading/presets/{code}/install", response={201: SchemeOut})
def install_preset(request: HttpRequest, code: str) -> Status[SchemeOut]:
    scheme = services.preset_install(actor=api_actor(request), code=code)
    return Status(201, SchemeOut.of(scheme))


@router.get("/grading/schemes", response=list[SchemeOut])
def list_schemes(request: HttpRequest) -> list[SchemeOut]:
    return [SchemeOut.of(scheme) for scheme in selectors.scheme_list(actor=api_actor(request))]


@router.post("/grading/schemes", response={201: SchemeOut})
def create_scheme(request: HttpRequest, payload: SchemeIn) -> Status[SchemeOut]:
    values = payload.model_dump(exclude={"tiers"})
    scheme = services.scheme_save(
        actor=api_actor(request), values=values, tiers=[tier.model_dump() for tier in payload.tiers]
    )
    return Status(201, SchemeOut.of(scheme))


@router.get("/grading/schemes/{int:scheme_id}", response=SchemeOut)
def get_scheme(request: HttpRequest, scheme_id: int) -> SchemeOut:
    return SchemeOut.of(selectors.scheme_get(actor=api_actor(request), pk=scheme_id))


@router.patch("/grading/schemes/{int:scheme_id}", response=SchemeOut)
def update_scheme(request: HttpRequest, scheme_id: int, payload: SchemePatch) -> SchemeOut:
    actor = api_actor(request)
    scheme = selectors.scheme_get(actor=actor, pk=scheme_id)
    values = payload.model_dump(exclude_unset=True, exclude={"version", "tiers"})
    tiers = [tier.model_dump() for tier in payload.tiers] if payload.tiers is not None else None
    scheme = services.scheme_save(
        actor=actor, values=values, tiers=tiers, scheme=scheme, version=payload.version
    )
    return SchemeOut.of(scheme)


@router.post(
    "/grading/schemes/{int:scheme_id}/evaluate",
    response={202: RunOut},
    summary="Evaluate every customer now (a background job; poll the run)",
)
def evaluate_scheme(request: HttpRequest, scheme_id: int) -> Status[Any]:
    actor = api_actor(request)
    run = services.evaluation_start(
        actor=actor, scheme=selectors.scheme_get(actor=actor, pk=scheme_id)
    )
    return Status(202, selectors.run_get(actor=actor, pk=run.pk))


@router.post(
    "/grading/schemes/{int:scheme_id}/preview",
    response={202: RunOut},
    summary="Preview the tier migration matrix without changing any grade",
)
def preview_scheme(request: HttpRequest, scheme_id: int) -> Status[Any]:
    actor = api_actor(request)
    run = services.evaluation_start(
        actor=actor, scheme=selectors.scheme_get(actor=actor, pk=scheme_id), preview=True
    )
    return Status(202, selectors.run_get(actor=actor, pk=run.pk))


@router.get("/grading/runs/{int:run_id}", response=RunOut)
def get_run(request: HttpRequest, run_id: int) -> Any:
    return selectors.run_get(actor=api_actor(request), pk=run_id)


def _grade_out(item: dict[str, Any]) -> GradeOut:
    tier, rule = item["tier"], item["rule_tier"]
    return GradeOut(
        scheme_id=item["scheme"].pk,
        scheme_code=item["scheme"].code,
        tier_code=tier.code if tier else None,
        tier_name_zh=tier.name_zh if tier else None,
        tier_name_en=tier.name_en if tier else None,
        rule_tier_code=rule.code if rule else None,
        condition=item["condition"],
        fallback=item["fallback"],
        score=item["score"],
        readings=[ReadingOut(**reading) for reading in item["readings"]],
        overridden=item["overridden"],
        override_reason=item["override_reason"],
        override_expires_at=item["override_expires_at"],
        evaluated_at=item["evaluated_at"],
    )


@router.get(
    "/customers/{int:customer_id}/grades",
    response=list[GradeOut],
    summary="Every active scheme's grade of the customer, with its explanation",
)
def customer_grades(request: HttpRequest, customer_id: int) -> list[GradeOut]:
    actor = api_actor(request)
    customer = customer_get(actor=actor, pk=customer_id)
    return [_grade_out(item) for item in selectors.customer_grades(actor=actor, customer=customer)]


@router.get("/customers/{int:customer_id}/grade-history", response=list[ChangeOut])
def customer_grade_history(request: HttpRequest, customer_id: int) -> list[ChangeOut]:
    customer = customer_get(actor=api_actor(request), pk=customer_id)
    return [
        ChangeOut(
            scheme_id=change.scheme_id,
            from_tier=change.from_tier.code if change.from_tier else None,
            to_tier=change.to_tier.code if change.to_tier else None,
            changed_at=change.changed_at,
            reason=change.reason,
            explanation=change.explanation,
        )
        for change in selectors.customer_grade_history(customer=customer)
    ]


@router.post(
    "/customers/{int:customer_id}/grade-override",
    response=list[GradeOut],
    summary="Set (or with tier_code null, clear) an expert's tier for one scheme",
)
def override_grade(request: HttpRequest, customer_id: int, payload: OverrideIn) -> list[GradeOut]:
    actor = api_actor(request)
    customer = customer_get(actor=actor, pk=customer_id)
    scheme = selectors.scheme_get(actor=actor, pk=payload.scheme_id)
    tier = None
    if payload.tier_code:
        tier = scheme.tiers.filter(code=payload.tier_code).first()
        if tier is None:
            raise DomainError(
                _("Unknown tier “%(name)s”.") % {"name": payload.tier_code}, field="tier_code"
            )
    services.grade_override(
        actor=actor,
        customer=customer,
        scheme=scheme,
        tier=tier,
        reason=payload.reason,
        expires_at=payload.expires_at,
    )
    return [_grade_out(item) for item in selectors.customer_grades(actor=actor, customer=customer)]


@router.get(
    "/grading/follow-ups",
    response=PageOut[FollowUpOut],
    summary="Open follow-ups in the actor's scope (owner_id for one owner)",
)
def list_follow_ups(request: HttpRequest, query: Query[FollowUpQuery]) -> PageOut[FollowUpOut]:
    actor = api_actor(request)
    page = keyset_page(
        selectors.follow_up_list(
            actor=actor,
            owner_id=query.owner_id,
            overdue_only=query.overdue,
            today=timezone.localdate(),
        ),
        cursor=query.cursor,
        limit=query.limit,
        ordering=("due_on", "pk"),
    )
    return PageOut[FollowUpOut](
        items=[
            FollowUpOut(
                id=f.pk,
                customer_id=f.customer_id,
                customer_name=f.customer.name,
                owner_id=f.owner_id,
                kind=f.kind,
                due_on=f.due_on,
                reason=f.reason,
                tier_code=f.tier.code if f.tier else None,
            )
            for f in page.items
        ],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post("/grading/follow-ups/{int:follow_up_id}/done", response={204: None})
def close_follow_up(request: HttpRequest, follow_up_id: int) -> Status[None]:
    actor = api_actor(request)
    services.follow_up_close(
        actor=actor, follow_up=selectors.follow_up_get(actor=actor, pk=follow_up_id)
    )
    return Status(204, None)


@router.get("/grading/notifications", response=list[NotificationOut])
def list_notifications(request: HttpRequest, unread: bool = False) -> list[NotificationOut]:
    return [
        NotificationOut(
            id=n.pk,
            customer_id=n.customer_id,
            scheme_code=n.change.scheme.code if n.change else None,
            from_tier=n.change.from_tier.code if n.change and n.change.from_tier else None,
            to_tier=n.change.to_tier.code if n.change and n.change.to_tier else None,
            reason=n.change.reason if n.change else None,
            created_at=n.created_at,
            read=n.read_at is not None,
        )
        for n in selectors.notification_list(actor=api_actor(request), unread_only=unread)[:200]
    ]


@router.post("/grading/notifications/read", response=dict[str, int])
def read_notifications(request: HttpRequest, payload: ReadIn) -> dict[str, int]:
    return {"read": services.notifications_mark_read(actor=api_actor(request), ids=payload.ids)}


@router.get(
    "/grading/schemes/{int:scheme_id}/reports/effort",
    response=list[dict[str, Any]],
    summary="Per tier: shares of customers, revenue, margin and interactions; Kotler level",
)
def effort_report(request: HttpRequest, scheme_id: int) -> list[dict[str, Any]]:
    scheme = selectors.scheme_get(actor=api_actor(request), pk=scheme_id)
    return [
        {
            **{k: v for k, v in row.items() if k != "tier"},
            "tier": row["tier"].code if row["tier"] else None,
            "revenue": float(row["revenue"] or 0),
            "margin": float(row["margin"] or 0),
        }
        for row in selectors.effort_and_value(scheme=scheme)
    ]


@router.get(
    "/grading/schemes/{int:scheme_id}/reports/migration",
    response=list[dict[str, Any]],
    summary="Customers moving from each tier at `start` to each tier at `end`",
)
def migration_report(
    request: HttpRequest, scheme_id: int, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    scheme = selectors.scheme_get(actor=api_actor(request), pk=scheme_id)
    return selectors.migration_between(scheme=scheme, start=start, end=end)


@router.get(
    "/grading/schemes/{int:scheme_id}/reports/distribution",
    response=list[dict[str, Any]],
    summary="Customers per tier after each evaluation",
)
def distribution_report(request: HttpRequest, scheme_id: int) -> list[dict[str, Any]]:
    scheme = selectors.scheme_get(actor=api_actor(request), pk=scheme_id)
    return [
        {
            "taken_at": row["taken_at"].isoformat(),
            "counts": {str(k): v for k, v in row["counts"].items()},
        }
        for row in selectors.distribution_over_time(scheme=scheme)
    ]
