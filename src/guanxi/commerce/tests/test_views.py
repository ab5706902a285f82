from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.commerce import demo
from guanxi.commerce.models import (
    HoldingSnapshot,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
)
from guanxi.commerce.views import PAGE_SIZE
from guanxi.core.navigation import items_for

LIST_QUERIES = 5  # session, user, role, orders with customer and owner, the menu's team
SUMMARY_QUERIES = 9  # session, user, role, customer, 3 aggregates, orders, invoices


def shown(html: str, kind: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'data-{kind}="(\d+)"', html)]


def line_rows(*rows: dict[str, Any]) -> dict[str, Any]:
    """The POST of the order form's line rows (five, the unused ones left empty)."""
    data: dict[str, Any] = {
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
    }
    for index, row in enumerate(rows):
        data.update({f"lines-{index}-{key}": value for key, value in row.items()})
    return data


# --- orders ---------------------------------------------------------------------------------


def test_the_order_list_shows_the_reps_customers_orders_only(
    rep: Any,
    customer: Any,
    foreign_customer: Any,
    place_order: Callable[..., Order],
    client_for: Callable[..., Any],
) -> None:
    mine = place_order(customer, "1288.00")
    place_order(foreign_customer)

    response = client_for(rep).get(reverse("commerce:orders"))

    html = response.content.decode()
    assert response.status_code == 200
    assert shown(html, "order") == [mine.pk]
    assert "1,288.00" in html
    assert "王芳" in html


