"""Small template helpers."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """`{{ row|get_item:"key" }}`: a dict's value, or "" when absent."""
    if isinstance(mapping, dict):
        value = mapping.get(key, "")
        return ", ".join(map(str, value)) if isinstance(value, list) else value
    return ""


@register.filter
def join_if_list(value: Any) -> Any:
    """Lists (multiple-choice values) read as "a, b"; anything else unchanged."""
    return ", ".join(map(str, value)) if isinstance(value, list) else value
