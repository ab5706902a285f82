"""The incremental metrics refresh: after each change — through services, the ORM, raw SQL,
a merge or the calendar — the refreshed metrics equal those of recomputing every customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.grading import capture, metrics
from guanxi.grading.metrics import metrics_refresh
from guanxi.grading.models import CustomerMetrics, MetricsChange, MetricsPending, MetricsState

AS_OF = dt.date(2026, 6, 30)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def _order(customer: Customer, day: dt.date, amount: str, status: str = "completed") -> Any:
    from guanxi.commerce.models import Order

    return Order.objects.create(
        customer=customer,
        ordered_at=_at(day),
        status=status,
        total_amount=Decimal(amount),
        total_cost=Decimal(amount) / 2,
    )


def _invoice(customer: Customer, issued: dt.date, due: dt.date, amount: str) -> Any:
    from guanxi.commerce.models import Invoice

    return Invoice.objects.create(
        customer=customer, issued_on=issued, due_on=due, amount=Decimal(amount), status="open"
    )


def _seen(as_of: dt.date) -> dict[int, tuple[Any, ...]]:
    """Every customer's metrics as grading reads them on a date."""
    names = sorted(metrics.CATALOGUE)
    expressions = ", ".join(metrics.column(name, as_of) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, {expressions} FROM customers_customer c "  # noqa: S608
            "JOIN grading_customermetrics m ON m.customer_id = c.id ORDER BY c.id"
        )
        return {
            row[0]: tuple(None if value is None else Decimal(str(value)) for value in row[1:])
            for row in cursor.fetchall()
        }


class _Recomputed(Exception):
    pass


def _from_scratch(as_of: dt.date) -> dict[int, tuple[Any, ...]]:
    """What recomputing every customer would give (then rolled back)."""
    result: dict[int, tuple[Any, ...]] = {}
    try:
        with transaction.atomic():
            MetricsState.objects.all().delete()
            CustomerMetrics.objects.all().delete()
            metrics_refresh(as_of=as_of)
            result = _seen(as_of)
            raise _Recomputed
    except _Recomputed:
        pass
    return result


def _check(as_of: dt.date) -> int:
    """Refresh incrementally, check it built on the last refresh, and compare."""
    assert MetricsState.objects.get().as_of <= as_of
    written = metrics_refresh(as_of=as_of)
    assert _seen(as_of) == _from_scratch(as_of)
    assert MetricsChange.objects.count() == 0
    return written


@pytest.fixture
def people(make_user: Any, teams: dict[str, Any]) -> list[Customer]:
    owner = make_user("sales-rep", teams["east"])
    return [
        Customer.objects.create(kind="person", name=f"客户{n}", owner=owner, team=owner.team)
        for n in range(4)
    ]


