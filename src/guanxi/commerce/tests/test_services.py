from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from guanxi.commerce.models import (
    HoldingSnapshot,
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Product,
    ProductCategory,
)
from guanxi.commerce.services import (
    holding_snapshot_save,
    invoice_create,
    order_cancel,
    order_create,
    order_update,
    orders_bulk_create,
    payment_record,
    product_save,
)
from guanxi.core.errors import Conflict, DomainError, StaleEdit
from guanxi.customers.merge import customer_merge

YESTERDAY = timezone.now() - dt.timedelta(days=1)


def error_fields(error: pytest.ExceptionInfo[DomainError]) -> list[str]:
    return [item["field"] for item in error.value.errors]


def order_rows() -> list[tuple[Any, ...]]:
    return list(Order.objects.values_list("pk", "status", "total_amount", "version"))


# --- orders ---------------------------------------------------------------------------------


def test_an_order_totals_its_lines_and_is_numbered_from_its_id(
    manager: Any, customer: Any, tea: Product, laptop: Product
) -> None:
    order = order_create(
        actor=manager,
        customer=customer,
        values={"ordered_at": YESTERDAY, "channel": "store", "status": "confirmed"},
        lines=[
            {"product_id": tea.pk, "quantity": "3", "unit_price": "99.90", "discount": "10"},
            {"product_id": laptop.pk, "quantity": "1.5", "unit_cost": "7000"},
        ],
    )

    lines = list(order.lines.order_by("position").values_list("line_total", "unit_cost"))
    assert lines == [(Decimal("289.70"), Decimal("410.00")), (Decimal("13498.50"), Decimal("7000"))]
    assert (order.total_amount, order.total_cost) == (Decimal("13788.20"), Decimal("11730.00"))
    assert order.number == f"SO{order.pk:08d}"
    assert (order.owner, order.team, order.channel) == (manager, manager.team, "store")


def test_a_line_without_price_cost_or_description_takes_the_products(
    manager: Any, customer: Any, tea: Product
) -> None:
    order = order_create(
        actor=manager,
        customer=customer,
        values={},
        lines=[{"product_code": "TEA-1", "quantity": 2}],
    )

    line = order.lines.get()
    assert (line.description, line.unit_price, line.unit_cost, line.line_total) == (
        "西湖龙井",
        Decimal("680.00"),
        Decimal("410.00"),
        Decimal("1360.00"),
    )
    assert (order.status, order.channel, order.currency) == ("confirmed", "other", "CNY")


