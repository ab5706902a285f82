"""Switching the interface language from the navbar."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_choosing_simplified_chinese_shows_the_dashboard_in_chinese(signed_in: Page) -> None:
    signed_in.locator("#language-select").select_option(label="简体中文")

    expect(signed_in.locator("#page-title")).to_have_text("仪表盘")
    expect(signed_in.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(signed_in.locator("#language-select")).to_have_value("zh-hans")


def test_choosing_english_again_shows_the_dashboard_in_english(signed_in: Page) -> None:
    signed_in.locator("#language-select").select_option(label="简体中文")
    expect(signed_in.locator("#page-title")).to_have_text("仪表盘")

    signed_in.locator("#language-select").select_option(label="English")

    expect(signed_in.locator("#page-title")).to_have_text("Dashboard")
    expect(signed_in.locator("html")).to_have_attribute("lang", "en")
