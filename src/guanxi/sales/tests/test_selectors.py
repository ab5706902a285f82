"""The sales reports: forecast arithmetic, funnel conversion and days in stage, win/loss,
targets with attainment; and the board's columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from guanxi.sales import selectors
from guanxi.sales.models import CloseReason, StageVisit
from guanxi.sales.services import (
    opportunity_close,
    opportunity_competitor_set,
    opportunity_move,
    opportunity_update,
    target_save,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _advance(deal: Any, actor: Any, stages: list[Any], to: int, contact: Any) -> Any:
    """Fill every field the later stages need, then move the deal stage by stage."""
    deal = opportunity_update(
        actor=actor,
        opportunity=deal,
        values={
            "contact": contact,
            "expected_close": dt.date(2026, 4, 30),
            "next_step": "Sign",
        },
    )
    for stage in stages[1 : to + 1]:
        deal = opportunity_move(actor=actor, opportunity=deal, stage=stage)
    return deal


def test_the_forecast_weighs_each_deal_by_its_stage_probability(
    frozen: Any,
    rep: Any,
    customer: Any,
    contact: Any,
    stages: list[Any],
    make_deal: Callable[..., Any],
) -> None:
    april = dt.date(2026, 4, 15)
    make_deal(rep, customer, amount=Decimal("100000"), expected_close=april)  # 10 %
    proposal = make_deal(rep, customer, amount=Decimal("40000"), expected_close=april)
    _advance(proposal, rep, stages, 2, contact)  # 50 %
    opportunity_update(actor=rep, opportunity=proposal, values={"forecast_category": "commit"})
    make_deal(
        rep,
        customer,
        amount=Decimal("7000"),
        expected_close=april,
        forecast_category="best_case",
    )  # 10 %

    rows = selectors.forecast(
        actor=rep, date_from=dt.date(2026, 4, 1), date_to=dt.date(2026, 6, 30), group="owner"
    )

    assert [
        (r.period, r.group_id, r.count, r.pipeline, r.weighted, r.commit, r.best_case) for r in rows
    ] == [
        (
            dt.date(2026, 4, 1),
            rep.pk,
            3,
            Decimal("147000.00"),
            Decimal("30700.00"),  # 100000 × 10 % + 40000 × 50 % + 7000 × 10 %
            Decimal("40000.00"),
            Decimal("47000.00"),
        )
    ]


def test_the_forecast_by_quarter_for_the_company_adds_what_was_won(
    frozen: Any,
    rep: Any,
    manager: Any,
    customer: Any,
    make_deal: Callable[..., Any],
) -> None:
    make_deal(rep, customer, amount=Decimal("10000"), expected_close=dt.date(2026, 5, 2))
    won = make_deal(rep, customer, amount=Decimal("3000"), expected_close=dt.date(2026, 3, 20))
    opportunity_close(
        actor=rep,
        opportunity=won,
        status="won",
        reason=CloseReason.objects.filter(kind="won").first(),
    )

    rows = selectors.forecast(
        actor=manager,
        date_from=dt.date(2026, 1, 1),
        date_to=dt.date(2026, 6, 30),
        period="quarter",
        group="company",
    )

    assert [(r.period, r.weighted, r.won) for r in rows] == [
        (dt.date(2026, 1, 1), Decimal("0.00"), Decimal("3000.00")),
        (dt.date(2026, 4, 1), Decimal("1000.00"), Decimal("0.00")),
    ]


def test_the_funnel_counts_deals_reaching_each_stage_and_the_conversion(
    frozen: Any,
    rep: Any,
    customer: Any,
    contact: Any,
    stages: list[Any],
    make_deal: Callable[..., Any],
) -> None:
    deals = [make_deal(rep, customer, amount=Decimal("1000")) for _ in range(4)]
    _advance(deals[0], rep, stages, 2, contact)
    _advance(deals[1], rep, stages, 1, contact)
    lost = _advance(deals[2], rep, stages, 1, contact)
    opportunity_close(
        actor=rep,
        opportunity=lost,
        status="lost",
        reason=CloseReason.objects.filter(kind="lost").first(),
    )

    report = selectors.funnel(actor=rep, pipeline=stages[0].pipeline)

    assert [(r.reached, r.current, r.conversion) for r in report["rows"]] == [
        (4, 1, 75.0),  # 3 of 4 went past qualification
        (3, 1, 33.3),  # 1 of 3 reached proposal
        (1, 1, 0.0),
        (0, 0, None),
        (0, 0, None),
    ]
    assert (report["total"], report["lost"], report["won"]) == (4, 1, 0)


def test_the_funnel_averages_the_days_spent_in_a_stage(
    frozen: Any,
    rep: Any,
    customer: Any,
    contact: Any,
    stages: list[Any],
    make_deal: Callable[..., Any],
) -> None:
    slow = make_deal(rep, customer)
    fast = make_deal(rep, customer)
    frozen.shift(dt.timedelta(days=2))
    _advance(fast, rep, stages, 1, contact)  # 2 days in qualification
    frozen.shift(dt.timedelta(days=4))
    _advance(slow, rep, stages, 1, contact)  # 6 days in qualification

    report = selectors.funnel(actor=rep, pipeline=stages[0].pipeline)

    assert [r.average_days for r in report["rows"][:2]] == [4.0, 2.0]  # the second: 4 and 0
    assert StageVisit.objects.filter(left_at__isnull=True).count() == 2


def test_win_loss_groups_closed_deals_by_competitor(
    frozen: Any, rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    won_reason = CloseReason.objects.filter(kind="won").first()
    lost_reason = CloseReason.objects.filter(kind="lost").first()
    for status, reason in (("won", won_reason), ("lost", lost_reason), ("lost", lost_reason)):
        deal = make_deal(rep, customer)
        opportunity_competitor_set(actor=rep, opportunity=deal, competitor_name="金蝶")
        opportunity_close(actor=rep, opportunity=deal, status=status, reason=reason)

    rows = selectors.win_loss(actor=rep, by="competitor")

    assert [(r.key, r.won, r.lost, r.win_rate) for r in rows] == [("金蝶", 1, 2, 33.3)]


def test_targets_show_attainment_best_first(
    frozen: Any,
    rep: Any,
    other_rep: Any,
    admin_user: Any,
    make_customer: Callable[..., Any],
    make_deal: Callable[..., Any],
) -> None:
    quarter = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    target_save(
        actor=admin_user,
        user=rep,
        amount=Decimal("200000"),
        period_start=quarter[0],
        period_end=quarter[1],
    )
    target_save(
        actor=admin_user,
        user=other_rep,
        amount=Decimal("100000"),
        period_start=quarter[0],
        period_end=quarter[1],
    )
    reason = CloseReason.objects.filter(kind="won").first()
    for owner, amount in ((rep, "50000"), (other_rep, "80000")):
        deal = make_deal(owner, make_customer(owner), amount=Decimal(amount))
        opportunity_close(actor=owner, opportunity=deal, status="won", reason=reason)

    board = selectors.targets_attainment(actor=admin_user)

    assert [(a.target.user_id, a.won, a.percent) for a in board] == [
        (other_rep.pk, Decimal("80000.00"), 80.0),
        (rep.pk, Decimal("50000.00"), 25.0),
    ]


def test_the_board_sums_each_column_and_weights_it(
    rep: Any, customer: Any, stages: list[Any], make_deal: Callable[..., Any]
) -> None:
    make_deal(rep, customer, amount=Decimal("1000"))
    make_deal(rep, customer, amount=Decimal("3000"))

    columns = selectors.board(actor=rep, pipeline=stages[0].pipeline)

    assert [(c.count, c.amount, c.weighted) for c in columns[:2]] == [
        (2, Decimal("4000.00"), Decimal("400.00")),
        (0, Decimal("0.00"), Decimal("0.00")),
    ]


@pytest.fixture
def two_reps_deals(
    rep: Any,
    other_rep: Any,
    customer: Any,
    contact: Any,
    stages: list[Any],
    make_customer: Callable[..., Any],
    make_deal: Callable[..., Any],
) -> None:
    """Deals of two reps in two teams, on month edges, over two quarters (Apr–Sep 2026), plus
    deals just outside the range and two won deals, one won late on 30 April UTC (1 May in
    Shanghai, the site's time zone)."""
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        north_customer = make_customer(other_rep, "北方公司")
        for amount, close, category in [
            ("10000", dt.date(2026, 4, 1), "pipeline"),
            ("20000", dt.date(2026, 4, 30), "commit"),
            ("5000", dt.date(2026, 5, 31), "best_case"),
            ("8000", dt.date(2026, 6, 30), "omitted"),
            ("9000", dt.date(2026, 3, 31), "commit"),  # before the range
            ("9000", dt.date(2026, 10, 1), "commit"),  # after it
        ]:
            make_deal(
                rep,
                customer,
                amount=Decimal(amount),
                expected_close=close,
                forecast_category=category,
            )
        proposal = _advance(
            make_deal(rep, customer, amount=Decimal("40000")), rep, stages, 2, contact
        )  # 50 %
        opportunity_update(
            actor=rep,
            opportunity=proposal,
            values={"expected_close": dt.date(2026, 7, 1), "forecast_category": "commit"},
        )
        make_deal(
            other_rep,
            north_customer,
            amount=Decimal("30000"),
            expected_close=dt.date(2026, 4, 15),
            forecast_category="commit",
        )
        make_deal(
            other_rep, north_customer, amount=Decimal("1000"), expected_close=dt.date(2026, 9, 30)
        )
        won = CloseReason.objects.filter(kind="won").first()
        april = make_deal(rep, customer, amount=Decimal("3000"))
        opportunity_close(actor=rep, opportunity=april, status="won", reason=won)
        clock.move_to(dt.datetime(2026, 4, 30, 20, 0, tzinfo=dt.UTC))
        may = make_deal(other_rep, north_customer, amount=Decimal("700"))
        opportunity_close(actor=other_rep, opportunity=may, status="won", reason=won)


D = Decimal
FORECAST_CASES = {
    ("month", "owner"): [
        ((2026, 4), "rep", 2, D("30000"), D("3000"), D("20000"), D("20000"), D("3000")),
        ((2026, 4), "other", 1, D("30000"), D("3000"), D("30000"), D("30000"), D("0")),
        ((2026, 5), "rep", 1, D("5000"), D("500"), D("0"), D("5000"), D("0")),
        ((2026, 5), "other", 0, D("0"), D("0"), D("0"), D("0"), D("700")),
        ((2026, 6), "rep", 1, D("8000"), D("0"), D("0"), D("0"), D("0")),
        ((2026, 7), "rep", 1, D("40000"), D("20000"), D("40000"), D("40000"), D("0")),
        ((2026, 9), "other", 1, D("1000"), D("100"), D("0"), D("0"), D("0")),
    ],
    ("month", "team"): [
        ((2026, 4), "east", 2, D("30000"), D("3000"), D("20000"), D("20000"), D("3000")),
        ((2026, 4), "north", 1, D("30000"), D("3000"), D("30000"), D("30000"), D("0")),
        ((2026, 5), "east", 1, D("5000"), D("500"), D("0"), D("5000"), D("0")),
        ((2026, 5), "north", 0, D("0"), D("0"), D("0"), D("0"), D("700")),
        ((2026, 6), "east", 1, D("8000"), D("0"), D("0"), D("0"), D("0")),
        ((2026, 7), "east", 1, D("40000"), D("20000"), D("40000"), D("40000"), D("0")),
        ((2026, 9), "north", 1, D("1000"), D("100"), D("0"), D("0"), D("0")),
    ],
    ("quarter", "owner"): [
        ((2026, 4), "rep", 4, D("43000"), D("3500"), D("20000"), D("25000"), D("3000")),
        ((2026, 4), "other", 1, D("30000"), D("3000"), D("30000"), D("30000"), D("700")),
        ((2026, 7), "rep", 1, D("40000"), D("20000"), D("40000"), D("40000"), D("0")),
        ((2026, 7), "other", 1, D("1000"), D("100"), D("0"), D("0"), D("0")),
    ],
    ("quarter", "team"): [
        ((2026, 4), "east", 4, D("43000"), D("3500"), D("20000"), D("25000"), D("3000")),
        ((2026, 4), "north", 1, D("30000"), D("3000"), D("30000"), D("30000"), D("700")),
        ((2026, 7), "east", 1, D("40000"), D("20000"), D("40000"), D("40000"), D("0")),
        ((2026, 7), "north", 1, D("1000"), D("100"), D("0"), D("0"), D("0")),
    ],
    ("month", "company"): [
        ((2026, 4), None, 3, D("60000"), D("6000"), D("50000"), D("50000"), D("3000")),
        ((2026, 5), None, 1, D("5000"), D("500"), D("0"), D("5000"), D("700")),
        ((2026, 6), None, 1, D("8000"), D("0"), D("0"), D("0"), D("0")),
        ((2026, 7), None, 1, D("40000"), D("20000"), D("40000"), D("40000"), D("0")),
        ((2026, 9), None, 1, D("1000"), D("100"), D("0"), D("0"), D("0")),
    ],
    ("quarter", "company"): [
        ((2026, 4), None, 5, D("73000"), D("6500"), D("50000"), D("55000"), D("3700")),
        ((2026, 7), None, 2, D("41000"), D("20100"), D("40000"), D("40000"), D("0")),
    ],
}


@pytest.mark.parametrize(("period", "group"), list(FORECAST_CASES))
def test_the_forecast_buckets_open_and_won_deals_by_period_per_rep_team_or_company(
    two_reps_deals: None,
    manager: Any,
    rep: Any,
    other_rep: Any,
    teams: dict[str, Any],
    period: str,
    group: str,
) -> None:
    ids = {
        "rep": rep.pk,
        "other": other_rep.pk,
        "east": teams["east"].pk,
        "north": teams["north"].pk,
        None: None,
    }

    rows = selectors.forecast(
        actor=manager,
        date_from=dt.date(2026, 4, 1),
        date_to=dt.date(2026, 9, 30),
        period=period,
        group=group,
    )

    assert [
        (r.period, r.group_id, r.count, r.pipeline, r.weighted, r.commit, r.best_case, r.won)
        for r in rows
    ] == [
        (dt.date(*month, 1), ids[key], n, *(money.quantize(D("0.01")) for money in amounts))
        for month, key, n, *amounts in FORECAST_CASES[(period, group)]
    ]
