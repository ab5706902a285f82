"""Template helpers of the portal pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """`values|get_item:name`: a dict's (or QueryDict's) value for a computed key."""
    return mapping.get(key) if hasattr(mapping, "get") else None
