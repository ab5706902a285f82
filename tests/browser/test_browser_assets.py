"""Pages load their vendored scripts and styles with no console error or CSP violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PageProblems

pytestmark = pytest.mark.browser

NAVBAR_BACKGROUND = "element => getComputedStyle(element).backgroundColor"
ICON_FONT_LOADED = """[...document.fonts].some(
    (font) => font.family.includes("bootstrap-icons") && font.status === "loaded"
)"""


def test_the_login_page_loads_without_errors(
    problems: PageProblems, tab: Page, live_server: Any
) -> None:
    tab.goto(f"{live_server.url}/accounts/login/")
    tab.wait_for_load_state("networkidle")

    expect(tab.locator("#sign-in")).to_be_visible()
    assert tab.evaluate("typeof window.htmx") == "object"
    assert problems == PageProblems()


def test_the_dashboard_loads_htmx_bootstrap_and_icons_without_errors(
    problems: PageProblems, signed_in: Page
) -> None:
    signed_in.reload()
    signed_in.wait_for_load_state("networkidle")

    assert signed_in.evaluate("typeof window.htmx") == "object"
    assert signed_in.evaluate("typeof window.bootstrap.Dropdown") == "function"
    # Bootstrap's stylesheet is applied (bg-dark navbar) and its icon font has loaded.
    assert signed_in.locator("nav.navbar").evaluate(NAVBAR_BACKGROUND) == "rgb(33, 37, 41)"
    assert signed_in.evaluate(ICON_FONT_LOADED) is True
    assert problems == PageProblems()


def test_the_user_menu_opens_through_bootstrap(signed_in: Page) -> None:
    signed_in.locator("#user-menu").click()

    expect(signed_in.locator("#logout")).to_be_visible()
    expect(signed_in.locator("#user-menu")).to_have_attribute("aria-expanded", "true")


def test_the_api_documentation_renders_without_errors(
    problems: PageProblems, signed_in: Page, live_server: Any
) -> None:
    signed_in.goto(f"{live_server.url}/api/docs")
    signed_in.wait_for_load_state("networkidle")

    expect(signed_in).to_have_url(f"{live_server.url}/api/v1/docs")
    expect(signed_in.locator(".opblock-summary-path", has_text="/api/v1/me")).to_be_visible()
    assert problems == PageProblems()
