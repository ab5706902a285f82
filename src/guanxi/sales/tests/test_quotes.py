"""Quotes: the discount limit from the customer's tier policy and the author's role, manager
approval over it, acceptance into an order with a payment plan and its reminders, printing."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.utils import timezone

from guanxi.commerce.models import Invoice, Order, Product
from guanxi.commerce.services import payment_record
from guanxi.core.errors import DomainError
from guanxi.core.permissions import has_perm
from guanxi.grading.models import CustomerGrade, Scheme, Tier
from guanxi.sales.models import Instalment, Quote
from guanxi.sales.services import (
    opportunity_lines_set,
    quote_accept,
    quote_create,
    quote_decide,
    quote_submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(db: Any) -> Product:
    return Product.objects.create(code="GX-1", name="会议平板 Meeting board", list_price=10000)


@pytest.fixture
def quoted_deal(
    rep: Any, customer: Any, product: Product, make_deal: Callable[..., Any]
) -> Callable[[str], Any]:
    def make(discount: str) -> Any:
        deal = make_deal(rep, customer)
        return opportunity_lines_set(
            actor=rep,
            opportunity=deal,
            lines=[{"product_id": product.pk, "quantity": 2, "discount": discount}],
        )

    return make


@pytest.fixture
def gold_tier(customer: Any) -> Tier:
    """The customer is in a tier whose service policy allows 8 % discount."""
    scheme = Scheme.objects.create(
        code="value",
        name_zh="价值",
        name_en="Value",
        method="thresholds",
        is_active=True,
        is_primary=True,
    )
    tier = Tier.objects.create(
        scheme=scheme,
        code="gold",
        name_zh="金牌",
        name_en="Gold",
        rank=1,
        max_discount_percent=Decimal(8),
    )
    CustomerGrade.objects.create(customer=customer, scheme=scheme, tier=tier)
    return tier


def test_a_quote_copies_the_deals_lines_and_totals(rep: Any, quoted_deal: Any) -> None:
    deal = quoted_deal("10")

    quote = quote_create(actor=rep, opportunity=deal)

    assert (quote.number, quote.subtotal, quote.discount_total, quote.total) == (
        f"QT{quote.pk:08d}",
        Decimal("20000.00"),
        Decimal("2000.00"),
        Decimal("18000.00"),
    )
    assert quote.lines.count() == 1


def test_a_discount_within_the_tier_policy_is_approved_at_once(
    rep: Any, quoted_deal: Any, gold_tier: Tier
) -> None:
    quote = quote_create(actor=rep, opportunity=quoted_deal("8"))

    submitted = quote_submit(actor=rep, quote=quote)

    assert (submitted.status, submitted.discount_limit) == ("approved", Decimal("8.00"))


def test_a_discount_over_the_limit_waits_for_a_manager(
    rep: Any, manager: Any, quoted_deal: Any, gold_tier: Tier
) -> None:
    quote = quote_create(actor=rep, opportunity=quoted_deal("15"))

    submitted = quote_submit(actor=rep, quote=quote)
    approved = quote_decide(actor=manager, quote=quote, approve=True, comment="大客户，同意")

    assert submitted.status == "pending"
    assert (approved.status, approved.decided_by, approved.decision_comment) == (
        "approved",
        manager,
        "大客户，同意",
    )


def test_a_rep_cannot_approve_and_a_rejection_needs_a_reason(
    rep: Any, manager: Any, quoted_deal: Any
) -> None:
    quote = quote_submit(actor=rep, quote=quote_create(actor=rep, opportunity=quoted_deal("5")))

    with pytest.raises(PermissionDenied):
        quote_decide(actor=rep, quote=quote, approve=True)
    with pytest.raises(DomainError):
        quote_decide(actor=manager, quote=quote, approve=False, comment="")

    assert Quote.objects.get(pk=quote.pk).status == "pending"


def test_a_manager_cannot_approve_beyond_their_own_limit(
    rep: Any, manager: Any, quoted_deal: Any, gold_tier: Tier
) -> None:
    quote = quote_submit(actor=rep, quote=quote_create(actor=rep, opportunity=quoted_deal("30")))

    with pytest.raises(DomainError):
        quote_decide(actor=manager, quote=quote, approve=True, comment="ok")

    assert Quote.objects.get(pk=quote.pk).status == "pending"


def test_accepting_makes_an_order_and_reminds_before_each_instalment(
    rep: Any, manager: Any, quoted_deal: Any, gold_tier: Tier
) -> None:
    from guanxi.activities.models import Task

    quote = quote_submit(actor=rep, quote=quote_create(actor=rep, opportunity=quoted_deal("5")))
    today = timezone.localdate()
    plan = [
        {"due_on": today + dt.timedelta(days=30), "amount": "9500"},
        {"due_on": today + dt.timedelta(days=60), "amount": "9500"},
    ]

    accepted = quote_accept(actor=manager, quote=quote, instalments=plan)

    order = Order.objects.get(pk=accepted.order_id)
    assert (accepted.status, order.total_amount) == ("accepted", Decimal("19000.00"))
    reminders = Task.objects.filter(pk__in=Instalment.objects.values("reminder_task_id")).order_by(
        "due_at"
    )
    assert [(t.owner_id, t.remind_at.date()) for t in reminders] == [
        (rep.pk, today + dt.timedelta(days=27)),
        (rep.pk, today + dt.timedelta(days=57)),
    ]


def test_instalments_that_do_not_add_up_are_refused_and_nothing_is_ordered(
    rep: Any, manager: Any, quoted_deal: Any, gold_tier: Tier
) -> None:
    quote = quote_submit(actor=rep, quote=quote_create(actor=rep, opportunity=quoted_deal("5")))

    with pytest.raises(DomainError):
        quote_accept(
            actor=manager,
            quote=quote,
            instalments=[{"due_on": timezone.localdate(), "amount": "100"}],
        )

    assert (Order.objects.count(), Quote.objects.get(pk=quote.pk).status) == (0, "approved")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_quote_prints_as_pdf_in_both_languages(
    login: Callable[..., Client], rep: Any, quoted_deal: Any, lang: str
) -> None:
    quote = quote_create(actor=rep, opportunity=quoted_deal("0"))

    response = login(rep).get(f"/sales/quotes/{quote.pk}/print/?format=pdf&lang={lang}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_printable_quote_page_is_in_chinese_on_request(
    login: Callable[..., Client], rep: Any, quoted_deal: Any
) -> None:
    quote = quote_create(actor=rep, opportunity=quoted_deal("0"))

    response = login(rep).get(f"/sales/quotes/{quote.pk}/print/?lang=zh")

    assert "报价单" in response.content.decode()


def test_the_api_submits_a_quote_over_the_limit_for_approval(
    client: Client, rep: Any, quoted_deal: Any, bearer: Callable[..., Any]
) -> None:
    deal = quoted_deal("12")
    headers = bearer(rep)
    created = client.post(
        f"/api/v1/opportunities/{deal.pk}/quotes",
        "{}",
        content_type="application/json",
        headers=headers,
    ).json()

    response = client.post(
        f"/api/v1/quotes/{created['id']}/submit",
        json.dumps({"version": created["version"]}),
        content_type="application/json",
        headers=headers,
    )

    assert (response.status_code, response.json()["status"]) == (200, "pending")


@pytest.fixture
def approved_quote(rep: Any, quoted_deal: Any, gold_tier: Tier) -> Quote:
    """A quote of the rep's deal for 19,000.00, approved at once (5 % is within the tier's 8 %)."""
    quote = quote_submit(actor=rep, quote=quote_create(actor=rep, opportunity=quoted_deal("5")))
    assert quote.status == "approved"
    return quote


def _plan(*amounts: str) -> list[dict[str, Any]]:
    today = timezone.localdate()
    return [
        {"due_on": today + dt.timedelta(days=30 * n), "amount": amount}
        for n, amount in enumerate(amounts, start=1)
    ]


def test_a_rep_without_commerce_create_accepts_the_quote_of_their_deal_into_an_order(
    rep: Any, approved_quote: Quote
) -> None:
    assert not has_perm(rep, "commerce.create")

    accepted = quote_accept(actor=rep, quote=approved_quote, instalments=_plan("9500", "9500"))

    order = Order.objects.get(pk=accepted.order_id)
    assert (accepted.status, order.total_amount, order.owner_id) == (
        "accepted",
        Decimal("19000.00"),
        rep.pk,
    )
    assert list(
        Invoice.objects.filter(order=order).order_by("due_on").values_list("amount", flat=True)
    ) == [Decimal("9500.00"), Decimal("9500.00")]


def test_the_quote_page_lets_a_rep_accept_and_the_order_is_made(
    login: Callable[..., Client], rep: Any, approved_quote: Quote
) -> None:
    client = login(rep)
    page = client.get(f"/sales/quotes/{approved_quote.pk}/").content.decode()

    response = client.post(
        f"/sales/quotes/{approved_quote.pk}/accept/",
        {"version": approved_quote.version, "due_on": "", "amount": ""},
    )

    assert 'id="accept-form"' in page
    assert response.status_code == 302
    quote = Quote.objects.get(pk=approved_quote.pk)
    assert (quote.status, Order.objects.get(pk=quote.order_id).total_amount) == (
        "accepted",
        Decimal("19000.00"),
    )


@pytest.mark.parametrize(
    ("who", "refusal"), [("other_rep", Http404), ("analyst", PermissionDenied)]
)
def test_a_user_who_may_not_edit_the_deal_cannot_accept_its_quote(
    request: pytest.FixtureRequest, approved_quote: Quote, who: str, refusal: type[Exception]
) -> None:
    actor = request.getfixturevalue(who)

    with pytest.raises(refusal):
        quote_accept(actor=actor, quote=approved_quote, instalments=_plan("19000"))

    assert (Order.objects.count(), Invoice.objects.count()) == (0, 0)
    assert Quote.objects.get(pk=approved_quote.pk).status == "approved"


@pytest.fixture
def partly_paid_quote(rep: Any, manager: Any, approved_quote: Quote) -> Quote:
    """Accepted with three instalments: the first paid in full, 2,000.00 paid on the second,
    nothing on the third."""
    accepted = quote_accept(
        actor=rep, quote=approved_quote, instalments=_plan("9500", "8500", "1000")
    )
    invoices = list(Invoice.objects.filter(order_id=accepted.order_id).order_by("due_on"))
    payment_record(actor=manager, invoice=invoices[0], amount="9500")
    payment_record(actor=manager, invoice=invoices[1], amount="2000")
    return accepted


PRINTED_PLAN = {
    "en": [
        ("1", "9,500.00", "9,500.00", "0.00", "Paid"),
        ("2", "8,500.00", "2,000.00", "6,500.00", "Partly paid"),
        ("3", "1,000.00", "0.00", "1,000.00", "Unpaid"),
        ("Total", "19,000.00", "11,500.00", "7,500.00", ""),
    ],
    "zh": [
        ("1", "9500.00", "9500.00", "0.00", "已付清"),
        ("2", "8500.00", "2000.00", "6500.00", "部分回款"),
        ("3", "1000.00", "0.00", "1000.00", "未回款"),
        ("合计", "19000.00", "11500.00", "7500.00", ""),
    ],
}


def _cells(html: str, table_id: str) -> list[tuple[str, ...]]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]  # the header row left out
    return [
        tuple(
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        )
        for row in rows
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_printable_quote_shows_what_is_paid_and_outstanding_per_instalment(
    login: Callable[..., Client], rep: Any, partly_paid_quote: Quote, lang: str
) -> None:
    response = login(rep).get(f"/sales/quotes/{partly_paid_quote.pk}/print/?lang={lang}")

    cells = _cells(response.content.decode(), "print-plan")
    assert [(row[0], *row[2:]) for row in cells[:3]] + cells[3:] == PRINTED_PLAN[lang]


def _pdf_text(pdf: bytes) -> list[str]:
    """The strings shown on the PDF's pages (reportlab: ASCII85 + Flate content streams, text
    in the CID font as UTF-16BE literal strings)."""
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)~>\s*endstream", pdf, re.S):
        content = zlib.decompress(base64.a85decode(re.sub(rb"\s", b"", stream)))
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S):
            raw = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else escapes.get(m[1], m[1]),
                literal,
                flags=re.S,
            )
            shown.append(raw.decode("utf-16-be"))
    return shown


@pytest.mark.parametrize(
    ("lang", "states"),
    [("en", ["Paid", "Partly paid", "Unpaid"]), ("zh", ["已付清", "部分回款", "未回款"])],
)
def test_the_quote_pdf_shows_the_payment_state_of_each_instalment(
    login: Callable[..., Client], rep: Any, partly_paid_quote: Quote, lang: str, states: list[str]
) -> None:
    response = login(rep).get(f"/sales/quotes/{partly_paid_quote.pk}/print/?format=pdf&lang={lang}")

    shown = _pdf_text(response.content)
    due = [(timezone.localdate() + dt.timedelta(days=30 * n)).isoformat() for n in (1, 2, 3)]
    rows = [
        ["1", due[0], "9,500.00", "9,500.00", "0.00", states[0]],
        ["2", due[1], "8,500.00", "2,000.00", "6,500.00", states[1]],
        ["3", due[2], "1,000.00", "0.00", "1,000.00", states[2]],
        ["19,000.00", "11,500.00", "7,500.00"],  # the totals
    ]
    assert [any(shown[i : i + len(row)] == row for i in range(len(shown))) for row in rows] == [
        True,
        True,
        True,
        True,
    ]
