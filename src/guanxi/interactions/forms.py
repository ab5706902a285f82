"""The quick-log form of the timeline; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledFormMixin
from guanxi.interactions.models import Channel, Direction

LOCAL_INPUT = "%Y-%m-%dT%H:%M"
# Service field names that the form shows under another name.
FORM_FIELD_OF = {"duration_seconds": "duration_minutes", "files": "attachments"}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (Django's recipe); the service checks count, size and type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class QuickLogForm(StyledFormMixin, forms.Form):
    """Channel, direction, when, how long, what happened, what comes next, and files."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, initial=Direction.NONE
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        input_formats=[LOCAL_INPUT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        required=False,
        min_value=0,
        help_text=_("Calls and meetings only."),
    )
    summary = forms.CharField(label=_("Summary"), max_length=500)
    outcome = forms.CharField(label=_("Outcome"), max_length=200, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    next_step_date = forms.DateField(
        label=_("Next step by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    attachments = MultipleFileField(
        label=_("Files"),
        required=False,
        help_text=_("Up to five files: PDF, images, Office documents, text, email or audio."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the form sits on the customer page beside the contact and address forms.
        kwargs.setdefault("auto_id", "interaction-%s")
        kwargs.setdefault(
            "initial", {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)}
        )
        super().__init__(*args, **kwargs)

    def values(self) -> dict[str, Any]:
        """The cleaned fields as the service's `values`."""
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        return {
            "channel": data["channel"],
            "direction": data["direction"],
            "occurred_at": data["occurred_at"],
            "duration_seconds": None if minutes is None else minutes * 60,
            "summary": data["summary"],
            "outcome": data.get("outcome", ""),
            "next_step": data.get("next_step", ""),
            "next_step_date": data.get("next_step_date"),
        }
