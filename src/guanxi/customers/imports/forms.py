"""Forms of the import pages: the upload and the column mapping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledFormMixin
from guanxi.customers.models import DuplicatePolicy, ImportTarget


class ImportUploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK), Excel (.xlsx, .xls) or vCard (.vcf); first row: headers."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,.xls,.vcf"}),
    )
    target = forms.ChoiceField(
        label=_("The rows are"),
        choices=ImportTarget.choices,
        initial=ImportTarget.CUSTOMERS,
        required=False,  # customers when left out
    )
    duplicate_policy = forms.ChoiceField(
        label=_("When a row matches an existing customer"),
        choices=DuplicatePolicy.choices,
        initial=DuplicatePolicy.SKIP,
    )
    allow_reimport = forms.BooleanField(
        label=_("Import this file even if it was imported before"), required=False
    )


class MappingForm(forms.Form):
    """One select per column of the file: the field it feeds, or nothing."""

    def __init__(
        self,
        *args: Any,
        headers: list[str],
        targets: list[tuple[str, str]],
        mapping: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", str(_("— ignore this column —"))), *targets]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or f"#{index + 1}",
                choices=choices,
                required=False,
                initial=mapping.get(str(index), ""),
                widget=forms.Select(
                    attrs={"class": "form-select form-select-sm", "aria-label": header}
                ),
            )

    def mapping(self) -> dict[str, str]:
        return {
            name.removeprefix("col_"): value or ""
            for name, value in self.cleaned_data.items()
            if name.startswith("col_")
        }
