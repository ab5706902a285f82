"""Browser fixtures: Debian's Chromium, driven by Playwright, against pytest-django's live server.

Playwright's sync API keeps an event loop in the main thread, so Django's guard against ORM
calls from async code would refuse the fixtures' database work; the tests are synchronous.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import missing_infrastructure
from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect

from tests.browser.support import PASSWORD, PageProblems

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        missing_infrastructure(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": browser_type_launch_args.get("headless", True),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # An English browser, so that the language the pages start in does not depend on the machine.
    return {
        **browser_context_args,
        "locale": "en-US",
        "viewport": {"width": 1280, "height": 800},
    }


@pytest.fixture
def problems(page: Page) -> PageProblems:
    found = PageProblems()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.console_errors.append(f"{message.text} at {message.location.get('url')}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            found.failed_requests.append(f"{response.status} {response.url}")

    def on_request_failed(request: Request) -> None:
        found.failed_requests.append(f"{request.failure} {request.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.page_errors.append(str(error)))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.expose_function("guanxiCspViolation", lambda text: found.csp_violations.append(text))
    page.add_init_script(CSP_LISTENER)
    return found


@pytest.fixture
def administrator(make_user: Callable[..., Any], teams: dict[str, Any]) -> Any:
    return make_user("administrator", teams["hq"], username="li.wei", display_name="Li Wei")


@pytest.fixture
def sign_in(live_server: Any, page: Page) -> Callable[[str, str], None]:
    """Fill in and send the login form as a user would."""

    def submit(username: str, password: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.locator("#sign-in").click()
        page.wait_for_load_state()

    return submit


@pytest.fixture
def signed_in(
    administrator: Any, sign_in: Callable[[str, str], None], page: Page
) -> Iterator[Page]:
    sign_in(administrator.username, PASSWORD)
    expect(page.locator("#page-title")).to_have_text("Dashboard")
    yield page
