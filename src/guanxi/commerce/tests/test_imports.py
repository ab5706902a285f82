"""Importing orders, invoices, payments and holdings through the customer importer: mapped
Chinese and English headers, per-row errors naming the column, idempotent reruns, revert."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from guanxi.commerce.models import HoldingSnapshot, Invoice, InvoiceStatus, Order, Payment
from guanxi.commerce.services import holding_snapshot_save, invoice_create, payment_record
from guanxi.customers.imports import service
from guanxi.customers.models import ImportJob, ImportStatus

pytestmark = pytest.mark.django_db


def upload(text: str, name: str = "facts.csv") -> Any:
    return SimpleUploadedFile(name, text.encode("utf-8"))


def analysed(actor: Any, file: Any, target: str, **options: Any) -> ImportJob:
    job = service.import_job_create(actor=actor, upload=file, target=target, **options)
    return service.import_job_analyse(actor=actor, job=job)


def run(job: ImportJob, capture: Callable[..., Any]) -> ImportJob:
    with capture(execute=True):
        assert job.created_by is not None
        service.import_job_start(actor=job.created_by, job=job)
    job.refresh_from_db()
    return job


def errors_of(job: ImportJob) -> list[tuple[int, str, str]]:
    return [
        (error.row_number, error.field, error.message)
        for error in job.row_errors.order_by("row_number", "pk")
    ]


@pytest.fixture
def zh() -> Any:
    with translation.override("zh-hans"):
        yield


def orders_csv(code: str) -> str:
    return (
        "客户编号,订单号,订单日期,产品编号,数量,单价\n"
        f"{code},IMP-1,2026-03-01,TEA-1,2,680\n"
        f"{code},IMP-2,2026-03-05,,1,99.50\n"
        "C-NOPE,IMP-3,2026-03-06,,1,10\n"
        f"{code},IMP-4,2026-13-40,,1,10\n"
        f"{code},IMP-5,2026-03-07,,1,-5\n"
    )


def test_orders_dry_run_then_import_then_same_file_again(
    manager: Any, customer: Any, tea: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = analysed(manager, upload(orders_csv(customer.code)), "orders")
    assert job.mapping == {
        "0": "customer_code",
        "1": "number",
        "2": "ordered_at",
        "3": "product_code",
        "4": "quantity",
        "5": "unit_price",
    }
    assert {k: job.dry_run[k] for k in ("rows", "valid", "invalid", "would_create")} == {
        "rows": 5,
        "valid": 2,
        "invalid": 3,
        "would_create": 2,
    }
    assert not Order.objects.exists()  # the dry run writes nothing

    job = run(job, django_capture_on_commit_callbacks)

    assert job.status == ImportStatus.COMPLETED
    assert (job.created_count, job.error_count) == (2, 3)
    orders = {str(order.number): order for order in Order.objects.prefetch_related("lines")}
    assert sorted(orders) == ["IMP-1", "IMP-2"]
    assert orders["IMP-1"].total_amount == Decimal("1360.00")
    assert orders["IMP-1"].lines.get().product_id == tea.pk
    assert orders["IMP-2"].customer_id == customer.pk
    messages = errors_of(job)
    assert [(row, name) for row, name, _m in messages] == [
        (4, "customer_code"),
        (5, "ordered_at"),
        (6, "unit_price"),
    ]
    assert "客户编号" in messages[0][2]
    assert "C-NOPE" in messages[0][2]
    assert "订单日期" in messages[1][2]
    assert "negative" in messages[2][2]

    # The same file again, told to go ahead despite the hash: nothing new is created.
    again = run(
        analysed(manager, upload(orders_csv(customer.code)), "orders", allow_reimport=True),
        django_capture_on_commit_callbacks,
    )
    assert (again.created_count, again.skipped_count) == (0, 2)
    assert Order.objects.count() == 2


def test_same_file_refused_without_reimport(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = f"customer code,order number,order date,amount\n{customer.code},E-1,2026-03-01,50\n"
    run(analysed(manager, upload(text), "orders"), django_capture_on_commit_callbacks)
    with pytest.raises(Exception, match="already imported"):
        service.import_job_create(actor=manager, upload=upload(text), target="orders")
    assert Order.objects.get().total_amount == Decimal("50.00")


def test_invoices_and_payments_with_errors_in_chinese(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any, zh: Any
) -> None:
    invoices = (
        "客户编号,发票号,开票日期,到期日,金额\n"
        f"{customer.code},FP-1,2026-03-01,2026-03-31,1000\n"
        f"{customer.code},FP-2,2026-03-01,,300\n"
        f"{customer.code},FP-3,2026-03-01,2026-03-31,-1\n"
        "NOBODY,FP-4,2026-03-01,2026-03-31,10\n"
    )
    job = run(analysed(manager, upload(invoices), "invoices"), django_capture_on_commit_callbacks)
    assert job.created_count == 2
    assert sorted(str(n) for n in Invoice.objects.values_list("number", flat=True)) == [
        "FP-1",
        "FP-2",
    ]
    assert Invoice.objects.get(number="FP-2").due_on == dt.date(2026, 3, 31)
    rows = errors_of(job)
    assert [(row, name) for row, name, _m in rows] == [(4, "amount"), (5, "customer_code")]
    assert "金额" in rows[0][2]
    assert "NOBODY" in rows[1][2]
    assert "客户" in rows[1][2]

    payments = (
        "发票号,付款日期,金额,流水号\n"
        "FP-1,2026-03-10,400,TX-1\n"
        "FP-1,2026-03-12,600,TX-2\n"
        "FP-2,2026-03-ab,100,TX-3\n"
        "FP-9,2026-03-10,100,TX-4\n"
    )
    job = run(analysed(manager, upload(payments), "payments"), django_capture_on_commit_callbacks)
    assert (job.created_count, job.error_count) == (2, 2)
    paid = Invoice.objects.get(number="FP-1")
    assert (paid.paid_amount, paid.status, paid.paid_on) == (
        Decimal("1000.00"),
        InvoiceStatus.PAID,
        dt.date(2026, 3, 12),
    )
    assert [(row, name) for row, name, _m in errors_of(job)] == [
        (4, "paid_on"),
        (5, "invoice_number"),
    ]

    again = run(
        analysed(manager, upload(payments), "payments", allow_reimport=True),
        django_capture_on_commit_callbacks,
    )
    assert (again.created_count, again.skipped_count) == (0, 2)
    assert Payment.objects.count() == 2

    # Reverting the payments reopens the invoice.
    result = service.import_job_revert(actor=manager, job=job)
    assert result["deleted"] == 2
    assert not Payment.objects.exists()
    reopened = Invoice.objects.get(number="FP-1")
    assert (reopened.paid_amount, reopened.status) == (Decimal("0.00"), InvoiceStatus.OPEN)


def test_holdings_import_is_idempotent_and_reverts(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "Customer code,As of,AUM,Loan balance\n"
        f"{customer.code},2026-02-28,1200000,0\n"
        f"{customer.code},2026-01-31,1100000,50000\n"
        f"{customer.code},2026-01-31,999,0\n"  # the same day again in the file: skipped
        f"{customer.code},yesterday,1,0\n"
    )
    job = run(analysed(manager, upload(text), "holdings"), django_capture_on_commit_callbacks)
    assert (job.created_count, job.skipped_count, job.error_count) == (2, 1, 1)
    snapshot = HoldingSnapshot.objects.get(as_of=dt.date(2026, 1, 31))
    assert (snapshot.assets_under_management, snapshot.loan_balance) == (
        Decimal("1100000.00"),
        Decimal("50000.00"),
    )
    assert errors_of(job)[0][:2] == (5, "as_of")

    result = service.import_job_revert(actor=manager, job=job)
    assert result["deleted"] == 2
    assert not HoldingSnapshot.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportStatus.REVERTED


def test_revert_keeps_an_order_that_now_has_an_invoice(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "客户编号,订单号,订单日期,金额\n"
        f"{customer.code},R-1,2026-03-01,100\n"
        f"{customer.code},R-2,2026-03-02,200\n"
    )
    job = run(analysed(manager, upload(text), "orders"), django_capture_on_commit_callbacks)
    kept = Order.objects.get(number="R-2")
    Invoice.objects.create(
        customer=customer,
        order=kept,
        issued_on=dt.date(2026, 3, 2),
        due_on=dt.date(2026, 4, 1),
        amount=Decimal("200.00"),
    )
    result = service.import_job_revert(actor=manager, job=job)
    assert (result["deleted"], result["linked"]) == (1, 1)
    assert list(Order.objects.values_list("number", flat=True)) == ["R-2"]


def test_xlsx_orders(manager: Any, customer: Any, django_capture_on_commit_callbacks: Any) -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["客户编号", "订单号", "订单日期", "金额"])
    sheet.write_row(1, 0, [customer.code, "X-1"])
    sheet.write_datetime(
        1, 2, dt.date(2026, 3, 1), workbook.add_format({"num_format": "yyyy-mm-dd"})
    )
    sheet.write_number(1, 3, 88.8)
    sheet.write_row(2, 0, [customer.code, "X-2", "not a date", 5])
    workbook.close()

    job = run(
        analysed(manager, SimpleUploadedFile("orders.xlsx", buffer.getvalue()), "orders"),
        django_capture_on_commit_callbacks,
    )
    assert job.format == "xlsx"
    order = Order.objects.get()
    assert (order.number, order.total_amount) == ("X-1", Decimal("88.80"))
    assert [(row, name) for row, name, _m in errors_of(job)] == [(3, "ordered_at")]


def test_a_rep_without_commerce_create_cannot_import_orders(rep: Any, customer: Any) -> None:
    text = f"客户编号,订单号,订单日期,金额\n{customer.code},P-1,2026-03-01,1\n"
    with pytest.raises(Exception):  # noqa: B017,PT011
        service.import_job_create(actor=rep, upload=upload(text), target="orders")
    assert not ImportJob.objects.exists()


def test_the_api_imports_holdings_and_the_page_maps_commerce_fields(
    manager: Any, customer: Any, bearer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.test import Client

    api = Client(headers=bearer(manager))
    text = f"客户编号,日期,资产\n{customer.code},2026-02-28,5000\n"
    created = api.post(
        "/api/v1/customers/imports",
        {"file": SimpleUploadedFile("h.csv", text.encode()), "target": "holdings"},
    )
    job_id = created.json()["id"]
    analysed = api.post(f"/api/v1/customers/imports/{job_id}/analyse")
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/customers/imports/{job_id}/start")
    body = api.get(f"/api/v1/customers/imports/{job_id}").json()

    assert (created.status_code, created.json()["target"]) == (201, "holdings")
    assert created.json()["mapping"] == {
        "0": "customer_code",
        "1": "as_of",
        "2": "assets_under_management",
    }
    assert analysed.json()["dry_run"]["would_create"] == 1
    assert started.status_code == 202
    assert (body["status"], body["created_count"]) == ("completed", 1)
    assert HoldingSnapshot.objects.get().assets_under_management == Decimal("5000.00")

    browser = Client()
    browser.force_login(manager)
    upload_form = browser.get("/customers/imports/").content.decode()
    assert 'name="target"' in upload_form
    assert 'value="holdings"' in upload_form
    orders = f"customer code,order number,order date,amount\n{customer.code},W-1,2026-03-01,9\n"
    page = browser.post(
        "/customers/imports/",
        {
            "file": SimpleUploadedFile("o.csv", orders.encode()),
            "target": "orders",
            "duplicate_policy": "skip",
        },
        follow=True,
    )
    detail = page.content.decode()
    assert 'data-target="orders"' in detail
    assert "Order date" in detail  # the mapping offers the order's fields
    assert 'data-dry="would_create">1<' in detail
    assert not Order.objects.exists()


def test_rows_sharing_an_order_number_are_the_lines_of_one_order(
    manager: Any, customer: Any, tea: Any, laptop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "customer code,order number,order date,product code,quantity,unit price\n"
        f"{customer.code},M-1,2026-03-01,TEA-1,2,680\n"
        f"{customer.code},M-1,2026-03-01,LAP-1,1,8999\n"
        f"{customer.code},M-2,2026-03-02,GHOST,1,5\n"  # no such product: refused, nothing written
        f"{customer.code},M-3,2026-03-03,,3,10\n"
    )
    job = run(analysed(manager, upload(text), "orders"), django_capture_on_commit_callbacks)

    order = Order.objects.get(number="M-1")
    assert sorted(int(line.product_id or 0) for line in order.lines.all()) == sorted(
        [tea.pk, laptop.pk]
    )
    assert order.total_amount == Decimal("10359.00")
    assert sorted(str(n) for n in Order.objects.values_list("number", flat=True)) == [
        "M-1",
        "M-3",
    ]
    assert [(row, name) for row, name, _m in errors_of(job)] == [(4, "product_code")]

    result = service.import_job_revert(actor=manager, job=job)
    assert result["deleted"] == 3  # the three rows of the two orders
    assert not Order.objects.exists()


def spanning_orders_csv(code: str) -> str:
    """Six rows in batches of two: S-2's four lines span the first three batches."""
    return (
        "customer code,order number,order date,product code,quantity,unit price\n"
        f"{code},S-1,2026-03-01,,1,10\n"
        f"{code},S-2,2026-03-02,TEA-1,1,680\n"
        f"{code},S-2,2026-03-02,LAP-1,1,8999\n"
        f"{code},S-2,2026-03-02,,2,0.50\n"
        f"{code},S-2,2026-03-02,TEA-1,3,600\n"
        f"{code},S-3,2026-03-03,,1,20\n"
    )


