"""The navigation bar: pages grouped into a few menus, the current page's menu marked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from guanxi.core import navigation
from guanxi.core.navigation import NavItem, bar_for, register


def _shape(bar: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    return [(entry["key"], [item["key"] for item in entry["items"]]) for entry in bar]


def test_the_bar_groups_the_pages_into_menus_with_administration_last(admin_user: Any) -> None:
    bar = bar_for(admin_user, "/")

    assert [entry["key"] for entry in bar] == [
        "dashboard",
        "customers",
        "sales",
        "work",
        "service",
        "admin",
    ]
    assert _shape(bar)[1] == (
        "customers",
        ["customers", "orders", "products", "grading", "follow-ups"],
    )
    assert [entry["menu"] for entry in bar] == [False, True, True, True, True, True]


def test_each_user_gets_only_the_menus_and_pages_they_may_open(
    make_user: Callable[..., Any], teams: dict[str, Any]
) -> None:
    marketer = make_user("marketer", teams["hq"])
    agent = make_user("service-agent", teams["service"])

    assert [key for key, _items in _shape(bar_for(marketer, "/"))] == [
        "dashboard",
        "customers",
        "work",
    ]
    assert "sales" not in [key for key, _items in _shape(bar_for(agent, "/"))]


def test_the_page_open_marks_its_own_entry_and_its_menu(admin_user: Any) -> None:
    bar = {entry["key"]: entry for entry in bar_for(admin_user, "/sales/reports/")}

    active = [item["key"] for entry in bar.values() for item in entry["items"] if item["active"]]
    assert active == ["sales-reports"]  # not the pipeline at /sales/, a shorter start
    assert [key for key, entry in bar.items() if entry["active"]] == ["sales"]


def test_a_menu_with_one_page_for_the_user_is_a_plain_link(
    client: Client, admin_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = [item for item in navigation._items if item.key in {"dashboard", "tasks"}]
    monkeypatch.setattr(navigation, "_items", kept)
    client.force_login(admin_user)

    bar = bar_for(admin_user, "/")
    page = client.get("/").content.decode()

    assert _shape(bar) == [("dashboard", ["dashboard"]), ("work", ["tasks"])]
    assert [entry["menu"] for entry in bar] == [False, False]
    assert 'data-nav-menu="' not in page
    assert 'class="nav-link text-nowrap" href="/activities/tasks/" data-nav="tasks"' in page


def test_an_entry_in_an_unknown_menu_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(navigation, "_items", list(navigation._items))

    with pytest.raises(ValueError, match="no menu 'reports'"):
        register(NavItem("stray", "Stray", "core:dashboard", "", "x", section="reports"))


def test_the_page_shows_the_menus_with_their_pages(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)

    page = client.get("/activities/tasks/").content.decode()

    assert page.count('data-nav-menu="') == 5
    assert 'class="nav-link dropdown-toggle text-nowrap active"' in page
    assert 'class="dropdown-item active" href="/activities/tasks/" data-nav="tasks"' in page
    assert 'data-nav="dashboard"' in page
