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
