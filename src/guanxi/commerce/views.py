"""Commerce pages: orders (list, detail, create, cancel), invoices (list, detail, issue,
record a payment), the product catalogue, and the commerce card of the customer 360 page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.accounts.auth import page_actor
from guanxi.accounts.models import User
from guanxi.commerce import selectors, services
from guanxi.commerce.forms import (
    CancelForm,
    InvoiceForm,
    OrderForm,
    OrderLineFormSet,
    PaymentForm,
    ProductForm,
)
from guanxi.commerce.models import InvoiceStatus, OrderChannel, OrderStatus
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.pagination import BadCursor, Page, keyset_page
from guanxi.core.permissions import has_perm, require_perm

PAGE_SIZE = 50
# Service field names shown under another name on the line form.
LINE_FORM_FIELD = {"product_id": "product", "product_code": "product"}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _date(value: str | None) -> dt.date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _query_without_cursor(params: QueryDict) -> str:
    return urlencode([(key, value) for key, value in params.items() if key != "cursor" and value])


def _page(queryset: Any, request: HttpRequest, ordering: tuple[str, ...]) -> Page[Any]:
    """A keyset page; a forged or stale cursor starts over rather than failing."""
    try:
        return keyset_page(
            queryset, cursor=request.GET.get("cursor"), limit=PAGE_SIZE, ordering=ordering
        )
    except BadCursor:
        return keyset_page(queryset, limit=PAGE_SIZE, ordering=ordering)


def _require_view(actor: User) -> None:
    require_perm(actor, "commerce.view")


# --- orders ---------------------------------------------------------------------------------


@login_required
@require_GET
def order_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    _require_view(actor)
    params = request.GET
    filters = selectors.OrderFilters(
        customer_id=_int(params.get("customer")),
        status=params.get("status", ""),
        channel=params.get("channel", ""),
        date_from=_date(params.get("from")),
        date_to=_date(params.get("to")),
        owner_id=_int(params.get("owner")),
        q=params.get("q", "")[:32].strip(),
        sort=params.get("sort", "-ordered_at"),
    )
    page = _page(selectors.order_list(actor=actor, filters=filters), request, filters.ordering)
    context = {
        "page": page,
        "filters": filters,
        "query": _query_without_cursor(params),
        "statuses": OrderStatus.choices,
        "channels": OrderChannel.choices,
    }
    if request.htmx:  # type: ignore[attr-defined]  # set by django-htmx's middleware
        return render(request, "commerce/orders.html#rows", context)
    return render(request, "commerce/orders.html", context)


@login_required
@require_GET
def order_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    order = selectors.order_get(actor=actor, pk=pk)
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "invoices": list(order.invoices.all()),
        "cancel_form": CancelForm(initial={"version": order.version}),
        "can_edit": has_perm(actor, "commerce.edit") and order.is_cancellable,
        "can_invoice": has_perm(actor, "commerce.create") and order.is_cancellable,
    }
    return render(request, "commerce/order_detail.html", context)


def _apply_order_error(
    form: OrderForm, formset: Any, indexes: list[int], error: DomainError
) -> None:
    """Put a refused order's messages on the header form or on the line row they name."""
    header = []
    for item in error.errors or [{"field": error.field, "message": error.message}]:
        parts = str(item.get("field") or "").split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            row = formset.forms[indexes[int(parts[1])]]
            name = LINE_FORM_FIELD.get(parts[2], parts[2])
            row.add_error(name if name in row.fields else None, item["message"])
        else:
            header.append(item)
    if header:
        apply_domain_error(form, DomainError(error.message, errors=header))