def test_every_kind_of_change_is_picked_up_by_the_next_refresh(
    people: list[Customer], make_user: Any
) -> None:
    from guanxi.commerce.models import HoldingSnapshot, Invoice, Order
    from guanxi.interactions.models import Interaction

    a, b, c, d = people
    first = _order(a, AS_OF - dt.timedelta(days=10), "1000")
    _order(b, AS_OF - dt.timedelta(days=364), "500")  # leaves the 12 months tomorrow
    _order(b, AS_OF - dt.timedelta(days=181), "300")  # leaves the last 6 months tomorrow
    invoice = _invoice(c, AS_OF - dt.timedelta(days=40), AS_OF + dt.timedelta(days=1), "800")
    _invoice(d, AS_OF - dt.timedelta(days=760), AS_OF - dt.timedelta(days=730), "90")
    Interaction.objects.create(
        customer=d, channel="phone_call", summary="call", occurred_at=_at(AS_OF, 9)
    )
    Interaction.objects.create(
        customer=a,
        channel="visit",
        summary="visit",
        occurred_at=_at(AS_OF - dt.timedelta(days=89), 12),
    )
    metrics_refresh(as_of=AS_OF)
    assert MetricsState.objects.get().as_of == AS_OF

    # Same day: an order through the ORM, a status change, a deleted order.
    _order(c, AS_OF - dt.timedelta(days=2), "70")
    Order.objects.filter(pk=first.pk).update(status="cancelled")
    assert _check(AS_OF) == 2

    # The next day: windows move (b's orders, a's interaction, c's invoice falls due, d's
    # old invoice leaves the 24 months), with no fact changed.
    day = AS_OF + dt.timedelta(days=1)
    assert _check(day) >= 3
    # Payments, holdings, raw SQL, deletions, a new customer.
    Invoice.objects.filter(pk=invoice.pk).update(
        paid_amount=Decimal("800"), paid_on=day, status="paid"
    )
    HoldingSnapshot.objects.create(customer=b, as_of=day, monthly_average_assets=Decimal("1000000"))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO commerce_order (customer_id, number, ordered_at, status, channel, "
            "currency, total_amount, total_cost, notes, created_at, updated_at, version) "
            "SELECT %s, 'RAW-1', %s, 'completed', 'store', 'CNY', 55, 5, '', %s, %s, 1",
            [d.pk, _at(day, 8), timezone.now(), timezone.now()],
        )
    Order.objects.filter(customer=b).first().delete()  # type: ignore[union-attr]
    newcomer = Customer.objects.create(kind="person", name="新客户", owner=a.owner)
    assert _check(day) >= 4
    assert CustomerMetrics.objects.filter(customer=newcomer).exists()
    # A week later, nothing changed but the calendar.
    assert _check(day + dt.timedelta(days=7)) >= 0


def test_a_merge_moves_the_metrics_to_the_survivor(people: list[Customer], make_user: Any) -> None:
    from guanxi.customers.merge import customer_merge

    survivor, twin = people[0], people[1]
    _order(survivor, AS_OF - dt.timedelta(days=5), "100")
    _order(twin, AS_OF - dt.timedelta(days=3), "200")
    metrics_refresh(as_of=AS_OF)
    manager = make_user("administrator", None)

    customer_merge(actor=manager, survivor=survivor, others=[twin], choices={})

    _check(AS_OF)
    assert CustomerMetrics.objects.get(customer=survivor).revenue_lifetime == Decimal("300")
    assert not CustomerMetrics.objects.filter(customer=twin).exists()


def test_a_refresh_records_how_far_it_got_and_consumes_the_changes(
    people: list[Customer],
) -> None:
    metrics_refresh(as_of=AS_OF)
    _order(people[0], AS_OF - dt.timedelta(days=1), "10")
    assert MetricsChange.objects.filter(customer_id=people[0].pk).exists()

    written = metrics_refresh(as_of=AS_OF)

    assert written == 1
    assert MetricsChange.objects.count() == 0
    # Only the changed customer's row was rewritten.
    rows = dict(CustomerMetrics.objects.values_list("customer_id", "refreshed_at"))
    assert rows[people[0].pk] > rows[people[1].pk]


def test_a_missing_trigger_is_put_back_and_everyone_recomputed(people: list[Customer]) -> None:
    metrics_refresh(as_of=AS_OF)
    capture.suspend()  # as a bulk load does; changes meanwhile are not recorded
    _order(people[2], AS_OF - dt.timedelta(days=1), "99")
    assert MetricsChange.objects.count() == 0

    metrics_refresh(as_of=AS_OF)

    assert CustomerMetrics.objects.get(customer=people[2]).revenue_lifetime == Decimal("99")
    assert MetricsState.objects.get().as_of == AS_OF
    _order(people[3], AS_OF - dt.timedelta(days=1), "7")
    assert MetricsChange.objects.filter(customer_id=people[3].pk).exists()


def test_an_earlier_date_recomputes_everyone(people: list[Customer]) -> None:
    _order(people[0], AS_OF - dt.timedelta(days=200), "10")
    metrics_refresh(as_of=AS_OF)

    metrics_refresh(as_of=AS_OF - dt.timedelta(days=100))

    assert MetricsState.objects.get().as_of == AS_OF - dt.timedelta(days=100)
    assert CustomerMetrics.objects.get(customer=people[0]).revenue_last_6m == Decimal("10")


