from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.commerce.models import HoldingSnapshot, Invoice, Order, Payment, Product

LINES = [
    {"description": "西湖龙井", "quantity": "2", "unit_price": "680.00", "discount": "60"},
    {"description": "安装", "quantity": 1, "unit_price": 150, "unit_cost": "50"},
]


def post_json(url: str, body: Any, headers: dict[str, str]) -> Any:
    return Client().post(url, data=body, content_type="application/json", headers=headers)


def patch_json(url: str, body: Any, headers: dict[str, str]) -> Any:
    return Client().patch(url, data=body, content_type="application/json", headers=headers)


def get(url: str, headers: dict[str, str]) -> Any:
    return Client().get(url, headers=headers)


# --- orders ---------------------------------------------------------------------------------


def test_an_order_is_created_with_its_lines_and_money_as_decimal_strings(
    manager: Any, customer: Any, bearer: Any
) -> None:
    body = {"customer_id": customer.pk, "channel": "sales_rep", "lines": LINES}

    response = post_json("/api/v1/orders", body, bearer(manager))

    data = response.json()
    order = Order.objects.get()
    assert response.status_code == 201
    assert (data["id"], data["number"], data["status"]) == (order.pk, order.number, "confirmed")
    assert (data["total_amount"], data["total_cost"]) == ("1450.00", "50.00")
    assert [line["line_total"] for line in data["lines"]] == ["1300.00", "150.00"]
    assert data["customer"] == {"id": customer.pk, "name": "王芳"}


