"""Browser fixtures: Debian's Chromium, driven by Playwright, against pytest-django's live server.

Playwright's sync API keeps an asyncio loop running in the main thread while it is started, and
Django refuses ORM calls under a running loop; the fixtures and the database teardown of these
(synchronous) tests need the ORM. So DJANGO_ALLOW_ASYNC_UNSAFE is set only while the browser
runs, for this package, not for the rest of the suite (nor for processes it spawns).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import missing_infrastructure
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.browser.support import PASSWORD, PageProblems

CHROMIUM = Path(os.environ.get("GUANXI_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking switches Chromium keeps calling home, which a closed
# network refuses; --no-sandbox because the tests may run as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Reports every Content-Security-Policy violation to the test, across navigations.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.guanxiCspViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        missing_infrastructure(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


@pytest.fixture
def tab(chromium: Browser, live_server: Any) -> Iterator[Page]:
    """A fresh browser tab with no cookies, in English, at a laptop's size.

    It asks for the live server so that it is closed before the server's database is
    flushed at the end of the test."""
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    # Let the page's own requests (HTMX panels loading after the test's last step) finish
    # before the database is flushed for the next test, so that none meets a half-flushed
    # database or holds up the flush.
    with contextlib.suppress(PlaywrightError):
        page.wait_for_load_state("networkidle", timeout=5_000)
    context.close()


@pytest.fixture
def problems(tab: Page) -> PageProblems:
    found = PageProblems()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.console_errors.append(f"{message.text} at {message.location.get('url')}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            found.failed_requests.append(f"{response.status} {response.url}")

    def on_request_failed(request: Request) -> None:
        # A request still in flight when the page navigates away is aborted by the browser
        # (e.g. the notification bell's HTMX load after a quick click): not a failure.
        if request.failure == "net::ERR_ABORTED":
            return
        found.failed_requests.append(f"{request.failure} {request.url}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: found.page_errors.append(str(error)))
    tab.on("response", on_response)
    tab.on("requestfailed", on_request_failed)
    tab.expose_function("guanxiCspViolation", lambda text: found.csp_violations.append(text))
    tab.add_init_script(CSP_LISTENER)
    return found


@pytest.fixture
def administrator(make_user: Callable[..., Any], teams: dict[str, Any]) -> Any:
    return make_user("administrator", teams["hq"], username="li.wei", display_name="Li Wei")


@pytest.fixture
def sign_in(live_server: Any, tab: Page) -> Callable[[str, str], None]:
    """Fill in and send the login form as a user would."""

    def submit(username: str, password: str) -> None:
        tab.goto(f"{live_server.url}/accounts/login/")
        tab.get_by_label("Username").fill(username)
        tab.get_by_label("Password").fill(password)
        tab.locator("#sign-in").click()
        tab.wait_for_load_state()

    return submit


@pytest.fixture
def signed_in(administrator: Any, sign_in: Callable[[str, str], None], tab: Page) -> Page:
    """A tab in which the administrator has signed in and sees the dashboard."""
    sign_in(administrator.username, PASSWORD)
    expect(tab.locator("#page-title")).to_have_text("Dashboard")
    return tab
