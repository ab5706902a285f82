"""Pages load their vendored scripts and styles with no console error or CSP violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PageProblems

pytestmark = pytest.mark.browser


def test_the_login_page_loads_without_errors(
    problems: PageProblems, page: Page, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.wait_for_load_state("networkidle")

    expect(page.locator("#sign-in")).to_be_visible()
    assert page.evaluate("typeof window.htmx") == "object"
    assert problems == PageProblems()


def test_the_dashboard_loads_htmx_bootstrap_and_icons_without_errors(
    problems: PageProblems, signed_in: Page
) -> None:
    signed_in.reload()
    signed_in.wait_for_load_state("networkidle")

    assert signed_in.evaluate("typeof window.htmx") == "object"
    assert signed_in.evaluate("typeof window.bootstrap.Dropdown") == "function"
    # Bootstrap's stylesheet is applied: the navbar is dark and the icon font is loaded.
    assert (
        signed_in.locator("nav.navbar").evaluate(
            "element => getComputedStyle(element).backgroundColor"
        )
        == "rgb(33, 37, 41)"
    )
    assert (
        signed_in.evaluate(
            "[...document.fonts].some(f => f.family.includes('bootstrap-icons') && f.status === 'loaded')"
        )
        is True
    )
    assert problems == PageProblems()


def test_the_user_menu_opens_through_bootstrap(signed_in: Page) -> None:
    signed_in.locator("#user-menu").click()

    expect(signed_in.locator("#logout")).to_be_visible()
    expect(signed_in.locator("#user-menu")).to_have_attribute("aria-expanded", "true")
