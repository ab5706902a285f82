"""The access log's filter form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.audit.models import AccessAction
from guanxi.audit.selectors import AccessLogFilters
from guanxi.core.forms import StyledFormMixin


class AccessLogFilterForm(StyledFormMixin, forms.Form):
    actor = forms.IntegerField(label=_("Who"), required=False, min_value=1, widget=forms.Select)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Any action")), *AccessAction.choices],
    )
    target_model = forms.CharField(label=_("Record type"), required=False, max_length=100)
    target_pk = forms.CharField(label=_("Record id"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, users: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A plain integer behind the select: an id from a link still filters when its user is
        # not in the list the viewer may see.
        widget = self.fields["actor"].widget
        assert isinstance(widget, forms.Select)  # noqa: S101  (declared just above)
        widget.choices = [("", _("Anyone")), *((user.pk, str(user)) for user in users)]

    def filters(self) -> AccessLogFilters:
        """The valid filters; a field with a bad value is left out rather than failing the page."""
        self.is_valid()
        data = self.cleaned_data
        return AccessLogFilters(
            actor_id=data.get("actor"),
            action=data.get("action") or "",
            target_model=data.get("target_model") or "",
            target_pk=data.get("target_pk") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
