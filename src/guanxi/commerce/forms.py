"""Forms of the commerce pages; the rules live in the services, these only shape input."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.commerce.models import (
    DEFAULT_CURRENCY,
    OrderChannel,
    OrderStatus,
    PaymentMethod,
    Product,
)
from guanxi.core.forms import StyledFormMixin

LINE_ROWS = 5


def money_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=14, decimal_places=2, **kwargs)


class OrderForm(StyledFormMixin, forms.Form):
    ordered_at = forms.DateTimeField(
        label=_("Ordered at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=OrderChannel.choices, initial=OrderChannel.SALES_REP
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=OrderStatus.choices[:4], initial=OrderStatus.CONFIRMED
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial=DEFAULT_CURRENCY)
    number = forms.CharField(
        label=_("Order number"),
        max_length=32,
        required=False,
        help_text=_("Leave empty to number it automatically."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("ordered_at") is None:
            data["ordered_at"] = timezone.now()
        return {key: value for key, value in data.items() if value not in (None, "")}


class OrderLineForm(StyledFormMixin, forms.Form):
    """One line; a row left entirely empty is skipped."""

    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=12, decimal_places=3, required=False
    )
    unit_price = money_field(_("Unit price"), required=False)
    discount = money_field(_("Discount"), required=False)

    def __init__(self, *args: Any, products: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        if isinstance(field, forms.ModelChoiceField) and products is not None:
            field.queryset = products
        for each in self.fields.values():  # the rows are a table: no <label> per cell
            each.widget.attrs["aria-label"] = str(each.label)

    def line(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not any(data.get(name) not in (None, "") for name in self.fields):
            return None
        product = data.get("product")
        return {
            "product_id": product.pk if product else None,
            "description": data.get("description") or "",
            "quantity": data.get("quantity"),
            "unit_price": data.get("unit_price"),
            "discount": data.get("discount"),
        }


class BaseLineFormSet(forms.BaseFormSet):  # type: ignore[type-arg]  # stubs want the form type
    def __init__(self, *args: Any, products: Any = None, **kwargs: Any) -> None:
        self.products = products
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "products": self.products}

    def lines(self) -> list[dict[str, Any]]:
        """Each filled row as a line for the order service."""
        return [line for form in self.forms if (line := form.line()) is not None]

    def form_indexes(self) -> list[int]:
        """For each line of `lines()`, the index of the form it came from."""
        return [i for i, form in enumerate(self.forms) if form.line() is not None]


OrderLineFormSet = cast(
    type[BaseLineFormSet],
    forms.formset_factory(
        OrderLineForm, formset=BaseLineFormSet, extra=LINE_ROWS, max_num=50, validate_max=True
    ),
)


class CancelForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class InvoiceForm(StyledFormMixin, forms.Form):
    issued_on = forms.DateField(
        label=_("Issued on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_on = forms.DateField(
        label=_("Due on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: 30 days after issue."),
    )
    amount = money_field(_("Amount"), required=False, help_text=_("Empty: the order total."))
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    number = forms.CharField(
        label=_("Invoice number"),
        max_length=32,
        required=False,
        help_text=_("Leave empty to number it automatically."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class PaymentForm(StyledFormMixin, forms.Form):
    amount = money_field(_("Amount"))
    paid_on = forms.DateField(
        label=_("Paid on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(
        label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.BANK_TRANSFER
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("The bank's or wallet's transaction number: a repeat is not paid twice."),
    )


class ProductForm(StyledFormMixin, forms.Form):
    code = forms.CharField(label=_("Product code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    list_price = money_field(_("List price"))
    unit_cost = money_field(_("Unit cost"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("unit_cost") is None:
            data.pop("unit_cost", None)
        return data
