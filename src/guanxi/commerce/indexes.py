"""Index shapes that differ per database vendor, declared once on the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models


class CoveringIndex(models.Index):
    """An index that answers a per-customer aggregate from the index alone, on each database.

    PostgreSQL gets `(fields) INCLUDE (covering)`. SQLite has no INCLUDE (Django would
    build the bare key, a twin of the foreign-key index, and warn W040 on every command),
    so there the covered columns are appended to the key instead. FIELD-NOTES measured
    both shapes for RFM over 10M orders: 12 s → 2.1–2.5 s on PostgreSQL with the INCLUDE
    index, 30.7 s → 2.5 s on SQLite with the composite one.
    """

    def __init__(
        self, *, fields: Sequence[str], covering: Sequence[str], name: str, **kwargs: Any
    ) -> None:
        super().__init__(fields=fields, name=name, **kwargs)
        self.covering = tuple(covering)

    def _shape(self, schema_editor: Any) -> models.Index:
        if schema_editor.connection.features.supports_covering_indexes:
            return models.Index(fields=self.fields, include=self.covering, name=self.name)
        return models.Index(fields=[*self.fields, *self.covering], name=self.name)

    def create_sql(
        self, model: type[models.Model], schema_editor: Any, using: str = "", **kwargs: Any
    ) -> Any:
        return self._shape(schema_editor).create_sql(model, schema_editor, using=using, **kwargs)

    def deconstruct(self) -> Any:
        path, args, kwargs = super().deconstruct()
        return path, args, {**kwargs, "covering": self.covering}
