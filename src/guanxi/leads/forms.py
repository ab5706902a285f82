"""Forms of the leads pages; the rules live in the services, these only shape input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import Team, User
from guanxi.core.forms import StyledFormMixin
from guanxi.customers.models import ConsentPurpose, Industry, SizeBand
from guanxi.grading.models import Tier
from guanxi.leads.models import (
    AssignmentMethod,
    FormField,
    IntentLevel,
    LeadEventKind,
    LeadSource,
    LeadStatus,
    ScoringFactor,
)


class LeadForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    region = forms.CharField(label=_("Province / region"), max_length=50, required=False)
    industry = forms.ModelChoiceField(
        label=_("Industry"), queryset=Industry.objects.filter(is_active=True), required=False
    )
    size_band = forms.ChoiceField(label=_("Company size"), choices=SizeBand.choices, required=False)
    source = forms.ChoiceField(
        label=_("Source channel"), choices=LeadSource.choices, initial=LeadSource.MANUAL
    )
    message = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    auto_assign = forms.BooleanField(
        label=_("Assign by the rules instead of to me"), required=False
    )

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("auto_assign", None)
        return data


class IntentForm(StyledFormMixin, forms.Form):
    intent = forms.ChoiceField(
        label=_("Intent level"),
        choices=[("", _("By the score rules")), *IntentLevel.choices],
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class StatusForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (value, label) for value, label in LeadStatus.choices if value != LeadStatus.CONVERTED
        ],
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


EVENT_CHOICES = [
    (kind.value, kind.label)
    for kind in (
        LeadEventKind.CALLED,
        LeadEventKind.OPENED_EMAIL,
        LeadEventKind.VISITED,
        LeadEventKind.REPLIED,
        LeadEventKind.FILLED_FORM,
        LeadEventKind.NOTE,
    )
]


class EventForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What happened"), choices=EVENT_CHOICES)
    detail = forms.CharField(label=_("Detail"), max_length=500, required=False)


class ConvertForm(StyledFormMixin, forms.Form):
    attach = forms.BooleanField(label=_("Attach to the existing customer"), required=False)
    create_opportunity = forms.BooleanField(
        label=_("Create an opportunity"), required=False, initial=True
    )
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class AssignForm(StyledFormMixin, forms.Form):
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, users: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if users is not None:
            self.fields["owner"].queryset = users  # type: ignore[attr-defined]  # a ModelChoiceField


class WebFormForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=60,
        help_text=_("The form is published at /leads/f/<address>/."),
    )
    heading = forms.CharField(label=_("Heading"), max_length=200)
    intro = forms.CharField(
        label=_("Introduction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    form_fields = forms.MultipleChoiceField(
        label=_("Fields"),
        choices=FormField.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=["name", "company", "phone", "email"],
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required fields"),
        choices=FormField.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=["name"],
    )
    consent_wording = forms.CharField(
        label=_("Consent wording"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown beside the consent checkbox; leave blank for no checkbox."),
    )
    consent_required = forms.BooleanField(label=_("Consent required"), required=False, initial=True)
    consent_purpose = forms.ChoiceField(
        label=_("Consent purpose"), choices=ConsentPurpose.choices, initial="processing"
    )
    thank_you = forms.CharField(label=_("Thank-you text"), widget=forms.Textarea(attrs={"rows": 2}))
    team = forms.ModelChoiceField(
        label=_("Team that receives the leads"),
        queryset=Team.objects.filter(is_active=True),
        required=False,
    )
    embed_origins = forms.CharField(
        label=_("Sites that may embed it"),
        max_length=500,
        required=False,
        help_text=_("Space-separated origins such as https://www.example.com; blank: any site."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ScoringRuleForm(StyledFormMixin, forms.Form):
    factor = forms.ChoiceField(label=_("Factor"), choices=ScoringFactor.choices)
    value = forms.CharField(
        label=_("Value"),
        max_length=80,
        help_text=_("A word of the title, a size, an industry code, a source or a behaviour."),
    )
    points = forms.IntegerField(label=_("Points"), min_value=-100, max_value=100)


class LeadSettingsForm(StyledFormMixin, forms.Form):
    half_life_days = forms.IntegerField(label=_("Behaviour half-life (days)"), min_value=1)
    intent_s = forms.IntegerField(label=_("Score for intent S"), min_value=0)
    intent_a = forms.IntegerField(label=_("Score for intent A"), min_value=0)
    intent_b = forms.IntegerField(label=_("Score for intent B"), min_value=0)


class AssignmentRuleForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.filter(is_active=True))
    method = forms.ChoiceField(label=_("Method"), choices=AssignmentMethod.choices)
    region = forms.CharField(label=_("Province / region"), max_length=50, required=False)
    industry = forms.ModelChoiceField(
        label=_("Industry"), queryset=Industry.objects.filter(is_active=True), required=False
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        help_text=_("Leave empty for every active member of the team."),
    )
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)


class PoolPolicyForm(StyledFormMixin, forms.Form):
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.filter(is_active=True),
        required=False,
        help_text=_("Leave empty for the company default."),
    )
    daily_claim_quota = forms.IntegerField(label=_("Claims per rep per day"), min_value=0)
    max_held = forms.IntegerField(label=_("Most customers and leads a rep may hold"), min_value=0)
    cooling_off_days = forms.IntegerField(label=_("Cooling-off days"), min_value=0)
    warn_days = forms.IntegerField(label=_("Warn the owner days before"), min_value=0)


class PoolRuleForm(StyledFormMixin, forms.Form):
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.filter(is_active=True),
        required=False,
        help_text=_("Leave empty for teams without a rule of their own."),
    )
    tier = forms.ModelChoiceField(
        label=_("Tier"),
        queryset=Tier.objects.filter(scheme__is_primary=True),
        required=False,
        help_text=_("Leave empty for any tier."),
    )
    no_follow_up_days = forms.IntegerField(
        label=_("Return after days without follow-up"), min_value=1, required=False
    )
    no_deal_days = forms.IntegerField(
        label=_("Return after days without a deal"), min_value=1, required=False
    )