def test_a_refresh_of_some_groups_on_another_day_forgets_the_state(
    people: list[Customer],
) -> None:
    metrics_refresh(as_of=AS_OF)

    metrics_refresh(as_of=AS_OF + dt.timedelta(days=1), groups={"orders"})

    assert not MetricsState.objects.exists()


def test_an_unpaid_invoices_term_grows_with_the_evaluation_date(people: list[Customer]) -> None:
    customer = people[0]
    _invoice(customer, AS_OF - dt.timedelta(days=50), AS_OF - dt.timedelta(days=20), "100")
    paid = _invoice(customer, AS_OF - dt.timedelta(days=200), AS_OF - dt.timedelta(days=170), "100")
    paid.paid_on, paid.paid_amount, paid.status = (
        AS_OF - dt.timedelta(days=120),
        Decimal("100"),
        "paid",
    )
    paid.save()
    metrics_refresh(as_of=AS_OF)

    # Longest term: the paid invoice's 80 days, until the unpaid one has been open longer.
    term = sorted(metrics.CATALOGUE).index("max_days_to_pay_24m")
    assert _seen(AS_OF)[customer.pk][term] == Decimal("80")
    assert _seen(AS_OF + dt.timedelta(days=40))[customer.pk][term] == Decimal("90")
    assert CustomerMetrics.objects.get(customer=customer).max_days_to_pay_24m == 80


def test_each_kind_of_figure_records_when_it_last_changed(people: list[Customer]) -> None:
    """An evaluation looks again only at customers whose figures it reads changed: an
    interaction or an order leaving the 12 months must not mark the lifetime order figures
    or the payments as changed."""
    from guanxi.interactions.models import Interaction

    a, b, _c, _d = people
    _order(a, AS_OF - dt.timedelta(days=10), "1000")
    _order(a, AS_OF - dt.timedelta(days=364), "200")  # leaves the 12 months tomorrow
    metrics_refresh(as_of=AS_OF)
    fresh = CustomerMetrics.objects.get(customer=b)  # a new row: every figure is new
    assert {getattr(fresh, stamp) for stamp in metrics.STAMPS.values()} == {fresh.refreshed_at}

    def stamps() -> dict[str, dt.datetime]:
        row = CustomerMetrics.objects.get(customer=a)
        return {group: getattr(row, stamp) for group, stamp in metrics.STAMPS.items()}

    before = stamps()
    Interaction.objects.create(
        customer=a, channel="phone_call", summary="call", occurred_at=_at(AS_OF, 9)
    )
    _check(AS_OF + dt.timedelta(days=1))
    after = stamps()
    moved = {group for group in before if after[group] != before[group]}
    # The interaction logged the customer: the customer mark (kinds, custom fields) too.
    assert moved == {"interactions", "orders_window"}
    assert after["interactions"] > before["interactions"]

    _invoice(a, AS_OF, AS_OF + dt.timedelta(days=1), "300")  # falls due the next day
    _check(AS_OF + dt.timedelta(days=2))
    later = stamps()
    assert {group for group in after if later[group] != after[group]} == {"invoices"}

    # A kind or a custom field changed, through the ORM or raw SQL: no figure moved, and
    # both customers are kept as logged (schemes that read kinds or fields look again).
    since = timezone.now()
    Customer.objects.filter(pk=a.pk).update(custom_fields={"annual_profit": "9"})
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET kind = 'enterprise' WHERE id = %s", [b.pk])
    _check(AS_OF + dt.timedelta(days=2))
    assert {group for group in later if stamps()[group] != later[group]} == set()
    logged = MetricsPending.objects.filter(logged_at__gt=since)
    assert set(logged.values_list("customer_id", flat=True)) == {a.pk, b.pk}