def test_creating_an_order_publishes_order_created_after_commit(
    manager: Any,
    customer: Any,
    tea: Product,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order = order_create(
            actor=manager,
            customer=customer,
            values={},
            lines=[{"product_id": tea.pk, "quantity": 1}],
        )

    assert published == [
        (
            "order.created",
            {"order_id": order.pk, "customer_id": customer.pk, "actor_id": manager.pk},
        )
    ]


@pytest.mark.parametrize(
    ("values", "lines", "fields"),
    [
        ({}, [], ["lines"]),
        ({}, [{"description": "x", "quantity": "0", "unit_price": "1"}], ["lines.0.quantity"]),
        ({}, [{"description": "x", "quantity": "-2", "unit_price": "1"}], ["lines.0.quantity"]),
        ({}, [{"description": "x", "quantity": "1", "unit_price": "-1"}], ["lines.0.unit_price"]),
        (
            {},
            [{"description": "x", "quantity": "1", "unit_price": "1.001"}],
            ["lines.0.unit_price"],
        ),
        (
            {},
            [{"description": "x", "quantity": "1", "unit_price": "5", "discount": "-1"}],
            ["lines.0.discount"],
        ),
        (
            {},
            [{"description": "x", "quantity": "2", "unit_price": "5", "discount": "10.01"}],
            ["lines.0.discount"],
        ),
        ({}, [{"quantity": "1", "unit_price": "5"}], ["lines.0.description"]),
        ({}, [{"product_id": 999999, "quantity": "1"}], ["lines.0.product_id"]),
        (
            {"status": "lost"},
            [{"description": "x", "quantity": "1", "unit_price": "1"}],
            ["status"],
        ),
        (
            {"channel": "mail"},
            [{"description": "x", "quantity": "1", "unit_price": "1"}],
            ["channel"],
        ),
        (
            {"ordered_at": timezone.now() + dt.timedelta(days=2)},
            [{"description": "x", "quantity": "1", "unit_price": "1"}],
            ["ordered_at"],
        ),
        (
            {"number": "SO00000007"},
            [{"description": "x", "quantity": "1", "unit_price": "1"}],
            ["number"],
        ),
        (
            {"colour": "red"},
            [{"description": "x", "quantity": "1", "unit_price": "1", "size": "L"}],
            ["colour", "lines.0.size"],
        ),
    ],
    ids=[
        "no-lines",
        "zero-quantity",
        "negative-quantity",
        "negative-price",
        "fraction-of-a-cent",
        "negative-discount",
        "discount-above-the-line",
        "no-product-no-description",
        "unknown-product",
        "unknown-status",
        "unknown-channel",
        "two-days-ahead",
        "reserved-number",
        "unknown-fields",
    ],
)
def test_a_bad_order_is_refused_naming_each_field_and_nothing_is_written(
    manager: Any,
    customer: Any,
    values: dict[str, Any],
    lines: list[dict[str, Any]],
    fields: list[str],
) -> None:
    with pytest.raises(DomainError) as refused:
        order_create(actor=manager, customer=customer, values=values, lines=lines)

    assert error_fields(refused) == fields
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


def test_every_bad_line_is_reported_at_once(manager: Any, customer: Any) -> None:
    with pytest.raises(DomainError) as refused:
        order_create(
            actor=manager,
            customer=customer,
            values={},
            lines=[
                {"description": "a", "quantity": "1", "unit_price": "1"},
                {"description": "b", "quantity": "0", "unit_price": "-1"},
            ],
        )

    assert error_fields(refused) == ["lines.1.quantity", "lines.1.unit_price"]


def test_a_discontinued_product_cannot_be_sold(manager: Any, customer: Any, tea: Product) -> None:
    Product.objects.filter(pk=tea.pk).update(is_active=False)

    with pytest.raises(DomainError) as refused:
        order_create(
            actor=manager,
            customer=customer,
            values={},
            lines=[{"product_id": tea.pk, "quantity": 1}],
        )

    assert error_fields(refused) == ["lines.0.product_id"]
    assert not Order.objects.exists()


def test_an_order_dated_within_a_day_ahead_is_accepted(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    ahead = timezone.now() + dt.timedelta(hours=20)

    order = place_order(customer, ordered_at=ahead)

    assert order.ordered_at == ahead


def test_a_used_order_number_is_refused(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    place_order(customer, number="PO-2024-001")

    with pytest.raises(DomainError) as refused:
        place_order(customer, number="PO-2024-001")

    assert error_fields(refused) == ["number"]
    assert Order.objects.count() == 1


def test_a_rep_without_commerce_create_cannot_take_an_order(rep: Any, customer: Any) -> None:
    with pytest.raises(PermissionDenied):
        order_create(
            actor=rep,
            customer=customer,
            values={},
            lines=[{"description": "x", "quantity": "1", "unit_price": "1"}],
        )

    assert not Order.objects.exists()


def test_an_order_for_a_customer_outside_the_scope_is_404(outsider: Any, customer: Any) -> None:
    with pytest.raises(Http404):
        order_create(
            actor=outsider,
            customer=customer,
            values={},
            lines=[{"description": "x", "quantity": "1", "unit_price": "1"}],
        )

    assert not Order.objects.exists()


def test_changing_the_lines_recomputes_the_totals_and_bumps_the_version(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer, "100.00")

    changed = order_update(
        actor=manager,
        order=order,
        version=1,
        values={"status": "shipped", "notes": "顺丰"},
        lines=[{"description": "礼盒", "quantity": "4", "unit_price": "25.50", "unit_cost": "10"}],
    )

    assert (changed.status, changed.notes, changed.version) == ("shipped", "顺丰", 2)
    assert (changed.total_amount, changed.total_cost) == (Decimal("102.00"), Decimal("40.00"))
    assert list(changed.lines.values_list("description", flat=True)) == ["礼盒"]


def test_a_stale_order_edit_is_refused_and_changes_nothing(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer, "100.00")
    before = order_rows()

    with pytest.raises(StaleEdit):
        order_update(actor=manager, order=order, version=7, values={"status": "shipped"})

    assert order_rows() == before


def test_a_bad_line_in_an_edit_keeps_the_old_lines(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer, "100.00")
    before = order_rows()

    with pytest.raises(DomainError):
        order_update(
            actor=manager,
            order=order,
            version=1,
            values={},
            lines=[{"description": "x", "quantity": "1", "unit_price": "-5"}],
        )

    assert order_rows() == before
    assert list(OrderLine.objects.values_list("line_total", flat=True)) == [Decimal("100.00")]


def test_a_rep_cannot_edit_an_order(
    rep: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer)

    with pytest.raises(PermissionDenied):
        order_update(actor=rep, order=order, version=1, values={"status": "shipped"})

    assert Order.objects.get().status == "confirmed"


def test_cancelling_an_order_cancels_its_unpaid_invoices_and_publishes(
    manager: Any,
    customer: Any,
    place_order: Callable[..., Order],
    issue_invoice: Callable[..., Invoice],
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = place_order(customer, "300.00")
    invoice = issue_invoice(customer, order=order, amount="")

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = order_cancel(actor=manager, order=order, version=1)

    invoice.refresh_from_db()
    assert (cancelled.status, cancelled.version) == ("cancelled", 2)
    assert (invoice.status, invoice.amount) == ("cancelled", Decimal("300.00"))
    assert published == [
        (
            "order.cancelled",
            {"order_id": order.pk, "customer_id": customer.pk, "actor_id": manager.pk},
        )
    ]


def test_an_order_with_money_received_cannot_be_cancelled(
    manager: Any,
    customer: Any,
    place_order: Callable[..., Order],
    issue_invoice: Callable[..., Invoice],
) -> None:
    order = place_order(customer, "300.00")
    invoice = issue_invoice(customer, order=order, amount="")
    payment_record(actor=manager, invoice=invoice, amount="100")

    with pytest.raises(DomainError) as refused:
        order_cancel(actor=manager, order=order)

    assert error_fields(refused) == ["status"]
    assert Order.objects.get().status == "confirmed"
    assert Invoice.objects.get().status == "partly_paid"


def test_cancelling_twice_changes_nothing_the_second_time(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer)
    order_cancel(actor=manager, order=order)

    again = order_cancel(actor=manager, order=order)

    assert (again.status, again.version) == ("cancelled", 2)


def test_a_cancelled_order_cannot_be_edited(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer)
    order_cancel(actor=manager, order=order)

    with pytest.raises(DomainError) as refused:
        order_update(actor=manager, order=order, version=2, values={"status": "completed"})

    assert error_fields(refused) == ["status"]
    assert Order.objects.get().status == "cancelled"


# --- the bulk loader ------------------------------------------------------------------------


def bulk_row(customer: Any, index: int, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer.pk,
        "ordered_at": YESTERDAY - dt.timedelta(days=index),
        "status": "completed",
        "lines": [
            {"description": "A", "quantity": "2", "unit_price": "10.00", "unit_cost": "4"},
            {"description": "B", "quantity": "1", "unit_price": "5.50", "discount": "0.50"},
        ],
        **extra,
    }


def test_the_bulk_loader_writes_orders_and_lines_in_a_fixed_number_of_queries(
    customer: Any, django_assert_max_num_queries: Any
) -> None:
    rows = [bulk_row(customer, index) for index in range(60)]

    with django_assert_max_num_queries(8):
        ids = orders_bulk_create(rows, batch_size=1000)

    assert len(ids) == 60
    assert set(Order.objects.values_list("total_amount", "total_cost")) == {
        (Decimal("25.00"), Decimal("8.00"))
    }
    assert OrderLine.objects.count() == 120
    assert [o.number for o in Order.objects.order_by("pk")][:2] == [
        f"SO{ids[0]:08d}",
        f"SO{ids[1]:08d}",
    ]


def test_the_bulk_loader_refuses_the_whole_batch_naming_each_bad_row(customer: Any) -> None:
    rows = [
        bulk_row(customer, 0, number="ERP-1"),
        bulk_row(customer, 1, customer_id=999999),
        bulk_row(customer, 2, number="ERP-1"),
        {**bulk_row(customer, 3), "lines": []},
    ]

    with pytest.raises(DomainError) as refused:
        orders_bulk_create(rows)

    assert [(item["row"], item["field"]) for item in refused.value.errors] == [
        (1, "customer_id"),
        (2, "number"),
        (3, "lines"),
    ]
    assert not Order.objects.exists()


def test_the_bulk_loader_accepts_discontinued_products_for_history(
    customer: Any, tea: Product
) -> None:
    Product.objects.filter(pk=tea.pk).update(is_active=False)

    ids = orders_bulk_create(
        [{**bulk_row(customer, 0), "lines": [{"product_code": "TEA-1", "quantity": "1"}]}]
    )

    assert Order.objects.get(pk=ids[0]).total_amount == Decimal("680.00")


# --- invoices and payments ------------------------------------------------------------------


def test_an_invoice_for_an_order_defaults_to_its_total_and_a_thirty_day_term(
    manager: Any, customer: Any, place_order: Callable[..., Order]
) -> None:
    order = place_order(customer, "450.50")

    invoice = invoice_create(
        actor=manager, customer=customer, order=order, values={"issued_on": "2024-03-01"}
    )

    assert (invoice.amount, invoice.issued_on, invoice.due_on, invoice.status) == (
        Decimal("450.50"),
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 31),
        "open",
    )
    assert invoice.number == f"IV{invoice.pk:08d}"


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"amount": "0"}, ["amount"]),
        ({"amount": "-10"}, ["amount"]),
        ({"amount": "10", "issued_on": "2024-03-10", "due_on": "2024-03-09"}, ["due_on"]),
        ({"amount": "10", "due_on": "next week"}, ["due_on"]),
        ({"amount": "10", "number": "IV00000001"}, ["number"]),
    ],
    ids=["zero", "negative", "due-before-issue", "not-a-date", "reserved-number"],
)
def test_a_bad_invoice_is_refused_and_nothing_is_written(
    manager: Any, customer: Any, values: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(DomainError) as refused:
        invoice_create(actor=manager, customer=customer, values=values)

    assert error_fields(refused) == fields
    assert not Invoice.objects.exists()


def test_an_invoice_cannot_bill_another_customers_order(
    manager: Any,
    customer: Any,
    foreign_customer: Any,
    place_order: Callable[..., Order],
) -> None:
    order = place_order(foreign_customer)

    with pytest.raises(DomainError) as refused:
        invoice_create(actor=manager, customer=customer, order=order, values={"amount": "5"})

    assert error_fields(refused) == ["order_id"]
    assert not Invoice.objects.exists()


def invoice_state(invoice: Invoice) -> tuple[Any, ...]:
    invoice.refresh_from_db()
    return (invoice.status, invoice.paid_amount, invoice.paid_on, invoice.version)


def test_a_part_payment_then_the_rest_moves_the_invoice_to_paid_with_its_date(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer, "1000.00", issued_on="2024-01-01", due_on="2024-01-31")

    payment_record(actor=manager, invoice=invoice, amount="400", paid_on="2024-01-20")
    partly = invoice_state(invoice)
    payment_record(actor=manager, invoice=invoice, amount="600.00", paid_on="2024-02-05")

    assert partly == ("partly_paid", Decimal("400.00"), None, 2)
    assert invoice_state(invoice) == ("paid", Decimal("1000.00"), dt.date(2024, 2, 5), 3)
    assert list(Payment.objects.values_list("customer_id", "recorded_by_id")) == [
        (customer.pk, manager.pk),
        (customer.pk, manager.pk),
    ]


def test_paid_in_full_is_the_latest_payment_date_even_when_recorded_out_of_order(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer, "100.00", issued_on="2024-01-01")
    payment_record(actor=manager, invoice=invoice, amount="60", paid_on="2024-03-01")

    payment_record(actor=manager, invoice=invoice, amount="40", paid_on="2024-02-01")

    assert invoice_state(invoice)[:3] == ("paid", Decimal("100.00"), dt.date(2024, 3, 1))


def test_paying_in_full_publishes_payment_recorded_and_invoice_paid(
    manager: Any,
    customer: Any,
    issue_invoice: Callable[..., Invoice],
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    invoice = issue_invoice(customer, "100.00", issued_on="2024-01-01", due_on="2024-01-31")

    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_record(actor=manager, invoice=invoice, amount="100", paid_on="2024-02-10")

    assert published == [
        (
            "payment.recorded",
            {
                "payment_id": payment.pk,
                "invoice_id": invoice.pk,
                "customer_id": customer.pk,
                "amount": "100.00",
                "actor_id": manager.pk,
            },
        ),
        (
            "invoice.paid",
            {
                "invoice_id": invoice.pk,
                "customer_id": customer.pk,
                "due_on": "2024-01-31",
                "paid_on": "2024-02-10",
                "days_late": 10,
            },
        ),
    ]


def test_paying_more_than_is_outstanding_is_refused_and_changes_nothing(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer, "100.00")
    payment_record(actor=manager, invoice=invoice, amount="30")
    before = invoice_state(invoice)

    with pytest.raises(DomainError) as refused:
        payment_record(actor=manager, invoice=invoice, amount="70.01")

    assert error_fields(refused) == ["amount"]
    assert invoice_state(invoice) == before
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "paid_on", "method", "fields"),
    [
        ("0", None, "cash", ["amount"]),
        ("-5", None, "cash", ["amount"]),
        ("5", timezone.localdate() + dt.timedelta(days=1), "cash", ["paid_on"]),
        ("5", None, "barter", ["method"]),
    ],
    ids=["zero", "negative", "tomorrow", "unknown-method"],
)
def test_a_bad_payment_is_refused_and_changes_nothing(
    manager: Any,
    customer: Any,
    issue_invoice: Callable[..., Invoice],
    amount: str,
    paid_on: Any,
    method: str,
    fields: list[str],
) -> None:
    invoice = issue_invoice(customer, "100.00")
    before = invoice_state(invoice)

    with pytest.raises(DomainError) as refused:
        payment_record(
            actor=manager, invoice=invoice, amount=amount, paid_on=paid_on, method=method
        )

    assert error_fields(refused) == fields
    assert invoice_state(invoice) == before
    assert not Payment.objects.exists()


