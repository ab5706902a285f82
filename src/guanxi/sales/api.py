"""Sales API: pipelines and stages, opportunities (create, edit, move, close, lines,
competitors, log a call or visit), the board, funnel, forecast, win/loss and targets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.accounts.models import User
from guanxi.core.idempotency import idempotent
from guanxi.core.pagination import keyset_page
from guanxi.core.permissions import require_perm
from guanxi.core.schemas import PageOut
from guanxi.customers.selectors import contact_get, customer_get
from guanxi.sales import selectors, services
from guanxi.sales.models import Opportunity
from guanxi.sales.schemas import (
    AcceptIn,
    AttainmentOut,
    CloseIn,
    ColumnOut,
    CompetitorIn,
    CompetitorOut,
    DecisionIn,
    ForecastQuery,
    ForecastRowOut,
    FunnelOut,
    FunnelRowOut,
    InteractionIn,
    LineOut,
    LinesIn,
    MoveIn,
    OpportunityDetailOut,
    OpportunityIn,
    OpportunityOut,
    OpportunityPatch,
    OpportunityQuery,
    PipelineIn,
    PipelineOut,
    PipelinePatch,
    QuoteIn,
    QuoteOut,
    StageIn,
    StageOut,
    TargetIn,
    VersionIn,
    WinLossRowOut,
)

router = Router(tags=["sales"])


def _viewer(request: HttpRequest) -> User:
    actor = api_actor(request)
    require_perm(actor, "sales.view")
    return actor


def _detail(actor: User, pk: int) -> OpportunityDetailOut:
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    parts = selectors.opportunity_detail(opportunity=opportunity)
    base = OpportunityOut.from_opportunity(opportunity).model_dump()
    return OpportunityDetailOut(
        **base,
        description=opportunity.description,
        lines=[LineOut.from_line(line) for line in parts["lines"]],
        competitors=[
            CompetitorOut(
                id=row.pk,
                name=row.competitor.name,
                strengths=row.strengths,
                weaknesses=row.weaknesses,
            )
            for row in parts["competitors"]
        ],
    )


def _pipeline_out(pipeline: Any) -> PipelineOut:
    return PipelineOut.from_pipeline(pipeline, selectors.stage_list(pipeline=pipeline))


# --- pipelines ------------------------------------------------------------------------------


@router.get("/pipelines", response=list[PipelineOut], summary="Pipelines with their stages")
def list_pipelines(request: HttpRequest) -> list[PipelineOut]:
    _viewer(request)
    return [_pipeline_out(p) for p in selectors.pipeline_list(include_inactive=True)]


@router.post("/pipelines", response={201: PipelineOut})
def create_pipeline(request: HttpRequest, payload: PipelineIn) -> Status[PipelineOut]:
    pipeline = services.pipeline_save(actor=api_actor(request), **payload.model_dump())
    return Status(201, _pipeline_out(pipeline))


@router.get("/pipelines/{int:pipeline_id}", response=PipelineOut)
def get_pipeline(request: HttpRequest, pipeline_id: int) -> PipelineOut:
    _viewer(request)
    return _pipeline_out(selectors.pipeline_get(pk=pipeline_id))


@router.patch("/pipelines/{int:pipeline_id}", response=PipelineOut)
def update_pipeline(request: HttpRequest, pipeline_id: int, payload: PipelinePatch) -> PipelineOut:
    values = payload.model_dump()
    pipeline = services.pipeline_save(
        actor=api_actor(request), pipeline=selectors.pipeline_get(pk=pipeline_id), **values
    )
    return _pipeline_out(pipeline)


@router.post("/pipelines/{int:pipeline_id}/stages", response={201: StageOut})
def create_stage(request: HttpRequest, pipeline_id: int, payload: StageIn) -> Status[StageOut]:
    stage = services.stage_save(
        actor=api_actor(request),
        pipeline=selectors.pipeline_get(pk=pipeline_id),
        **payload.model_dump(),
    )
    return Status(201, StageOut.from_stage(stage))


@router.put("/pipelines/{int:pipeline_id}/stages/{int:stage_id}", response=StageOut)
def update_stage(
    request: HttpRequest, pipeline_id: int, stage_id: int, payload: StageIn
) -> StageOut:
    pipeline = selectors.pipeline_get(pk=pipeline_id)
    stage = services.stage_save(
        actor=api_actor(request),
        pipeline=pipeline,
        stage=selectors.stage_get(pipeline_id=pipeline.pk, pk=stage_id),
        **payload.model_dump(),
    )
    return StageOut.from_stage(stage)


@router.delete("/pipelines/{int:pipeline_id}/stages/{int:stage_id}", response={204: None})
def delete_stage(request: HttpRequest, pipeline_id: int, stage_id: int) -> Status[None]:
    services.stage_delete(
        actor=api_actor(request), stage=selectors.stage_get(pipeline_id=pipeline_id, pk=stage_id)
    )
    return Status(204, None)


@router.get("/pipelines/{int:pipeline_id}/board", response=list[ColumnOut])
def get_board(request: HttpRequest, pipeline_id: int) -> list[ColumnOut]:
    actor = _viewer(request)
    columns = selectors.board(actor=actor, pipeline=selectors.pipeline_get(pk=pipeline_id))
    return [
        ColumnOut(
            stage=StageOut.from_stage(c.stage),
            count=c.count,
            amount=str(c.amount),
            weighted=str(c.weighted),
            cards=[OpportunityOut.from_opportunity(o) for o in c.cards],
        )
        for c in columns
    ]


@router.get("/pipelines/{int:pipeline_id}/funnel", response=FunnelOut)
def get_funnel(request: HttpRequest, pipeline_id: int) -> FunnelOut:
    actor = _viewer(request)
    data = selectors.funnel(actor=actor, pipeline=selectors.pipeline_get(pk=pipeline_id))
    return FunnelOut(
        rows=[
            FunnelRowOut(
                stage=StageOut.from_stage(r.stage),
                reached=r.reached,
                amount=str(r.amount),
                current=r.current,
                conversion=r.conversion,
                average_days=r.average_days,
            )
            for r in data["rows"]
        ],
        won=data["won"],
        won_amount=str(data["won_amount"]),
        lost=data["lost"],
        total=data["total"],
    )


# --- opportunities --------------------------------------------------------------------------


@router.get("/opportunities", response=PageOut[OpportunityOut], summary="Visible deals")
def list_opportunities(
    request: HttpRequest, query: Query[OpportunityQuery]
) -> PageOut[OpportunityOut]:
    actor = _viewer(request)
    filters = selectors.OpportunityFilters(**query.model_dump(exclude={"cursor", "limit"}))
    page = keyset_page(
        selectors.opportunity_list(actor=actor, filters=filters),
        cursor=query.cursor,
        limit=query.limit,
        ordering=filters.ordering,
    )
    return PageOut[OpportunityOut](
        items=[OpportunityOut.from_opportunity(o) for o in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post(
    "/opportunities",
    response={201: OpportunityDetailOut},
    summary="Open a deal (send Idempotency-Key to make retries safe)",
)
def create_opportunity(request: HttpRequest, payload: OpportunityIn) -> Status[Any]:
    actor = api_actor(request)

    def run() -> tuple[int, Any]:
        values = payload.model_dump()
        customer = customer_get(actor=actor, pk=values.pop("customer_id"))
        contact_id = values.pop("contact_id")
        owner_id = values.pop("owner_id")
        pipeline_id = values.pop("pipeline_id")
        stage_id = values.pop("stage_id")
        pipeline = selectors.pipeline_get(pk=pipeline_id)
        opportunity = services.opportunity_create(
            actor=actor,
            customer=customer,
            contact=contact_get(actor=actor, pk=contact_id) if contact_id else None,
            owner=selectors.user_for_assignment(pk=owner_id) if owner_id else None,
            pipeline=pipeline,
            stage=selectors.stage_get(pipeline_id=pipeline.pk, pk=stage_id) if stage_id else None,
            **values,
        )
        return 201, _detail(actor, opportunity.pk).model_dump(mode="json")

    status, body = idempotent(request, run)
    return Status(status, body)


@router.get("/opportunities/{int:opportunity_id}", response=OpportunityDetailOut)
def get_opportunity(request: HttpRequest, opportunity_id: int) -> OpportunityDetailOut:
    return _detail(_viewer(request), opportunity_id)


@router.patch("/opportunities/{int:opportunity_id}", response=OpportunityDetailOut)
def update_opportunity(
    request: HttpRequest, opportunity_id: int, payload: OpportunityPatch
) -> OpportunityDetailOut:
    actor = api_actor(request)
    values = payload.model_dump(exclude_unset=True)
    version = values.pop("version")
    for key in ("contact_id", "owner_id"):
        if key in values:
            values[key.removesuffix("_id")] = values.pop(key)
    services.opportunity_update(
        actor=actor,
        opportunity=_ref(opportunity_id),
        values=values,
        version=version,
    )
    return _detail(actor, opportunity_id)


def _ref(pk: int) -> Opportunity:
    """A bare reference; the service re-reads it scoped and locked."""
    return Opportunity(pk=pk)


@router.post("/opportunities/{int:opportunity_id}/move", response=OpportunityDetailOut)
def move_opportunity(
    request: HttpRequest, opportunity_id: int, payload: MoveIn
) -> OpportunityDetailOut:
    actor = api_actor(request)
    current = selectors.opportunity_get(actor=actor, pk=opportunity_id)
    services.opportunity_move(
        actor=actor,
        opportunity=current,
        stage=selectors.stage_get(pipeline_id=current.pipeline_id, pk=payload.stage_id),
        version=payload.version,
    )
    return _detail(actor, opportunity_id)


@router.post("/opportunities/{int:opportunity_id}/close", response=OpportunityDetailOut)
def close_opportunity(
    request: HttpRequest, opportunity_id: int, payload: CloseIn
) -> OpportunityDetailOut:
    actor = api_actor(request)
    services.opportunity_close(
        actor=actor,
        opportunity=_ref(opportunity_id),
        status=payload.status,
        reason=selectors.close_reason_get(pk=payload.reason_id),
        note=payload.note,
        version=payload.version,
    )
    return _detail(actor, opportunity_id)


@router.post("/opportunities/{int:opportunity_id}/reopen", response=OpportunityDetailOut)
def reopen_opportunity(
    request: HttpRequest, opportunity_id: int, payload: VersionIn
) -> OpportunityDetailOut:
    actor = api_actor(request)
    services.opportunity_reopen(
        actor=actor, opportunity=_ref(opportunity_id), version=payload.version
    )
    return _detail(actor, opportunity_id)


@router.put("/opportunities/{int:opportunity_id}/lines", response=OpportunityDetailOut)
def set_lines(request: HttpRequest, opportunity_id: int, payload: LinesIn) -> OpportunityDetailOut:
    actor = api_actor(request)
    services.opportunity_lines_set(
        actor=actor,
        opportunity=_ref(opportunity_id),
        lines=[line.model_dump() for line in payload.lines],
        version=payload.version,
    )
    return _detail(actor, opportunity_id)


@router.post("/opportunities/{int:opportunity_id}/competitors", response=OpportunityDetailOut)
def add_competitor(
    request: HttpRequest, opportunity_id: int, payload: CompetitorIn
) -> OpportunityDetailOut:
    actor = api_actor(request)
    services.opportunity_competitor_set(
        actor=actor,
        opportunity=_ref(opportunity_id),
        competitor_name=payload.name,
        strengths=payload.strengths,
        weaknesses=payload.weaknesses,
    )
    return _detail(actor, opportunity_id)


@router.delete("/opportunities/{int:opportunity_id}/competitors/{int:row_id}", response={204: None})
def remove_competitor(request: HttpRequest, opportunity_id: int, row_id: int) -> Status[None]:
    services.opportunity_competitor_remove(
        actor=api_actor(request), opportunity=_ref(opportunity_id), pk=row_id
    )
    return Status(204, None)


@router.post("/opportunities/{int:opportunity_id}/interactions", response={201: dict[str, int]})
def log_interaction(
    request: HttpRequest, opportunity_id: int, payload: InteractionIn
) -> Status[dict[str, int]]:
    actor = api_actor(request)
    interaction = services.opportunity_log_interaction(
        actor=actor,
        opportunity=selectors.opportunity_get(actor=actor, pk=opportunity_id),
        channel=payload.channel,
        summary=payload.summary,
    )
    return Status(201, {"id": interaction.pk})


# --- reports --------------------------------------------------------------------------------


@router.get("/sales/forecast", response=list[ForecastRowOut], summary="Weighted forecast")
def get_forecast(request: HttpRequest, query: Query[ForecastQuery]) -> list[ForecastRowOut]:
    actor = _viewer(request)
    rows = selectors.forecast(
        actor=actor,
        date_from=query.date_from,
        date_to=query.date_to,
        period=query.period,
        group=query.group,
        pipeline=selectors.pipeline_get(pk=query.pipeline_id) if query.pipeline_id else None,
    )
    return [
        ForecastRowOut(
            period=r.period,
            group_id=r.group_id,
            group_label=r.group_label,
            count=r.count,
            pipeline=str(r.pipeline),
            weighted=str(r.weighted),
            best_case=str(r.best_case),
            commit=str(r.commit),
            won=str(r.won),
        )
        for r in rows
    ]


@router.get("/sales/win-loss", response=list[WinLossRowOut], summary="Win/loss analysis")
def get_win_loss(request: HttpRequest, by: str = "reason") -> list[WinLossRowOut]:
    actor = _viewer(request)
    return [
        WinLossRowOut(
            key=r.key,
            won=r.won,
            lost=r.lost,
            won_amount=str(r.won_amount),
            lost_amount=str(r.lost_amount),
            win_rate=r.win_rate,
        )
        for r in selectors.win_loss(actor=actor, by=by)
    ]


@router.get("/sales/targets", response=list[AttainmentOut], summary="Targets and attainment")
def list_targets(request: HttpRequest) -> list[AttainmentOut]:
    actor = _viewer(request)
    return [_attainment_out(a) for a in selectors.targets_attainment(actor=actor)]


@router.post("/sales/targets", response={201: dict[str, int]})
def set_target(request: HttpRequest, payload: TargetIn) -> Status[dict[str, int]]:
    target = services.target_save(
        actor=api_actor(request),
        amount=payload.amount,
        period_start=payload.period_start,
        period_end=payload.period_end,
        user=selectors.user_for_assignment(pk=payload.user_id) if payload.user_id else None,
        team=selectors.team_get(pk=payload.team_id) if payload.team_id else None,
    )
    return Status(201, {"id": target.pk})


def _attainment_out(a: selectors.Attainment) -> AttainmentOut:
    return AttainmentOut(
        target_id=a.target.pk,
        user_id=a.target.user_id,
        team_id=a.target.team_id,
        label=a.label,
        period_start=a.target.period_start,
        period_end=a.target.period_end,
        target=str(a.target.amount),
        won=str(a.won),
        percent=a.percent,
    )


# --- quotes ---------------------------------------------------------------------------------


def _quote_out(actor: User, pk: int) -> QuoteOut:
    quote = selectors.quote_get(actor=actor, pk=pk)
    return QuoteOut.from_quote(quote, selectors.quote_parts(quote=quote))


@router.post("/opportunities/{int:opportunity_id}/quotes", response={201: QuoteOut})
def create_quote(request: HttpRequest, opportunity_id: int, payload: QuoteIn) -> Status[QuoteOut]:
    actor = api_actor(request)
    quote = services.quote_create(
        actor=actor,
        opportunity=selectors.opportunity_get(actor=actor, pk=opportunity_id),
        valid_until=payload.valid_until,
        notes=payload.notes,
    )
    return Status(201, _quote_out(actor, quote.pk))


@router.get("/quotes/{int:quote_id}", response=QuoteOut)
def get_quote(request: HttpRequest, quote_id: int) -> QuoteOut:
    return _quote_out(_viewer(request), quote_id)


@router.post("/quotes/{int:quote_id}/submit", response=QuoteOut)
def submit_quote(request: HttpRequest, quote_id: int, payload: VersionIn) -> QuoteOut:
    actor = api_actor(request)
    services.quote_submit(
        actor=actor, quote=selectors.quote_get(actor=actor, pk=quote_id), version=payload.version
    )
    return _quote_out(actor, quote_id)


@router.post("/quotes/{int:quote_id}/decision", response=QuoteOut)
def decide_quote(request: HttpRequest, quote_id: int, payload: DecisionIn) -> QuoteOut:
    actor = api_actor(request)
    services.quote_decide(
        actor=actor,
        quote=selectors.quote_get(actor=actor, pk=quote_id),
        approve=payload.approve,
        comment=payload.comment,
        version=payload.version,
    )
    return _quote_out(actor, quote_id)


@router.post("/quotes/{int:quote_id}/accept", response=QuoteOut)
def accept_quote(request: HttpRequest, quote_id: int, payload: AcceptIn) -> QuoteOut:
    actor = api_actor(request)
    services.quote_accept(
        actor=actor,
        quote=selectors.quote_get(actor=actor, pk=quote_id),
        instalments=[item.model_dump() for item in payload.instalments],
        version=payload.version,
    )
    return _quote_out(actor, quote_id)
