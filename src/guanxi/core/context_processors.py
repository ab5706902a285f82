"""Template context shared by every page: navigation for the signed-in user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from guanxi.core.navigation import bar_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_bar": []}
    return {"nav_bar": bar_for(user, request.path)}
