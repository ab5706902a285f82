"""Forms of the grading pages: a scheme with its tiers, an override, a report period.

They parse what the browser sends; the rules (conditions, tiers, overrides) live in the
services, whose refusals the views put back on these forms.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledFormMixin
from guanxi.customers.models import CustomerKind
from guanxi.grading.models import Method, Schedule, Scheme, Tier

COLOURS = [
    ("primary", _("Blue")),
    ("secondary", _("Grey")),
    ("success", _("Green")),
    ("danger", _("Red")),
    ("warning", _("Yellow")),
    ("info", _("Cyan")),
    ("light", _("Light")),
    ("dark", _("Black")),
]


def split_list(text: str) -> list[str]:
    """Comma-separated words (ASCII or full-width commas) as a list, blanks dropped."""
    return [item.strip() for item in text.replace("，", ",").split(",") if item.strip()]


class SchemeForm(StyledFormMixin, forms.Form):
    """A scheme's own fields; `code` only when creating, `version` to refuse stale edits."""

    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Short, unique, lower-case letters, digits and dashes; cannot change later."),
    )
    name_zh = forms.CharField(label=_("Chinese name"), max_length=80)
    name_en = forms.CharField(label=_("English name"), max_length=80)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices)
    kinds = forms.MultipleChoiceField(
        label=_("Customer kinds"),
        choices=CustomerKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to grade every kind of customer."),
    )
    schedule = forms.ChoiceField(label=_("Schedule"), choices=Schedule.choices, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    is_primary = forms.BooleanField(
        label=_("Drives service (primary scheme)"),
        required=False,
        help_text=_("The tiers of the primary scheme set follow-ups, SLAs, points and discounts."),
    )
    retention_ranks = forms.IntegerField(
        label=_("Key tiers"),
        min_value=0,
        max_value=20,
        initial=0,
        help_text=_("A customer who falls from one of the best N tiers gets a retention task."),
    )
    config = forms.CharField(
        label=_("Method configuration (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace", "spellcheck": "false"}),
        help_text=_(
            "What the method needs: quantile dimensions, cumulative cut-offs or matrix axes, "
            "and “eligible”, the condition a customer must meet to be graded."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["code"]

    @staticmethod
    def initial_of(scheme: Scheme) -> dict[str, Any]:
        return {
            "name_zh": scheme.name_zh,
            "name_en": scheme.name_en,
            "description": scheme.description,
            "method": scheme.method,
            "kinds": list(scheme.kinds or []),
            "schedule": scheme.schedule,
            "is_active": scheme.is_active,
            "is_primary": scheme.is_primary,
            "retention_ranks": scheme.retention_ranks,
            "config": json.dumps(scheme.config or {}, ensure_ascii=False, indent=2),
            "version": scheme.version,
        }

    def clean_config(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("config") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(
                _("This is not valid JSON: %(problem)s"), params={"problem": str(error)}
            ) from error
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Write a JSON object, in braces { }."))
        return value

    def values(self) -> dict[str, Any]:
        """What scheme_save takes, from the cleaned data."""
        return {key: value for key, value in self.cleaned_data.items() if key != "version"}


class TierForm(StyledFormMixin, forms.Form):
    """One tier row: its names, rule and service policy."""

    code = forms.SlugField(label=_("Code"), max_length=40)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=80)
    name_en = forms.CharField(label=_("English name"), max_length=80)
    color = forms.ChoiceField(label=_("Colour"), choices=COLOURS, initial="secondary")
    condition = forms.CharField(
        label=_("Condition"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "class": "font-monospace",
                "spellcheck": "false",
                "placeholder": _("e.g. revenue_12m >= 100000 and order_count_12m >= 4"),
            }
        ),
    )
    is_fallback = forms.BooleanField(
        label=_("Fallback (everyone no other tier takes)"), required=False
    )
    follow_up_days = forms.IntegerField(
        label=_("Follow up every (days)"), required=False, min_value=1, max_value=3650
    )
    preferred_channels = forms.CharField(
        label=_("Preferred channels"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas, e.g. visit, phone_call"),
    )
    sla_class = forms.CharField(label=_("Ticket SLA class"), required=False, max_length=20)
    points_multiplier = forms.DecimalField(
        label=_("Points multiplier"),
        initial=Decimal("1"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=4,
        decimal_places=2,
    )
    max_discount_percent = forms.DecimalField(
        label=_("Maximum discount (%)"),
        initial=Decimal("0"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
    )
    account_manager_level = forms.CharField(
        label=_("Account manager level"), required=False, max_length=40
    )
    care_actions = forms.CharField(
        label=_("Care actions"),
        required=False,
        max_length=1000,
        help_text=_("Separated by commas, e.g. birthday gift, annual review visit"),
    )

    @staticmethod
    def initial_of(tier: Tier) -> dict[str, Any]:
        return {
            "code": tier.code,
            "name_zh": tier.name_zh,
            "name_en": tier.name_en,
            "color": tier.color,
            "condition": tier.condition,
            "is_fallback": tier.is_fallback,
            "follow_up_days": tier.follow_up_days,
            "preferred_channels": ", ".join(tier.preferred_channels or []),
            "sla_class": tier.sla_class,
            "points_multiplier": tier.points_multiplier,
            "max_discount_percent": tier.max_discount_percent,
            "account_manager_level": tier.account_manager_level,
            "care_actions": ", ".join(tier.care_actions or []),
        }

    def values(self) -> dict[str, Any]:
        data = {
            key: value
            for key, value in self.cleaned_data.items()
            if key in self.fields and key not in {"ORDER", "DELETE"}
        }
        data["preferred_channels"] = split_list(data.get("preferred_channels") or "")
        data["care_actions"] = split_list(data.get("care_actions") or "")
        return data


if TYPE_CHECKING:
    _TierFormSetBase = forms.BaseFormSet[TierForm]
else:  # Django's BaseFormSet is generic only in the stubs
    _TierFormSetBase = forms.BaseFormSet


class BaseTierFormSet(_TierFormSetBase):
    def add_fields(self, form: TierForm, index: int | None) -> None:
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].label = _("Position")
            form.fields["ORDER"].widget.attrs.update({"class": "form-control", "min": 1})
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Delete this tier")
            form.fields["DELETE"].widget.attrs.update({"class": "form-check-input"})

    def tier_values(self) -> list[dict[str, Any]]:
        """The kept rows in their chosen order (blank extra rows and deleted rows dropped)."""
        return [form.values() for form in self.ordered_forms]


TierFormSet = cast(
    "type[BaseTierFormSet]",
    forms.formset_factory(
        TierForm, formset=BaseTierFormSet, extra=1, can_delete=True, can_order=True, max_num=40
    ),
)


class OverrideForm(StyledFormMixin, forms.Form):
    """An expert's override of one scheme's tier for one customer."""

    scheme = forms.IntegerField(widget=forms.HiddenInput)
    tier = forms.TypedChoiceField(label=_("Tier"), coerce=int)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Why this tier, for the record")}),
    )
    expires_on = forms.DateField(
        label=_("Until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, tiers: list[Tier], language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [(tier.pk, tier.name(language)) for tier in tiers]  # type: ignore[attr-defined]  # a ChoiceField

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day in the current time zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time.max.replace(microsecond=0)))


class PeriodForm(forms.Form):
    """Two dates of a report: from (default 30 days ago) to (default today)."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def period(self) -> tuple[dt.date, dt.date]:
        today = timezone.localdate()
        start, end = today - dt.timedelta(days=30), today
        if self.is_valid():
            start = self.cleaned_data.get("start") or start
            end = self.cleaned_data.get("end") or end
        return (min(start, end), max(start, end))
