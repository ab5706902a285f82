"""Forms of the customer pages; validation of values lives in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledFormMixin
from guanxi.customers.models import (
    AddressKind,
    BuyingRole,
    ConsentPurpose,
    CustomerKind,
    CustomerStatus,
    CustomFieldDefinition,
    CustomFieldTarget,
    CustomFieldType,
    Gender,
    Industry,
    LifecycleStage,
    SizeBand,
    SourceChannel,
)

BLANK: list[tuple[str, Any]] = [("", "—")]


def _custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    label = definition.label(get_language() or "en")
    common: dict[str, Any] = {"label": label, "required": False}
    kind = definition.field_type
    if kind == CustomFieldType.NUMBER:
        return forms.IntegerField(**common)
    if kind == CustomFieldType.DECIMAL:
        return forms.DecimalField(**common)
    if kind == CustomFieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == CustomFieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == CustomFieldType.CHOICE:
        return forms.ChoiceField(choices=BLANK + [(c, c) for c in definition.choices], **common)
    if kind == CustomFieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    return forms.CharField(max_length=2000, **common)


class CustomerForm(StyledFormMixin, forms.Form):
    """Every customer field; the page shows the ones that belong to the chosen kind."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(
        label=_("Customer code"),
        max_length=32,
        required=False,
        help_text=_("Leave empty to number it automatically."),
    )
    source = forms.ChoiceField(
        label=_("Source channel"), choices=SourceChannel.choices, initial=SourceChannel.OTHER
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=CustomerStatus.choices[:3], initial=CustomerStatus.ACTIVE
    )
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=BLANK + LifecycleStage.choices, required=False
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    region = forms.CharField(label=_("Province / region"), max_length=50, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=100, required=False)
    bank_account = forms.CharField(label=_("Bank account"), max_length=40, required=False)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    credit_code = forms.CharField(
        label=_("Unified social credit code"), max_length=30, required=False
    )
    industry = forms.ModelChoiceField(
        label=_("Industry"), required=False, queryset=Industry.objects.filter(is_active=True)
    )
    size_band = forms.ChoiceField(label=_("Size"), choices=SizeBand.choices, required=False)
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    allow_duplicate = forms.BooleanField(
        label=_("Create even though a likely duplicate exists"), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    PERSON_FIELDS = ("gender", "birthday", "id_number", "occupation", "bank_account")
    ORGANISATION_FIELDS = ("legal_name", "credit_code", "industry", "size_band", "website")
    PERSONAL_FIELDS = ("phone", "email", "id_number", "bank_account")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        self.definitions = list(
            CustomFieldDefinition.objects.filter(target=CustomFieldTarget.CUSTOMER, is_active=True)
        )
        super().__init__(*args, **kwargs)
        for definition in self.definitions:
            self.fields[f"cf_{definition.key}"] = _custom_form_field(definition)
            widget = self.fields[f"cf_{definition.key}"].widget
            if not isinstance(widget, forms.CheckboxSelectMultiple):
                css = (
                    "form-check-input"
                    if isinstance(widget, forms.CheckboxInput)
                    else ("form-select" if isinstance(widget, forms.Select) else "form-control")
                )
                widget.attrs["class"] = css
        if editing:
            del self.fields["allow_duplicate"]
            for name in self.PERSONAL_FIELDS:
                self.fields[name].help_text = _("Stored encrypted. Leave empty to keep it.")

    def section(self, name: str) -> str:
        if name in self.PERSON_FIELDS:
            return "person"
        if name in self.ORGANISATION_FIELDS:
            return "organisation"
        return ""

    def values(self, *, editing: bool = False) -> dict[str, Any]:
        """The cleaned data as service values; empty personal fields on edit mean "keep"."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data.pop("allow_duplicate", None)
        custom = {}
        for definition in self.definitions:
            value = data.pop(f"cf_{definition.key}", None)
            custom[definition.key] = value.isoformat() if hasattr(value, "isoformat") else value
        data["custom_fields"] = custom
        if data.get("industry") is not None:
            data["industry"] = data["industry"]
        if editing:
            for name in self.PERSONAL_FIELDS:
                if not data.get(name):
                    data.pop(name, None)
        return data


class ContactForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    buying_role = forms.ChoiceField(
        label=_("Buying role"), choices=BuyingRole.choices, initial=BuyingRole.OTHER
    )
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        max_length=400,
        help_text=_("Several? Separate them with commas."),
    )
    emails = forms.CharField(
        label=_("Emails"),
        required=False,
        max_length=1000,
        help_text=_("Several? Separate them with commas."),
    )
    wechat_id = forms.CharField(label=_("WeChat ID"), max_length=64, required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)

    @staticmethod
    def split(text: str) -> list[str]:
        return [
            part.strip()
            for part in text.replace("，", ",").replace(";", ",").split(",")
            if part.strip()
        ]


class AddressForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AddressKind.choices)
    region = forms.CharField(label=_("Province / region"), max_length=50, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    district = forms.CharField(label=_("District"), max_length=50, required=False)
    street = forms.CharField(label=_("Street address"), max_length=300, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=12, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)


class ConsentForm(StyledFormMixin, forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    granted = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda value: value == "1",
        choices=[("1", _("Granted")), ("0", _("Withdrawn"))],
    )
    channel = forms.CharField(
        label=_("Channel"),
        max_length=40,
        help_text=_("Where it was given: web form, paper, phone call…"),
    )
    wording = forms.CharField(
        label=_("Wording shown"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CustomFieldForm(StyledFormMixin, forms.Form):
    target = forms.ChoiceField(label=_("Applies to"), choices=CustomFieldTarget.choices)
    key = forms.SlugField(label=_("Key"), max_length=40)
    label_zh = forms.CharField(label=_("Chinese label"), max_length=80)
    label_en = forms.CharField(label=_("English label"), max_length=80)
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomFieldType.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        max_length=4000,
        help_text=_("For choice fields: separate with commas."),
    )
    is_required = forms.BooleanField(label=_("Required"), required=False)
    show_in_list = forms.BooleanField(label=_("Show in the customer list"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=1000, initial=0)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            for name in ("target", "key", "field_type"):
                self.fields[name].disabled = True
