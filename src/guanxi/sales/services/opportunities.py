"""Commands on sales: create, edit, move and close opportunities, their product lines and
competitors; pipelines and stages; targets; logging a call or visit from a deal.

Every command checks the "sales" permission and the actor's data scope (a deal outside it is
Http404), validates everything before writing, and publishes its events after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.commerce.models import Product
from guanxi.core import events
from guanxi.core.errors import DomainError, check_version
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.models import Contact, Customer
from guanxi.sales.models import (
    REQUIRABLE_FIELDS,
    ZERO,
    CloseReason,
    Competitor,
    ForecastCategory,
    Heat,
    Opportunity,
    OpportunityCompetitor,
    OpportunityLine,
    OpportunityStatus,
    Pipeline,
    SalesTarget,
    Stage,
    StageVisit,
)

# A new deal may not be expected to close more than this long ago: a typo, not a plan.
MAX_PAST_CLOSE = dt.timedelta(days=30)
CENT = Decimal("0.01")
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "contact",
        "owner",
        "amount",
        "expected_close",
        "source",
        "heat",
        "forecast_category",
        "next_step",
        "description",
    }
)


def _invalid(errors: list[dict[str, str]]) -> DomainError:
    if len(errors) == 1:
        return DomainError(errors[0]["message"], field=errors[0]["field"], errors=errors)
    return DomainError(_("Please correct the errors below."), errors=errors)


def _decimal(value: Any, field: str, errors: list[dict[str, str]]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append({"field": field, "message": _("Enter a number.")})
        return None
    if not number.is_finite():
        errors.append({"field": field, "message": _("Enter a number.")})
        return None
    return number


def _date(value: Any, field: str, errors: list[dict[str, str]]) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.append({"field": field, "message": _("Enter a date as YYYY-MM-DD.")})
        return None


# The default pipeline and close reasons; the 0002 migration seeds the same rows, and
# `defaults_ensure` puts them back where a test flushed the tables or an operator removed them.
DEFAULT_STAGES = [
    # name, Chinese name, win probability, fields required to enter
    ("Qualification", "初步接洽", 10, []),
    ("Needs analysis", "需求确认", 25, ["contact"]),
    ("Proposal", "方案报价", 50, ["contact", "amount"]),
    ("Negotiation", "商务谈判", 75, ["contact", "amount", "expected_close"]),
    ("Contract", "签约", 90, ["contact", "amount", "expected_close", "next_step"]),
]
DEFAULT_REASONS = [
    ("won", "Best value", "性价比高"),
    ("won", "Relationship", "客户关系"),
    ("won", "Product fit", "产品契合"),
    ("lost", "Price", "价格因素"),
    ("lost", "Lost to competitor", "输给竞争对手"),
    ("lost", "No budget", "无预算"),
    ("lost", "No decision", "客户未决策"),
    ("lost", "Product gap", "产品不满足需求"),
]


@transaction.atomic
def defaults_ensure() -> Pipeline:
    """The default pipeline, created with its stages (and the close reasons) when missing."""
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        pipeline = Pipeline.objects.create(name="Sales", name_zh="销售流程", is_default=True)
        Stage.objects.bulk_create(
            Stage(
                pipeline=pipeline,
                name=name,
                name_zh=name_zh,
                probability=probability,
                required_fields=required,
                order=index,
            )
            for index, (name, name_zh, probability, required) in enumerate(DEFAULT_STAGES, 1)
        )
    if not CloseReason.objects.exists():
        CloseReason.objects.bulk_create(
            CloseReason(kind=kind, name=name, name_zh=name_zh, order=index)
            for index, (kind, name, name_zh) in enumerate(DEFAULT_REASONS, 1)
        )
    return pipeline


def default_pipeline() -> Pipeline:
    """The default pipeline (seeded by migration, re-seeded here if no pipeline is left)."""
    found = Pipeline.objects.filter(is_active=True).order_by("-is_default", "pk").first()
    return found if found is not None else defaults_ensure()


def _first_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.order_by("order", "pk").first()
    if stage is None:
        raise DomainError(_("This pipeline has no stages yet."), field="pipeline")
    return stage


def missing_fields(opportunity: Opportunity, stage: Stage) -> list[str]:
    """The stage's required fields that the deal has not filled in (names, in stage order)."""
    missing = []
    for name in stage.required_fields or []:
        if name == "lines":
            filled = opportunity.pk is not None and opportunity.lines.exists()
        elif name == "competitors":
            filled = opportunity.pk is not None and opportunity.competitors.exists()
        elif name in {"contact", "owner"}:
            filled = getattr(opportunity, f"{name}_id") is not None
        elif name == "amount":
            filled = opportunity.amount > 0
        else:
            value = getattr(opportunity, name, None)
            filled = value is not None and value != ""
        if not filled:
            missing.append(name)
    return missing


