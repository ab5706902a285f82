"""The customer 360 page in Chromium loads the tasks panel, and a task quick-added there
shows up in the panel without a reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, PageProblems

pytestmark = pytest.mark.browser


def test_quick_adding_a_task_on_the_customer_page(
    make_user: Callable[..., Any],
    teams: dict[str, Any],
    sign_in: Callable[[str, str], None],
    tab: Page,
    live_server: Any,
    problems: PageProblems,
) -> None:
    from guanxi.activities.models import Task
    from guanxi.customers.models import Customer

    rep = make_user("sales-rep", teams["east"], username="li.na", display_name="Li Na")
    customer = Customer.objects.create(kind="person", name="王芳", owner=rep, team=rep.team)
    sign_in("li.na", PASSWORD)

    tab.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = tab.locator("#customer-tasks")
    expect(panel.locator("[data-empty]")).to_be_visible()
    panel.locator("input[name=title]").fill("Send the contract")
    panel.locator("button[type=submit]").click()

    expect(tab.locator("#customer-tasks [data-task]")).to_have_count(1)
    expect(tab.locator("#customer-tasks [data-task]")).to_contain_text("Send the contract")
    task = Task.objects.get()
    assert (task.customer_id, task.owner_id) == (customer.pk, rep.pk)
    assert (problems.page_errors, problems.csp_violations) == ([], [])
