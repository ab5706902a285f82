"""Leads API: leads (entry with an Idempotency-Key, intent, status, behaviour, assignment,
conversion), web-to-lead forms, scoring and assignment rules, the lead model and the pool."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.accounts.models import Team, User
from guanxi.core.errors import DomainError
from guanxi.core.idempotency import idempotent
from guanxi.core.pagination import keyset_page
from guanxi.core.permissions import require_perm
from guanxi.core.schemas import PageOut
from guanxi.leads import assignment, learning, pool, scoring, selectors, services, webforms
from guanxi.leads.schemas import (
    AllowanceOut,
    AssignIn,
    AssignmentRuleIn,
    AssignmentRuleOut,
    ClaimOut,
    ConvertIn,
    EventIn,
    EventOut,
    FormIn,
    FormOut,
    IntentIn,
    LeadDetailOut,
    LeadIn,
    LeadModelOut,
    LeadOut,
    LeadPatch,
    LeadQuery,
    ModelOpinion,
    MoveOut,
    PoolPolicyIn,
    PoolPolicyOut,
    PoolQuery,
    PoolRowOut,
    PoolRuleIn,
    PoolRuleOut,
    ReleaseIn,
    RevealIn,
    RevealOut,
    ScoringRuleIn,
    ScoringRuleOut,
    StatusIn,
)

router = Router(tags=["leads"])


def _user(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    found = selectors.active_user(pk)
    if found is None:
        raise DomainError(_("Choose an active user as the new owner."), field=field)
    return found


def _team(pk: int | None) -> Team | None:
    if pk is None:
        return None
    found = selectors.team_find(pk)
    if found is None:
        raise Http404
    return found


def _detail(lead: Any, actor: User) -> LeadDetailOut:
    model = learning.active_model()
    opinion = learning.model_explain(model, lead) if model is not None else None
    out = LeadOut.from_lead(lead, actor)
    return LeadDetailOut(
        **out.model_dump(),
        model=ModelOpinion(**opinion) if opinion is not None else None,
    )


# --- leads -------------------------------------------------------------------------------------


@router.get("/leads", response=PageOut[LeadOut], summary="Leads the caller may see")
def list_leads(request: HttpRequest, query: Query[LeadQuery]) -> PageOut[LeadOut]:
    actor = api_actor(request)
    filters = selectors.LeadFilters(
        q=query.q,
        status=query.status,
        intent=query.intent,
        source=query.source,
        owner_id=query.owner_id,
        unassigned=query.unassigned,
        duplicates=query.duplicates,
        sort=query.sort,
    )
    page = keyset_page(
        selectors.lead_list(actor=actor, filters=filters),
        cursor=query.cursor,
        limit=query.limit,
        ordering=filters.ordering,
    )
    return PageOut[LeadOut](
        items=[LeadOut.from_lead(lead, actor) for lead in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post(
    "/leads",
    response={201: LeadDetailOut, 200: LeadDetailOut},
    summary="Enter a lead (send an Idempotency-Key to make retries safe)",
)
def create_lead(request: HttpRequest, payload: LeadIn) -> Status[Any]:
    actor = api_actor(request)

    def run() -> tuple[int, Any]:
        values = payload.model_dump(exclude={"owner_id", "auto_assign"})
        lead = services.lead_create(
            actor=actor,
            values=values,
            owner=_user(payload.owner_id, "owner_id"),
            auto_assign=payload.auto_assign,
        )
        found = selectors.lead_get(actor=actor, pk=lead.pk) if _visible(actor, lead.pk) else lead
        return 201, _detail(found, actor).model_dump(mode="json")

    status, body = idempotent(request, run)
    return Status(status, body)


def _visible(actor: User, pk: int) -> bool:
    try:
        selectors.lead_get(actor=actor, pk=pk)
    except Http404:
        return False
    return True


@router.get("/leads/{int:lead_id}", response=LeadDetailOut)
def get_lead(request: HttpRequest, lead_id: int) -> LeadDetailOut:
    actor = api_actor(request)
    return _detail(selectors.lead_get(actor=actor, pk=lead_id), actor)


@router.patch("/leads/{int:lead_id}", response=LeadDetailOut)
def update_lead(request: HttpRequest, lead_id: int, payload: LeadPatch) -> LeadDetailOut:
    actor = api_actor(request)
    lead = selectors.lead_get(actor=actor, pk=lead_id)
    values = payload.model_dump(exclude_unset=True, exclude={"version"})
    services.lead_update(actor=actor, lead=lead, values=values, version=payload.version)
    return _detail(selectors.lead_get(actor=actor, pk=lead_id), actor)


@router.get("/leads/{int:lead_id}/events", response=list[EventOut], summary="The timeline")
def list_lead_events(request: HttpRequest, lead_id: int) -> list[EventOut]:
    lead = selectors.lead_get(actor=api_actor(request), pk=lead_id)
    return [EventOut.from_event(event) for event in selectors.lead_timeline(lead=lead)]


@router.post(
    "/leads/{int:lead_id}/events",
    response={201: EventOut},
    summary="Record a behaviour (opened_email, visited, replied, filled_form, called) or a note",
)
def record_lead_event(request: HttpRequest, lead_id: int, payload: EventIn) -> Status[EventOut]:
    actor = api_actor(request)
    lead = selectors.lead_get(actor=actor, pk=lead_id)
    event = services.lead_record_event(
        actor=actor,
        lead=lead,
        kind=payload.kind,
        detail=payload.detail,
        occurred_at=payload.occurred_at,
    )
    return Status(201, EventOut.from_event(event))


@router.post("/leads/{int:lead_id}/intent", response=LeadDetailOut)
def set_lead_intent(request: HttpRequest, lead_id: int, payload: IntentIn) -> LeadDetailOut:
    actor = api_actor(request)
    lead = selectors.lead_get(actor=actor, pk=lead_id)
    services.lead_set_intent(actor=actor, lead=lead, intent=payload.intent, version=payload.version)
    return _detail(selectors.lead_get(actor=actor, pk=lead_id), actor)


@router.post("/leads/{int:lead_id}/status", response=LeadDetailOut)
def set_lead_status(request: HttpRequest, lead_id: int, payload: StatusIn) -> LeadDetailOut:
    actor = api_actor(request)
    lead = selectors.lead_get(actor=actor, pk=lead_id)
    services.lead_set_status(
        actor=actor,
        lead=lead,
        status=payload.status,
        reason=payload.reason,
        version=payload.version,
    )
    return _detail(selectors.lead_get(actor=actor, pk=lead_id), actor)


@router.post("/leads/{int:lead_id}/assign", response=LeadDetailOut)
def assign_lead(request: HttpRequest, lead_id: int, payload: AssignIn) -> LeadDetailOut:
    actor = api_actor(request)
    lead = selectors.lead_get(actor=actor, pk=lead_id)
    owner = _user(payload.owner_id, "owner_id")
    if owner is None:
        raise Http404
    services.lead_assign(actor=actor, lead=lead, owner=owner, version=payload.version)
    return _detail(selectors.lead_get(actor=actor, pk=lead_id), actor)


@router.post(
    "/leads/{int:lead_id}/convert",
    response=LeadDetailOut,
    summary="Convert into a customer, contact and opportunity in one step",
)
def convert_lead(request: HttpRequest, lead_id: int, payload: ConvertIn) -> LeadDetailOut:
    from guanxi.customers.selectors import customer_get

    actor = api_actor(request)
    lead = selectors.lead_get(actor=actor, pk=lead_id)
    customer = (
        customer_get(actor=actor, pk=payload.attach_to_customer_id)
        if payload.attach_to_customer_id is not None
        else None
    )
    converted = services.lead_convert(
        actor=actor,
        lead=lead,
        customer=customer,
        create_opportunity=payload.create_opportunity,
        opportunity_name=payload.opportunity_name,
        amount=payload.amount,
        version=payload.version,
    )
    return _detail(converted, actor)


@router.post("/leads/{int:lead_id}/reveal", response=RevealOut, summary="Reveal phone or email")
def reveal_lead(request: HttpRequest, lead_id: int, payload: RevealIn) -> RevealOut:
    actor = api_actor(request)
    lead = selectors.lead_get(actor=actor, pk=lead_id)
    value = services.lead_reveal(actor=actor, lead=lead, field=payload.field, request=request)
    return RevealOut(field=payload.field, value=value)


@router.post("/leads/{int:lead_id}/release", response={204: None}, summary="Give back to pool")
def release_lead(request: HttpRequest, lead_id: int, payload: ReleaseIn) -> Status[None]:
    actor = api_actor(request)
    lead = selectors.lead_get(actor=actor, pk=lead_id)
    pool.pool_release_lead(actor=actor, lead=lead, reason=payload.reason)
    return Status(204, None)


# --- web-to-lead forms ---------------------------------------------------------------------


def _form_values(payload: FormIn) -> dict[str, Any]:
    values = payload.model_dump(exclude={"team_id"})
    values["team"] = _team(payload.team_id)
    return values


@router.get("/lead-forms", response=list[FormOut])
def list_lead_forms(request: HttpRequest) -> list[FormOut]:
    return [FormOut.from_form(form) for form in selectors.lead_form_list(actor=api_actor(request))]


@router.post("/lead-forms", response={201: FormOut})
def create_lead_form(request: HttpRequest, payload: FormIn) -> Status[FormOut]:
    actor = api_actor(request)
    form = webforms.lead_form_save(actor=actor, values=_form_values(payload))
    return Status(201, FormOut.from_form(form))


@router.get("/lead-forms/{int:form_id}", response=FormOut)
def get_lead_form(request: HttpRequest, form_id: int) -> FormOut:
    return FormOut.from_form(selectors.lead_form_get(actor=api_actor(request), pk=form_id))


@router.put("/lead-forms/{int:form_id}", response=FormOut)
def update_lead_form(request: HttpRequest, form_id: int, payload: FormIn) -> FormOut:
    actor = api_actor(request)
    form = selectors.lead_form_get(actor=actor, pk=form_id)
    return FormOut.from_form(
        webforms.lead_form_save(actor=actor, values=_form_values(payload), form=form)
    )


# --- rules and the model ----------------------------------------------------------------------


@router.get("/lead-scoring-rules", response=list[ScoringRuleOut])
def list_scoring_rules(request: HttpRequest) -> list[Any]:
    return list(selectors.scoring_rule_list(actor=api_actor(request)))


@router.post("/lead-scoring-rules", response={201: ScoringRuleOut})
def create_scoring_rule(request: HttpRequest, payload: ScoringRuleIn) -> Status[Any]:
    rule = scoring.scoring_rule_save(actor=api_actor(request), **payload.model_dump())
    return Status(201, rule)


@router.get("/lead-assignment-rules", response=list[AssignmentRuleOut])
def list_assignment_rules(request: HttpRequest) -> list[AssignmentRuleOut]:
    return [_rule_out(rule) for rule in selectors.assignment_rule_list(actor=api_actor(request))]


def _rule_out(rule: Any) -> AssignmentRuleOut:
    return AssignmentRuleOut(
        id=rule.pk,
        name=rule.name,
        team_id=rule.team_id,
        method=rule.method,
        region=rule.region,
        industry_id=rule.industry_id,
        member_ids=sorted(member.pk for member in rule.members.all()),
        position=rule.position,
    )


@router.post("/lead-assignment-rules", response={201: AssignmentRuleOut})
def create_assignment_rule(request: HttpRequest, payload: AssignmentRuleIn) -> Status[Any]:
    actor = api_actor(request)
    require_perm(actor, "sales.admin")
    team = _team(payload.team_id)
    industry = None
    if payload.industry:
        industry = selectors.industry_find(payload.industry)
        if industry is None:
            raise DomainError(_("Unknown industry."), field="industry")
    rule = assignment.assignment_rule_save(
        actor=actor,
        values={
            "name": payload.name,
            "team": team,
            "method": payload.method,
            "region": payload.region,
            "industry": industry,
            "position": payload.position,
        },
        member_ids=payload.member_ids,
    )
    return Status(201, _rule_out(rule))


def _model_out() -> LeadModelOut:
    counts = learning.history_counts()
    model = learning.active_model()
    return LeadModelOut(
        offered=learning.model_offered(),
        converted=counts["converted"],
        disqualified=counts["disqualified"],
        minimum=learning.MIN_PER_OUTCOME,
        active=model is not None,
        auc=model.auc if model else None,
        trained_at=model.trained_at if model else None,
    )


@router.get("/lead-model", response=LeadModelOut, summary="Whether a model is offered, its AUC")
def get_lead_model(request: HttpRequest) -> LeadModelOut:
    require_perm(api_actor(request), "sales.view")
    return _model_out()


@router.post("/lead-model/train", response=LeadModelOut)
def train_lead_model(request: HttpRequest) -> LeadModelOut:
    learning.lead_model_train(actor=api_actor(request))
    return _model_out()


# --- the public pool -----------------------------------------------------------------------


@router.get("/pool/customers", response=PageOut[PoolRowOut], summary="Pool customers (masked)")
def list_pool_customers(request: HttpRequest, query: Query[PoolQuery]) -> PageOut[PoolRowOut]:
    actor = api_actor(request)
    page = keyset_page(
        selectors.pool_customer_list(actor=actor, q=query.q),
        cursor=query.cursor,
        limit=query.limit,
    )
    return PageOut[PoolRowOut](
        items=[PoolRowOut(**selectors.masked_row(item)) for item in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.get("/pool/leads", response=PageOut[PoolRowOut], summary="Pool leads (masked)")
def list_pool_leads(request: HttpRequest, query: Query[PoolQuery]) -> PageOut[PoolRowOut]:
    actor = api_actor(request)
    page = keyset_page(
        selectors.pool_lead_list(actor=actor, q=query.q), cursor=query.cursor, limit=query.limit
    )
    return PageOut[PoolRowOut](
        items=[PoolRowOut(**selectors.masked_row(item)) for item in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.get("/pool/allowance", response=AllowanceOut, summary="Claims left today and holdings")
def get_pool_allowance(request: HttpRequest) -> AllowanceOut:
    actor = api_actor(request)
    require_perm(actor, "sales.view")
    return AllowanceOut(**pool.claim_allowance(actor))


@router.post("/pool/customers/{int:customer_id}/claim", response=ClaimOut)
def claim_pool_customer(request: HttpRequest, customer_id: int) -> ClaimOut:
    actor = api_actor(request)
    customer = pool.pool_claim_customer(actor=actor, customer_id=customer_id)
    return ClaimOut(kind="customer", id=customer.pk, owner_id=actor.pk)


@router.post("/pool/leads/{int:lead_id}/claim", response=ClaimOut)
def claim_pool_lead(request: HttpRequest, lead_id: int) -> ClaimOut:
    actor = api_actor(request)
    lead = pool.pool_claim_lead(actor=actor, lead_id=lead_id)
    return ClaimOut(kind="lead", id=lead.pk, owner_id=actor.pk)


@router.post("/pool/customers/{int:customer_id}/release", response={204: None})
def release_pool_customer(
    request: HttpRequest, customer_id: int, payload: ReleaseIn
) -> Status[None]:
    from guanxi.customers.selectors import customer_get

    actor = api_actor(request)
    customer = customer_get(actor=actor, pk=customer_id)
    pool.pool_release_customer(actor=actor, customer=customer, reason=payload.reason)
    return Status(204, None)


@router.get("/pool/moves", response=list[MoveOut], summary="Recent pool moves")
def list_pool_moves(request: HttpRequest, customer_id: int | None = None) -> list[MoveOut]:
    moves = selectors.pool_moves(actor=api_actor(request), customer_id=customer_id)
    return [MoveOut.from_move(move) for move in moves]


@router.get("/pool/rules", response=list[PoolRuleOut])
def list_pool_rules(request: HttpRequest) -> list[Any]:
    return selectors.pool_rules(actor=api_actor(request))


@router.post("/pool/rules", response={201: PoolRuleOut})
def save_pool_rule(request: HttpRequest, payload: PoolRuleIn) -> Status[Any]:
    tier = selectors.tier_find(payload.tier_id) if payload.tier_id else None
    if payload.tier_id and tier is None:
        raise Http404
    rule = pool.pool_rule_save(
        actor=api_actor(request),
        team=_team(payload.team_id),
        tier=tier,
        no_follow_up_days=payload.no_follow_up_days,
        no_deal_days=payload.no_deal_days,
    )
    return Status(201, rule)


@router.delete("/pool/rules/{int:rule_id}", response={204: None}, summary="Delete a pool rule")
def delete_pool_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    actor = api_actor(request)
    pool.pool_rule_delete(actor=actor, rule=selectors.pool_rule_get(actor=actor, pk=rule_id))
    return Status(204, None)


@router.get("/pool/policies", response=list[PoolPolicyOut])
def list_pool_policies(request: HttpRequest) -> list[Any]:
    return selectors.pool_policies(actor=api_actor(request))


@router.post("/pool/policies", response={201: PoolPolicyOut})
def save_pool_policy(request: HttpRequest, payload: PoolPolicyIn) -> Status[Any]:
    policy = pool.pool_policy_save(
        actor=api_actor(request),
        team=_team(payload.team_id),
        values=payload.model_dump(exclude={"team_id"}),
    )
    return Status(201, policy)


@router.delete(
    "/pool/policies/{int:policy_id}", response={204: None}, summary="Delete a team's limits"
)
def delete_pool_policy(request: HttpRequest, policy_id: int) -> Status[None]:
    actor = api_actor(request)
    policy = selectors.pool_policy_get(actor=actor, pk=policy_id)
    pool.pool_policy_delete(actor=actor, policy=policy)
    return Status(204, None)