def _require_stage_fields(opportunity: Opportunity, stage: Stage) -> None:
    missing = missing_fields(opportunity, stage)
    if missing:
        labels = [str(REQUIRABLE_FIELDS.get(name, name)) for name in missing]
        message = _("The stage “%(stage)s” needs: %(fields)s.") % {
            "stage": stage.label,
            "fields": ", ".join(labels),
        }
        raise DomainError(
            message,
            errors=[
                {
                    "field": name,
                    "message": _("Required in the stage “%(stage)s”.") % {"stage": stage.label},
                }
                for name in missing
            ],
        )


def _visible_customer(actor: User, customer: Customer) -> Customer:
    found = Customer.objects.visible_to(actor).filter(pk=customer.pk).first()
    if found is None:
        raise Http404
    return found


def _apply(
    opportunity: Opportunity, values: dict[str, Any], *, actor: User, is_new: bool
) -> list[dict[str, str]]:
    """Copy the allowed values onto the deal; return the field errors (nothing is saved)."""
    errors: list[dict[str, str]] = []
    unknown = set(values) - EDITABLE_FIELDS
    if unknown:
        errors.extend(
            {"field": name, "message": _("This field cannot be changed here.")}
            for name in sorted(unknown)
        )
    if "name" in values:
        name = str(values["name"] or "").strip()
        if not name:
            errors.append({"field": "name", "message": _("Give the opportunity a name.")})
        elif len(name) > 200:
            errors.append({"field": "name", "message": _("At most 200 characters.")})
        opportunity.name = name
    if "amount" in values:
        amount = _decimal(values["amount"], "amount", errors)
        if amount is not None and amount < 0:
            errors.append({"field": "amount", "message": _("The amount cannot be negative.")})
        elif amount is not None and amount >= Decimal("1e12"):
            errors.append({"field": "amount", "message": _("The amount is too large.")})
        elif amount is not None:
            amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        opportunity.amount = ZERO if amount is None else amount
    if "expected_close" in values:
        close = _date(values["expected_close"], "expected_close", errors)
        if close is not None and is_new and close < timezone.localdate() - MAX_PAST_CLOSE:
            errors.append(
                {
                    "field": "expected_close",
                    "message": _("A new deal cannot be expected to close in the past."),
                }
            )
        opportunity.expected_close = close
    if "contact" in values:
        contact = values["contact"]
        if contact is not None and not isinstance(contact, Contact):
            contact = Contact.objects.filter(pk=contact).first()
            if contact is None:
                errors.append({"field": "contact", "message": _("Unknown contact.")})
        if contact is not None and contact.customer_id != opportunity.customer_id:
            errors.append(
                {"field": "contact", "message": _("The contact is not one of this customer's.")}
            )
        else:
            opportunity.contact = contact
    if "owner" in values and values["owner"] is not None:
        owner = values["owner"]
        if not isinstance(owner, User):
            owner = User.objects.filter(pk=owner, is_active=True).first()
        if owner is None or not owner.is_active:
            errors.append({"field": "owner", "message": _("Unknown user.")})
        elif owner.pk != actor.pk and not (
            has_perm(actor, "sales.admin") or _manages(actor, owner)
        ):
            errors.append({"field": "owner", "message": _("You may only give deals to your team.")})
        else:
            opportunity.owner = owner
            opportunity.team_id = owner.team_id
    for name, choices in (("heat", Heat), ("forecast_category", ForecastCategory)):
        if name in values:
            if values[name] not in choices.values:
                errors.append({"field": name, "message": _("Choose one of the options.")})
            else:
                setattr(opportunity, name, values[name])
    for name, limit in (("source", 40), ("next_step", 300), ("description", 10_000)):
        if name in values:
            text = str(values[name] or "").strip()
            if len(text) > limit:
                errors.append(
                    {"field": name, "message": _("At most %(n)d characters.") % {"n": limit}}
                )
            setattr(opportunity, name, text)
    return errors


