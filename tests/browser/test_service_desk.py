"""The service desk in Chromium: an agent finds a new ticket in the queue, writes an internal
note and a public reply without a page load, resolves it, and the clocks show the outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, PageProblems

pytestmark = pytest.mark.browser


@pytest.fixture
def ticket(make_user: Callable[..., Any], teams: dict[str, Any], admin_user: Any) -> Any:
    from guanxi.customers.services import customer_create
    from guanxi.service.models import BusinessCalendar, SlaPolicy
    from guanxi.service.services import ticket_open

    agent = make_user("service-agent", teams["service"], username="chen.jing")
    customer = customer_create(
        actor=admin_user, values={"kind": "enterprise", "name": "华信科技"}, team=teams["service"]
    )
    calendar = BusinessCalendar.objects.create(
        name="24x7",
        time_zone="Asia/Shanghai",
        hours={str(d): [["00:00", "24:00"]] for d in range(1, 8)},
    )
    SlaPolicy.objects.create(
        name="Standard",
        priority="normal",
        first_response_minutes=60,
        resolution_minutes=480,
        calendar=calendar,
    )
    return ticket_open(actor=agent, customer=customer, subject="打印机无法连接", description="X100")


def test_an_agent_replies_and_resolves_a_ticket_from_the_queue(
    ticket: Any,
    sign_in: Callable[[str, str], None],
    tab: Page,
    live_server: Any,
    problems: PageProblems,
) -> None:
    sign_in("chen.jing", PASSWORD)
    tab.goto(f"{live_server.url}/service/?queue=unassigned")
    tab.get_by_role("link", name=ticket.number).click()
    expect(tab.locator("[data-clock=running]")).to_have_count(2)

    tab.get_by_label("Message").fill("已联系客户，查日志")
    tab.get_by_label("Internal note (not sent to the customer)").check()
    tab.get_by_role("button", name="Send").click()
    expect(tab.locator("[data-internal]")).to_have_count(1)
    tab.get_by_label("Message").fill("您好，驱动已更新，请重试。")
    tab.get_by_role("button", name="Send").click()
    expect(tab.locator("[data-message]")).to_have_count(2)
    expect(tab.locator("[data-clock=met]")).to_have_count(1)
    tab.locator("[data-status=resolved]").click()

    expect(tab.locator("#ticket-status")).to_have_text("Resolved")
    expect(tab.locator("[data-clock=met]")).to_have_count(2)
    assert problems.csp_violations == []
    assert problems.page_errors == []
    assert problems.failed_requests == []


def test_an_agent_marks_themselves_away_and_back_without_leaving_the_queue(
    ticket: Any,
    sign_in: Callable[[str, str], None],
    tab: Page,
    live_server: Any,
    problems: PageProblems,
) -> None:
    from guanxi.accounts.models import User
    from guanxi.service.models import AgentGroup, AgentMembership

    group = AgentGroup.objects.create(name="一线支持")
    agent = User.objects.get(username="chen.jing")
    membership = AgentMembership.objects.create(group=group, user=agent)
    sign_in("chen.jing", PASSWORD)
    tab.goto(f"{live_server.url}/service/")
    tab.evaluate("window.stillThisPage = true")
    toggle = tab.locator(f'[data-membership="{membership.pk}"] button')
    expect(toggle).to_have_text("一线支持: available")

    toggle.click()

    expect(toggle).to_have_text("一线支持: away")
    membership.refresh_from_db()
    assert membership.is_available is False

    toggle.click()

    expect(toggle).to_have_text("一线支持: available")
    membership.refresh_from_db()
    assert membership.is_available is True
    assert tab.evaluate("window.stillThisPage") is True  # swapped in place, no page load
    assert (problems.page_errors, problems.csp_violations, problems.failed_requests) == (
        [],
        [],
        [],
    )
