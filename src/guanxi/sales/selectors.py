"""Reads of sales, always scoped to the acting user: deals, the board, and the reports
(funnel, weighted forecast, win/loss, targets with attainment and the leaderboard).

Every report is a handful of grouped aggregates in the database, whatever the number of deals.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter
from django.http import Http404
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from guanxi.accounts.models import Team, User
from guanxi.core.permissions import has_perm
from guanxi.sales.models import (
    ZERO,
    CloseReason,
    ForecastCategory,
    Instalment,
    Opportunity,
    OpportunityCompetitor,
    OpportunityStatus,
    Pipeline,
    Quote,
    SalesTarget,
    Stage,
    StageVisit,
)

CENT = Decimal("0.01")
BOARD_CARDS = 20  # cards shown per column; the column header carries the full count and sum
ORDERINGS: dict[str, tuple[str, ...]] = {
    "-created": ("-pk",),
    "created": ("pk",),
    "-amount": ("-amount", "-pk"),
    "amount": ("amount", "pk"),
    "name": ("name", "pk"),
    "stage_age": ("stage_entered_at", "pk"),
}
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=20, decimal_places=4)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def opportunity_base(*, actor: User) -> QuerySet[Opportunity]:
    """Deals the actor may see: their data scope, and only with sales.view."""
    if not has_perm(actor, "sales.view"):
        return Opportunity.objects.none()
    return Opportunity.objects.visible_to(actor)


def dashboard_figures(*, actor: User, today: dt.date | None = None) -> dict[str, Any]:
    """The actor's open deals (count, amount) and those expected to close this month, in one
    aggregate over the deals they may see."""
    today = today or timezone.localdate()
    month = _period_start(today, "month")
    next_month = _period_start(month + dt.timedelta(days=32), "month")
    closing = Q(expected_close__gte=month, expected_close__lt=next_month)
    figures = (
        opportunity_base(actor=actor)
        .filter(status=OpportunityStatus.OPEN)
        .aggregate(
            open_count=Count("pk"),
            open_amount=Sum("amount"),
            closing_count=Count("pk", filter=closing),
            closing_amount=Sum("amount", filter=closing),
        )
    )
    return {
        "open_count": figures["open_count"],
        "open_amount": _money(figures["open_amount"]),
        "closing_count": figures["closing_count"],
        "closing_amount": _money(figures["closing_amount"]),
    }


@dataclass
class OpportunityFilters:
    pipeline_id: int | None = None
    stage_id: int | None = None
    status: str = ""
    owner_id: int | None = None
    customer_id: int | None = None
    heat: str = ""
    source: str = ""
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    q: str = ""
    sort: str = "-created"

    @property
    def ordering(self) -> tuple[str, ...]:
        return ORDERINGS.get(self.sort, ORDERINGS["-created"])


def opportunity_list(
    *, actor: User, filters: OpportunityFilters | None = None
) -> QuerySet[Opportunity]:
    """Visible deals matching the filters, with customer, owner and stage joined.

    The pipeline is fetched in a second query rather than joined: with the join SQLite
    reads the one-row pipeline table first and then sorts every matching deal instead of
    walking the keyset index (sales_opp_list / sales_opp_list_amount) in order.
    """
    filters = filters or OpportunityFilters()
    qs = (
        opportunity_base(actor=actor)
        .select_related("customer", "owner", "stage")
        .prefetch_related("pipeline")
    )
    conditions = {
        "pipeline_id": filters.pipeline_id,
        "stage_id": filters.stage_id,
        "owner_id": filters.owner_id,
        "customer_id": filters.customer_id,
        "status": filters.status or None,
        "heat": filters.heat or None,
        "source": filters.source or None,
        "expected_close__gte": filters.close_from,
        "expected_close__lte": filters.close_to,
    }
    qs = qs.filter(**{name: value for name, value in conditions.items() if value is not None})
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(customer__name__icontains=filters.q))
    return qs.order_by(*filters.ordering)


def opportunity_get(*, actor: User, pk: int) -> Opportunity:
    """One visible deal with its customer, contact, owner, pipeline and stage; else 404."""
    found = (
        opportunity_base(actor=actor)
        .select_related("customer", "contact", "owner", "team", "pipeline", "stage", "close_reason")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def opportunity_detail(*, opportunity: Opportunity) -> dict[str, Any]:
    """The deal's lines, competitors and stage visits (with days in each stage)."""
    now = timezone.now()
    visits = list(opportunity.stage_visits.select_related("stage", "actor").order_by("pk"))
    for visit in visits:
        visit.days = ((visit.left_at or now) - visit.entered_at).total_seconds() / 86400  # type: ignore[attr-defined]  # shown by the page
    return {
        "lines": list(opportunity.lines.select_related("product").order_by("pk")),
        "competitors": list(
            opportunity.competitors.select_related("competitor").order_by("competitor__name")
        ),
        "visits": visits,
    }


