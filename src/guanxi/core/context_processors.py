"""Template context shared by every page: navigation for the signed-in user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from guanxi.core.navigation import items_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_admin_items": []}
    items = items_for(user)
    return {
        "nav_items": [item for item in items if item["section"] == "main"],
        "nav_admin_items": [item for item in items if item["section"] == "admin"],
    }