def test_a_repeated_reference_returns_the_first_payment_and_pays_once(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer, "100.00")
    first = payment_record(actor=manager, invoice=invoice, amount="40", reference="ALI-20240101")

    again = payment_record(actor=manager, invoice=invoice, amount="40", reference="ALI-20240101")

    assert again.pk == first.pk
    assert invoice_state(invoice)[:2] == ("partly_paid", Decimal("40.00"))
    assert Payment.objects.count() == 1


def test_a_repeated_reference_after_the_invoice_is_paid_still_returns_the_first(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer, "100.00")
    first = payment_record(actor=manager, invoice=invoice, amount="100", reference="TX-1")

    again = payment_record(actor=manager, invoice=invoice, amount="100", reference="TX-1")

    assert again.pk == first.pk
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("other_invoice", [False, True], ids=["other-amount", "other-invoice"])
def test_a_reference_reused_for_a_different_payment_is_a_conflict(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice], other_invoice: bool
) -> None:
    invoice = issue_invoice(customer, "100.00")
    payment_record(actor=manager, invoice=invoice, amount="40", reference="TX-9")
    target = issue_invoice(customer, "100.00") if other_invoice else invoice

    with pytest.raises(Conflict):
        payment_record(actor=manager, invoice=target, amount="50", reference="TX-9")

    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("40.00")]