@login_required
def order_create_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The order form for one customer: a header and a few line rows (empty rows skipped)."""
    actor = page_actor(request)
    require_perm(actor, "commerce.create")
    customer = selectors.commerce_customer(actor=actor, customer_id=customer_id)
    products = selectors.product_list(actor=actor, active_only=True)
    data = request.POST if request.method == "POST" else None
    form = OrderForm(data)
    formset = OrderLineFormSet(data, prefix="lines", products=products)
    if data is not None and form.is_valid() and formset.is_valid():
        try:
            order = services.order_create(
                actor=actor, customer=customer, values=form.values(), lines=formset.lines()
            )
        except DomainError as error:
            _apply_order_error(form, formset, formset.form_indexes(), error)
        else:
            messages.success(request, _("Order %(number)s created.") % {"number": order.number})
            return redirect("commerce:order-detail", pk=order.pk)
    context = {"customer": customer, "form": form, "formset": formset}
    return render(request, "commerce/order_form.html", context)


@login_required
@require_POST
def order_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    order = selectors.order_get(actor=actor, pk=pk)
    form = CancelForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        services.order_cancel(actor=actor, order=order, version=version)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Order %(number)s cancelled.") % {"number": order.number})
    return redirect("commerce:order-detail", pk=pk)


# --- invoices -------------------------------------------------------------------------------


@login_required
@require_GET
def invoice_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    _require_view(actor)
    params = request.GET
    filters = selectors.InvoiceFilters(
        customer_id=_int(params.get("customer")),
        status=params.get("status", ""),
        overdue=params.get("overdue") == "1",
        q=params.get("q", "")[:32].strip(),
        sort=params.get("sort", "-issued_on"),
    )
    page = _page(selectors.invoice_list(actor=actor, filters=filters), request, filters.ordering)
    today = timezone.localdate()
    context = {
        "page": page,
        "rows": [{"invoice": i, "overdue": i.is_overdue(today)} for i in page.items],
        "filters": filters,
        "query": _query_without_cursor(params),
        "statuses": InvoiceStatus.choices,
    }
    if request.htmx:  # type: ignore[attr-defined]  # set by django-htmx's middleware
        return render(request, "commerce/invoices.html#rows", context)
    return render(request, "commerce/invoices.html", context)


def _invoice_page(
    request: HttpRequest, actor: User, pk: int, form: PaymentForm | None = None
) -> HttpResponse:
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    can_pay = has_perm(actor, "commerce.create") and invoice.status in (
        InvoiceStatus.OPEN,
        InvoiceStatus.PARTLY_PAID,
    )
    context = {
        "invoice": invoice,
        "overdue": invoice.is_overdue(),
        "payments": list(invoice.payments.all()),
        "can_pay": can_pay,
        "form": form
        or PaymentForm(initial={"amount": invoice.outstanding, "paid_on": timezone.localdate()}),
    }
    return render(request, "commerce/invoice_detail.html", context)


@login_required
@require_GET
def invoice_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _invoice_page(request, page_actor(request), pk)


@login_required
@require_POST
def payment_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a payment from the invoice page; a refusal shows the page with the errors."""
    actor = page_actor(request)
    invoice = selectors.invoice_get(actor=actor, pk=pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.payment_record(actor=actor, invoice=invoice, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Payment recorded."))
            return redirect("commerce:invoice-detail", pk=pk)
    return _invoice_page(request, actor, pk, form)


@login_required
def invoice_create_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Issue an invoice to a customer; `?order=<id>` invoices one of its orders."""
    actor = page_actor(request)
    require_perm(actor, "commerce.create")
    customer = selectors.commerce_customer(actor=actor, customer_id=customer_id)
    order_id = _int(request.GET.get("order"))
    order = selectors.order_get(actor=actor, pk=order_id) if order_id else None
    if order is not None and order.customer_id != customer.pk:
        raise Http404
    form = InvoiceForm(request.POST or None, initial={"issued_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            invoice = services.invoice_create(
                actor=actor, customer=customer, order=order, values=form.values()
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
            return redirect("commerce:invoice-detail", pk=invoice.pk)
    return render(
        request, "commerce/invoice_form.html", {"customer": customer, "order": order, "form": form}
    )


# --- products -------------------------------------------------------------------------------


@login_required
def product_list_view(request: HttpRequest) -> HttpResponse:
    """The catalogue, with the new-product form for those who may create."""
    actor = page_actor(request)
    _require_view(actor)
    can_create = has_perm(actor, "commerce.create")
    form = ProductForm(request.POST or None)
    if request.method == "POST":
        require_perm(actor, "commerce.create")
        if form.is_valid():
            try:
                product = services.product_save(actor=actor, values=form.values())
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, _("Product %(code)s saved.") % {"code": product.code})
                return redirect("commerce:products")
    q = request.GET.get("q", "")[:100].strip()
    page = _page(selectors.product_list(actor=actor, q=q), request, selectors.PRODUCT_ORDERING)
    context = {
        "page": page,
        "q": q,
        "query": _query_without_cursor(request.GET),
        "form": form,
        "can_create": can_create,
    }
    if request.htmx:  # type: ignore[attr-defined]  # set by django-htmx's middleware
        return render(request, "commerce/products.html#rows", context)
    return render(request, "commerce/products.html", context)


# --- the customer 360 card ------------------------------------------------------------------


@login_required
@require_GET
def customer_summary_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """An HTML card (no page shell) for the customer 360 page: the commerce summary, the
    latest orders, the open invoices and the latest holdings snapshot. A foreign customer
    is 404; a user without commerce.view gets 204, which htmx leaves unswapped."""
    actor = page_actor(request)
    if not has_perm(actor, "commerce.view"):  # the 360 page asks for every viewer: no card
        return HttpResponse(status=204)
    customer = selectors.commerce_customer(actor=actor, customer_id=customer_id)
    today = timezone.localdate()
    context = {
        "customer": customer,
        "summary": selectors.customer_commerce_summary(customer=customer, today=today),
        "orders": selectors.customer_recent_orders(customer=customer),
        "invoices": [
            {"invoice": i, "overdue": i.is_overdue(today)}
            for i in selectors.customer_open_invoices(customer=customer)
        ],
        "can_create": has_perm(actor, "commerce.create"),
    }
    return render(request, "commerce/customer_summary.html", context)