def test_an_order_whose_lines_span_three_batches_is_one_order_with_every_line(
    manager: Any,
    customer: Any,
    tea: Any,
    laptop: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.IMPORT_BATCH_SIZE = 2

    job = run(
        analysed(manager, upload(spanning_orders_csv(customer.code)), "orders"),
        django_capture_on_commit_callbacks,
    )

    assert (job.status, job.created_count, job.skipped_count, job.error_count) == (
        ImportStatus.COMPLETED,
        6,
        0,
        0,
    )
    order = Order.objects.get(number="S-2")
    lines = list(order.lines.order_by("position"))
    assert [(line.position, line.product_id, line.quantity) for line in lines] == [
        (0, tea.pk, Decimal("1.000")),
        (1, laptop.pk, Decimal("1.000")),
        (2, None, Decimal("2.000")),
        (3, tea.pk, Decimal("3.000")),
    ]
    assert order.total_amount == Decimal("11480.00")  # 680 + 8999 + 1 + 1800
    assert order.total_cost == Decimal("8840.00")  # 410 + 7200 + 0 + 1230
    assert order.version == 3  # two later batches each added lines
    assert sorted(str(n) for n in Order.objects.values_list("number", flat=True)) == [
        "S-1",
        "S-2",
        "S-3",
    ]


def test_the_same_spanning_file_again_adds_no_line_and_revert_removes_the_whole_order(
    manager: Any,
    customer: Any,
    tea: Any,
    laptop: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.IMPORT_BATCH_SIZE = 2
    text = spanning_orders_csv(customer.code)
    job = run(analysed(manager, upload(text), "orders"), django_capture_on_commit_callbacks)

    again = run(
        analysed(manager, upload(text), "orders", allow_reimport=True),
        django_capture_on_commit_callbacks,
    )

    assert (again.created_count, again.skipped_count) == (0, 6)
    assert Order.objects.get(number="S-2").lines.count() == 4
    assert Order.objects.get(number="S-2").total_amount == Decimal("11480.00")

    result = service.import_job_revert(actor=manager, job=job)

    assert result["deleted"] == 6
    assert not Order.objects.exists()


def test_a_bad_line_in_a_later_batch_fails_alone_and_the_order_keeps_its_good_lines(
    manager: Any,
    customer: Any,
    foreign_customer: Any,
    tea: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.IMPORT_BATCH_SIZE = 2
    text = (
        "customer code,order number,order date,product code,quantity,unit price\n"
        f"{customer.code},B-1,2026-03-01,TEA-1,1,680\n"
        f"{customer.code},B-1,2026-03-01,,1,5\n"
        f"{customer.code},B-1,2026-03-01,GHOST,1,5\n"  # no such product
        f"{customer.code},B-1,2026-03-01,,2,5\n"
    )

    job = run(analysed(manager, upload(text), "orders"), django_capture_on_commit_callbacks)

    assert (job.created_count, job.error_count) == (3, 1)
    order = Order.objects.get(number="B-1")
    assert order.lines.count() == 3
    assert order.total_amount == Decimal("695.00")
    [(row, name, message)] = errors_of(job)
    assert (row, name) == (4, "product_code")
    assert "product code" in message


def test_a_later_batch_line_of_another_customer_does_not_join_the_order(
    manager: Any,
    customer: Any,
    make_customer: Callable[..., Any],
    rep: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.IMPORT_BATCH_SIZE = 2
    other = make_customer(rep, "李雷")
    text = (
        "customer code,order number,order date,amount\n"
        f"{customer.code},X-1,2026-03-01,100\n"
        f"{customer.code},X-2,2026-03-01,5\n"
        f"{other.code},X-1,2026-03-01,7\n"
    )

    job = run(analysed(manager, upload(text), "orders"), django_capture_on_commit_callbacks)

    assert (job.created_count, job.error_count) == (2, 1)
    assert Order.objects.get(number="X-1").total_amount == Decimal("100.00")
    assert [(row, name) for row, name, _m in errors_of(job)] == [(4, "number")]


COMMERCE_EVENTS = (
    "invoice.created",
    "payment.recorded",
    "invoice.paid",
    "holding.recorded",
    "order.updated",
    "orders.imported",
)


def commerce_events(published: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, payload) for name, payload in published if name in COMMERCE_EVENTS]


def test_imported_invoices_publish_invoice_created_as_a_single_invoice_does(
    manager: Any,
    customer: Any,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    text = (
        "customer code,invoice number,issue date,amount\n"
        f"{customer.code},EV-1,2026-03-01,100\n"
        f"{customer.code},EV-2,2026-03-02,200\n"
    )

    run(analysed(manager, upload(text), "invoices"), django_capture_on_commit_callbacks)

    ids = dict(Invoice.objects.values_list("number", "pk"))
    assert commerce_events(published) == [
        (
            "invoice.created",
            {"invoice_id": ids[number], "customer_id": customer.pk, "actor_id": manager.pk},
        )
        for number in ("EV-1", "EV-2")
    ]
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(actor=manager, customer=customer, values={"amount": "5"})
    assert [(name, sorted(payload)) for name, payload in commerce_events(published)] == [
        ("invoice.created", ["actor_id", "customer_id", "invoice_id"])
    ]


def test_imported_payments_publish_payment_recorded_and_invoice_paid_as_a_single_payment_does(
    manager: Any,
    customer: Any,
    issue_invoice: Callable[..., Invoice],
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    dates = {"issued_on": "2026-01-01", "due_on": "2026-01-31"}
    whole = issue_invoice(customer, "100.00", number="PV-1", **dates)
    part = issue_invoice(customer, "100.00", number="PV-2", **dates)
    single = issue_invoice(customer, "100.00", number="PV-3", **dates)
    text = (
        "invoice number,paid on,amount,reference\n"
        "PV-1,2026-02-03,60,T-1\n"
        "PV-1,2026-02-05,40,T-2\n"
        "PV-2,2026-02-05,30,T-3\n"
    )
    published.clear()

    run(analysed(manager, upload(text), "payments"), django_capture_on_commit_callbacks)

    ids = dict(Payment.objects.values_list("reference", "pk"))
    recorded = [
        ("T-1", whole, "60.00"),
        ("T-2", whole, "40.00"),
        ("T-3", part, "30.00"),
    ]
    assert commerce_events(published) == [
        *(
            (
                "payment.recorded",
                {
                    "payment_id": ids[reference],
                    "invoice_id": invoice.pk,
                    "customer_id": customer.pk,
                    "amount": amount,
                    "actor_id": manager.pk,
                },
            )
            for reference, invoice, amount in recorded
        ),
        (
            "invoice.paid",
            {
                "invoice_id": whole.pk,
                "customer_id": customer.pk,
                "due_on": "2026-01-31",
                "paid_on": "2026-02-05",
                "days_late": 5,
            },
        ),
    ]
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        payment_record(actor=manager, invoice=single, amount="100", paid_on="2026-02-01")
    assert [(name, sorted(payload)) for name, payload in commerce_events(published)] == [
        ("payment.recorded", ["actor_id", "amount", "customer_id", "invoice_id", "payment_id"]),
        ("invoice.paid", ["customer_id", "days_late", "due_on", "invoice_id", "paid_on"]),
    ]


def test_imported_holdings_publish_holding_recorded_as_a_single_snapshot_does(
    manager: Any,
    customer: Any,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    text = (
        "customer code,as of,aum\n"
        f"{customer.code},2026-01-31,1000\n"
        f"{customer.code},2026-02-28,900\n"
    )

    run(analysed(manager, upload(text), "holdings"), django_capture_on_commit_callbacks)

    ids = dict(HoldingSnapshot.objects.values_list("as_of", "pk"))
    assert commerce_events(published) == [
        (
            "holding.recorded",
            {
                "holding_id": ids[day],
                "customer_id": customer.pk,
                "as_of": day.isoformat(),
                "actor_id": manager.pk,
            },
        )
        for day in (dt.date(2026, 1, 31), dt.date(2026, 2, 28))
    ]
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        holding_snapshot_save(
            actor=manager,
            customer=customer,
            as_of="2026-03-31",
            values={"assets_under_management": "1"},
        )
    assert [(name, sorted(payload)) for name, payload in commerce_events(published)] == [
        ("holding.recorded", ["actor_id", "as_of", "customer_id", "holding_id"])
    ]


def test_lines_added_by_a_later_batch_publish_order_updated_as_an_edited_order_does(
    manager: Any,
    customer: Any,
    tea: Any,
    laptop: Any,
    settings: Any,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.IMPORT_BATCH_SIZE = 2

    run(
        analysed(manager, upload(spanning_orders_csv(customer.code)), "orders"),
        django_capture_on_commit_callbacks,
    )

    ids = dict(Order.objects.values_list("number", "pk"))
    updated = {"order_id": ids["S-2"], "customer_id": customer.pk, "actor_id": manager.pk}
    assert commerce_events(published) == [
        ("orders.imported", {"order_count": 2, "customer_ids": [customer.pk]}),
        ("order.updated", updated),  # batch 2: both rows are lines of S-2
        ("order.updated", updated),  # batch 3: S-2's last line, then the new S-3
        ("orders.imported", {"order_count": 1, "customer_ids": [customer.pk]}),
    ]


def test_an_orders_file_chosen_as_payments_names_the_missing_columns_in_chinese(
    manager: Any, customer: Any, zh: Any
) -> None:
    job = analysed(manager, upload(orders_csv(customer.code)), "payments")

    assert [warning["message"] for warning in job.warnings] == [
        "没有列对应必填字段“发票号”。",
        "没有列对应必填字段“付款日期”。",
        "没有列对应必填字段“金额”。",
        "这些列看起来是“订单”文件，而不是“回款”文件：请以“订单”重新上传。",
    ]
    assert job.dry_run["valid"] == 0
    assert errors_of(job)[:3] == [
        (2, "invoice_number", "没有列对应必填字段“发票号”。"),
        (2, "paid_on", "没有列对应必填字段“付款日期”。"),
        (2, "amount", "没有列对应必填字段“金额”。"),
    ]
    assert not Payment.objects.exists()


def test_a_file_that_fits_no_other_kind_gets_no_suggestion(manager: Any, customer: Any) -> None:
    text = f"customer code,note\n{customer.code},hello\n"

    job = analysed(manager, upload(text), "invoices")

    assert [warning["message"] for warning in job.warnings] == [
        "No column holds the required field “Number”.",
        "No column holds the required field “Issue date”.",
        "No column holds the required field “Amount”.",
    ]


def test_the_import_page_shows_the_missing_columns_of_a_file_uploaded_as_the_wrong_kind(
    manager: Any, customer: Any
) -> None:
    from django.test import Client

    browser = Client()
    browser.force_login(manager)

    page = browser.post(
        "/customers/imports/",
        {
            "file": SimpleUploadedFile("o.csv", orders_csv(customer.code).encode()),
            "target": "payments",
            "duplicate_policy": "skip",
        },
        follow=True,
    )

    detail = page.content.decode()
    assert 'id="import-warnings"' in detail
    assert "No column holds the required field “Invoice number”." in detail
    assert (
        "These columns look like a file of “Orders”, not “Payments”: upload it again as “Orders”."
        in detail
    )
    assert 'data-dry="would_create">0<' in detail
    assert not Payment.objects.exists()
