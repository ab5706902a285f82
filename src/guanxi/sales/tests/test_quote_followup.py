"""Quotes after the first cut: approvers are notified (in the app and by email) and the
author hears the decision; each instalment of a payment plan is a commerce invoice whose
payments mark it paid and feed credit grading; the deal's history names stages and
contacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.models import Notification
from guanxi.commerce.models import Invoice, Payment, Product
from guanxi.commerce.services import payment_record
from guanxi.grading.metrics import metrics_refresh
from guanxi.grading.models import CustomerGrade, CustomerMetrics, Scheme, Tier
from guanxi.sales.models import Instalment
from guanxi.sales.services import (
    opportunity_lines_set,
    opportunity_move,
    opportunity_update,
    quote_accept,
    quote_create,
    quote_decide,
    quote_submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(db: Any) -> Product:
    return Product.objects.create(code="GX-2", name="会议平板 Meeting board", list_price=10000)


@pytest.fixture
def tier(customer: Any) -> Tier:
    """The customer's tier allows 8 % discount without approval."""
    scheme = Scheme.objects.create(
        code="value",
        name_zh="价值",
        name_en="Value",
        method="thresholds",
        is_active=True,
        is_primary=True,
    )
    found = Tier.objects.create(
        scheme=scheme, code="gold", name_zh="金牌", name_en="Gold", rank=1, max_discount_percent=8
    )
    CustomerGrade.objects.create(customer=customer, scheme=scheme, tier=found)
    return found


@pytest.fixture
def quote_for(
    rep: Any, customer: Any, product: Product, make_deal: Callable[..., Any], tier: Tier
) -> Callable[[str], Any]:
    """A draft quote of the rep for two boards (20,000 before discount)."""

    def make(discount: str) -> Any:
        deal = opportunity_lines_set(
            actor=rep,
            opportunity=make_deal(rep, customer),
            lines=[{"product_id": product.pk, "quantity": 2, "discount": discount}],
        )
        return quote_create(actor=rep, opportunity=deal)

    return make