def test_each_kind_of_figure_is_refreshed_on_its_own(people: list[Customer]) -> None:
    """An evaluation refreshes only the kinds of figure its scheme reads: the others stay as
    they were, their changes pending, until a refresh of those kinds — which then gives what
    recomputing everyone would, whatever the days in between."""
    from guanxi.interactions.models import Interaction

    a, b, c, _d = people
    _order(b, AS_OF - dt.timedelta(days=364), "500")  # leaves the 12 months tomorrow
    _invoice(c, AS_OF - dt.timedelta(days=40), AS_OF + dt.timedelta(days=2), "800")
    metrics_refresh(as_of=AS_OF)

    day = AS_OF + dt.timedelta(days=1)
    _order(a, day, "120")
    _invoice(a, day, day + dt.timedelta(days=30), "120")
    Interaction.objects.create(customer=a, channel="visit", summary="visit", occurred_at=_at(day))
    metrics_refresh(as_of=day, units={"orders"})

    row = CustomerMetrics.objects.get(customer=a)
    assert (row.revenue_lifetime, row.order_count, row.revenue_12m) == (Decimal("120"), 1, 120)
    assert (row.overdue_amount, row.interactions_90d) == (0, 0)  # not refreshed yet
    assert row.payment_recovery_24m is None
    # b's order left the 12 months: a windowed figure, not refreshed either.
    assert CustomerMetrics.objects.get(customer=b).revenue_12m == Decimal("500")
    state = MetricsState.objects.get()
    assert state.as_of == AS_OF  # the earliest kind's
    assert state.units["orders"] == {"as_of": day.isoformat(), "batch": state.batch}
    assert state.units["invoices"] == {"as_of": AS_OF.isoformat(), "batch": 0}
    assert MetricsPending.objects.filter(customer_id=a.pk, batch=state.batch).exists()

    # Two days later the rest catches up, over both days' window edges (c's invoice falls due).
    later = day + dt.timedelta(days=1)
    metrics_refresh(as_of=later, units={"orders_window", "orders"})
    assert CustomerMetrics.objects.get(customer=b).revenue_12m == 0
    assert _check(later) >= 2
    units = MetricsState.objects.get().units
    assert {unit["as_of"] for unit in units.values()} == {later.isoformat()}


def test_an_evaluation_refreshes_the_kinds_its_scheme_reads(people: list[Customer]) -> None:
    assert metrics.units_for(["recency_days", "order_count", "revenue_lifetime"]) == {"orders"}
    assert metrics.units_for(["revenue_12m", "tenure_days"]) == {"orders", "orders_window"}
    assert metrics.units_for(["max_days_to_pay_24m", "payment_recovery_24m"]) == {"invoices"}
    assert metrics.units_for(["assets_and_loans", "interactions_90d"]) == {
        "holdings",
        "interactions",
    }
    assert metrics.units_for(["custom.profit"]) == set()


def test_a_kind_refreshed_as_of_a_later_date_is_recomputed_for_everyone(
    people: list[Customer],
) -> None:
    _order(people[0], AS_OF - dt.timedelta(days=200), "10")
    metrics_refresh(as_of=AS_OF)
    metrics_refresh(as_of=AS_OF + dt.timedelta(days=200), units={"orders_window"})
    assert CustomerMetrics.objects.get(customer=people[0]).revenue_12m == 0

    metrics_refresh(as_of=AS_OF, units={"orders_window"})

    assert CustomerMetrics.objects.get(customer=people[0]).revenue_12m == Decimal("10")
    assert _check(AS_OF) >= 0


def test_logged_customers_are_kept_until_every_kind_is_done_with_them(
    people: list[Customer],
) -> None:
    metrics_refresh(as_of=AS_OF)
    _order(people[0], AS_OF, "10")
    metrics_refresh(as_of=AS_OF, units={"orders"})
    MetricsPending.objects.update(logged_at=timezone.now() - dt.timedelta(days=40))

    metrics_refresh(as_of=AS_OF, units={"orders"})  # the other kinds have not recomputed it
    assert MetricsPending.objects.filter(customer_id=people[0].pk).exists()

    metrics_refresh(as_of=AS_OF)
    assert not MetricsPending.objects.exists()
    assert CustomerMetrics.objects.get(customer=people[0]).revenue_lifetime == Decimal("10")