def customer_opportunities(*, actor: User, customer_id: int) -> list[Opportunity]:
    """The visible deals of one customer, open ones first, newest first (the 360 panel)."""
    return list(
        opportunity_base(actor=actor)
        .filter(customer_id=customer_id)
        .select_related("stage", "owner")
        .order_by("status", "-pk")[:20]
    )


def pipeline_list(*, include_inactive: bool = False) -> list[Pipeline]:
    qs = Pipeline.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return list(qs)


def pipeline_get(*, pk: int | None = None) -> Pipeline:
    """A pipeline by id, or the default one when no id is given; 404 when unknown."""
    qs = Pipeline.objects.all()
    found = qs.filter(pk=pk).first() if pk else qs.order_by("-is_default", "pk").first()
    if found is None:
        raise Http404
    return found


def stage_list(*, pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("order", "pk"))


def stage_get(*, pipeline_id: int, pk: int) -> Stage:
    found = Stage.objects.filter(pipeline_id=pipeline_id, pk=pk).first()
    if found is None:
        raise Http404
    return found


def user_for_assignment(*, pk: int) -> User:
    """An active user a deal or target may be given to (the service checks the scope)."""
    found = User.objects.filter(pk=pk, is_active=True).select_related("team").first()
    if found is None:
        raise Http404
    return found


def team_get(*, pk: int) -> Team:
    found = Team.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def close_reason_get(*, pk: int | None) -> CloseReason | None:
    return CloseReason.objects.filter(pk=pk).first() if pk else None


@dataclass
class Column:
    stage: Stage
    count: int
    amount: Decimal
    weighted: Decimal
    cards: list[Any]  # Opportunity objects, or dicts of BOARD_CARD_FIELDS (card_values=True)


# What a board card shows, read as plain values: no model instances, one join each for the
# customer's and the owner's names.
BOARD_CARD_FIELDS = (
    "pk",
    "name",
    "stage_id",
    "version",
    "amount",
    "heat",
    "expected_close",
    "customer__name",
    "owner_id",
    "owner__display_name",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


def board(
    *,
    actor: User,
    pipeline: Pipeline,
    filters: OpportunityFilters | None = None,
    card_values: bool = False,
) -> list[Column]:
    """The open deals of a pipeline by stage: count and amount per column and the newest
    cards of each (one grouped aggregate plus one indexed query per column). With
    `card_values` the cards are dicts of BOARD_CARD_FIELDS (the page: ~100 cards rendered
    from plain values cost a fraction of model instances with three related objects)."""
    filters = filters or OpportunityFilters()
    filters.pipeline_id = pipeline.pk
    filters.status = OpportunityStatus.OPEN
    filters.stage_id = None
    base = opportunity_list(actor=actor, filters=filters)
    stages = stage_list(pipeline=pipeline)
    totals = {
        row["stage_id"]: row
        for row in base.order_by().values("stage_id").annotate(n=Count("pk"), total=Sum("amount"))
    }
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {"n": 0, "total": ZERO})
        cards: list[Any] = []
        if row["n"]:  # a card does not show its pipeline: no prefetch query per column
            column = base.filter(stage_id=stage.pk).prefetch_related(None)
            if card_values:
                cards = list(column.values(*BOARD_CARD_FIELDS)[:BOARD_CARDS])
            else:
                cards = list(column[:BOARD_CARDS])
        amount = _money(row["total"])
        columns.append(
            Column(
                stage=stage,
                count=row["n"],
                amount=amount,
                weighted=_money(amount * stage.probability / 100),
                cards=cards,
            )
        )
    return columns


# --- reports ---------------------------------------------------------------------------------


@dataclass
class FunnelRow:
    stage: Stage
    reached: int
    amount: Decimal
    current: int
    conversion: float | None  # share of those who reached this stage that reached the next
    average_days: float | None


