"""Nightly evaluations that grade only the candidates: each must leave the grades exactly as a
pass over every customer would, whatever changed — metrics, the calendar, overrides, merges,
the scheme's rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.grading import engine, metrics
from guanxi.grading.models import (
    CustomerGrade,
    CustomerMetrics,
    EvaluationRun,
    MetricsPending,
    MetricsState,
    Scheme,
)
from guanxi.grading.services import evaluation_run, preset_install, scheme_save

TODAY = timezone.localdate()
VIP = {"revenue_12m": Decimal("200000"), "order_count_12m": 8, "order_count": 20}


class _Undo(Exception):
    pass


def _full_pass_stages(scheme: Scheme, as_of: dt.date) -> int:
    """How many grades a pass over every customer would change now (rolled back)."""
    run = EvaluationRun.objects.create(scheme=scheme, is_preview=True)
    compiled = engine.prepare(engine.compile_scheme(scheme, as_of))
    staged = -1
    try:
        with transaction.atomic():
            staged = engine.stage(run.pk, scheme.pk, compiled)
            raise _Undo
    except _Undo:
        pass
    return staged


def _night(scheme: Scheme, days: int) -> EvaluationRun:
    """The evaluation `days` after today; then the full-pass check."""
    day = TODAY + dt.timedelta(days=days)
    run = evaluation_run(
        run_id=EvaluationRun.objects.create(scheme=scheme).pk, refresh=False, as_of=day
    )
    assert run.status == "completed", run.message
    assert _full_pass_stages(Scheme.objects.get(pk=scheme.pk), day) == 0
    return run


def _tier(customer: Customer, scheme: Scheme) -> str | None:
    grade = CustomerGrade.objects.filter(customer=customer, scheme=scheme).first()
    return None if grade is None or grade.tier is None else grade.tier.code


def _touch(customer: Customer, **values: Any) -> None:
    """What a refresh does to a customer whose facts changed (every kind, to be sure)."""
    now = timezone.now()
    stamps = dict.fromkeys(metrics.STAMPS.values(), now)
    CustomerMetrics.objects.filter(customer=customer).update(refreshed_at=now, **stamps, **values)


@pytest.fixture
def value_tier(db: Any) -> Scheme:
    return preset_install(actor=None, code="value-tier")


def test_a_customer_whose_tenure_reaches_a_threshold_is_regraded(
    customer_with: Any, value_tier: Scheme
) -> None:
    almost = customer_with(tenure_days=364, **VIP)
    settled = customer_with(tenure_days=800, **VIP)
    bystanders = [customer_with(tenure_days=30 + n, order_count=1) for n in range(5)]
    first = _night(value_tier, 0)
    assert "candidates" not in first.result  # the first evaluation grades everyone
    assert (_tier(almost, value_tier), _tier(settled, value_tier)) == ("ordinary", "vip")

    second = _night(value_tier, 1)

    assert second.result["candidates"] < len(bystanders) + 2
    assert _tier(almost, value_tier) == "vip"
    assert second.changed == 1


def test_changed_metrics_are_regraded_and_nobody_else(
    customer_with: Any, value_tier: Scheme
) -> None:
    growing = customer_with(tenure_days=500, order_count=2, revenue_12m=Decimal("500"))
    others = [customer_with(tenure_days=500, order_count=2) for _ in range(4)]
    _night(value_tier, 0)

    _touch(growing, revenue_12m=Decimal("150000"), order_count_12m=9)
    run = _night(value_tier, 1)

    assert run.result["candidates"] == 1
    assert _tier(growing, value_tier) == "vip"
    assert {_tier(other, value_tier) for other in others} == {"ordinary"}


def test_an_override_that_runs_out_is_regraded(customer_with: Any, value_tier: Scheme) -> None:
    customer = customer_with(tenure_days=500, order_count=1)
    _night(value_tier, 0)
    grade = CustomerGrade.objects.get(customer=customer, scheme=value_tier)
    vip = value_tier.tiers.get(code="vip")
    grade.override_tier, grade.tier = vip, vip
    grade.override_expires_at = timezone.now() - dt.timedelta(seconds=1)
    grade.save()

    run = _night(value_tier, 1)

    assert run.result["candidates"] >= 1
    assert _tier(customer, value_tier) == "ordinary"


def test_a_merged_customer_loses_the_grade(customer_with: Any, value_tier: Scheme) -> None:
    twin = customer_with(tenure_days=500, order_count=1)
    _night(value_tier, 0)
    Customer.objects.filter(pk=twin.pk).update(status="merged")

    _night(value_tier, 1)

    assert _tier(twin, value_tier) is None


def test_changed_rules_grade_everyone(customer_with: Any, value_tier: Scheme) -> None:
    customers = [customer_with(tenure_days=500, order_count=count) for count in (1, 3)]
    _night(value_tier, 0)
    value_tier.tiers.filter(code="ordinary").update(condition="order_count >= 2")

    run = _night(value_tier, 1)

    assert "candidates" not in run.result
    assert [_tier(customer, value_tier) for customer in customers] == ["potential", "ordinary"]


def test_an_unpaid_invoice_ageing_past_a_term_lowers_the_credit_rating(
    customer_with: Any,
) -> None:
    scheme = preset_install(actor=None, code="credit-rating")
    late = customer_with(
        payment_recovery_24m=Decimal("95"),
        max_days_paid_24m=30,
        unpaid_issued_24m=TODAY - dt.timedelta(days=45),
    )
    prompt = customer_with(payment_recovery_24m=Decimal("95"), max_days_paid_24m=30)
    _night(scheme, 0)
    assert (_tier(late, scheme), _tier(prompt, scheme)) == ("a", "a")

    run = _night(scheme, 1)

    assert run.result["candidates"] >= 1
    assert (_tier(late, scheme), _tier(prompt, scheme)) == ("b", "a")


def test_an_evaluation_a_long_while_later_grades_everyone(
    customer_with: Any, value_tier: Scheme
) -> None:
    customer_with(tenure_days=500, order_count=1)
    _night(value_tier, 0)

    run = _night(value_tier, 40)

    assert "candidates" not in run.result


def _scores(customers: list[Customer], scheme: Scheme) -> list[str]:
    scores = dict(CustomerGrade.objects.filter(scheme=scheme).values_list("customer_id", "score"))
    return [scores.get(customer.pk, "not graded") for customer in customers]


@pytest.fixture
def rfm(db: Any) -> Scheme:
    return preset_install(actor=None, code="rfm")


def test_rfm_regrades_the_customers_a_moved_cut_off_passes(customer_with: Any, rfm: Scheme) -> None:
    """Five customers 1 … 5 on every dimension; one of them falls back on revenue. The revenue
    cut-offs move, and the three customers they pass are regraded though nothing of theirs
    changed."""
    customers = [
        customer_with(recency_days=10, order_count=4, revenue_lifetime=Decimal(100 * n))
        for n in range(1, 6)
    ]
    first = _night(rfm, 0)
    assert "candidates" not in first.result
    assert [score[-2:] for score in _scores(customers, rfm)] == ["M1", "M2", "M3", "M4", "M5"]

    _touch(customers[4], revenue_lifetime=Decimal("150"))
    run = _night(rfm, 1)

    assert run.result["cutoffs"]["m"] == [100, 150, 200, 300]
    assert 4 <= run.result["candidates"] < len(customers)  # the 100 customer is not one
    assert [score[-2:] for score in _scores(customers, rfm)] == ["M1", "M3", "M4", "M5", "M2"]


def test_rfm_regrades_when_the_recency_cut_offs_move_in_time(
    customer_with: Any, rfm: Scheme
) -> None:
    """Recency counts days to the evaluation date: a night later everyone is a day older and
    the cut-offs with them, so nobody moves — until the most lapsed customer orders again and
    the others each fall one quintile."""
    customers = [
        customer_with(recency_days=days, order_count=2, revenue_lifetime=Decimal("100"))
        for days in (10, 20, 30, 40, 50)
    ]
    _night(rfm, 0)
    assert [score[:2] for score in _scores(customers, rfm)] == ["R5", "R4", "R3", "R2", "R1"]

    quiet = _night(rfm, 1)
    assert quiet.result["candidates"] == 0
    assert quiet.changed == 0

    _touch(customers[4], last_order_at=timezone.now() + dt.timedelta(days=1))
    run = _night(rfm, 2)

    assert run.result["candidates"] >= len(customers)
    assert [score[:2] for score in _scores(customers, rfm)] == ["R4", "R3", "R2", "R1", "R5"]


def test_rfm_grades_the_first_buyer_as_the_cut_offs_appear(customer_with: Any, rfm: Scheme) -> None:
    lapsed = customer_with(recency_days=400, order_count=0, revenue_lifetime=Decimal("0"))
    _night(rfm, 0)
    assert _scores([lapsed], rfm) == ["not graded"]  # RFM grades buyers only

    _touch(lapsed, order_count=1, revenue_lifetime=Decimal("80"))
    run = _night(rfm, 1)

    assert run.result["candidates"] == 1
    assert _scores([lapsed], rfm) == ["R1F1M1"]  # alone: every cut-off is their value


def test_rfm_grades_everyone_when_the_dimensions_change(customer_with: Any, rfm: Scheme) -> None:
    customers = [
        customer_with(recency_days=10 * n, order_count=n, revenue_lifetime=Decimal(100 * n))
        for n in range(1, 6)
    ]
    _night(rfm, 0)
    rfm.config["dimensions"][2]["metric"] = "margin_lifetime"
    rfm.save()

    run = _night(rfm, 1)

    assert "candidates" not in run.result
    assert [score[-2:] for score in _scores(customers, rfm)] == ["M1"] * 5  # no margins


def test_quantiles_of_tenure_follow_the_customers_created_since(
    customer_with: Any, admin_user: Any
) -> None:
    """Tenure counts from the first order, else from the customer's creation: the candidate
    search reads the customers too."""
    scheme = scheme_save(
        actor=admin_user,
        values={
            "code": "tenure",
            "name_zh": "资历",
            "name_en": "Tenure",
            "method": "quantiles",
            "config": {
                "dimensions": [
                    {"name": "t", "metric": "tenure_days", "better": "higher", "buckets": 4}
                ]
            },
        },
        tiers=[{"code": "all", "name_zh": "全部", "name_en": "Everyone", "is_fallback": True}],
    )
    buyers = [customer_with(tenure_days=days) for days in (100, 200, 300, 400)]
    _night(scheme, 0)
    assert _scores(buyers, scheme) == ["T1", "T2", "T3", "T4"]

    newcomers = [customer_with(), customer_with()]  # no order: tenure from today
    run = _night(scheme, 1)

    assert run.result["candidates"] >= len(newcomers)
    assert _scores(buyers + newcomers, scheme) == ["T2", "T3", "T3", "T4", "T1", "T1"]


def test_only_the_figures_the_rules_read_make_a_candidate(customer_with: Any) -> None:
    scheme = preset_install(actor=None, code="credit-rating")
    payer = customer_with(payment_recovery_24m=Decimal("95"), max_days_paid_24m=30)
    _night(scheme, 0)
    now = timezone.now()
    CustomerMetrics.objects.filter(customer=payer).update(
        revenue_12m=Decimal("9000"), orders_changed_at=now, orders_12m_changed_at=now
    )

    quiet = _night(scheme, 1)
    assert quiet.result["candidates"] == 0

    CustomerMetrics.objects.filter(customer=payer).update(
        payment_recovery_24m=Decimal("70"), invoices_changed_at=timezone.now()
    )
    run = _night(scheme, 2)
    assert run.result["candidates"] == 1
    assert _tier(payer, scheme) == "c"  # 70% recovered: at least 60%


def _marked(customer: Customer) -> None:
    """What a refresh does with a customer the capture log held (their own row changed)."""
    MetricsPending.objects.create(batch=1, customer_id=customer.pk, logged_at=timezone.now())


@pytest.fixture
def refreshed(db: Any) -> MetricsState:
    """Metrics kept by incremental refreshes (customer changes are marked)."""
    return MetricsState.objects.create(pk=1, as_of=TODAY)


def test_a_customer_who_changes_kind_leaves_a_scheme_of_another_kind(
    customer_with: Any, refreshed: MetricsState
) -> None:
    scheme = preset_install(actor=None, code="wealth-tier")  # individuals only
    person = customer_with(monthly_average_assets=Decimal("200000"))
    others = [customer_with(monthly_average_assets=Decimal(n * 1000)) for n in (5, 50, 500)]
    _night(scheme, 0)
    assert _tier(person, scheme) == "gold"

    Customer.objects.filter(pk=person.pk).update(kind="enterprise")
    _marked(person)
    run = _night(scheme, 1)

    assert run.result["candidates"] == 1
    assert _tier(person, scheme) is None
    assert [_tier(other, scheme) for other in others] == ["mass", "mass", "gold"]


def test_a_changed_custom_field_regrades_the_company(
    customer_with: Any, refreshed: MetricsState
) -> None:
    scheme = preset_install(actor=None, code="operating-condition")
    company = customer_with(
        kind="enterprise", custom={"annual_profit": "2000000", "profit_growth": "5"}
    )
    _night(scheme, 0)
    assert _tier(company, scheme) == "first"

    Customer.objects.filter(pk=company.pk).update(
        custom_fields={"annual_profit": "15000000", "profit_growth": "12"}
    )
    _marked(company)
    run = _night(scheme, 1)

    assert run.result["candidates"] == 1
    assert _tier(company, scheme) == "premium"


def test_after_a_refresh_of_everyone_a_scheme_reading_customers_grades_everyone(
    customer_with: Any, refreshed: MetricsState
) -> None:
    scheme = preset_install(actor=None, code="wealth-tier")
    customer_with(monthly_average_assets=Decimal("200000"))
    _night(scheme, 0)
    MetricsState.objects.filter(pk=1).update(recomputed_at=timezone.now())

    run = _night(scheme, 1)

    assert "candidates" not in run.result


def test_a_scheme_reading_customers_last_graded_long_ago_grades_everyone(
    customer_with: Any, refreshed: MetricsState
) -> None:
    """Logged customers are kept for metrics.PENDING_KEPT: earlier, what changed is not known."""
    scheme = preset_install(actor=None, code="wealth-tier")
    customer_with(monthly_average_assets=Decimal("200000"))
    _night(scheme, 0)
    Scheme.objects.filter(pk=scheme.pk).update(
        graded_since=timezone.now() - metrics.PENDING_KEPT - dt.timedelta(hours=1)
    )

    run = _night(Scheme.objects.get(pk=scheme.pk), 1)

    assert "candidates" not in run.result


def test_rfm_recency_crossings_are_exact_at_every_day_boundary(
    customer_with: Any, rfm: Scheme
) -> None:
    """One customer a day over six weeks: as the cut-offs move by one day, by several, and
    back, the customers looked up must be exactly those whose recency score moves (every
    night's evaluation is checked against a pass over everyone)."""
    customers = [
        customer_with(recency_days=days, order_count=2, revenue_lifetime=Decimal("100"))
        for days in range(1, 43)
    ]
    _night(rfm, 0)
    _night(rfm, 1)
    for number, customer in enumerate(customers[-9:]):  # the most lapsed order again
        _touch(customer, last_order_at=timezone.now() + dt.timedelta(days=2, hours=number))
    run = _night(rfm, 3)
    assert run.changed > 0
    for customer in customers[:5]:
        _touch(customer, last_order_at=timezone.now() - dt.timedelta(days=60))
    assert _night(rfm, 7).changed > 0


def test_a_merged_customer_loses_the_grade_among_the_candidates(
    customer_with: Any, rfm: Scheme
) -> None:
    customers = [
        customer_with(recency_days=10 * n, order_count=n, revenue_lifetime=Decimal(100 * n))
        for n in range(1, 6)
    ]
    _night(rfm, 0)
    Customer.objects.filter(pk=customers[0].pk).update(status="merged")

    run = _night(rfm, 1)

    assert run.result["candidates"] >= 1
    assert _scores(customers[:1], rfm) == ["not graded"]
