"""Form plumbing: Bootstrap classes on every widget, domain errors onto forms."""

from __future__ import annotations

from typing import Any

from django import forms

from guanxi.core.errors import DomainError


class StyledFormMixin:
    """Give each widget Bootstrap's class for its kind, once, at construction."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put a refused command's messages on the form: on their field when it is shown."""

    def target(field: str | None) -> str | None:
        shown = (
            field is not None and field in form.fields and not form.fields[field].widget.is_hidden
        )
        return field if shown else None

    for item in error.errors or [{"field": error.field, "message": error.message}]:
        form.add_error(target(item.get("field")), item["message"])
