"""Quotes: the discount limit from the customer's tier policy and the author's role, manager
approval over it, acceptance into an order with a payment plan and its reminders, printing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from guanxi.commerce.models import Order, Product
from guanxi.core.errors import DomainError
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