def _manages(actor: User, owner: User) -> bool:
    """Whether the owner works inside the actor's data scope (their team or sub-teams)."""
    from guanxi.core.scoping import ALL, SUBTREE, TEAM, data_scope_of

    scope = data_scope_of(actor)
    if scope == ALL:
        return True
    if owner.team_id is None or actor.team is None:
        return False
    if scope == TEAM:
        return owner.team_id == actor.team_id
    if scope == SUBTREE:
        return Team.objects.filter(pk=owner.team_id, path__startswith=actor.team.path).exists()
    return False


@transaction.atomic
def opportunity_create(
    *,
    actor: User,
    customer: Customer,
    name: str,
    amount: Decimal | None = None,
    owner: User | None = None,
    contact: Contact | None = None,
    source: str = "",
    pipeline: Pipeline | None = None,
    expected_close: dt.date | None = None,
    stage: Stage | None = None,
    heat: str = Heat.WARM,
    next_step: str = "",
    description: str = "",
    forecast_category: str = ForecastCategory.PIPELINE,
) -> Opportunity:
    """Open a deal with a customer the actor can see, in the pipeline's first stage (or the
    given stage, whose required fields must be filled).

    Needs sales.create. Owner defaults to the actor; the team follows the owner. A negative
    amount or a close date over 30 days past is refused. Publishes opportunity.created.
    """
    require_perm(actor, "sales.create")
    customer = _visible_customer(actor, customer)
    pipeline = pipeline or default_pipeline()
    if stage is None:
        stage = _first_stage(pipeline)
    elif stage.pipeline_id != pipeline.pk:
        raise DomainError(_("The stage is not part of this pipeline."), field="stage")
    now = timezone.now()
    opportunity = Opportunity(
        customer=customer,
        pipeline=pipeline,
        stage=stage,
        owner=actor,
        team_id=actor.team_id,
        stage_entered_at=now,
    )
    values: dict[str, Any] = {
        "name": name,
        "amount": amount,
        "expected_close": expected_close,
        "contact": contact,
        "source": source,
        "heat": heat,
        "next_step": next_step,
        "description": description,
        "forecast_category": forecast_category,
    }
    if owner is not None:
        values["owner"] = owner
    errors = _apply(opportunity, values, actor=actor, is_new=True)
    if errors:
        raise _invalid(errors)
    _require_stage_fields(opportunity, stage)
    opportunity._change_reason = "created"  # type: ignore[attr-defined]  # simple-history reads it
    opportunity.save()
    StageVisit.objects.create(opportunity=opportunity, stage=stage, entered_at=now, actor=actor)
    events.publish_on_commit(
        "opportunity.created",
        opportunity_id=opportunity.pk,
        customer_id=customer.pk,
        actor_id=actor.pk,
    )
    return opportunity