def funnel(
    *,
    actor: User,
    pipeline: Pipeline,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
) -> dict[str, Any]:
    """How far the pipeline's deals got: per stage, how many reached it (or a later one, or
    won) and their amount, the conversion to the next stage, and the average days spent in
    it (a stay still running counts up to now)."""
    stages = stage_list(pipeline=pipeline)
    deals = opportunity_base(actor=actor).filter(pipeline=pipeline)
    if created_from:
        deals = deals.filter(created_at__date__gte=created_from)
    if created_to:
        deals = deals.filter(created_at__date__lte=created_to)
    furthest = (
        StageVisit.objects.filter(opportunity=OuterRef("pk"))
        .order_by()
        .values("opportunity")
        .annotate(top=Max("stage__order"))
        .values("top")
    )
    annotated = deals.annotate(
        furthest=Coalesce(Subquery(furthest, output_field=IntegerField()), Value(0))
    )
    reach: dict[str, Any] = {}
    for stage in stages:
        got_here = Q(furthest__gte=stage.order) | Q(status=OpportunityStatus.WON)
        reach[f"n{stage.pk}"] = Count("pk", filter=got_here)
        reach[f"a{stage.pk}"] = Sum("amount", filter=got_here)
        reach[f"c{stage.pk}"] = Count(
            "pk", filter=Q(stage_id=stage.pk, status=OpportunityStatus.OPEN)
        )
    reach["won"] = Count("pk", filter=Q(status=OpportunityStatus.WON))
    reach["won_amount"] = Sum("amount", filter=Q(status=OpportunityStatus.WON))
    reach["lost"] = Count("pk", filter=Q(status=OpportunityStatus.LOST))
    reach["total"] = Count("pk")
    totals = annotated.aggregate(**reach) if stages else {"won": 0, "lost": 0, "total": 0}
    now = timezone.now()
    duration = ExpressionWrapper(
        Coalesce(F("left_at"), Value(now)) - F("entered_at"), output_field=DurationField()
    )
    averages = {
        row["stage_id"]: row["days"]
        for row in StageVisit.objects.filter(opportunity__in=deals.values("pk"))
        .order_by()
        .values("stage_id")
        .annotate(days=Avg(duration))
    }
    rows = []
    for index, stage in enumerate(stages):
        reached = totals[f"n{stage.pk}"] or 0
        if index + 1 < len(stages):
            following = totals[f"n{stages[index + 1].pk}"] or 0
        else:
            following = totals["won"] or 0
        average = averages.get(stage.pk)
        rows.append(
            FunnelRow(
                stage=stage,
                reached=reached,
                amount=_money(totals[f"a{stage.pk}"]),
                current=totals[f"c{stage.pk}"] or 0,
                conversion=round(100 * following / reached, 1) if reached else None,
                average_days=round(average.total_seconds() / 86400, 1)
                if average is not None
                else None,
            )
        )
    return {
        "rows": rows,
        "won": totals["won"] or 0,
        "won_amount": _money(totals.get("won_amount")),
        "lost": totals["lost"] or 0,
        "total": totals["total"] or 0,
    }


GROUPS = {"owner": "owner_id", "team": "team_id", "company": None}
PERIODS = {"month": TruncMonth, "quarter": TruncQuarter}


@dataclass
class ForecastRow:
    period: dt.date
    group_id: int | None
    group_label: str
    count: int
    pipeline: Decimal  # every open deal's amount
    weighted: Decimal  # amount × the stage's win probability
    best_case: Decimal  # commit + best case
    commit: Decimal
    won: Decimal  # already won in the period (by close date)
    quarterly: bool = False

    @property
    def period_label(self) -> str:
        if self.quarterly:
            return f"{self.period.year} Q{(self.period.month - 1) // 3 + 1}"
        return f"{self.period.year}-{self.period.month:02d}"


