"""The dry run of a commerce import reports what the run will do, row for row, when batches
cut between rows that depend on each other: the lines of one order, an invoice number seen
twice, payments of one invoice, a customer's snapshot day."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from guanxi.commerce.models import HoldingSnapshot, Invoice, Order, Payment
from guanxi.customers.imports import service
from guanxi.customers.models import ImportJob

pytestmark = pytest.mark.django_db

Report = tuple[dict[str, int], list[tuple[int, str, str]]]


@pytest.fixture(autouse=True)
def batches_of_two(settings: Any) -> None:
    settings.IMPORT_BATCH_SIZE = 2


def analysed(actor: Any, text: str, target: str) -> ImportJob:
    upload = SimpleUploadedFile("facts.csv", text.encode("utf-8"))
    job = service.import_job_create(actor=actor, upload=upload, target=target)
    return service.import_job_analyse(actor=actor, job=job)


def errors_of(job: ImportJob) -> list[tuple[int, str, str]]:
    return [
        (error.row_number, error.field, error.message)
        for error in job.row_errors.order_by("row_number", "pk")
    ]


def dry_report(job: ImportJob) -> Report:
    """What the dry run says: its counts and the row errors it stored."""
    counts = {key: job.dry_run[key] for key in ("rows", "invalid", "would_create", "would_skip")}
    return counts, errors_of(job)


def run_report(job: ImportJob, capture: Callable[..., Any]) -> Report:
    """Run the analysed job; what the run did, in the dry run's terms."""
    with capture(execute=True):
        assert job.created_by is not None
        service.import_job_start(actor=job.created_by, job=job)
    job.refresh_from_db()
    counts = {
        "rows": job.rows_done,
        "invalid": job.error_count,
        "would_create": job.created_count,
        "would_skip": job.skipped_count,
    }
    return counts, errors_of(job)


def counts(rows: int, invalid: int, create: int, skip: int) -> dict[str, int]:
    return {"rows": rows, "invalid": invalid, "would_create": create, "would_skip": skip}


def test_an_order_over_three_batches_is_reported_by_the_dry_run_as_the_run_imports_it(
    manager: Any, customer: Any, tea: Any, laptop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "customer code,order number,order date,product code,quantity,unit price\n"
        f"{customer.code},S-1,2026-03-01,,1,10\n"
        f"{customer.code},S-2,2026-03-02,TEA-1,1,680\n"
        f"{customer.code},S-2,2026-03-02,LAP-1,1,8999\n"
        f"{customer.code},S-2,2026-03-02,,2,0.50\n"
        f"{customer.code},S-2,2026-03-02,TEA-1,3,600\n"
        f"{customer.code},S-3,2026-03-03,,1,20\n"
    )
    job = analysed(manager, text, "orders")
    dry = dry_report(job)

    ran = run_report(job, django_capture_on_commit_callbacks)

    assert dry == ran == (counts(6, 0, 6, 0), [])
    assert Order.objects.get(number="S-2").lines.count() == 4


