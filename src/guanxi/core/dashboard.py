"""The dashboard's panels: each built domain registers the figures it shows first, as an HTML
fragment at its own address that the dashboard loads (no domain renders another's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guanxi.core.navigation import address_for


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    url_name: str
    permission: str  # "" for every signed-in user
    order: int = 100  # lower first: what the user must do today before the figures


_panels: list[DashboardPanel] = []


def register(panel: DashboardPanel) -> None:
    if all(existing.key != panel.key for existing in _panels):
        _panels.append(panel)


def panels_for(user: Any) -> list[dict[str, str]]:
    """The panels the user may see, by their order, with their addresses."""
    visible = []
    for panel in sorted(_panels, key=lambda panel: panel.order):
        url = address_for(user, panel.permission, panel.url_name)
        if url is not None:
            visible.append({"key": panel.key, "url": url})
    return visible