def test_a_quote_over_the_limit_notifies_and_emails_the_managers_above_the_rep(
    rep: Any,
    make_user: Any,
    teams: dict[str, Any],
    quote_for: Callable[[str], Any],
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    boss = make_user("sales-manager", teams["sales"], username="boss.sales", email="b@x.cn")
    make_user("sales-manager", teams["north"], username="boss.north", email="n@x.cn")
    make_user("sales-manager", teams["other"], username="boss.other", email="o@x.cn")
    make_user("sales-rep", teams["east"], username="peer", email="p@x.cn")
    quote = quote_for("15")

    with django_capture_on_commit_callbacks(execute=True):
        quote_submit(actor=rep, quote=quote)

    notes = list(Notification.objects.select_related("user"))
    assert [(n.user.username, n.url) for n in notes] == [
        ("boss.sales", reverse("sales:quote", args=[quote.pk]))
    ]
    assert quote.number in notes[0].title
    assert "15" in notes[0].body
    assert "8" in notes[0].body
    mails = smtp_server.wait_for(1)
    assert [(m["To"], m["Subject"]) for m in mails] == [("b@x.cn", notes[0].title)]
    assert boss.email == "b@x.cn"


def test_a_quote_within_the_limit_notifies_nobody(
    rep: Any, manager: Any, quote_for: Callable[[str], Any]
) -> None:
    quote_submit(actor=rep, quote=quote_for("5"))

    assert not Notification.objects.exists()


def test_the_author_hears_of_a_rejection_with_its_reason_by_email(
    make_user: Any,
    teams: dict[str, Any],
    rep: Any,
    manager: Any,
    quote_for: Callable[[str], Any],
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    rep.email = "rep@x.cn"
    rep.save(update_fields=["email"])
    quote = quote_submit(actor=rep, quote=quote_for("15"))

    with django_capture_on_commit_callbacks(execute=True):
        quote_decide(actor=manager, quote=quote, approve=False, comment="折扣太大")

    note = Notification.objects.get(user=rep)
    assert quote.number in note.title
    assert note.body == "折扣太大"
    mails = smtp_server.wait_for(1)
    assert [m["To"] for m in mails] == ["rep@x.cn"]
    assert "折扣太大" in mails[0].get_content()


def test_the_author_is_notified_of_an_approval(
    rep: Any, manager: Any, quote_for: Callable[[str], Any]
) -> None:
    quote = quote_submit(actor=rep, quote=quote_for("15"))

    quote_decide(actor=manager, quote=quote, approve=True, comment="同意")

    assert Notification.objects.filter(user=rep, url__endswith=f"/{quote.pk}/").count() == 1


def _accepted(rep: Any, manager: Any, quote_for: Callable[[str], Any]) -> Any:
    quote = quote_submit(actor=rep, quote=quote_for("5"))  # total 19,000
    today = timezone.localdate()
    return quote_accept(
        actor=manager,
        quote=quote,
        instalments=[
            {"due_on": today, "amount": "9000"},
            {"due_on": today + dt.timedelta(days=60), "amount": "10000"},
        ],
    )


def test_each_instalment_is_an_invoice_of_the_order(
    rep: Any, manager: Any, quote_for: Callable[[str], Any]
) -> None:
    quote = _accepted(rep, manager, quote_for)

    rows = list(Instalment.objects.filter(quote=quote).select_related("invoice"))
    today = timezone.localdate()
    assert [
        (r.invoice.order_id, r.invoice.customer_id, r.invoice.due_on, r.invoice.amount)
        for r in rows
        if r.invoice is not None
    ] == [
        (quote.order_id, quote.opportunity.customer_id, today, Decimal("9000.00")),
        (
            quote.order_id,
            quote.opportunity.customer_id,
            today + dt.timedelta(days=60),
            Decimal("10000.00"),
        ),
    ]
    assert all(r.invoice is not None and r.invoice.number for r in rows)


def test_a_payment_against_an_instalment_marks_it_paid_and_feeds_credit_grading(
    rep: Any, manager: Any, quote_for: Callable[[str], Any]
) -> None:
    quote = _accepted(rep, manager, quote_for)
    first = Instalment.objects.select_related("invoice").get(quote=quote, sequence=1)
    assert first.invoice is not None

    payment_record(actor=manager, invoice=first.invoice, amount="9000", reference="BK-1")

    invoice = Invoice.objects.get(pk=first.invoice.pk)
    assert (invoice.status, invoice.paid_amount) == ("paid", Decimal("9000.00"))
    assert Payment.objects.filter(invoice=invoice, customer=quote.opportunity.customer).exists()
    metrics_refresh(groups={"invoices"})
    metrics = CustomerMetrics.objects.get(customer=quote.opportunity.customer)
    # Only the first instalment is due yet, and it is paid in full on time.
    assert (metrics.payment_recovery_24m, metrics.max_days_to_pay_24m) == (Decimal("100.00"), 0)
    assert metrics.overdue_amount == 0


def test_the_quote_page_shows_paid_and_outstanding_per_instalment(
    rep: Any, manager: Any, quote_for: Callable[[str], Any], client: Client
) -> None:
    quote = _accepted(rep, manager, quote_for)
    first = Instalment.objects.select_related("invoice").get(quote=quote, sequence=1)
    assert first.invoice is not None
    client.force_login(manager)
    payment_url = reverse("commerce:payment-record", args=[first.invoice.pk])
    client.post(payment_url, {"amount": "4000", "method": "bank_transfer"})

    html = client.get(reverse("sales:quote", args=[quote.pk]), HTTP_ACCEPT_LANGUAGE="en").content
    page = html.decode()

    assert Invoice.objects.get(pk=first.invoice.pk).paid_amount == Decimal("4000.00")
    table = page[page.index('id="instalments"') :]
    row1 = table[table.index('data-instalment="1"') : table.index('data-instalment="2"')]
    row2 = table[table.index('data-instalment="2"') : table.index("</tbody>")]
    assert 'data-invoice-status="partly_paid"' in row1
    assert "4,000.00" in row1
    assert "5,000.00" in row1
    assert first.invoice.number in row1
    assert 'data-invoice-status="open"' in row2
    assert "10,000.00" in row2


def test_the_deal_history_names_the_stage_and_contact(
    rep: Any, customer: Any, contact: Any, stages: list[Any], make_deal: Any, client: Client
) -> None:
    deal = make_deal(rep, customer)
    deal = opportunity_update(
        actor=rep, opportunity=deal, values={"contact": contact}, version=deal.version
    )
    opportunity_move(actor=rep, opportunity=deal, stage=stages[1], version=deal.version)
    client.force_login(rep)

    page = client.get(reverse("sales:detail", args=[deal.pk]), HTTP_ACCEPT_LANGUAGE="en")

    history = page.content.decode().split('id="deal-history"')[1].split("</ul>")[0]
    assert f"{stages[0].name} → {stages[1].name}" in history
    assert "— → 陈静" in history


def test_the_api_shows_each_instalments_invoice_and_what_is_paid(
    rep: Any,
    manager: Any,
    quote_for: Callable[[str], Any],
    client: Client,
    bearer: Callable[..., Any],
) -> None:
    quote = _accepted(rep, manager, quote_for)
    first = Instalment.objects.select_related("invoice").get(quote=quote, sequence=1)
    assert first.invoice is not None
    payment_record(actor=manager, invoice=first.invoice, amount="9000")

    body = client.get(f"/api/v1/quotes/{quote.pk}", headers=bearer(manager)).json()

    assert [
        (i["sequence"], i["invoice_number"] is not None, i["paid_amount"], i["outstanding"])
        for i in body["instalments"]
    ] == [(1, True, "9000.00", "0.00"), (2, True, "0.00", "10000.00")]
    assert [i["status"] for i in body["instalments"]] == ["paid", "open"]