def editable_opportunity(*, actor: User, pk: int) -> Opportunity:
    """The deal, locked for update, when the actor may change it.

    Outside the actor's scope: Http404. In scope but without sales.edit: PermissionDenied.
    """
    found = (
        Opportunity.objects.visible_to(actor)
        .select_for_update()
        .select_related("stage", "pipeline")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    if not has_perm(actor, "sales.edit"):
        raise PermissionDenied("sales.edit")
    return found


@transaction.atomic
def opportunity_update(
    *, actor: User, opportunity: Opportunity, values: dict[str, Any], version: int | None = None
) -> Opportunity:
    """Change a deal's fields; refuses a stale version and a change that empties a field the
    current stage requires. Field history is kept by simple-history."""
    opportunity = editable_opportunity(actor=actor, pk=opportunity.pk)
    check_version(opportunity.version, version)
    errors = _apply(opportunity, values, actor=actor, is_new=False)
    if errors:
        raise _invalid(errors)
    if opportunity.status == OpportunityStatus.OPEN:
        _require_stage_fields(opportunity, opportunity.stage)
    opportunity.bump_version()
    opportunity.save()
    return opportunity


@transaction.atomic
def opportunity_move(
    *, actor: User, opportunity: Opportunity, stage: Stage, version: int | None = None
) -> Opportunity:
    """Move an open deal to another stage of its pipeline (the board's drag and drop).

    The target stage's required fields must be filled. Closes the current stage visit and
    opens one for the new stage. Publishes opportunity.stage_changed after commit.
    """
    opportunity = editable_opportunity(actor=actor, pk=opportunity.pk)
    check_version(opportunity.version, version)
    if opportunity.status != OpportunityStatus.OPEN:
        raise DomainError(_("Only an open deal can change stage."), field="stage")
    if stage.pipeline_id != opportunity.pipeline_id:
        raise DomainError(_("The stage is not part of this deal's pipeline."), field="stage")
    if stage.pk == opportunity.stage_id:
        return opportunity
    _require_stage_fields(opportunity, stage)
    now = timezone.now()
    previous = opportunity.stage_id
    StageVisit.objects.filter(opportunity=opportunity, left_at__isnull=True).update(left_at=now)
    StageVisit.objects.create(opportunity=opportunity, stage=stage, entered_at=now, actor=actor)
    opportunity.stage = stage
    opportunity.stage_entered_at = now
    opportunity.bump_version()
    opportunity.save()
    events.publish_on_commit(
        "opportunity.stage_changed",
        opportunity_id=opportunity.pk,
        from_stage_id=previous,
        to_stage_id=stage.pk,
        actor_id=actor.pk,
    )
    return opportunity


@transaction.atomic
def opportunity_close(
    *,
    actor: User,
    opportunity: Opportunity,
    status: str,
    reason: CloseReason | None = None,
    note: str = "",
    version: int | None = None,
) -> Opportunity:
    """Mark an open deal won or lost with a reason of that kind from the configured list.

    Publishes opportunity.won or opportunity.lost after commit.
    """
    opportunity = editable_opportunity(actor=actor, pk=opportunity.pk)
    check_version(opportunity.version, version)
    if opportunity.status != OpportunityStatus.OPEN:
        raise DomainError(_("This deal is already closed."), field="status")
    if status not in {OpportunityStatus.WON, OpportunityStatus.LOST}:
        raise DomainError(_("A deal is closed as won or lost."), field="status")
    if reason is None or reason.kind != status or not reason.is_active:
        raise DomainError(_("Choose a reason from the list."), field="reason")
    now = timezone.now()
    StageVisit.objects.filter(opportunity=opportunity, left_at__isnull=True).update(left_at=now)
    opportunity.status = status
    opportunity.close_reason = reason
    opportunity.close_note = note.strip()[:300]
    opportunity.closed_at = now
    opportunity.bump_version()
    opportunity.save()
    events.publish_on_commit(
        f"opportunity.{status}",
        opportunity_id=opportunity.pk,
        customer_id=opportunity.customer_id,
        reason_id=reason.pk,
        actor_id=actor.pk,
    )
    return opportunity


@transaction.atomic
def opportunity_reopen(
    *, actor: User, opportunity: Opportunity, version: int | None = None
) -> Opportunity:
    """Reopen a won or lost deal in the stage it was closed from."""
    opportunity = editable_opportunity(actor=actor, pk=opportunity.pk)
    check_version(opportunity.version, version)
    if opportunity.status == OpportunityStatus.OPEN:
        return opportunity
    now = timezone.now()
    StageVisit.objects.create(
        opportunity=opportunity, stage_id=opportunity.stage_id, entered_at=now, actor=actor
    )
    opportunity.status = OpportunityStatus.OPEN
    opportunity.close_reason = None
    opportunity.closed_at = None
    opportunity.stage_entered_at = now
    opportunity.bump_version()
    opportunity.save()
    events.publish_on_commit("opportunity.reopened", opportunity_id=opportunity.pk)
    return opportunity


@transaction.atomic
def opportunity_lines_set(
    *,
    actor: User,
    opportunity: Opportunity,
    lines: Iterable[dict[str, Any]],
    version: int | None = None,
) -> Opportunity:
    """Replace the deal's product lines; the amount becomes their total (none: unchanged).

    Each line: product (id), quantity > 0, unit_price ≥ 0 (default: list price), discount
    0–100 %. Products come from the commerce catalogue.
    """
    opportunity = editable_opportunity(actor=actor, pk=opportunity.pk)
    check_version(opportunity.version, version)
    lines = list(lines)
    product_ids = {int(line.get("product_id") or line.get("product") or 0) for line in lines}
    products = Product._default_manager.in_bulk(product_ids)
    errors: list[dict[str, str]] = []
    rows = []
    total = ZERO
    for index, line in enumerate(lines):
        product = products.get(int(line.get("product_id") or line.get("product") or 0))
        prefix = f"lines[{index}]"
        if product is None:
            errors.append({"field": f"{prefix}.product", "message": _("Unknown product.")})
            continue
        line_errors: list[dict[str, str]] = []
        quantity = _decimal(line.get("quantity", 1), f"{prefix}.quantity", line_errors)
        price = _decimal(line.get("unit_price"), f"{prefix}.unit_price", line_errors)
        discount = _decimal(line.get("discount", 0), f"{prefix}.discount", line_errors)
        quantity = Decimal(1) if quantity is None else quantity
        price = product.list_price if price is None else price
        discount = ZERO if discount is None else discount
        if quantity <= 0:
            line_errors.append(
                {"field": f"{prefix}.quantity", "message": _("The quantity must be positive.")}
            )
        if price < 0:
            line_errors.append(
                {"field": f"{prefix}.unit_price", "message": _("The price cannot be negative.")}
            )
        if not ZERO <= discount <= 100:
            line_errors.append(
                {"field": f"{prefix}.discount", "message": _("A discount is 0 to 100 %.")}
            )
        errors += line_errors
        if line_errors:
            continue
        amount = (quantity * price * (100 - discount) / 100).quantize(CENT, ROUND_HALF_UP)
        total += amount
        rows.append(
            OpportunityLine(
                opportunity=opportunity,
                product=product,
                quantity=quantity,
                unit_price=price,
                discount=discount,
                amount=amount,
            )
        )
    if errors:
        raise _invalid(errors)
    OpportunityLine.objects.filter(opportunity=opportunity).delete()
    OpportunityLine.objects.bulk_create(rows)
    if rows:
        opportunity.amount = total
    opportunity.bump_version()
    opportunity.save()
    return opportunity


@transaction.atomic
def opportunity_competitor_set(
    *,
    actor: User,
    opportunity: Opportunity,
    competitor_name: str,
    strengths: str = "",
    weaknesses: str = "",
) -> OpportunityCompetitor:
    """Add a competitor to the deal (created in the list if new) or update its notes."""
    opportunity = editable_opportunity(actor=actor, pk=opportunity.pk)
    name = competitor_name.strip()
    if not name or len(name) > 100:
        raise DomainError(_("Name the competitor (at most 100 characters)."), field="competitor")
    competitor, _created = Competitor.objects.get_or_create(name=name)
    row, _new = OpportunityCompetitor.objects.update_or_create(
        opportunity=opportunity,
        competitor=competitor,
        defaults={"strengths": strengths.strip()[:300], "weaknesses": weaknesses.strip()[:300]},
    )
    return row


@transaction.atomic
def opportunity_competitor_remove(*, actor: User, opportunity: Opportunity, pk: int) -> None:
    opportunity = editable_opportunity(actor=actor, pk=opportunity.pk)
    OpportunityCompetitor.objects.filter(opportunity=opportunity, pk=pk).delete()


def opportunity_log_interaction(
    *, actor: User, opportunity: Opportunity, channel: str, summary: str
) -> Any:
    """Log a call or visit about the deal on its customer's timeline (interactions domain)."""
    from guanxi.interactions.services import interaction_log

    if channel not in {"call", "visit"}:
        raise DomainError(_("Log a call or a visit."), field="channel")
    if not summary.strip():
        raise DomainError(_("Say what was discussed."), field="summary")
    text = summary.strip()
    return interaction_log(
        actor=actor,
        customer=opportunity.customer,
        values={
            "channel": "phone_call" if channel == "call" else "visit",
            "summary": f"{opportunity.name}: {text}"[:500],
            "details": text,
        },
    )


# --- pipelines and stages (administration) ---------------------------------------------------


def _clean_required(fields: Iterable[str]) -> list[str]:
    required = [name for name in fields if name]
    unknown = [name for name in required if name not in REQUIRABLE_FIELDS]
    if unknown:
        raise DomainError(
            _("Unknown field: %(name)s.") % {"name": ", ".join(unknown)}, field="required_fields"
        )
    return list(dict.fromkeys(required))


@transaction.atomic
def pipeline_save(
    *,
    actor: User,
    pipeline: Pipeline | None = None,
    name: str,
    name_zh: str = "",
    is_default: bool = False,
    is_active: bool = True,
    version: int | None = None,
) -> Pipeline:
    """Create or rename a pipeline; making one the default unmarks the previous default."""
    require_perm(actor, "sales.admin")
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError(_("Give the pipeline a name (at most 100 characters)."), field="name")
    if pipeline is None:
        pipeline = Pipeline()
    else:
        pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        check_version(pipeline.version, version)
        pipeline.bump_version()
    if is_default:
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    elif pipeline.is_default:
        raise DomainError(_("Make another pipeline the default instead."), field="is_default")
    pipeline.name = name
    pipeline.name_zh = name_zh.strip()[:100]
    pipeline.is_default = is_default
    pipeline.is_active = is_active or is_default
    pipeline.save()
    return pipeline


@transaction.atomic
def stage_save(
    *,
    actor: User,
    pipeline: Pipeline,
    stage: Stage | None = None,
    name: str,
    name_zh: str = "",
    probability: int = 0,
    required_fields: Iterable[str] = (),
    order: int | None = None,
) -> Stage:
    """Add a stage at the end of the pipeline (or at `order`), or change one."""
    require_perm(actor, "sales.admin")
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError(_("Give the stage a name (at most 100 characters)."), field="name")
    if not 0 <= int(probability) <= 100:
        raise DomainError(_("A probability is 0 to 100 %."), field="probability")
    if stage is None:
        stage = Stage(pipeline=pipeline)
        if order is None:
            last = pipeline.stages.aggregate(last=Max("order"))["last"] or 0
            order = last + 1
    elif stage.pipeline_id != pipeline.pk:
        raise Http404
    stage.name = name
    stage.name_zh = name_zh.strip()[:100]
    stage.probability = int(probability)
    stage.required_fields = _clean_required(required_fields)
    if order is not None:
        stage.order = order
    stage.save()
    return stage


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    """Remove a stage that no deal is in (or ever was, keeping stage history whole)."""
    require_perm(actor, "sales.admin")
    if stage.opportunities.exists() or stage.visits.exists():
        raise DomainError(_("Deals have used this stage; it cannot be removed."), field="stage")
    stage.delete()


@transaction.atomic
def target_save(
    *,
    actor: User,
    amount: Decimal,
    period_start: dt.date,
    period_end: dt.date,
    user: User | None = None,
    team: Team | None = None,
) -> SalesTarget:
    """Set (create or replace) the target of a rep or a team for a period."""
    require_perm(actor, "sales.admin")
    if (user is None) == (team is None):
        raise DomainError(_("A target is for one rep or one team."), field="user")
    if amount < 0:
        raise DomainError(_("The amount cannot be negative."), field="amount")
    if period_end < period_start:
        raise DomainError(_("The period ends before it starts."), field="period_end")
    target, _created = SalesTarget.objects.update_or_create(
        user=user,
        team=team,
        period_start=period_start,
        period_end=period_end,
        defaults={"amount": amount},
    )
    return target


def close_reasons(kind: str | None = None) -> list[CloseReason]:
    queryset = CloseReason.objects.filter(is_active=True)
    if kind:
        queryset = queryset.filter(kind=kind)
    return list(queryset)