def forecast(
    *,
    actor: User,
    date_from: dt.date,
    date_to: dt.date,
    period: str = "month",
    group: str = "owner",
    pipeline: Pipeline | None = None,
) -> list[ForecastRow]:
    """Weighted forecast by expected-close month or quarter per rep, team or company.

    Open deals expected to close in the range count with amount × stage probability; the
    commit and best-case columns sum the deals their owners put in those categories (best case
    includes commit); won is what was already won in the period, by its close date. Omitted
    deals count only in the plain pipeline total.
    """
    trunc = PERIODS.get(period, TruncMonth)
    group_field = GROUPS.get(group, "owner_id")
    deals = opportunity_base(actor=actor)
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    group_keys = [group_field] if group_field else []
    merged: dict[tuple[dt.date, int | None], dict[str, Any]] = defaultdict(dict)
    for row in forecast_open_rows(
        deals=deals, date_from=date_from, date_to=date_to, group_field=group_field, period=period
    ):
        key = (
            _period_start(row["bucket"], period),
            row[group_field] if group_field else None,
        )
        values = merged[key]
        for name in ("n", "total", "weighted", "commit", "best"):
            if row[name] is not None:
                values[name] = values.get(name, 0) + row[name]
    start = timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min))
    won_rows = (
        deals.filter(status=OpportunityStatus.WON, closed_at__gte=start, closed_at__lt=end)
        .annotate(bucket=trunc("closed_at"))
        .order_by()
        .values("bucket", *group_keys)
        .annotate(won=Sum("amount"))
    )
    for row in won_rows:
        bucket = row["bucket"]
        if isinstance(bucket, dt.datetime):
            bucket = (
                timezone.localtime(bucket).date() if timezone.is_aware(bucket) else bucket.date()
            )
        merged[(bucket, row[group_field] if group_field else None)]["won"] = row["won"]
    labels = _group_labels(group, {key[1] for key in merged if key[1] is not None})
    result = [
        ForecastRow(
            period=key[0],
            group_id=key[1],
            group_label=labels.get(key[1], "—") if group_field else "",
            count=values.get("n", 0),
            pipeline=_money(values.get("total")),
            weighted=_money(Decimal(str(values.get("weighted") or 0)) / 100),
            best_case=_money(values.get("best")),
            commit=_money(values.get("commit")),
            won=_money(values.get("won")),
            quarterly=period == "quarter",
        )
        for key, values in merged.items()
    ]
    result.sort(key=lambda row: (row.period, row.group_label))
    return result


def forecast_open_rows(
    *,
    deals: QuerySet[Opportunity],
    date_from: dt.date,
    date_to: dt.date,
    group_field: str | None,
    period: str = "month",
) -> QuerySet[Opportunity, dict[str, Any]]:
    """The open deals expected to close in the range, summed per `bucket` (and group column):
    count, amount, weighted (amount × probability, in percent units), commit and best case.

    On SQLite the bucket is the expected-close day itself, for the caller to fold into months
    or quarters (`_period_start`): Django's TruncMonth there is a Python function called once
    per row (~1 s per 200,000 deals), and two years have at most 731 days. PostgreSQL
    truncates in SQL (date_trunc), which measured faster than fetching the ~20 times more
    day rows (1.0 s vs 2.8 s at 200,000 deals, load ~10).
    """
    bucket = (
        F("expected_close")
        if connection.vendor == "sqlite"
        else PERIODS.get(period, TruncMonth)("expected_close")
    )
    weighted = ExpressionWrapper(F("amount") * F("stage__probability"), output_field=MONEY)
    rows: QuerySet[Opportunity, dict[str, Any]] = (
        deals.filter(
            status=OpportunityStatus.OPEN,
            expected_close__gte=date_from,
            expected_close__lte=date_to,
        )
        .annotate(bucket=bucket)
        .order_by()
        .values("bucket", *([group_field] if group_field else []))
        .annotate(
            n=Count("pk"),
            total=Sum("amount"),
            weighted=Sum(weighted, filter=~Q(forecast_category=ForecastCategory.OMITTED)),
            commit=Sum("amount", filter=Q(forecast_category=ForecastCategory.COMMIT)),
            best=Sum(
                "amount",
                filter=Q(
                    forecast_category__in=[ForecastCategory.COMMIT, ForecastCategory.BEST_CASE]
                ),
            ),
        )
    )
    return rows


def _period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the day's quarter (period "quarter") or month (anything else)."""
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(day=1)


def _group_labels(group: str, ids: set[int]) -> dict[int | None, str]:
    if not ids:
        return {}
    if group == "team":
        return {t.pk: t.name for t in Team.objects.filter(pk__in=ids)}
    return {u.pk: (u.get_full_name() or u.username) for u in User.objects.filter(pk__in=ids)}


@dataclass
class WinLossRow:
    key: str
    won: int
    lost: int
    won_amount: Decimal
    lost_amount: Decimal

    @property
    def win_rate(self) -> float | None:
        closed = self.won + self.lost
        return round(100 * self.won / closed, 1) if closed else None


