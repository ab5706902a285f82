"""Rules of the opportunity commands: creation, stage moves, closing, lines, stale edits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from guanxi.core.errors import DomainError, StaleEdit
from guanxi.sales.models import CloseReason, Opportunity, StageVisit
from guanxi.sales.services import (
    opportunity_close,
    opportunity_create,
    opportunity_lines_set,
    opportunity_move,
    opportunity_update,
)

pytestmark = pytest.mark.django_db(transaction=False)


def test_a_new_deal_starts_in_the_first_stage_owned_by_its_creator(
    rep: Any, customer: Any, stages: list[Any]
) -> None:
    deal = opportunity_create(actor=rep, customer=customer, name="ERP", amount=Decimal("5000"))

    assert (deal.stage, deal.owner, deal.team, deal.status, deal.amount) == (
        stages[0],
        rep,
        rep.team,
        "open",
        Decimal("5000.00"),
    )
    assert list(StageVisit.objects.values_list("stage_id", "left_at")) == [(stages[0].pk, None)]


def test_a_negative_amount_is_refused_and_nothing_is_created(rep: Any, customer: Any) -> None:
    with pytest.raises(DomainError) as error:
        opportunity_create(actor=rep, customer=customer, name="ERP", amount=Decimal("-1"))

    assert error.value.field == "amount"
    assert Opportunity.objects.count() == 0


def test_a_close_date_far_in_the_past_is_refused_on_a_new_deal(rep: Any, customer: Any) -> None:
    long_ago = timezone.localdate() - dt.timedelta(days=90)

    with pytest.raises(DomainError) as error:
        opportunity_create(actor=rep, customer=customer, name="ERP", expected_close=long_ago)

    assert error.value.field == "expected_close"
    assert Opportunity.objects.count() == 0


def test_a_customer_outside_the_actors_scope_is_not_found(other_rep: Any, customer: Any) -> None:
    with pytest.raises(Http404):
        opportunity_create(actor=other_rep, customer=customer, name="ERP")

    assert Opportunity.objects.count() == 0


def test_moving_into_a_stage_with_missing_required_fields_is_refused(
    rep: Any, customer: Any, stages: list[Any], make_deal: Callable[..., Any]
) -> None:
    deal = make_deal(rep, customer)  # no contact, which "Needs analysis" requires

    with pytest.raises(DomainError) as error:
        opportunity_move(actor=rep, opportunity=deal, stage=stages[1])

    assert [e["field"] for e in error.value.errors] == ["contact"]
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (stages[0], 1)


def test_moving_a_deal_records_the_stage_visits_and_publishes_the_change(
    rep: Any,
    customer: Any,
    contact: Any,
    stages: list[Any],
    make_deal: Callable[..., Any],
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    deal = make_deal(rep, customer, contact=contact)

    with django_capture_on_commit_callbacks(execute=True):
        moved = opportunity_move(actor=rep, opportunity=deal, stage=stages[1], version=1)

    assert (moved.stage, moved.version) == (stages[1], 2)
    visits = list(StageVisit.objects.order_by("pk"))
    assert [(v.stage_id, v.left_at is None) for v in visits] == [
        (stages[0].pk, False),
        (stages[1].pk, True),
    ]
    assert [name for name, _payload in published] == ["opportunity.stage_changed"]
    assert published[0][1]["to_stage_id"] == stages[1].pk


def test_a_user_who_may_not_edit_the_deal_cannot_move_it(
    rep: Any, analyst: Any, customer: Any, stages: list[Any], make_deal: Callable[..., Any]
) -> None:
    deal = make_deal(rep, customer, expected_close=None)

    with pytest.raises(PermissionDenied):
        opportunity_move(actor=analyst, opportunity=deal, stage=stages[1])

    deal.refresh_from_db()
    assert deal.stage == stages[0]


def test_a_stale_edit_is_refused_and_the_newer_value_kept(
    rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    deal = make_deal(rep, customer)
    opportunity_update(actor=rep, opportunity=deal, values={"next_step": "Demo"}, version=1)

    with pytest.raises(StaleEdit):
        opportunity_update(actor=rep, opportunity=deal, values={"next_step": "Call"}, version=1)

    deal.refresh_from_db()
    assert (deal.next_step, deal.version) == ("Demo", 2)


def test_closing_as_lost_needs_a_lost_reason(
    rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    deal = make_deal(rep, customer)
    won_reason = CloseReason.objects.filter(kind="won").first()

    with pytest.raises(DomainError):
        opportunity_close(actor=rep, opportunity=deal, status="lost", reason=won_reason)

    deal.refresh_from_db()
    assert deal.status == "open"


def test_winning_a_deal_closes_its_stage_visit_and_publishes_the_win(
    rep: Any,
    customer: Any,
    make_deal: Callable[..., Any],
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    deal = make_deal(rep, customer)
    reason = CloseReason.objects.filter(kind="won").first()

    with django_capture_on_commit_callbacks(execute=True):
        won = opportunity_close(actor=rep, opportunity=deal, status="won", reason=reason)

    assert (won.status, won.close_reason, won.version) == ("won", reason, 2)
    assert not StageVisit.objects.filter(left_at__isnull=True).exists()
    assert published == [
        (
            "opportunity.won",
            {
                "opportunity_id": deal.pk,
                "customer_id": customer.pk,
                "reason_id": reason.pk,
                "actor_id": rep.pk,
            },
        )
    ]


def test_product_lines_set_the_amount_to_their_discounted_total(
    rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    from guanxi.commerce.models import Product

    product = Product.objects.create(code="P-1", name="License", list_price=Decimal("1999.00"))
    deal = make_deal(rep, customer, amount=Decimal("1"))

    updated = opportunity_lines_set(
        actor=rep,
        opportunity=deal,
        lines=[{"product_id": product.pk, "quantity": "3", "discount": "10"}],
    )

    assert updated.amount == Decimal("5397.30")  # 3 × 1999 × 90 %
