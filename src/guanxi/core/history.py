"""Field history of a record (django-simple-history), as rows a page can show."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

CHANGE_LABELS = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}


def _label(model: Any, field_name: str) -> str:
    try:
        return str(model._meta.get_field(field_name).verbose_name)
    except FieldDoesNotExist:  # a field since removed from the model keeps its raw name
        return field_name


def history_rows(
    obj: Any, *, limit: int = 200, masked: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Newest first: when, who, what kind of change, and each field's old and new value.

    Reads the records in one query and diffs neighbours in memory. `masked` maps field
    names to mask kinds ("phone", "email"…): those values are shown masked, never in full.
    """
    from guanxi.core.crypto import mask

    masked = masked or {}
    records = list(obj.history.select_related("history_user").order_by("-history_id")[: limit + 1])
    rows = []
    for index, record in enumerate(records[:limit]):
        older = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if older is not None and record.history_type == "~":
            delta = record.diff_against(older)
            changes = [
                {
                    "field": _label(obj, change.field),
                    "name": change.field,
                    "old": mask(masked[change.field], change.old or "")
                    if change.field in masked
                    else change.old,
                    "new": mask(masked[change.field], change.new or "")
                    if change.field in masked
                    else change.new,
                }
                for change in delta.changes
                if change.field not in {"version"}
            ]
        rows.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "kind": CHANGE_LABELS.get(record.history_type, record.history_type),
                "reason": record.history_change_reason or "",
                "changes": changes,
            }
        )
    return rows