def test_the_order_list_costs_a_fixed_number_of_queries(
    rep: Any,
    make_customer: Callable[..., Any],
    place_order: Callable[..., Order],
    client_for: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(12):
        place_order(make_customer(rep))
    client = client_for(rep)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(reverse("commerce:orders"))

    assert len(shown(response.content.decode(), "order")) == 12


def test_a_long_order_list_loads_more_through_htmx(
    rep: Any, customer: Any, place_order: Callable[..., Order], client_for: Callable[..., Any]
) -> None:
    now = timezone.now()
    made = [place_order(customer, ordered_at=now - dt.timedelta(minutes=i)) for i in range(55)]
    client = client_for(rep)

    first = client.get(reverse("commerce:orders")).content.decode()
    cursor = re.search(r'cursor=([\w-]+)"', first)
    assert cursor is not None
    more = client.get(
        reverse("commerce:orders") + f"?cursor={cursor.group(1)}", headers={"HX-Request": "true"}
    ).content.decode()

    assert shown(first, "order") == [o.pk for o in made[:PAGE_SIZE]]
    assert shown(more, "order") == [o.pk for o in made[PAGE_SIZE:]]
    assert "<html" not in more
    assert "data-load-more" not in more


def test_the_order_list_filters_by_status(
    manager: Any, customer: Any, place_order: Callable[..., Order], client_for: Callable[..., Any]
) -> None:
    shipped = place_order(customer, status="shipped")
    place_order(customer)

    html = client_for(manager).get(reverse("commerce:orders") + "?status=shipped").content

    assert shown(html.decode(), "order") == [shipped.pk]


def test_an_order_page_shows_its_lines_and_total(
    rep: Any, customer: Any, place_order: Callable[..., Order], client_for: Callable[..., Any]
) -> None:
    order = place_order(
        customer,
        lines=[
            {"description": "礼盒", "quantity": "2", "unit_price": "300", "discount": "20"},
            {"description": "运费", "quantity": "1", "unit_price": "15"},
        ],
    )

    html = client_for(rep).get(reverse("commerce:order-detail", args=[order.pk])).content.decode()

    assert len(re.findall(r"data-line=", html)) == 2
    assert "595.00 CNY" in html
    assert "cancel-order" not in html  # a rep may not cancel


@pytest.mark.parametrize("page", ["commerce:order-detail", "commerce:invoice-detail"])
def test_a_foreign_order_or_invoice_page_is_404(
    other_rep: Any,
    customer: Any,
    place_order: Callable[..., Order],
    issue_invoice: Callable[..., Invoice],
    client_for: Callable[..., Any],
    page: str,
) -> None:
    order = place_order(customer)
    invoice = issue_invoice(customer, order=order, amount="")
    pk = order.pk if page == "commerce:order-detail" else invoice.pk

    response = client_for(other_rep).get(reverse(page, args=[pk]))

    assert response.status_code == 404


def test_the_order_form_creates_an_order_from_the_filled_rows(
    manager: Any,
    customer: Any,
    tea: Product,
    client_for: Callable[..., Any],
) -> None:
    data = {
        "channel": "store",
        "status": "confirmed",
        "currency": "CNY",
        **line_rows(
            {"product": tea.pk, "quantity": "2", "discount": "60"},
            {"description": "包装", "quantity": "1", "unit_price": "18.5"},
        ),
    }

    response = client_for(manager).post(reverse("commerce:order-create", args=[customer.pk]), data)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("commerce:order-detail", args=[order.pk])
    assert (order.total_amount, order.channel, order.owner) == (
        Decimal("1318.50"),
        "store",
        manager,
    )
    assert OrderLine.objects.count() == 2


def test_a_refused_order_form_shows_the_error_on_its_row_and_writes_nothing(
    manager: Any, customer: Any, client_for: Callable[..., Any]
) -> None:
    data = {
        "channel": "store",
        "status": "confirmed",
        "currency": "CNY",
        **line_rows(
            {"description": "A", "quantity": "1", "unit_price": "10"},
            {},
            {"description": "B", "quantity": "2", "unit_price": "5", "discount": "11"},
        ),
    }

    response = client_for(manager).post(reverse("commerce:order-create", args=[customer.pk]), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field-error="lines-2-discount"' in html
    assert not Order.objects.exists()


def test_the_order_form_of_a_foreign_customer_is_404(
    outsider: Any, customer: Any, client_for: Callable[..., Any]
) -> None:
    response = client_for(outsider).get(reverse("commerce:order-create", args=[customer.pk]))

    assert response.status_code == 404


def test_a_rep_cannot_open_the_order_form(
    rep: Any, customer: Any, client_for: Callable[..., Any]
) -> None:
    response = client_for(rep).get(reverse("commerce:order-create", args=[customer.pk]))

    assert response.status_code == 403


def test_cancelling_from_the_order_page(
    manager: Any, customer: Any, place_order: Callable[..., Order], client_for: Callable[..., Any]
) -> None:
    order = place_order(customer)

    response = client_for(manager).post(
        reverse("commerce:order-cancel", args=[order.pk]), {"version": "1"}
    )

    assert response.status_code == 302
    assert Order.objects.get().status == "cancelled"


# --- invoices -------------------------------------------------------------------------------


def test_overdue_invoices_are_highlighted_in_the_list(
    rep: Any,
    customer: Any,
    issue_invoice: Callable[..., Invoice],
    client_for: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    today = timezone.localdate()
    late = issue_invoice(
        customer, issued_on=today - dt.timedelta(days=50), due_on=today - dt.timedelta(days=20)
    )
    current = issue_invoice(customer, issued_on=today, due_on=today + dt.timedelta(days=30))
    client = client_for(rep)

    with django_assert_max_num_queries(LIST_QUERIES):
        html = client.get(reverse("commerce:invoices")).content.decode()

    assert shown(html, "invoice") == [current.pk, late.pk]
    assert re.findall(r'data-invoice="(\d+)" class="table-danger" data-overdue', html) == [
        str(late.pk)
    ]


def test_a_payment_recorded_on_the_invoice_page_settles_it(
    manager: Any,
    customer: Any,
    issue_invoice: Callable[..., Invoice],
    client_for: Callable[..., Any],
) -> None:
    invoice = issue_invoice(customer, "500.00")
    data = {"amount": "500", "paid_on": timezone.localdate().isoformat(), "method": "cash"}

    response = client_for(manager).post(reverse("commerce:payment-record", args=[invoice.pk]), data)

    invoice.refresh_from_db()
    assert response.status_code == 302
    assert (invoice.status, invoice.paid_on) == ("paid", timezone.localdate())


def test_an_over_payment_on_the_invoice_page_shows_the_error_and_pays_nothing(
    manager: Any,
    customer: Any,
    issue_invoice: Callable[..., Invoice],
    client_for: Callable[..., Any],
) -> None:
    invoice = issue_invoice(customer, "500.00")
    data = {"amount": "600", "method": "cash"}

    response = client_for(manager).post(reverse("commerce:payment-record", args=[invoice.pk]), data)

    assert response.status_code == 200
    assert 'data-field-error="amount"' in response.content.decode()
    assert not Payment.objects.exists()


def test_the_invoice_form_bills_an_order(
    manager: Any,
    customer: Any,
    place_order: Callable[..., Order],
    client_for: Callable[..., Any],
) -> None:
    order = place_order(customer, "720.00")
    url = reverse("commerce:invoice-create", args=[customer.pk]) + f"?order={order.pk}"

    response = client_for(manager).post(url, {"issued_on": "2024-04-01"})

    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert (invoice.order, invoice.amount, invoice.due_on) == (
        order,
        Decimal("720.00"),
        dt.date(2024, 5, 1),
    )


# --- products -------------------------------------------------------------------------------


def test_a_product_is_added_from_the_catalogue_page(
    manager: Any, client_for: Callable[..., Any]
) -> None:
    data = {
        "code": "P-1",
        "name": "白茶",
        "category": "茶叶",
        "list_price": "99",
        "is_active": "on",
    }

    response = client_for(manager).post(reverse("commerce:products"), data)
    listing = client_for(manager).get(reverse("commerce:products")).content.decode()

    assert response.status_code == 302
    assert Product.objects.get().name == "白茶"
    assert "白茶" in listing


def test_a_rep_sees_the_catalogue_without_the_form_and_may_not_post(
    rep: Any, tea: Product, client_for: Callable[..., Any]
) -> None:
    client = client_for(rep)

    listing = client.get(reverse("commerce:products")).content.decode()
    posted = client.post(
        reverse("commerce:products"), {"code": "X", "name": "x", "list_price": "1"}
    )

    assert shown(listing, "product") == [tea.pk]
    assert "product-form" not in listing
    assert posted.status_code == 403
    assert Product.objects.count() == 1


# --- the customer 360 card ------------------------------------------------------------------


def test_the_summary_card_shows_figures_orders_invoices_and_holdings_without_the_shell(
    rep: Any,
    manager: Any,
    customer: Any,
    place_order: Callable[..., Order],
    issue_invoice: Callable[..., Invoice],
    snapshot: Callable[..., HoldingSnapshot],
    client_for: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    now = timezone.now()
    made = [
        place_order(customer, "100.00", ordered_at=now - dt.timedelta(days=i)) for i in range(12)
    ]
    today = timezone.localdate()
    late = issue_invoice(
        customer,
        "300.00",
        issued_on=today - dt.timedelta(days=45),
        due_on=today - dt.timedelta(days=15),
    )
    snapshot(customer, today - dt.timedelta(days=3), aum="1234567.89")
    client = client_for(rep)

    with django_assert_max_num_queries(SUMMARY_QUERIES):
        response = client.get(reverse("commerce:customer-summary", args=[customer.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert re.search(r'data-figure="lifetime_revenue">1,200.00<', html)
    assert re.search(r'data-figure="order_count">12<', html)
    assert re.search(r'data-figure="open_receivables">300.00<', html)
    assert re.search(r'data-figure="aum">1,234,567.89<', html)
    assert shown(html, "order") == [o.pk for o in made[:10]]
    assert shown(html, "invoice") == [late.pk]
    assert "data-overdue" in html


def test_the_summary_card_of_a_foreign_customer_is_404(
    other_rep: Any, customer: Any, client_for: Callable[..., Any]
) -> None:
    response = client_for(other_rep).get(reverse("commerce:customer-summary", args=[customer.pk]))

    assert response.status_code == 404


def test_orders_and_products_are_in_the_navigation_of_commerce_users(rep: Any) -> None:
    keys = [item["key"] for item in items_for(rep)]

    assert {"orders", "products"} <= set(keys)


# --- demo -----------------------------------------------------------------------------------


def test_the_demo_gives_every_customer_a_history_once(
    rep: Any, make_customer: Callable[..., Any]
) -> None:
    customers = [make_customer(rep) for _ in range(7)]

    first = demo.load()
    counts = (Order.objects.count(), Invoice.objects.count(), Payment.objects.count())
    demo.load(force=True)

    assert first[0].startswith("Demo commerce: 12 products")
    assert (Order.objects.count(), Invoice.objects.count(), Payment.objects.count()) == counts
    assert set(Order.objects.values_list("customer_id", flat=True)) == {c.pk for c in customers}
    assert Invoice.objects.filter(
        status__in=["open", "partly_paid"], due_on__lt=timezone.localdate()
    ).exists()
    assert HoldingSnapshot.objects.exists()


def test_the_demo_skips_quietly_without_customers(db: Any) -> None:
    lines = demo.load()

    assert lines == ["Demo commerce: no customers without orders."]
    assert not Product.objects.exists()


def test_the_summary_card_is_empty_for_a_user_without_commerce(
    make_user: Any, teams: dict[str, Any], customer: Any, client_for: Callable[..., Any]
) -> None:
    nobody = make_user(None, teams["east"])

    response = client_for(nobody).get(reverse("commerce:customer-summary", args=[customer.pk]))

    assert (response.status_code, response.content) == (204, b"")


def test_the_order_form_offers_five_line_rows_of_the_products_on_sale(
    manager: Any, customer: Any, tea: Product, laptop: Product, client_for: Callable[..., Any]
) -> None:
    Product.objects.filter(pk=laptop.pk).update(is_active=False)

    html = client_for(manager).get(reverse("commerce:order-create", args=[customer.pk])).content

    text = html.decode()
    assert len(re.findall(r"data-line-row=", text)) == 5
    assert text.count(f'<option value="{tea.pk}">') == 5
    assert f'<option value="{laptop.pk}">' not in text


def test_the_invoice_form_names_the_order_it_bills(
    manager: Any,
    customer: Any,
    place_order: Callable[..., Order],
    client_for: Callable[..., Any],
) -> None:
    order = place_order(customer, "720.00")
    url = reverse("commerce:invoice-create", args=[customer.pk]) + f"?order={order.pk}"

    html = client_for(manager).get(url).content.decode()

    assert order.number in html
    assert "720.00 CNY" in html


def test_the_catalogue_page_costs_a_fixed_number_of_queries(
    rep: Any, client_for: Callable[..., Any], django_assert_max_num_queries: Any
) -> None:
    Product.objects.bulk_create(
        Product(code=f"P-{i:02d}", name=f"产品 {i}", list_price=Decimal(i)) for i in range(20)
    )
    client = client_for(rep)

    with django_assert_max_num_queries(LIST_QUERIES):
        html = client.get(reverse("commerce:products")).content.decode()

    assert len(shown(html, "product")) == 20
