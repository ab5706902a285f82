"""The navigation registry: each built domain adds its entries in its AppConfig.ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from guanxi.core.permissions import has_perm


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any  # a lazy translated string
    url_name: str
    permission: str
    icon: str
    section: str = "main"


_items: list[NavItem] = []


def register(item: NavItem) -> None:
    if all(existing.key != item.key for existing in _items):
        _items.append(item)


def items_for(user: Any) -> list[dict[str, Any]]:
    """The entries the user may open, with resolved URLs; unbuilt ones never appear."""
    visible = []
    for item in _items:
        if item.permission and not has_perm(user, item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
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