def win_loss(
    *,
    actor: User,
    by: str = "reason",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[WinLossRow]:
    """Closed deals (by close date) grouped by close reason, source or competitor."""
    deals = opportunity_base(actor=actor).exclude(status=OpportunityStatus.OPEN)
    if date_from:
        deals = deals.filter(closed_at__date__gte=date_from)
    if date_to:
        deals = deals.filter(closed_at__date__lte=date_to)
    aggregates = {
        "won": Count("pk", filter=Q(status=OpportunityStatus.WON)),
        "lost": Count("pk", filter=Q(status=OpportunityStatus.LOST)),
        "won_amount": Sum("amount", filter=Q(status=OpportunityStatus.WON)),
        "lost_amount": Sum("amount", filter=Q(status=OpportunityStatus.LOST)),
    }
    rows: Any
    if by == "competitor":
        rows = (
            OpportunityCompetitor.objects.filter(opportunity__in=deals.values("pk"))
            .order_by()
            .values(key=F("competitor__name"))
            .annotate(
                won=Count("pk", filter=Q(opportunity__status=OpportunityStatus.WON)),
                lost=Count("pk", filter=Q(opportunity__status=OpportunityStatus.LOST)),
                won_amount=Sum(
                    "opportunity__amount", filter=Q(opportunity__status=OpportunityStatus.WON)
                ),
                lost_amount=Sum(
                    "opportunity__amount", filter=Q(opportunity__status=OpportunityStatus.LOST)
                ),
            )
        )
        labels: dict[Any, str] = {}
    elif by == "source":
        rows = deals.order_by().values(key=F("source")).annotate(**aggregates)
        labels = {}
    else:
        rows = deals.order_by().values(key=F("close_reason_id")).annotate(**aggregates)
        labels = {r.pk: r.label for r in CloseReason.objects.all()}
    result = [
        WinLossRow(
            key=labels.get(row["key"], str(row["key"] or "—")) if labels else (row["key"] or "—"),
            won=row["won"],
            lost=row["lost"],
            won_amount=_money(row["won_amount"]),
            lost_amount=_money(row["lost_amount"]),
        )
        for row in rows
    ]
    result.sort(key=lambda row: (-(row.won + row.lost), row.key))
    return result


@dataclass
class Attainment:
    target: SalesTarget
    label: str
    won: Decimal

    @property
    def percent(self) -> float | None:
        if not self.target.amount:
            return None
        return round(float(100 * self.won / self.target.amount), 1)


def targets_attainment(*, actor: User, on: dt.date | None = None) -> list[Attainment]:
    """Targets whose period covers the day (default today), each with the amount won by the
    rep (as owner) or the team in the period, best attainment first: the leaderboard.

    Reps and teams outside the actor's scope are not listed (their won deals are invisible)."""
    on = on or timezone.localdate()
    targets = list(
        SalesTarget.objects.filter(period_start__lte=on, period_end__gte=on).select_related(
            "user", "team"
        )
    )
    if not targets:
        return []
    deals = opportunity_base(actor=actor).filter(status=OpportunityStatus.WON)
    start = min(t.period_start for t in targets)
    end = max(t.period_end for t in targets)
    won = list(
        deals.filter(closed_at__date__gte=start, closed_at__date__lte=end)
        .annotate(day=F("closed_at__date"))
        .order_by()
        .values("owner_id", "team_id", "day")
        .annotate(total=Sum("amount"))
    )
    visible_owners = {row["owner_id"] for row in won}
    result = []
    for target in targets:
        if target.user_id is not None:
            if (
                target.user_id != actor.pk
                and target.user_id not in visible_owners
                and not (has_perm(actor, "sales.admin"))
            ):
                continue
            amount = sum(
                (
                    Decimal(str(row["total"]))
                    for row in won
                    if row["owner_id"] == target.user_id
                    and target.period_start <= _as_date(row["day"]) <= target.period_end
                ),
                ZERO,
            )
            label = target.user.get_full_name() or target.user.username if target.user else ""
        else:
            amount = sum(
                (
                    Decimal(str(row["total"]))
                    for row in won
                    if row["team_id"] == target.team_id
                    and target.period_start <= _as_date(row["day"]) <= target.period_end
                ),
                ZERO,
            )
            label = target.team.name if target.team else ""
        result.append(Attainment(target=target, label=label, won=_money(amount)))
    result.sort(key=lambda a: (-(a.percent or 0), a.label))
    return result


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]  # already a date