def test_a_replayed_idempotency_key_creates_the_order_once(
    manager: Any, customer: Any, bearer: Any
) -> None:
    headers = {**bearer(manager), "Idempotency-Key": "order-0001"}
    body = {"customer_id": customer.pk, "lines": LINES}

    first = post_json("/api/v1/orders", body, headers)
    second = post_json("/api/v1/orders", body, headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1


def test_a_broken_rule_is_400_naming_the_line_fields(
    manager: Any, customer: Any, bearer: Any
) -> None:
    lines = [{**LINES[0], "quantity": "0"}, {**LINES[1], "discount": "151"}]

    response = post_json(
        "/api/v1/orders", {"customer_id": customer.pk, "lines": lines}, bearer(manager)
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [
        "lines.0.quantity",
        "lines.1.discount",
    ]
    assert not Order.objects.exists()


def test_badly_typed_input_is_422(manager: Any, customer: Any, bearer: Any) -> None:
    lines = [{**LINES[0], "quantity": "lots"}]

    response = post_json(
        "/api/v1/orders",
        {"customer_id": customer.pk, "lines": lines, "ordered_at": "soon"},
        bearer(manager),
    )

    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == [
        "lines.0.quantity",
        "ordered_at",
    ]


def test_an_order_for_a_foreign_customer_is_404(outsider: Any, customer: Any, bearer: Any) -> None:
    response = post_json(
        "/api/v1/orders", {"customer_id": customer.pk, "lines": LINES}, bearer(outsider)
    )

    assert response.status_code == 404
    assert not Order.objects.exists()


def test_a_rep_may_read_but_not_create_orders(rep: Any, customer: Any, bearer: Any) -> None:
    response = post_json(
        "/api/v1/orders", {"customer_id": customer.pk, "lines": LINES}, bearer(rep)
    )

    assert response.status_code == 403
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("reader", "status"),
    [("rep", 200), ("other_rep", 404), ("manager", 200), ("outsider", 404)],
)
def test_reading_an_order_follows_the_customers_scope(
    request: pytest.FixtureRequest,
    customer: Any,
    place_order: Callable[..., Order],
    bearer: Any,
    reader: str,
    status: int,
) -> None:
    order = place_order(customer)

    response = get(f"/api/v1/orders/{order.pk}", bearer(request.getfixturevalue(reader)))

    assert response.status_code == status


def test_the_order_list_pages_by_keyset_and_filters(
    rep: Any, customer: Any, place_order: Callable[..., Order], bearer: Any
) -> None:
    now = timezone.now()
    made = [place_order(customer, ordered_at=now - dt.timedelta(days=i)) for i in range(5)]
    place_order(customer, ordered_at=now - dt.timedelta(days=9), channel="store")
    headers = bearer(rep)

    first = get("/api/v1/orders?limit=3&channel=other", headers).json()
    rest = get(f"/api/v1/orders?limit=3&channel=other&cursor={first['next_cursor']}", headers)

    ids = [item["id"] for item in first["items"] + rest.json()["items"]]
    assert ids == [order.pk for order in made]
    assert rest.json()["next_cursor"] is None


def test_a_forged_cursor_is_400(rep: Any, bearer: Any) -> None:
    response = get("/api/v1/orders?cursor=not-a-cursor", bearer(rep))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_the_order_list_costs_the_same_few_queries_for_any_page(
    rep: Any,
    make_customer: Callable[..., Any],
    place_order: Callable[..., Order],
    api_token: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(30):
        place_order(make_customer(rep))
    headers = {"Authorization": f"Bearer {api_token(rep)}"}

    with django_assert_max_num_queries(4):  # token with user and role, token touch, orders
        response = get("/api/v1/orders?limit=30", headers)

    assert len(response.json()["items"]) == 30


def test_an_order_is_changed_with_its_version_and_a_stale_one_is_409(
    manager: Any, customer: Any, place_order: Callable[..., Order], bearer: Any
) -> None:
    order = place_order(customer, "100.00")
    url = f"/api/v1/orders/{order.pk}"

    changed = patch_json(url, {"version": 1, "status": "shipped", "lines": LINES}, bearer(manager))
    stale = patch_json(url, {"version": 1, "status": "completed"}, bearer(manager))

    assert (changed.status_code, changed.json()["status"], changed.json()["version"]) == (
        200,
        "shipped",
        2,
    )
    assert changed.json()["total_amount"] == "1450.00"
    assert stale.status_code == 409
    assert Order.objects.get().status == "shipped"


def test_an_order_is_cancelled(
    manager: Any, customer: Any, place_order: Callable[..., Order], bearer: Any
) -> None:
    order = place_order(customer)

    response = post_json(f"/api/v1/orders/{order.pk}/cancel", {"version": 1}, bearer(manager))

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")


# --- invoices and payments ------------------------------------------------------------------


def test_an_invoice_is_issued_for_an_order_and_listed_as_overdue_once_late(
    manager: Any, customer: Any, place_order: Callable[..., Order], bearer: Any
) -> None:
    order = place_order(customer, "880.00")
    today = timezone.localdate()
    body = {
        "customer_id": customer.pk,
        "order_id": order.pk,
        "issued_on": (today - dt.timedelta(days=40)).isoformat(),
        "due_on": (today - dt.timedelta(days=10)).isoformat(),
    }

    created = post_json("/api/v1/invoices", body, bearer(manager))
    overdue = get("/api/v1/invoices?overdue=true", bearer(manager)).json()

    assert created.status_code == 201
    assert (created.json()["amount"], created.json()["outstanding"]) == ("880.00", "880.00")
    assert created.json()["is_overdue"] is True
    assert [item["id"] for item in overdue["items"]] == [created.json()["id"]]


def test_an_invoice_due_before_its_issue_is_400(manager: Any, customer: Any, bearer: Any) -> None:
    body = {
        "customer_id": customer.pk,
        "amount": "10",
        "issued_on": "2024-05-02",
        "due_on": "2024-05-01",
    }

    response = post_json("/api/v1/invoices", body, bearer(manager))

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["due_on"]
    assert not Invoice.objects.exists()


def test_a_payment_with_an_idempotency_key_is_recorded_once(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice], bearer: Any
) -> None:
    invoice = issue_invoice(customer, "500.00")
    headers = {**bearer(manager), "Idempotency-Key": "pay-77"}
    url = f"/api/v1/invoices/{invoice.pk}/payments"

    first = post_json(url, {"amount": "200", "method": "alipay"}, headers)
    second = post_json(url, {"amount": "200", "method": "alipay"}, headers)
    state = get(f"/api/v1/invoices/{invoice.pk}", bearer(manager)).json()

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert (state["status"], state["paid_amount"], len(state["payments"])) == (
        "partly_paid",
        "200.00",
        1,
    )


def test_a_payment_repeated_by_reference_is_recorded_once(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice], bearer: Any
) -> None:
    invoice = issue_invoice(customer, "500.00")
    url = f"/api/v1/invoices/{invoice.pk}/payments"
    body = {"amount": "500", "paid_on": "2024-06-01", "reference": "WX-42"}

    first = post_json(url, body, bearer(manager))
    second = post_json(url, body, bearer(manager))

    assert second.json()["id"] == first.json()["id"]
    assert Payment.objects.count() == 1
    assert Invoice.objects.get().status == "paid"


def test_an_over_payment_is_400_and_pays_nothing(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice], bearer: Any
) -> None:
    invoice = issue_invoice(customer, "500.00")

    response = post_json(
        f"/api/v1/invoices/{invoice.pk}/payments", {"amount": "500.01"}, bearer(manager)
    )

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["amount"]
    assert not Payment.objects.exists()


