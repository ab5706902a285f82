"""The first screen on a laptop: the dashboard's panels load their figures, every menu of the
bar fits on one line in either language, and a page is reached through its menu."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PageProblems

pytestmark = pytest.mark.browser


def _fits_on_one_line(tab: Page) -> None:
    bar = tab.locator("nav.navbar").bounding_box()
    user_menu = tab.locator("#user-menu").bounding_box()
    assert bar is not None
    assert user_menu is not None
    assert bar["height"] < 70  # one row of links, not two or three
    assert user_menu["x"] + user_menu["width"] <= 1280  # the last entry is on the screen


def test_the_bar_fits_a_laptop_screen_and_leads_to_a_page_through_its_menu(
    signed_in: Page, live_server: Any, problems: PageProblems
) -> None:
    tab = signed_in
    expect(tab.locator('[data-panel="my-day"] [data-figure="overdue"]')).to_have_text("0")
    expect(tab.locator('[data-panel="pipeline"] [data-figure="open-count"]')).to_have_text("0")
    expect(tab.locator('[data-panel="tickets"] [data-figure="mine"]')).to_have_text("0")
    _fits_on_one_line(tab)

    tab.locator('[data-nav-menu="work"]').click()
    tab.locator('[data-nav="tasks"]').click()

    expect(tab).to_have_url(f"{live_server.url}/activities/tasks/")
    expect(tab.locator('[data-nav-menu="work"]')).to_have_class(re.compile(r"\bactive\b"))

    tab.locator("#language-select").select_option(label="简体中文")
    expect(tab.locator('[data-nav-menu="work"]')).to_have_text("我的工作")
    _fits_on_one_line(tab)
    assert (problems.page_errors, problems.csp_violations) == ([], [])