def test_a_later_batch_line_naming_another_customer_is_refused_by_the_dry_run_in_chinese(
    manager: Any,
    customer: Any,
    make_customer: Callable[..., Any],
    rep: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    other = make_customer(rep, "李雷")
    text = (
        "客户编号,订单号,订单日期,数量,单价\n"
        f"{customer.code},X-1,2026-03-01,1,100\n"
        f"{customer.code},X-2,2026-03-01,1,5\n"
        f"{other.code},X-1,2026-03-01,1,9\n"  # the order is the first customer's
        f"{customer.code},X-1,2026-03-01,1,7\n"
        f"{customer.code},X-1,2026-03-01,1,11\n"
    )
    refused = (4, "number", "列“订单号”：该订单号已被使用。")

    with translation.override("zh-hans"):
        job = analysed(manager, text, "orders")
        dry = dry_report(job)
        ran = run_report(job, django_capture_on_commit_callbacks)

    assert dry == ran == (counts(5, 1, 4, 0), [refused])
    assert job.dry_run["errors"] == [
        {"row": 4, "field": "number", "value": "X-1", "message": refused[2]}
    ]
    assert Order.objects.get(number="X-1").lines.count() == 3


def test_an_order_refused_in_an_earlier_batch_is_begun_by_its_next_line_in_both_runs(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "customer code,order number,order date,product code,quantity,unit price\n"
        f"{customer.code},G-1,2026-03-01,GHOST,1,5\n"  # no such product: the order is refused
        f"{customer.code},G-2,2026-03-01,,1,5\n"
        f"{customer.code},G-1,2026-03-01,,2,5\n"
        f"{customer.code},G-1,2026-03-01,,3,5\n"
    )
    job = analysed(manager, text, "orders")
    dry = dry_report(job)

    ran = run_report(job, django_capture_on_commit_callbacks)

    refused = (2, "product_code", "Column “product code”: No product has this code.")
    assert dry == ran == (counts(4, 1, 3, 0), [refused])
    assert Order.objects.get(number="G-1").lines.count() == 2


def test_lines_taking_an_order_past_the_largest_total_in_a_later_batch_are_refused_by_both_runs(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "customer code,order number,order date,quantity,unit price\n"
        f"{customer.code},L-1,2026-03-01,1,600000000000\n"
        f"{customer.code},L-2,2026-03-01,1,5\n"
        f"{customer.code},L-1,2026-03-01,1,600000000000\n"  # 1.2 trillion in all: too large
        f"{customer.code},L-1,2026-03-01,1,5\n"
    )
    job = analysed(manager, text, "orders")
    dry = dry_report(job)

    ran = run_report(job, django_capture_on_commit_callbacks)

    too_large = "Column “lines”: The order total is too large."
    assert dry == ran == (counts(4, 2, 2, 0), [(4, "lines", too_large), (5, "lines", too_large)])
    assert Order.objects.get(number="L-1").lines.count() == 1


def test_an_invoice_number_repeated_in_a_later_batch_is_skipped_by_both_runs(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    long_number = "N" * 32
    text = (
        "customer code,invoice number,issue date,amount\n"
        f"{customer.code},FP-1,2026-03-01,100\n"
        f"{customer.code},{long_number}-A,2026-03-01,200\n"  # kept as its first 32 characters
        f"{customer.code},FP-1,2026-03-02,300\n"
        f"{customer.code},{long_number}-B,2026-03-02,400\n"
    )
    job = analysed(manager, text, "invoices")
    dry = dry_report(job)

    ran = run_report(job, django_capture_on_commit_callbacks)

    assert dry == ran == (counts(4, 0, 2, 2), [])
    assert sorted(Invoice.objects.values_list("number", "amount")) == [
        ("FP-1", 100),
        (long_number, 200),
    ]


def test_payments_after_earlier_batches_paid_their_invoice_are_refused_or_skipped_by_both_runs(
    manager: Any,
    customer: Any,
    issue_invoice: Callable[..., Invoice],
    django_capture_on_commit_callbacks: Any,
) -> None:
    dates = {"issued_on": "2026-01-01", "due_on": "2026-01-31"}
    issue_invoice(customer, "100.00", number="PV-1", **dates)
    issue_invoice(customer, "100.00", number="PV-2", **dates)
    text = (
        "invoice number,paid on,amount,reference\n"
        "PV-1,2026-02-03,60,T-1\n"
        "PV-2,2026-02-03,70,T-4\n"
        "PV-1,2026-02-04,40,T-2\n"  # PV-1 paid in full
        "PV-2,2026-02-04,50,T-5\n"  # more than the 30 still owed
        "PV-1,2026-02-05,10,T-3\n"  # PV-1 is paid: not open
        "PV-1,2026-02-05,60,T-1\n"  # T-1 again: already recorded
    )
    job = analysed(manager, text, "payments")
    dry = dry_report(job)

    ran = run_report(job, django_capture_on_commit_callbacks)

    over = "Column “amount”: The payment is more than the 30.00 outstanding on this invoice."
    closed = "Column “invoice number”: This invoice is not open for payment."
    assert dry == ran == (counts(6, 2, 3, 1), [(5, "amount", over), (6, "invoice_number", closed)])
    assert sorted(Payment.objects.values_list("reference", flat=True)) == ["T-1", "T-2", "T-4"]


def test_a_snapshot_day_repeated_in_a_later_batch_is_skipped_by_both_runs(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "customer code,as of,aum\n"
        f"{customer.code},2026-01-31,1000\n"
        f"{customer.code},2026-02-28,2000\n"
        f"{customer.code},2026-01-31,3000\n"  # the same day again: skipped
    )
    job = analysed(manager, text, "holdings")
    dry = dry_report(job)

    ran = run_report(job, django_capture_on_commit_callbacks)

    assert dry == ran == (counts(3, 0, 2, 1), [])
    assert HoldingSnapshot.objects.count() == 2


def test_an_order_dated_in_the_future_is_refused_by_the_dry_run_as_by_the_run(
    manager: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "customer code,order number,order date,amount\n"
        f"{customer.code},F-1,2099-01-01,10\n"
        f"{customer.code},F-2,2026-03-01,10\n"
    )
    job = analysed(manager, text, "orders")
    dry = dry_report(job)

    ran = run_report(job, django_capture_on_commit_callbacks)

    future = "Column “order date”: The order date cannot be more than a day in the future."
    assert dry == ran == (counts(2, 1, 1, 0), [(2, "ordered_at", future)])
    assert list(Order.objects.values_list("number", flat=True)) == ["F-2"]
