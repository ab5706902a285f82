"""The public web-to-lead form in a real Chromium: a visitor sends it (also from inside an
iframe on another site), and spam — a filled honeypot, too many posts — is refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from tests.browser.support import PageProblems

pytestmark = pytest.mark.browser

WORDING = "I agree that the sales team may contact me."


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def web_form(admin_user: Any, teams: dict[str, Any]) -> Any:
    from guanxi.leads.webforms import lead_form_save

    return lead_form_save(
        actor=admin_user,
        values={
            "name": "Website",
            "slug": "website",
            "heading": "Talk to sales",
            "fields": ["name", "company", "email", "message"],
            "required_fields": ["email"],
            "consent_wording": WORDING,
            "consent_required": True,
            "thank_you": "Thank you, we will call you soon.",
            "team": teams["east"],
        },
    )


def _fill(tab: Page, name: str, email: str) -> None:
    tab.get_by_label("Name").fill(name)
    tab.get_by_label("Company").fill("Acme Trading")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Message").fill("Please send a quote.")
    tab.get_by_label(WORDING).check()


def _leads() -> list[tuple[str, str]]:
    from guanxi.leads.models import Lead

    return list(Lead.objects.order_by("pk").values_list("name", "source"))


def test_a_visitor_sends_the_form_and_sees_the_thank_you(
    web_form: Any, tab: Page, live_server: Any, problems: PageProblems
) -> None:
    tab.goto(f"{live_server.url}/leads/f/website/")
    _fill(tab, "Ann Lee", "ann@example.com")
    tab.locator("#send").click()

    expect(tab.locator("#thank-you")).to_have_text("Thank you, we will call you soon.")
    assert _leads() == [("Ann Lee", "web_form")]
    assert problems == PageProblems()


def test_a_missing_consent_is_shown_on_the_checkbox_and_nothing_is_stored(
    web_form: Any, tab: Page, live_server: Any
) -> None:
    tab.goto(f"{live_server.url}/leads/f/website/")
    _fill(tab, "Ann Lee", "ann@example.com")
    tab.get_by_label(WORDING).uncheck()
    tab.locator("#send").click()

    expect(tab.locator('[data-field-error="consent"]')).to_be_visible()
    expect(tab.get_by_label("Company")).to_have_value("Acme Trading")
    assert _leads() == []


def test_a_bot_filling_the_hidden_honeypot_is_refused(
    web_form: Any, tab: Page, live_server: Any
) -> None:
    tab.goto(f"{live_server.url}/leads/f/website/")
    expect(tab.locator("#field-website")).not_to_be_in_viewport()
    _fill(tab, "Spam Bot", "bot@example.com")
    tab.locator("#field-website").fill("http://spam.example", force=True)
    tab.locator("#send").click()

    expect(tab.locator("#form-refused")).to_have_text("The submission could not be accepted.")
    assert _leads() == []


def test_too_many_posts_from_one_address_are_refused(
    web_form: Any, tab: Page, live_server: Any, settings: Any
) -> None:
    settings.LEADS_FORM_RATE_LIMIT = (2, 600)
    for index in range(2):
        tab.goto(f"{live_server.url}/leads/f/website/")
        _fill(tab, f"Person {index}", f"p{index}@example.com")
        tab.locator("#send").click()
        expect(tab.locator("#thank-you")).to_be_visible()

    tab.goto(f"{live_server.url}/leads/f/website/")
    _fill(tab, "Person 3", "p3@example.com")
    tab.locator("#send").click()

    expect(tab.locator("#form-refused")).to_contain_text("Too many submissions")
    assert _leads() == [("Person 0", "web_form"), ("Person 1", "web_form")]


@pytest.fixture
def shop_page(live_server: Any) -> Iterator[str]:
    """Another site (a real server on 127.0.0.1, another origin than the live server's
    localhost) whose page embeds the form with the designer's snippet."""
    port = live_server.url.rsplit(":", 1)[1]
    snippet = (
        f'<!doctype html><title>Shop</title><iframe src="http://localhost:{port}/leads/f/'
        'website/?embed=1" width="600" height="700" title="Talk to sales"></iframe>'
    ).encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(snippet)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_form_works_inside_an_iframe_on_another_site(
    web_form: Any, tab: Page, shop_page: str, problems: PageProblems
) -> None:
    tab.goto(shop_page)
    frame = tab.frame_locator("iframe")
    frame.get_by_label("Name").fill("Framed Visitor")
    frame.get_by_label("Email").fill("framed@example.com")
    frame.get_by_label(WORDING).check()
    frame.locator("#send").click()

    expect(frame.locator("#thank-you")).to_be_visible()
    assert _leads() == [("Framed Visitor", "web_form")]
    assert problems.csp_violations == []