def quote_get(*, actor: User, pk: int) -> Quote:
    """One quote whose deal the actor can see, with its deal and customer; else 404."""
    found = (
        Quote.objects.visible_to(actor)
        .select_related("opportunity", "opportunity__customer", "author", "decided_by", "order")
        .filter(pk=pk)
        .first()
        if has_perm(actor, "sales.view")
        else None
    )
    if found is None:
        raise Http404
    return found


def quote_parts(*, quote: Quote) -> dict[str, Any]:
    return {
        "lines": list(quote.lines.order_by("pk")),
        "instalments": list(quote.instalments.select_related("invoice").order_by("sequence")),
    }


class InstalmentState(TextChoices):
    PAID = "paid", pgettext_lazy("instalment state", "Paid")
    PARTLY_PAID = "partly_paid", pgettext_lazy("instalment state", "Partly paid")
    UNPAID = "unpaid", pgettext_lazy("instalment state", "Unpaid")
    WRITTEN_OFF = "written_off", pgettext_lazy("instalment state", "Written off")
    CANCELLED = "cancelled", pgettext_lazy("instalment state", "Cancelled")


@dataclass
class PlanRow:
    sequence: int
    due_on: dt.date
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    state: InstalmentState


@dataclass
class PaymentPlan:
    rows: list[PlanRow]
    amount: Decimal
    paid: Decimal
    outstanding: Decimal


_INVOICE_STATES = {
    "paid": InstalmentState.PAID,
    "partly_paid": InstalmentState.PARTLY_PAID,
    "written_off": InstalmentState.WRITTEN_OFF,
    "cancelled": InstalmentState.CANCELLED,
}


def quote_payment_plan(*, instalments: list[Instalment]) -> PaymentPlan | None:
    """The payment state of each instalment of an accepted quote, from the commerce invoice
    it became (paid amount and status, kept by commerce's payments): paid, partly paid or
    unpaid, and what is outstanding; None without instalments. Nothing is outstanding on a
    written-off or cancelled invoice. Expects the instalments with their invoices joined."""
    if not instalments:
        return None
    rows = []
    for instalment in instalments:
        invoice = instalment.invoice
        paid = invoice.paid_amount if invoice is not None else ZERO
        state = _INVOICE_STATES.get(invoice.status if invoice is not None else "")
        if state is None:
            state = InstalmentState.PARTLY_PAID if paid > 0 else InstalmentState.UNPAID
        owed = ZERO
        if state in {InstalmentState.PARTLY_PAID, InstalmentState.UNPAID}:
            owed = (invoice.amount if invoice is not None else instalment.amount) - paid
        rows.append(
            PlanRow(
                sequence=instalment.sequence,
                due_on=instalment.due_on,
                amount=instalment.amount,
                paid=_money(paid),
                outstanding=_money(owed),
                state=state,
            )
        )
    return PaymentPlan(
        rows=rows,
        amount=_money(sum((row.amount for row in rows), ZERO)),
        paid=_money(sum((row.paid for row in rows), ZERO)),
        outstanding=_money(sum((row.outstanding for row in rows), ZERO)),
    )


# Foreign keys of a deal whose field history shows the related row's name, not its id.
_HISTORY_NAMES: dict[str, tuple[str, str]] = {
    "stage": ("sales", "Stage"),
    "pipeline": ("sales", "Pipeline"),
    "contact": ("customers", "Contact"),
    "close_reason": ("sales", "CloseReason"),
    "owner": ("accounts", "User"),
    "team": ("accounts", "Team"),
}


def history_named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A deal's history rows (core.history) with stage, contact, owner… ids replaced by
    names: one query per kind of related row, whatever the number of changes."""
    from django.apps import apps

    wanted: dict[str, set[int]] = {}
    for row in rows:
        for change in row["changes"]:
            if change["name"] in _HISTORY_NAMES:
                ids = wanted.setdefault(change["name"], set())
                ids.update(
                    int(value) for value in (change["old"], change["new"]) if value is not None
                )
    names: dict[str, dict[int, str]] = {}
    for field, ids in wanted.items():
        model = apps.get_model(*_HISTORY_NAMES[field])
        names[field] = {obj.pk: str(obj) for obj in model._default_manager.filter(pk__in=ids)}
    for row in rows:
        for change in row["changes"]:
            found = names.get(change["name"])
            if found is None:
                continue
            for key in ("old", "new"):
                value = change[key]
                if value is not None:
                    change[key] = found.get(int(value), f"#{value}")
    return rows


def opportunity_quotes(*, opportunity: Opportunity) -> list[Quote]:
    return list(opportunity.quotes.order_by("-pk"))
