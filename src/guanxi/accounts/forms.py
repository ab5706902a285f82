"""Forms for sign-in and the administration pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import Action, DataScope, Module, Role, Team
from guanxi.core.forms import StyledFormMixin


class LoginForm(StyledFormMixin, AuthenticationForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class UserForm(StyledFormMixin, forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=120, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.order_by("path"), required=False
    )
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.order_by("pk"), required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        required=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters. Leave empty to keep the current password."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["username"].disabled = True
        else:
            self.fields["password"].required = True
            self.fields["password"].help_text = _("At least 10 characters.")


class TeamForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    parent = forms.ModelChoiceField(
        label=_("Parent team"), queryset=Team.objects.order_by("path"), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def permission_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (
            str(module.label),
            [(f"{module.value}.{action.value}", str(action.label)) for action in Action],
        )
        for module in Module
    ]


class RoleForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    code = forms.SlugField(label=_("Code"), max_length=40)
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    data_scope = forms.ChoiceField(label=_("Data scope"), choices=DataScope.choices)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=permission_choices,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True


class TokenForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"), min_value=1, max_value=3650, initial=90, required=False
    )
