"""Reads for the dashboard."""

from __future__ import annotations

from typing import Any

from guanxi.core.navigation import items_for
from guanxi.core.scoping import data_scope_of


def dashboard_summary(*, actor: Any) -> dict[str, Any]:
    """What the signed-in user sees first: who they are, their scope and their modules."""
    return {
        "data_scope": data_scope_of(actor),
        "modules": [item for item in items_for(actor) if item["key"] != "dashboard"],
    }
