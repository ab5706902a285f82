"""Forms of the sales pages; the rules live in the services, these only shape input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledFormMixin
from guanxi.sales.models import REQUIRABLE_FIELDS, ForecastCategory, Heat


def money_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=14, decimal_places=2, **kwargs)


class OpportunityForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    amount = money_field(_("Amount"), required=False)
    contact = forms.TypedChoiceField(
        label=_("Contact"), coerce=int, required=False, empty_value=None
    )
    expected_close = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    source = forms.CharField(label=_("Source"), max_length=40, required=False)
    heat = forms.ChoiceField(label=_("Heat"), choices=Heat.choices, initial=Heat.WARM)
    forecast_category = forms.ChoiceField(
        label=_("Forecast category"),
        choices=ForecastCategory.choices,
        initial=ForecastCategory.PIPELINE,
    )
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, contacts: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[Any, str]] = [("", "—")]
        choices += [(c.pk, c.name) for c in contacts or []]
        self.fields["contact"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class CloseForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Outcome"), choices=[("won", _("Won")), ("lost", _("Lost"))])
    reason = forms.TypedChoiceField(label=_("Reason"), coerce=int)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, reasons: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [  # type: ignore[attr-defined]  # a ChoiceField
            (r.pk, f"{r.get_kind_display()} · {r.label}") for r in reasons or []
        ]


class LineForm(StyledFormMixin, forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=2, initial=1)
    unit_price = money_field(_("Unit price"), required=False, help_text=_("Empty: list price."))
    discount = forms.DecimalField(
        label=_("Discount (%)"), max_digits=5, decimal_places=2, initial=0, required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, products: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [  # type: ignore[attr-defined]  # a ChoiceField
            (p.pk, str(p)) for p in products or []
        ]


class CompetitorForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Competitor"), max_length=100)
    strengths = forms.CharField(label=_("Strengths"), max_length=300, required=False)
    weaknesses = forms.CharField(label=_("Weaknesses"), max_length=300, required=False)


class LogForm(StyledFormMixin, forms.Form):
    channel = forms.ChoiceField(
        label=_("Kind"), choices=[("call", _("Call")), ("visit", _("Visit"))]
    )
    summary = forms.CharField(
        label=_("What was discussed"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PipelineForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=100, required=False)
    is_default = forms.BooleanField(label=_("Default pipeline"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StageForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=100, required=False)
    probability = forms.IntegerField(label=_("Win probability (%)"), min_value=0, max_value=100)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=1000, required=False)
    required_fields = forms.MultipleChoiceField(
        label=_("Required to enter"),
        choices=list(REQUIRABLE_FIELDS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class TargetForm(StyledFormMixin, forms.Form):
    user = forms.TypedChoiceField(label=_("Rep"), coerce=int, required=False, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)
    period_start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    period_end = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    amount = money_field(_("Target amount"), min_value=0)

    def __init__(
        self,
        *args: Any,
        users: list[Any] | None = None,
        teams: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—")] + [  # type: ignore[attr-defined]  # a ChoiceField
            (u.pk, u.get_full_name() or u.username) for u in users or []
        ]
        self.fields["team"].choices = [("", "—")] + [  # type: ignore[attr-defined]  # a ChoiceField
            (t.pk, t.name) for t in teams or []
        ]