def test_a_payment_on_a_foreign_invoice_is_404(
    outsider: Any, customer: Any, issue_invoice: Callable[..., Invoice], bearer: Any
) -> None:
    invoice = issue_invoice(customer, "500.00")

    response = post_json(
        f"/api/v1/invoices/{invoice.pk}/payments", {"amount": "5"}, bearer(outsider)
    )

    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_the_invoice_list_costs_the_same_few_queries_for_any_page(
    manager: Any,
    customer: Any,
    issue_invoice: Callable[..., Invoice],
    api_token: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(25):
        issue_invoice(customer, "10.00")
    headers = {"Authorization": f"Bearer {api_token(manager)}"}

    with django_assert_max_num_queries(4):
        response = get("/api/v1/invoices?limit=25", headers)

    assert len(response.json()["items"]) == 25


# --- holdings and the summary ---------------------------------------------------------------


def test_holdings_are_saved_per_day_and_listed_newest_first(
    manager: Any, customer: Any, bearer: Any
) -> None:
    url = f"/api/v1/customers/{customer.pk}/holdings"
    post_json(url, {"as_of": "2024-05-31", "assets_under_management": "800000"}, bearer(manager))
    post_json(url, {"as_of": "2024-06-30", "assets_under_management": "900000"}, bearer(manager))

    again = post_json(
        url, {"as_of": "2024-06-30", "assets_under_management": "950000.5"}, bearer(manager)
    )
    listed = get(url, bearer(manager)).json()

    assert again.status_code == 201
    assert [(h["as_of"], h["assets_under_management"]) for h in listed] == [
        ("2024-06-30", "950000.50"),
        ("2024-05-31", "800000.00"),
    ]
    assert HoldingSnapshot.objects.count() == 2


def test_a_foreign_customers_holdings_are_404(outsider: Any, customer: Any, bearer: Any) -> None:
    response = get(f"/api/v1/customers/{customer.pk}/holdings", bearer(outsider))

    assert response.status_code == 404


def test_the_commerce_summary_reports_exact_numbers(
    rep: Any,
    manager: Any,
    customer: Any,
    place_order: Callable[..., Order],
    issue_invoice: Callable[..., Invoice],
    snapshot: Callable[..., HoldingSnapshot],
    bearer: Any,
) -> None:
    place_order(customer, "1000.00", cost="400")
    place_order(customer, "333.33", cost="100", status="completed")
    today = timezone.localdate()
    issue_invoice(
        customer,
        "200.00",
        issued_on=today - dt.timedelta(days=45),
        due_on=today - dt.timedelta(days=15),
    )
    snapshot(customer, today - dt.timedelta(days=1), aum="5000000", loans="10")

    body = get(f"/api/v1/customers/{customer.pk}/commerce-summary", bearer(rep)).json()

    assert (body["lifetime_revenue"], body["lifetime_margin"], body["order_count"]) == (
        "1333.33",
        "833.33",
        2,
    )
    assert body["average_order_value"] == "666.67"
    assert (body["open_receivables"], body["overdue_amount"], body["overdue_count"]) == (
        "200.00",
        "200.00",
        1,
    )
    assert body["latest_holding"]["assets_under_management"] == "5000000.00"


def test_a_foreign_customers_summary_is_404(other_rep: Any, customer: Any, bearer: Any) -> None:
    response = get(f"/api/v1/customers/{customer.pk}/commerce-summary", bearer(other_rep))

    assert response.status_code == 404


# --- products -------------------------------------------------------------------------------


def test_products_are_created_listed_and_changed(manager: Any, bearer: Any) -> None:
    created = post_json(
        "/api/v1/products",
        {"code": "TEA-9", "name": "白茶", "category": "茶叶", "list_price": "199.5"},
        bearer(manager),
    )
    product_id = created.json()["id"]

    changed = patch_json(
        f"/api/v1/products/{product_id}", {"version": 1, "is_active": False}, bearer(manager)
    )
    listed = get("/api/v1/products?active=true", bearer(manager)).json()

    assert created.status_code == 201
    assert created.json()["category"]["name"] == "茶叶"
    assert created.json()["list_price"] == "199.50"
    assert (changed.json()["is_active"], changed.json()["version"]) == (False, 2)
    assert listed["items"] == []


def test_a_used_product_code_is_400(manager: Any, tea: Product, bearer: Any) -> None:
    response = post_json("/api/v1/products", {"code": "TEA-1", "name": "又一个"}, bearer(manager))

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["code"]
    assert Product.objects.count() == 1


def test_a_rep_may_not_create_products(rep: Any, bearer: Any) -> None:
    response = post_json("/api/v1/products", {"code": "X", "name": "x"}, bearer(rep))

    assert response.status_code == 403
    assert not Product.objects.exists()


def test_the_product_list_costs_the_same_few_queries_for_any_page(
    rep: Any, api_token: Any, django_assert_max_num_queries: Any
) -> None:
    Product.objects.bulk_create(
        Product(code=f"P-{i:02d}", name=f"产品 {i}", list_price=i) for i in range(20)
    )
    headers = {"Authorization": f"Bearer {api_token(rep)}"}

    with django_assert_max_num_queries(4):
        response = get("/api/v1/products?limit=20", headers)

    assert [item["code"] for item in response.json()["items"]][:2] == ["P-00", "P-01"]
