"""My day in Chromium: the bell shows the unread count, a quick-added task appears under
today, completing and snoozing take rows away without a reload, and marking the
notifications read empties the bell."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, PageProblems

pytestmark = pytest.mark.browser


@pytest.fixture
def rep(make_user: Callable[..., Any], teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], username="li.na", display_name="Li Na")


def test_my_day_quick_add_complete_snooze_and_the_bell(
    rep: Any,
    sign_in: Callable[[str, str], None],
    tab: Page,
    live_server: Any,
    problems: PageProblems,
) -> None:
    from guanxi.activities.models import Task
    from guanxi.activities.services import notify, task_create

    late = task_create(
        actor=None,
        owner=rep,
        title="Overdue call",
        due_at=timezone.now() - dt.timedelta(days=2),
    )
    notify(user=rep, title="Reminder: Overdue call")
    notify(user=rep, title="Welcome")
    sign_in("li.na", PASSWORD)

    tab.goto(f"{live_server.url}/activities/")
    expect(tab.locator("#bell-count")).to_have_text("2")
    expect(tab.locator(f"#overdue [data-task='{late.pk}']")).to_be_visible()

    tab.locator("#quick-add input[name=title]").fill("Send the brochure")
    tab.locator("#quick-add button[type=submit]").click()
    added = tab.locator("#today [data-task]")
    expect(added).to_have_count(1)
    expect(added.first).to_contain_text("Send the brochure")

    added.first.locator("[data-complete]").click()
    expect(tab.locator("#today [data-task]")).to_have_count(0)
    tab.locator(f"[data-task='{late.pk}'] [data-snooze]").click()
    expect(tab.locator(f"[data-task='{late.pk}']")).to_have_count(0)

    tab.locator("#bell").click()
    expect(tab.locator("#page-title")).to_have_text("Notifications")
    tab.locator("#mark-all-read").click()
    expect(tab.locator("[data-unread]")).to_have_count(0)
    expect(tab.locator("#bell")).to_be_visible()
    expect(tab.locator("#bell-count")).to_have_count(0)

    assert Task.objects.get(title="Send the brochure").status == "done"
    assert Task.objects.get(pk=late.pk).due_at > timezone.now()
    assert (problems.console_errors, problems.page_errors, problems.csp_violations) == ([], [], [])
