"""Keyset pages: fast at any depth, unlike OFFSET (see FIELD-NOTES: 12 ms at OFFSET 10k).

The cursor is an opaque, URL-safe token of the last row's sort values. The sort always ends
with the primary key so that rows with equal sort values keep a stable order.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError

M = TypeVar("M", bound=models.Model)


class BadCursor(DomainError):
    code = "bad-cursor"


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None
    limit: int
    ordering: tuple[str, ...] = field(default=("-pk",))

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def _normalise(ordering: tuple[str, ...]) -> tuple[str, ...]:
    names = [name.lstrip("-") for name in ordering]
    if "pk" in names or "id" in names:
        return ordering
    descending = ordering[-1].startswith("-") if ordering else True
    return (*ordering, "-pk" if descending else "pk")


def _value_of(obj: models.Model, name: str) -> Any:
    value = obj.pk if name == "pk" else getattr(obj, name)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # datetimes, dates and decimals: their canonical text


def encode_cursor(obj: models.Model, ordering: tuple[str, ...]) -> str:
    values = [_value_of(obj, name.lstrip("-")) for name in ordering]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, model: type[models.Model], ordering: tuple[str, ...]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(ordering):
            raise ValueError
        parsed = []
        for name, value in zip(ordering, values, strict=True):
            field_name = name.lstrip("-")
            model_field = (
                model._meta.pk if field_name == "pk" else model._meta.get_field(field_name)
            )
            parsed.append(None if value is None else model_field.to_python(value))  # type: ignore[union-attr]  # concrete fields only
    except (ValueError, TypeError, binascii.Error, ValidationError, FieldDoesNotExist) as error:
        raise BadCursor(_("The page cursor is not valid."), field="cursor") from error
    return parsed


def _after(ordering: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after `values` in `ordering`: (a > x) or (a = x and b > y) or …"""
    condition = Q()
    for index in range(len(ordering) - 1, -1, -1):
        name = ordering[index].lstrip("-")
        lookup = "lt" if ordering[index].startswith("-") else "gt"
        step = Q(**{f"{name}__{lookup}": values[index]})
        if index < len(ordering) - 1:
            step |= Q(**{name: values[index]}) & condition
        condition = step
    return condition


def keyset_page(
    queryset: models.QuerySet[M],
    *,
    cursor: str | None = None,
    limit: int = 50,
    ordering: tuple[str, ...] = ("-pk",),
) -> Page[M]:
    """One page of `limit` rows after `cursor`; fetches limit + 1 rows to know if more exist."""
    ordering = _normalise(ordering)
    queryset = queryset.order_by(*ordering)
    if cursor:
        queryset = queryset.filter(
            _after(ordering, _decode_cursor(cursor, queryset.model, ordering))
        )
    rows = list(queryset[: limit + 1])
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1], ordering) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, limit=limit, ordering=ordering)
