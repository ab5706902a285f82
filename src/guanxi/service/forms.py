"""Service desk page forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledFormMixin
from guanxi.service.models import (
    CallbackOutcome,
    TicketChannel,
    TicketPriority,
    TicketType,
)


class TicketForm(StyledFormMixin, forms.Form):
    customer = forms.IntegerField(label=_("Customer ID"), widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=TicketChannel.choices, initial=TicketChannel.PHONE
    )
    category = forms.TypedChoiceField(
        label=_("Category"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, categories: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *[(c.pk, c.name) for c in categories]]  # type: ignore[attr-defined]  # a ChoiceField


class ReplyForm(StyledFormMixin, forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))
    internal = forms.BooleanField(
        label=_("Internal note (not sent to the customer)"), required=False
    )


class CallbackDoneForm(StyledFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CallbackOutcome.choices)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class CalendarDaysForm(StyledFormMixin, forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    text = forms.CharField(
        label=_("Holidays and make-up working days"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One per line: 2026-10-01 holiday 国庆节, or 2026-10-10 workday 调休."),
    )


class PolicyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    sla_class = forms.CharField(
        label=_("SLA class"),
        max_length=20,
        required=False,
        help_text=_("The tier's SLA class; empty for customers without one."),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices)
    first_response_minutes = forms.IntegerField(
        label=_("First response (business minutes)"), min_value=1
    )
    resolution_minutes = forms.IntegerField(label=_("Resolution (business minutes)"), min_value=1)
    warn_before_minutes = forms.IntegerField(
        label=_("Warn before (minutes)"), min_value=0, initial=30
    )


class CategoryForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.TypedChoiceField(
        label=_("Parent category"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, categories: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "—"), *[(c.pk, c.name) for c in categories]]  # type: ignore[attr-defined]  # a ChoiceField
