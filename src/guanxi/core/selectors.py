"""Reads for the dashboard."""

from __future__ import annotations

from typing import Any

from guanxi.core.dashboard import panels_for
from guanxi.core.scoping import data_scope_of


def dashboard_summary(*, actor: Any) -> dict[str, Any]:
    """What the signed-in user sees first: who they are, their scope, and the panels of the
    domains they work in (each loads its own figures)."""
    return {"data_scope": data_scope_of(actor), "panels": panels_for(actor)}
