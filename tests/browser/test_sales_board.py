"""The sales board in Chromium: dragging a deal card to another stage moves the deal; a move
into a stage whose required fields are missing is refused with the reason, and nothing moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, PageProblems

pytestmark = pytest.mark.browser


@pytest.fixture
def make_deal(make_user: Callable[..., Any], teams: dict[str, Any]) -> Callable[..., Any]:
    from guanxi.customers.services import contact_create, customer_create
    from guanxi.sales.services import defaults_ensure, opportunity_create

    defaults_ensure()
    rep = make_user("sales-rep", teams["east"], username="li.na", display_name="Li Na")
    customer = customer_create(actor=rep, values={"kind": "enterprise", "name": "华星科技"})

    def make(*, with_contact: bool) -> Any:
        contact = (
            contact_create(actor=rep, customer=customer, values={"name": "陈静"})
            if with_contact
            else None
        )
        return opportunity_create(
            actor=rep,
            customer=customer,
            name="云平台采购",
            amount=Decimal("120000"),
            contact=contact,
            expected_close=timezone.localdate() + dt.timedelta(days=30),
        )

    return make


def _column(tab: Page, order: int) -> Any:
    return tab.locator("[data-stage-drop]").nth(order)


def test_dragging_a_card_to_another_stage_moves_the_deal(
    make_deal: Callable[..., Any],
    sign_in: Callable[[str, str], None],
    tab: Page,
    live_server: Any,
    problems: PageProblems,
) -> None:
    deal = make_deal(with_contact=True)
    sign_in("li.na", PASSWORD)
    tab.goto(f"{live_server.url}/sales/")
    card = tab.locator(f"[data-deal-card='{deal.pk}']")
    expect(_column(tab, 0).locator("[data-deal-card]")).to_have_count(1)

    card.drag_to(_column(tab, 2).locator("[data-cards]"))

    expect(_column(tab, 2).locator(f"[data-deal-card='{deal.pk}']")).to_be_visible()
    expect(_column(tab, 0).locator("[data-deal-card]")).to_have_count(0)
    expect(_column(tab, 2).locator("[data-count]")).to_have_text("1")
    deal.refresh_from_db()
    assert (deal.stage.order, deal.version) == (3, 2)
    assert (problems.console_errors, problems.page_errors, problems.csp_violations) == ([], [], [])


def test_dragging_a_card_into_a_stage_with_missing_fields_is_refused(
    make_deal: Callable[..., Any],
    sign_in: Callable[[str, str], None],
    tab: Page,
    live_server: Any,
    problems: PageProblems,
) -> None:
    from guanxi.sales.models import Opportunity

    deal = make_deal(with_contact=False)
    sign_in("li.na", PASSWORD)
    tab.goto(f"{live_server.url}/sales/")

    tab.locator(f"[data-deal-card='{deal.pk}']").drag_to(
        _column(tab, 1).locator("[data-cards]")  # "Needs analysis" needs a contact
    )

    expect(tab.locator("#board-error")).to_contain_text("contact")
    expect(_column(tab, 0).locator(f"[data-deal-card='{deal.pk}']")).to_be_visible()
    expect(_column(tab, 1).locator("[data-deal-card]")).to_have_count(0)
    assert Opportunity.objects.get(pk=deal.pk).stage.order == 1
    assert (problems.page_errors, problems.csp_violations) == ([], [])