def test_the_same_reference_of_another_customer_is_another_payment(
    manager: Any,
    customer: Any,
    foreign_customer: Any,
    issue_invoice: Callable[..., Invoice],
) -> None:
    mine, theirs = issue_invoice(customer, "100.00"), issue_invoice(foreign_customer, "100.00")
    payment_record(actor=manager, invoice=mine, amount="40", reference="0001")

    payment_record(actor=manager, invoice=theirs, amount="40", reference="0001")

    assert Payment.objects.count() == 2


def test_a_paid_invoice_takes_no_more_payments(
    manager: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer, "100.00")
    payment_record(actor=manager, invoice=invoice, amount="100")

    with pytest.raises(DomainError) as refused:
        payment_record(actor=manager, invoice=invoice, amount="1")

    assert error_fields(refused) == ["amount"]
    assert Payment.objects.count() == 1


def test_a_payment_on_an_invoice_outside_the_scope_is_404(
    outsider: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer, "100.00")

    with pytest.raises(Http404):
        payment_record(actor=outsider, invoice=invoice, amount="10")

    assert not Payment.objects.exists()


def test_a_rep_cannot_record_a_payment(
    rep: Any, customer: Any, issue_invoice: Callable[..., Invoice]
) -> None:
    invoice = issue_invoice(customer, "100.00")

    with pytest.raises(PermissionDenied):
        payment_record(actor=rep, invoice=invoice, amount="10")

    assert not Payment.objects.exists()


