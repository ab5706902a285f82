"""Signing in and out in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD

pytestmark = pytest.mark.browser


def test_signing_in_lands_on_the_dashboard(
    administrator: Any, sign_in: Callable[[str, str], None], tab: Page, live_server: Any
) -> None:
    sign_in(administrator.username, PASSWORD)

    expect(tab).to_have_url(f"{live_server.url}/")
    expect(tab.locator("#page-title")).to_have_text("Dashboard")
    expect(tab.locator("[data-user]")).to_have_text("Li Wei")


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(
    administrator: Any, sign_in: Callable[[str, str], None], tab: Page, live_server: Any
) -> None:
    sign_in(administrator.username, "wrong-horse-42")

    expect(tab).to_have_url(f"{live_server.url}/accounts/login/")
    expect(tab.locator("[data-form-error]")).to_contain_text(
        "Please enter a correct username and password."
    )
    expect(tab.get_by_label("Password")).to_have_value("")
    expect(tab.locator("#page-title")).to_have_count(0)


def test_signing_out_returns_to_the_login_page(signed_in: Page, live_server: Any) -> None:
    signed_in.locator("#user-menu").click()
    signed_in.locator("#logout").click()

    expect(signed_in).to_have_url(f"{live_server.url}/accounts/login/")
    expect(signed_in.locator("#sign-in")).to_be_visible()
    signed_in.goto(f"{live_server.url}/")
    expect(signed_in).to_have_url(f"{live_server.url}/accounts/login/?next=/")
