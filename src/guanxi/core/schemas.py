"""Base API schemas: inputs refuse unknown fields; pages carry a keyset cursor."""

from __future__ import annotations

from typing import Generic, TypeVar

from ninja import Schema
from pydantic import ConfigDict

T = TypeVar("T")


class InputSchema(Schema):
    """Every request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageOut(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None
    limit: int
