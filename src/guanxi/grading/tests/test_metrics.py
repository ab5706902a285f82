"""The metric refresh against real orders, invoices, holdings and interactions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.grading.metrics import metrics_refresh
from guanxi.grading.models import CustomerMetrics

AS_OF = dt.date(2026, 6, 30)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def customer(make_user: Any, teams: dict[str, Any]) -> Customer:
    owner = make_user("sales-rep", teams["east"])
    return Customer.objects.create(kind="person", name="张三", owner=owner, team=owner.team)


def _order(
    customer: Customer, day: dt.date, amount: str, cost: str = "0", status: str = "completed"
) -> None:
    from guanxi.commerce.models import Order

    Order.objects.create(
        customer=customer,
        ordered_at=_at(day),
        status=status,
        total_amount=Decimal(amount),
        total_cost=Decimal(cost),
    )


def test_order_metrics_count_only_valid_orders_in_their_windows(customer: Customer) -> None:
    _order(customer, AS_OF - dt.timedelta(days=10), "1000", "600")
    _order(customer, AS_OF - dt.timedelta(days=200), "500", "100")
    _order(customer, AS_OF - dt.timedelta(days=400), "300", "100")
    _order(customer, AS_OF - dt.timedelta(days=5), "9999", status="cancelled")

    metrics_refresh(as_of=AS_OF)

    m = CustomerMetrics.objects.get(customer=customer)
    assert (m.revenue_lifetime, m.revenue_12m, m.margin_lifetime, m.margin_12m) == (
        Decimal("1800"),
        Decimal("1500"),
        Decimal("1000"),
        Decimal("800"),
    )
    assert (m.order_count, m.order_count_12m, m.recency_days, m.tenure_days) == (3, 2, 10, 400)
    assert (m.average_order_value, m.revenue_last_6m, m.revenue_prior_6m, m.revenue_trend) == (
        Decimal("600"),
        Decimal("1000"),
        Decimal("500"),
        1,
    )


def test_a_customer_without_orders_has_empty_recency(customer: Customer) -> None:
    metrics_refresh(as_of=AS_OF)

    m = CustomerMetrics.objects.get(customer=customer)
    assert (m.order_count, m.recency_days, m.revenue_lifetime) == (0, None, Decimal("0"))


def test_payment_metrics_over_24_months(customer: Customer) -> None:
    from guanxi.commerce.models import Invoice

    Invoice.objects.create(
        customer=customer,
        issued_on=AS_OF - dt.timedelta(days=100),
        due_on=AS_OF - dt.timedelta(days=70),
        amount=Decimal("1000"),
        paid_amount=Decimal("1000"),
        status="paid",
        paid_on=AS_OF - dt.timedelta(days=40),
    )
    Invoice.objects.create(
        customer=customer,
        issued_on=AS_OF - dt.timedelta(days=60),
        due_on=AS_OF - dt.timedelta(days=30),
        amount=Decimal("1000"),
        paid_amount=Decimal("500"),
        status="partly_paid",
    )
    Invoice.objects.create(
        customer=customer,
        issued_on=AS_OF - dt.timedelta(days=900),
        due_on=AS_OF - dt.timedelta(days=870),
        amount=Decimal("5000"),
        paid_amount=Decimal("0"),
        status="open",
    )

    metrics_refresh(as_of=AS_OF)

    m = CustomerMetrics.objects.get(customer=customer)
    assert (m.payment_recovery_24m, m.max_days_to_pay_24m, m.overdue_amount) == (
        Decimal("75"),
        60,
        Decimal("5500"),
    )


def test_holdings_come_from_the_latest_snapshot(customer: Customer) -> None:
    from guanxi.commerce.models import HoldingSnapshot

    HoldingSnapshot.objects.create(
        customer=customer,
        as_of=AS_OF - dt.timedelta(days=60),
        assets_under_management=Decimal("1"),
        monthly_average_assets=Decimal("1"),
        loan_balance=Decimal("1"),
    )
    HoldingSnapshot.objects.create(
        customer=customer,
        as_of=AS_OF - dt.timedelta(days=1),
        assets_under_management=Decimal("5200000"),
        monthly_average_assets=Decimal("5000000"),
        loan_balance=Decimal("300000"),
    )

    metrics_refresh(as_of=AS_OF)

    m = CustomerMetrics.objects.get(customer=customer)
    assert (m.aum, m.monthly_average_assets, m.loan_balance) == (
        Decimal("5200000"),
        Decimal("5000000"),
        Decimal("300000"),
    )


def test_interactions_in_the_last_90_days(customer: Customer) -> None:
    from guanxi.interactions.models import Interaction

    for days in (1, 89, 91):
        Interaction.objects.create(
            customer=customer,
            channel="phone_call",
            summary="call",
            occurred_at=_at(AS_OF - dt.timedelta(days=days)),
        )

    metrics_refresh(as_of=AS_OF)

    assert CustomerMetrics.objects.get(customer=customer).interactions_90d == 2


def test_a_refresh_replaces_every_row_at_once(customer: Customer) -> None:
    metrics_refresh(as_of=AS_OF)
    _order(customer, AS_OF - dt.timedelta(days=3), "42")

    count = metrics_refresh(as_of=AS_OF)

    assert count == 1
    assert CustomerMetrics.objects.get(customer=customer).revenue_lifetime == Decimal("42")


def test_a_refresh_of_one_group_keeps_the_other_groups_values(customer: Customer) -> None:
    from guanxi.commerce.models import HoldingSnapshot

    HoldingSnapshot.objects.create(
        customer=customer, as_of=AS_OF, monthly_average_assets=Decimal("250000")
    )
    metrics_refresh(as_of=AS_OF)
    _order(customer, AS_OF - dt.timedelta(days=3), "42")
    HoldingSnapshot.objects.filter(customer=customer).update(
        monthly_average_assets=Decimal("900000")
    )

    metrics_refresh(as_of=AS_OF, groups={"orders"})

    metrics = CustomerMetrics.objects.get(customer=customer)
    assert (metrics.revenue_lifetime, metrics.monthly_average_assets) == (
        Decimal("42"),
        Decimal("250000"),
    )


def test_a_refresh_over_unchanged_facts_rewrites_no_row(customer: Customer) -> None:
    _order(customer, AS_OF - dt.timedelta(days=3), "42")
    first = metrics_refresh(as_of=AS_OF)

    again = metrics_refresh(as_of=AS_OF)

    assert (first, again) == (1, 0)
    assert CustomerMetrics.objects.get(customer=customer).revenue_lifetime == Decimal("42")


def test_the_next_days_refresh_rewrites_only_customers_whose_figures_moved(
    customer: Customer,
) -> None:
    import json

    from guanxi.grading.models import CustomerGrade, EvaluationRun
    from guanxi.grading.services import evaluation_run, preset_install

    other = Customer.objects.create(kind="person", name="李四", owner=customer.owner)
    _order(customer, AS_OF - dt.timedelta(days=30), "42")
    # This order leaves the 12-month window on the next day.
    _order(other, AS_OF - dt.timedelta(days=364), "77")
    metrics_refresh(as_of=AS_OF)
    next_day = AS_OF + dt.timedelta(days=1)

    written = metrics_refresh(as_of=next_day)

    assert written == 1
    kept = CustomerMetrics.objects.get(customer=customer)
    assert (kept.as_of, kept.recency_days) == (AS_OF, 30)
    moved = CustomerMetrics.objects.get(customer=other)
    assert (moved.as_of, moved.revenue_12m, moved.recency_days) == (next_day, Decimal("0"), 365)
    # Grading still counts the days to its own date.
    run = EvaluationRun.objects.create(scheme=preset_install(actor=None, code="lifecycle"))
    evaluation_run(run_id=run.pk, refresh=False, as_of=next_day)
    grade = CustomerGrade.objects.get(customer=customer)
    assert json.loads(grade.explanation)["recency_days"] == 31


def test_a_refresh_of_some_metrics_keeps_the_others(customer: Customer) -> None:
    from guanxi.grading.metrics import stored_for

    _order(customer, AS_OF - dt.timedelta(days=10), "1000", "600")
    metrics_refresh(as_of=AS_OF)
    _order(customer, AS_OF - dt.timedelta(days=3), "500", "100")

    written = metrics_refresh(
        as_of=AS_OF, only=stored_for(["recency_days", "order_count", "revenue_lifetime"])
    )

    m = CustomerMetrics.objects.get(customer=customer)
    assert written == 1
    assert (m.order_count, m.revenue_lifetime, m.recency_days) == (2, Decimal("1500"), 3)
    assert m.last_order_at.date() == AS_OF - dt.timedelta(days=3)
    # Not read by those metrics: as of the refresh before.
    assert (m.margin_lifetime, m.revenue_12m, m.average_order_value) == (
        Decimal("400"),
        Decimal("1000"),
        Decimal("1000"),
    )


def test_a_refresh_of_the_credit_figures_alone_gives_the_same_values(customer: Customer) -> None:
    from guanxi.commerce.models import Invoice
    from guanxi.grading.metrics import stored_for

    for issued, due, amount, paid, paid_on in (
        (AS_OF - dt.timedelta(days=900), AS_OF - dt.timedelta(days=870), "500", "0", None),
        (AS_OF - dt.timedelta(days=100), AS_OF - dt.timedelta(days=70), "1000", "800", None),
        (
            AS_OF - dt.timedelta(days=60),
            AS_OF - dt.timedelta(days=30),
            "1000",
            "1000",
            AS_OF - dt.timedelta(days=20),
        ),
    ):
        Invoice.objects.create(
            customer=customer,
            issued_on=issued,
            due_on=due,
            amount=Decimal(amount),
            paid_amount=Decimal(paid),
            paid_on=paid_on,
            status="paid" if paid_on else "partly_paid",
        )
    metrics_refresh(as_of=AS_OF)
    everything = CustomerMetrics.objects.get(customer=customer)
    CustomerMetrics.objects.all().delete()

    metrics_refresh(as_of=AS_OF, only=stored_for(["payment_recovery_24m", "max_days_to_pay_24m"]))

    alone = CustomerMetrics.objects.get(customer=customer)
    assert (alone.payment_recovery_24m, alone.max_days_to_pay_24m) == (Decimal("90.00"), 100)
    assert (alone.payment_recovery_24m, alone.max_days_to_pay_24m) == (
        everything.payment_recovery_24m,
        everything.max_days_to_pay_24m,
    )
    assert everything.overdue_amount == Decimal("700")