# --- holdings -------------------------------------------------------------------------------


def test_a_second_snapshot_of_the_same_day_replaces_the_first(manager: Any, customer: Any) -> None:
    holding_snapshot_save(
        actor=manager,
        customer=customer,
        as_of="2024-06-30",
        values={"assets_under_management": "1000000", "loan_balance": "20000"},
    )

    saved = holding_snapshot_save(
        actor=manager,
        customer=customer,
        as_of=dt.date(2024, 6, 30),
        values={"assets_under_management": "1200000.50", "source": "core banking"},
    )

    assert list(
        HoldingSnapshot.objects.values_list(
            "as_of", "assets_under_management", "loan_balance", "source", "version"
        )
    ) == [(dt.date(2024, 6, 30), Decimal("1200000.50"), Decimal("20000.00"), "core banking", 2)]
    assert saved.pk == HoldingSnapshot.objects.get().pk


@pytest.mark.parametrize(
    ("as_of", "values", "fields"),
    [
        ("2024-06-30", {"assets_under_management": "-1"}, ["assets_under_management"]),
        ("2024-06-30", {"loan_balance": "abc"}, ["loan_balance"]),
        (timezone.localdate() + dt.timedelta(days=1), {}, ["as_of"]),
        ("June", {}, ["as_of"]),
    ],
    ids=["negative-assets", "not-a-number", "tomorrow", "not-a-date"],
)
def test_a_bad_snapshot_is_refused_and_nothing_is_written(
    manager: Any, customer: Any, as_of: Any, values: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(DomainError) as refused:
        holding_snapshot_save(actor=manager, customer=customer, as_of=as_of, values=values)

    assert error_fields(refused) == fields
    assert not HoldingSnapshot.objects.exists()


# --- products -------------------------------------------------------------------------------


def test_a_product_is_saved_with_its_category_made_on_the_way(manager: Any) -> None:
    product = product_save(
        actor=manager,
        values={"code": "P-1", "name": "普洱", "category": "茶叶", "list_price": "420"},
    )

    assert (product.code, product.category.name if product.category else None) == ("P-1", "茶叶")
    assert (product.list_price, product.unit_cost, product.is_active) == (
        Decimal("420.00"),
        Decimal("0.00"),
        True,
    )
    assert ProductCategory.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"code": "TEA-1", "name": "x"}, ["code"]),
        ({"code": "P-2", "name": "x", "list_price": "-1"}, ["list_price"]),
        ({"code": "", "name": ""}, ["code", "name"]),
    ],
    ids=["used-code", "negative-price", "blank"],
)
def test_a_bad_product_is_refused_and_nothing_is_written(
    manager: Any, tea: Product, values: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(DomainError) as refused:
        product_save(actor=manager, values=values)

    assert error_fields(refused) == fields
    assert list(Product.objects.values_list("code", flat=True)) == ["TEA-1"]


def test_a_stale_product_edit_is_refused(manager: Any, tea: Product) -> None:
    with pytest.raises(StaleEdit):
        product_save(actor=manager, product=tea, version=5, values={"list_price": "1"})

    assert Product.objects.get().list_price == Decimal("680.00")


def test_a_rep_cannot_add_products(rep: Any) -> None:
    with pytest.raises(PermissionDenied):
        product_save(actor=rep, values={"code": "P-9", "name": "x"})

    assert not Product.objects.exists()


def test_a_status_change_to_cancelled_through_an_edit_cancels_as_cancel_does(
    manager: Any,
    customer: Any,
    place_order: Callable[..., Order],
    issue_invoice: Callable[..., Invoice],
) -> None:
    order = place_order(customer)
    invoice = issue_invoice(customer, order=order, amount="")

    changed = order_update(actor=manager, order=order, version=1, values={"status": "cancelled"})

    assert (changed.status, changed.version) == (OrderStatus.CANCELLED, 2)
    assert invoice_state(invoice)[0] == InvoiceStatus.CANCELLED


# --- customer merge (customers.merge moves every row that points at a customer) --------------


def test_merging_customers_moves_their_orders_invoices_payments_and_holdings(
    manager: Any,
    rep: Any,
    customer: Any,
    make_customer: Callable[..., Any],
    place_order: Callable[..., Order],
    issue_invoice: Callable[..., Invoice],
) -> None:
    twin = make_customer(rep, "王芳 (重复)")
    order = place_order(twin, "88.00")
    invoice = issue_invoice(twin, order=order, amount="")
    payment_record(actor=manager, invoice=invoice, amount="8", reference="TX-1")
    day = dt.date(2024, 6, 30)
    holding_snapshot_save(actor=manager, customer=customer, as_of=day, values={})
    holding_snapshot_save(actor=manager, customer=twin, as_of=day, values={})
    holding_snapshot_save(actor=manager, customer=twin, as_of=dt.date(2024, 5, 31), values={})

    customer_merge(actor=manager, survivor=customer, others=[twin], choices={})

    assert set(Order.objects.values_list("customer_id", flat=True)) == {customer.pk}
    assert set(Invoice.objects.values_list("customer_id", flat=True)) == {customer.pk}
    assert set(Payment.objects.values_list("customer_id", flat=True)) == {customer.pk}
    assert sorted(
        HoldingSnapshot.objects.filter(customer=customer).values_list("as_of", flat=True)
    ) == [dt.date(2024, 5, 31), day]
