from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from guanxi.commerce import selectors
from guanxi.commerce.models import HoldingSnapshot, Invoice, Order
from guanxi.commerce.selectors import InvoiceFilters, OrderFilters
from guanxi.commerce.services import order_cancel, order_update, payment_record
from guanxi.core.pagination import keyset_page


def visible_ids(actor: Any, filters: OrderFilters | None = None) -> list[int]:
    return list(selectors.order_list(actor=actor, filters=filters).values_list("pk", flat=True))


@pytest.fixture
def east_teammate(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], username="rep.east.2")


@pytest.fixture
def east_agent(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("service-agent", teams["east"], username="agent.east")


@pytest.fixture
def analyst(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("analyst", teams["other"], username="analyst")


@pytest.fixture
def roleless(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user(None, teams["east"], username="nobody")


@pytest.mark.parametrize(
    ("reader", "sees"),
    [
        ("rep", {"east"}),
        ("east_teammate", set()),
        ("other_rep", {"north"}),
        ("east_agent", {"east"}),
        ("manager", {"east", "north"}),
        ("outsider", set()),
        ("analyst", {"east", "north"}),
        ("roleless", set()),
    ],
)
def test_orders_are_visible_when_their_customer_is(
    request: pytest.FixtureRequest,
    rep: Any,
    other_rep: Any,
    make_customer: Callable[..., Any],
    place_order: Callable[..., Order],
    reader: str,
    sees: set[str],
) -> None:
    orders = {
        "east": place_order(make_customer(rep)).pk,
        "north": place_order(make_customer(other_rep)).pk,
    }

    ids = visible_ids(request.getfixturevalue(reader))

    assert set(ids) == {orders[name] for name in sees}


def test_a_rep_sees_their_customers_orders_even_when_someone_else_took_them(
    rep: Any, manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer, actor=manager)

    assert visible_ids(rep) == [order.pk]


def test_orders_filter_by_status_channel_customer_owner_and_local_days(
    manager: Any,
    rep: Any,
    make_customer: Callable[..., Any],
    place_order: Callable[..., Order],
) -> None:
    first, second = make_customer(rep), make_customer(rep)
    day = timezone.localdate() - dt.timedelta(days=10)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    early = place_order(first, ordered_at=start, channel="store")
    late = place_order(first, ordered_at=start + dt.timedelta(hours=23, minutes=59))
    next_day = place_order(second, ordered_at=start + dt.timedelta(days=1), status="shipped")
    order_cancel(actor=manager, order=late)

    assert visible_ids(manager, OrderFilters(date_from=day, date_to=day)) == [late.pk, early.pk]
    assert visible_ids(manager, OrderFilters(date_from=day + dt.timedelta(days=1))) == [next_day.pk]
    assert visible_ids(manager, OrderFilters(status="cancelled")) == [late.pk]
    assert visible_ids(manager, OrderFilters(status="nonsense")) == []
    assert visible_ids(manager, OrderFilters(channel="store")) == [early.pk]
    assert visible_ids(manager, OrderFilters(customer_id=second.pk)) == [next_day.pk]
    assert visible_ids(manager, OrderFilters(owner_id=rep.pk)) == []
    assert visible_ids(manager, OrderFilters(owner_id=manager.pk)) == [
        next_day.pk,
        late.pk,
        early.pk,
    ]


def test_keyset_pages_walk_every_order_once_newest_first(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    same_time = timezone.now() - dt.timedelta(days=2)
    made = [
        place_order(customer, ordered_at=same_time - dt.timedelta(hours=i % 3)) for i in range(7)
    ]
    queryset = selectors.order_list(actor=manager)
    ordering = OrderFilters().ordering

    seen, cursor = [], None
    for _ in range(3):  # 7 orders, 3 a page
        page = keyset_page(queryset, cursor=cursor, limit=3, ordering=ordering)
        seen.extend(order.pk for order in page.items)
        cursor = page.next_cursor

    expected = sorted(made, key=lambda o: (o.ordered_at, o.pk), reverse=True)
    assert seen == [order.pk for order in expected]
    assert cursor is None


def test_an_order_outside_the_scope_is_404(
    other_rep: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer)

    with pytest.raises(Http404):
        selectors.order_get(actor=other_rep, pk=order.pk)


def test_an_invoice_outside_the_scope_is_404(
    other_rep: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer)

    with pytest.raises(Http404):
        selectors.invoice_get(actor=other_rep, pk=invoice.pk)


def test_overdue_invoices_are_those_still_owed_past_their_due_date(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    today = timezone.localdate()
    late = issue_invoice(
        customer,
        "100",
        issued_on=today - dt.timedelta(days=40),
        due_on=today - dt.timedelta(days=10),
    )
    part_paid_late = issue_invoice(
        customer,
        "100",
        issued_on=today - dt.timedelta(days=40),
        due_on=today - dt.timedelta(days=1),
    )
    paid_late = issue_invoice(
        customer,
        "100",
        issued_on=today - dt.timedelta(days=40),
        due_on=today - dt.timedelta(days=5),
    )
    issue_invoice(customer, "100", issued_on=today - dt.timedelta(days=5), due_on=today)
    payment_record(actor=manager, invoice=part_paid_late, amount="50")
    payment_record(actor=manager, invoice=paid_late, amount="100")

    overdue = selectors.invoice_list(actor=manager, filters=InvoiceFilters(overdue=True))

    assert set(overdue.values_list("pk", flat=True)) == {late.pk, part_paid_late.pk}


def test_the_summary_counts_revenue_orders_and_receivables_exactly(
    manager: Any,
    customer: Any,
    foreign_customer: Any,
    place_order: Callable[..., Order],
    issue_invoice: Callable[..., Invoice],
    snapshot: Callable[..., HoldingSnapshot],
    django_assert_num_queries: Any,
) -> None:
    now = timezone.now()
    place_order(customer, "1000.10", cost="600", ordered_at=now - dt.timedelta(days=300))
    last = place_order(
        customer, "250.25", cost="100", ordered_at=now - dt.timedelta(days=3), status="shipped"
    )
    place_order(customer, "99.00", status="draft", ordered_at=now - dt.timedelta(days=1))
    returned = place_order(customer, "500.00", ordered_at=now - dt.timedelta(days=2))
    order_update(actor=manager, order=returned, version=1, values={"status": "returned"})
    cancelled = place_order(customer, "700.00", ordered_at=now - dt.timedelta(hours=5))
    order_cancel(actor=manager, order=cancelled)
    place_order(foreign_customer, "5000.00")
    today = timezone.localdate()
    overdue = issue_invoice(
        customer,
        "300.00",
        issued_on=today - dt.timedelta(days=60),
        due_on=today - dt.timedelta(days=30),
    )
    payment_record(actor=manager, invoice=overdue, amount="120.50")
    issue_invoice(customer, "80.00", issued_on=today, due_on=today + dt.timedelta(days=30))
    settled = issue_invoice(
        customer,
        "999.00",
        issued_on=today - dt.timedelta(days=90),
        due_on=today - dt.timedelta(days=60),
    )
    payment_record(actor=manager, invoice=settled, amount="999.00")
    snapshot(customer, today - dt.timedelta(days=40), aum="1000")
    latest = snapshot(customer, today - dt.timedelta(days=10), aum="2500000.00", loans="300000")

    with django_assert_num_queries(3):
        summary = selectors.customer_commerce_summary(customer=customer)

    assert (summary.lifetime_revenue, summary.lifetime_margin) == (
        Decimal("1250.35"),
        Decimal("550.35"),
    )
    assert (summary.order_count, summary.average_order_value) == (2, Decimal("625.18"))
    assert summary.last_ordered_at == last.ordered_at
    assert (summary.open_receivables, summary.overdue_amount, summary.overdue_count) == (
        Decimal("259.50"),
        Decimal("179.50"),
        1,
    )
    assert summary.latest_holding == latest


def test_the_summary_of_a_customer_without_commerce_is_zeros(customer: Any) -> None:
    summary = selectors.customer_commerce_summary(customer=customer)

    assert (
        summary.lifetime_revenue,
        summary.order_count,
        summary.last_ordered_at,
        summary.open_receivables,
        summary.overdue_amount,
        summary.latest_holding,
        summary.average_order_value,
    ) == (Decimal("0"), 0, None, Decimal("0"), Decimal("0"), None, Decimal("0"))


def test_the_latest_orders_are_ten_newest_first(
    customer: Any, place_order: Callable[..., Order]
) -> None:
    now = timezone.now()
    made = [place_order(customer, ordered_at=now - dt.timedelta(days=i)) for i in range(12)]

    recent = selectors.customer_recent_orders(customer=customer)

    assert [order.pk for order in recent] == [order.pk for order in made[:10]]


def test_products_are_listed_by_code_and_searched(rep: Any, tea: Any, laptop: Any) -> None:
    assert list(selectors.product_list(actor=rep)) == [laptop, tea]
    assert list(selectors.product_list(actor=rep, q="龙井")) == [tea]


def test_an_order_is_found_by_the_start_of_its_number_or_by_its_id(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    erp = place_order(customer, number="erp-2024-17")
    auto = place_order(customer)

    assert visible_ids(manager, OrderFilters(q="erp-2024")) == [erp.pk]
    assert visible_ids(manager, OrderFilters(q="SO0")) == [auto.pk]
    assert visible_ids(manager, OrderFilters(q=str(auto.pk))) == [auto.pk]
    assert visible_ids(manager, OrderFilters(q="2024-17")) == []
