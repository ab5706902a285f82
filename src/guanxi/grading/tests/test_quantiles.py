"""Quantile scores from cut-offs: ties share a score, no value scores worst, on both databases.

Each test pins exact scores, so passing on SQLite and on PostgreSQL means both databases give
the same scores (NTILE split equal values by customer id and sorted NULLs apart per database).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import connection

from guanxi.customers.models import Customer
from guanxi.grading import engine
from guanxi.grading.models import CustomerGrade, EvaluationRun, Scheme
from guanxi.grading.services import evaluation_run, preset_install, scheme_save

EVERYONE = [{"code": "all", "name_zh": "全部", "name_en": "Everyone", "is_fallback": True}]


@pytest.fixture
def quantiles(admin_user: Any) -> Callable[..., Scheme]:
    """A quantile scheme of the given dimensions whose one tier takes every eligible customer."""

    def make(*dimensions: dict[str, Any], eligible: str = "", kinds: Any = ()) -> Scheme:
        return scheme_save(
            actor=admin_user,
            values={
                "code": "scores",
                "name_zh": "分数",
                "name_en": "Scores",
                "method": "quantiles",
                "kinds": list(kinds),
                "config": {"dimensions": list(dimensions), "eligible": eligible},
            },
            tiers=EVERYONE,
        )

    return make


def _evaluate(scheme: Scheme, *, preview: bool = False) -> EvaluationRun:
    run = EvaluationRun.objects.create(scheme=scheme, is_preview=preview)
    return evaluation_run(run_id=run.pk, refresh=False)


def _scores(customers: list[Customer]) -> list[str]:
    scores = dict(CustomerGrade.objects.values_list("customer_id", "score"))
    return [scores.get(customer.pk, "not graded") for customer in customers]


FREQUENCY = {"name": "f", "metric": "order_count", "better": "higher", "buckets": 5}
RECENCY = {"name": "r", "metric": "recency_days", "better": "lower", "buckets": 5}


def test_ten_distinct_values_put_two_customers_in_each_quintile(
    customer_with: Any, quantiles: Any
) -> None:
    customers = [customer_with(order_count=count) for count in (7, 2, 9, 4, 1, 10, 6, 3, 8, 5)]

    _evaluate(quantiles(FREQUENCY))

    assert _scores(customers) == ["F4", "F1", "F5", "F2", "F1", "F5", "F3", "F2", "F4", "F3"]


def test_customers_with_equal_values_share_a_score(customer_with: Any, quantiles: Any) -> None:
    once = [customer_with(order_count=1) for _ in range(6)]
    more = [customer_with(order_count=count) for count in (2, 3, 4, 5)]

    _evaluate(quantiles(FREQUENCY))

    assert _scores(once) == ["F1"] * 6
    assert _scores(more) == ["F4", "F4", "F5", "F5"]


def test_lower_is_better_gives_the_most_recent_buyers_the_top_score(
    customer_with: Any, quantiles: Any
) -> None:
    customers = [customer_with(order_count=1, recency_days=days) for days in range(10, 101, 10)]

    _evaluate(quantiles(RECENCY))

    assert _scores(customers) == ["R5", "R5", "R4", "R4", "R3", "R3", "R2", "R2", "R1", "R1"]


def test_a_customer_without_a_value_scores_worst_and_does_not_move_the_cut_offs(
    customer_with: Any, quantiles: Any
) -> None:
    valued = [
        customer_with(order_count=1, recency_days=days, payment_recovery_24m=Decimal(days))
        for days in (10, 20, 30, 40, 50)
    ]
    unvalued = [customer_with(order_count=0) for _ in range(2)]
    recovery = {"name": "p", "metric": "payment_recovery_24m", "better": "higher", "buckets": 5}

    run = _evaluate(quantiles(RECENCY, recovery))

    assert _scores(valued) == ["R5P1", "R4P2", "R3P3", "R2P4", "R1P5"]
    assert _scores(unvalued) == ["R1P1", "R1P1"]
    assert run.result["cutoffs"] == {"r": [50, 40, 30, 20], "p": [10, 20, 30, 40]}


def test_cut_offs_are_taken_over_the_eligible_customers_only(
    customer_with: Any, quantiles: Any
) -> None:
    eligible = [customer_with(order_count=count) for count in (10, 20, 30, 40)]
    not_eligible = [customer_with(order_count=0) for _ in range(3)] + [
        customer_with(kind="enterprise", order_count=1) for _ in range(3)
    ]
    halves = {"name": "f", "metric": "order_count", "better": "higher", "buckets": 2}

    _evaluate(quantiles(halves, eligible="order_count >= 1", kinds=["person"]))

    assert _scores(eligible) == ["F1", "F1", "F2", "F2"]
    assert _scores(not_eligible) == ["not graded"] * 6


def test_the_run_records_the_cut_offs_it_used(customer_with: Any, quantiles: Any) -> None:
    for count in (1, 1, 1, 1, 1, 1, 2, 3, 4, 5):
        customer_with(order_count=count)
    scheme = quantiles(FREQUENCY)

    preview = _evaluate(scheme, preview=True)
    evaluation = _evaluate(scheme)

    assert preview.result["cutoffs"] == {"f": [1, 1, 1, 3]}
    assert preview.result["moves"] == [{"from": None, "to": scheme.tiers.get().pk, "customers": 10}]
    assert evaluation.result == {"cutoffs": {"f": [1, 1, 1, 3]}}


def test_with_no_value_to_rank_everyone_scores_worst(customer_with: Any, quantiles: Any) -> None:
    customers = [customer_with(order_count=0) for _ in range(3)]

    run = _evaluate(quantiles(RECENCY))

    assert _scores(customers) == ["R1", "R1", "R1"]
    assert run.result == {"cutoffs": {"r": [None, None, None, None]}}


def test_the_explanation_shows_each_score_beside_the_value_it_read(
    customer_with: Any, quantiles: Any
) -> None:
    customers = [customer_with(order_count=count, recency_days=9) for count in range(1, 11)]

    _evaluate(quantiles(RECENCY, FREQUENCY))

    grade = CustomerGrade.objects.get(customer=customers[4])
    assert json.loads(grade.explanation) == {
        "recency_days": 9,
        "order_count": 5,
        "f_score": 3,
        "r_score": 1,
    }


def test_a_score_moves_when_the_distribution_moves(customer_with: Any, quantiles: Any) -> None:
    customers = [customer_with(order_count=count) for count in range(1, 11)]
    scheme = quantiles(FREQUENCY)
    _evaluate(scheme)
    newcomers = [customer_with(order_count=count) for count in (20, 30, 40, 50, 60)]

    run = _evaluate(scheme)

    assert _scores(customers) == ["F1"] * 3 + ["F2"] * 3 + ["F3"] * 3 + ["F4"]
    assert _scores(newcomers) == ["F4", "F4", "F5", "F5", "F5"]
    assert run.result["cutoffs"] == {"f": [3, 6, 9, 30]}


def test_rfm_names_segments_from_the_three_scores(customer_with: Any) -> None:
    customers = [
        customer_with(
            recency_days=10 * (rank + 1),
            order_count=10 - rank,
            revenue_lifetime=Decimal(1000 * (10 - rank)),
        )
        for rank in range(10)
    ]
    never = customer_with(order_count=0)

    _evaluate(preset_install(actor=None, code="rfm"))

    grades = {
        grade.customer_id: (grade.score, grade.tier.code)
        for grade in CustomerGrade.objects.select_related("tier")
    }
    assert [grades[customer.pk] for customer in customers] == [
        ("R5F5M5", "champions"),
        ("R5F5M5", "champions"),
        ("R4F4M4", "champions"),
        ("R4F4M4", "champions"),
        ("R3F3M3", "need-attention"),
        ("R3F3M3", "need-attention"),
        ("R2F2M2", "about-to-sleep"),
        ("R2F2M2", "about-to-sleep"),
        ("R1F1M1", "lost"),
        ("R1F1M1", "lost"),
    ]
    assert never.pk not in grades


def test_a_custom_field_with_fractions_is_scored_like_a_metric(
    customer_with: Any, quantiles: Any
) -> None:
    customers = [customer_with(custom={"wallet": share}) for share in (2.5, 0.5, 3.5, 1.5)]
    wallet = {"name": "w", "metric": "custom.wallet", "better": "higher", "buckets": 2}

    run = _evaluate(quantiles(wallet))

    assert _scores(customers) == ["W2", "W1", "W2", "W1"]
    assert run.result == {"cutoffs": {"w": [1.5]}}


@pytest.mark.parametrize("kinds", [(), ("person",)], ids=["from metrics", "with customers"])
def test_merged_customers_are_left_out_of_the_cut_offs(
    customer_with: Any, quantiles: Any, kinds: Any
) -> None:
    # A scheme without kinds reads its population from the metrics alone; one with kinds
    # joins the customers. Either way a merged customer's stale metrics do not count.
    customers = [customer_with(order_count=count) for count in (1, 2, 3, 4, 5)]
    merged = customer_with(order_count=100)
    Customer.objects.filter(pk=merged.pk).update(status="merged")

    _evaluate(quantiles(FREQUENCY, kinds=kinds))

    assert _scores(customers) == ["F1", "F2", "F3", "F4", "F5"]
    assert _scores([merged]) == ["not graded"]


MONETARY = {"name": "m", "metric": "revenue_lifetime", "better": "higher", "buckets": 5}


@pytest.mark.parametrize(
    ("nudge", "looked_near"),
    [(Decimal("1.01"), True), (Decimal("1"), True), (Decimal("3"), False)],
)
def test_cut_offs_looked_for_near_the_last_ones_are_those_of_every_value(
    customer_with: Any, quantiles: Any, nudge: Decimal, looked_near: bool
) -> None:
    """The nightly shortcut (SQLite looks around the previous cut-offs first) must give the
    cut-offs of grouping every value; far from the previous ones it groups every value."""
    rng = random.Random(4)
    for _ in range(120):
        customer_with(
            order_count=rng.choice([0, 1, 1, 1, 2, 2, 3, 5, 8, 13]),
            revenue_lifetime=Decimal(rng.randrange(0, 400_000)) / 100,
            recency_days=rng.choice([None, *range(1, 400)]),
        )
    compiled = engine.compile_scheme(quantiles(RECENCY, FREQUENCY, MONETARY))
    exact = engine._cutoffs(compiled)
    previous = {
        name: [value if value is None else float(Decimal(str(value)) * nudge) for value in cuts]
        for name, cuts in exact.items()
    }

    returned: list[Any] = []
    original = engine._cutoffs_near

    def spy(*args: Any) -> Any:
        returned.append(original(*args))
        return returned[-1]

    with mock.patch.object(engine, "_cutoffs_near", spy):
        found = engine._cutoffs(compiled, previous, 1)

    assert found == exact
    if connection.vendor == "sqlite":
        assert (returned[0] is not None) == looked_near
