"""The navigation registry: each built domain adds its entries in its AppConfig.ready.

An entry sits in one of the menus below (its `section`), or, with section "main", is a link
of its own in the bar. Menus keep the bar to a handful of words in either language: with one
link per page it overflowed a laptop's screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import has_perm

MAIN = "main"
ADMIN = "admin"
# key: (label, icon); the bar shows them in the order their first entry was registered, the
# administration menu last.
MENUS: dict[str, tuple[Any, str]] = {
    "customers": (_("Customers"), "people"),
    "sales": (_("Sales"), "graph-up-arrow"),
    "work": (_("My work"), "sun"),
    "service": (_("Service"), "headset"),
    ADMIN: (_("Administration"), "gear"),
}


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any  # a lazy translated string
    url_name: str
    permission: str
    icon: str
    section: str = MAIN  # a key of MENUS, or MAIN for a link of its own


_items: list[NavItem] = []


def register(item: NavItem) -> None:
    if item.section != MAIN and item.section not in MENUS:
        raise ValueError(f"navigation entry {item.key}: no menu {item.section!r}")
    if all(existing.key != item.key for existing in _items):
        _items.append(item)


def address_for(user: Any, permission: str, url_name: str) -> str | None:
    """The address of a page the user may open ("" permission: every user); None when they
    may not, or when the domain that serves it is not installed."""
    if permission and not has_perm(user, permission):
        return None
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def items_for(user: Any) -> list[dict[str, Any]]:
    """The entries the user may open, with resolved URLs; unbuilt ones never appear."""
    visible = []
    for item in _items:
        url = address_for(user, item.permission, item.url_name)
        if url is None:
            continue
        visible.append(
            {
                "key": item.key,
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "section": item.section,
            }
        )
    return visible


def bar_for(user: Any, path: str) -> list[dict[str, Any]]:
    """The bar: links of their own and menus, in registration order, administration last.

    Each entry has the menu's key, label and icon (none for a link of its own), its `items`
    and whether it holds the current page (`active`): the entry whose address is the longest
    start of `path`. A menu with a single entry the user may open is shown as that link.
    """
    items = items_for(user)
    current = max(
        (item["url"] for item in items if path == item["url"] or path.startswith(item["url"])),
        key=len,
        default=None,
    )
    entries: dict[str, dict[str, Any]] = {}
    for item in items:
        item["active"] = item["url"] == current
        key = item["key"] if item["section"] == MAIN else item["section"]
        if key not in entries:
            label, icon = MENUS.get(item["section"], (item["label"], item["icon"]))
            entries[key] = {"key": key, "label": label, "icon": icon, "items": []}
        entries[key]["items"].append(item)
    bar = sorted(entries.values(), key=lambda entry: entry["key"] == ADMIN)
    for entry in bar:
        entry["active"] = any(item["active"] for item in entry["items"])
        entry["menu"] = len(entry["items"]) > 1
    return bar
