"""Reads of products, orders, invoices, payments and holdings, always within the acting
user's data scope: an order, invoice, payment or snapshot is visible when its customer is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, F, Max, Min, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.commerce.models import (
    OUTSTANDING_STATUSES,
    REVENUE_STATUSES,
    ZERO,
    HoldingSnapshot,
    Invoice,
    InvoiceStatus,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    Payment,
    Product,
    ProductCategory,
)
from guanxi.core.permissions import has_perm
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get

ORDER_SORTS: dict[str, tuple[str, ...]] = {
    "-ordered_at": ("-ordered_at", "-pk"),
    "ordered_at": ("ordered_at", "pk"),
    "-total_amount": ("-total_amount", "-pk"),
}
INVOICE_SORTS: dict[str, tuple[str, ...]] = {
    "-issued_on": ("-issued_on", "-pk"),
    "due_on": ("due_on", "pk"),
}
PRODUCT_ORDERING = ("code", "pk")
RECENT_ORDERS = 10
CENT = Decimal("0.01")
OPEN_INVOICES = 20


def _may_view(actor: User) -> bool:
    return has_perm(actor, "commerce.view")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def number_condition(term: str) -> Q:
    """A number search: its start (a B-tree range on the unique index, unlike a substring
    scan of millions of rows), or the id when the term is digits ("42" finds SO00000042)."""
    term = term.strip()
    condition = Q(number__startswith=term) | Q(number__startswith=term.upper())
    if term.isdigit() and len(term) < 19:
        condition |= Q(pk=int(term))
    return condition


# --- products -------------------------------------------------------------------------------


def product_list(
    *, actor: User, q: str = "", active_only: bool = False, category_id: int | None = None
) -> QuerySet[Product]:
    """The catalogue (not scoped: every commerce user sees it), category joined, by code."""
    if not _may_view(actor):
        return Product.objects.none()
    qs = Product.objects.select_related("category")
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if active_only:
        qs = qs.filter(is_active=True)
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    return qs.order_by(*PRODUCT_ORDERING)


def product_get(*, actor: User, pk: int) -> Product:
    found = product_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def category_list(*, actor: User) -> QuerySet[ProductCategory]:
    if not _may_view(actor):
        return ProductCategory.objects.none()
    return ProductCategory.objects.order_by("name", "pk")


# --- orders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilters:
    customer_id: int | None = None
    status: str = ""
    channel: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    owner_id: int | None = None
    q: str = ""
    sort: str = "-ordered_at"

    @property
    def ordering(self) -> tuple[str, ...]:
        return ORDER_SORTS.get(self.sort, ORDER_SORTS["-ordered_at"])


def order_base(*, actor: User) -> QuerySet[Order]:
    """Every order the actor may see (commerce.view, then the customer's data scope)."""
    if not _may_view(actor):
        return Order.objects.none()
    return Order.objects.visible_to(actor)


def order_list(*, actor: User, filters: OrderFilters | None = None) -> QuerySet[Order]:
    """Visible orders matching the filters (dates are local days, both ends included),
    customer and owner joined, sorted; unknown status or channel values match nothing."""
    filters = filters or OrderFilters()
    qs = order_base(actor=actor)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.status:
        qs = qs.filter(status=filters.status) if filters.status in OrderStatus.values else qs.none()
    if filters.channel:
        qs = (
            qs.filter(channel=filters.channel)
            if filters.channel in OrderChannel.values
            else qs.none()
        )
    if filters.date_from is not None:
        qs = qs.filter(ordered_at__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        qs = qs.filter(ordered_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.q:
        qs = qs.filter(number_condition(filters.q))
    return qs.select_related("customer", "owner").order_by(*filters.ordering)


def order_get(*, actor: User, pk: int) -> Order:
    """One visible order with customer, owner, team and its lines (with products); else 404."""
    found = (
        order_base(actor=actor)
        .select_related("customer", "owner", "team")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("product").order_by("position", "pk"),
            ),
            Prefetch("invoices", queryset=Invoice.objects.order_by("-issued_on", "-pk")),
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


# --- invoices and payments ------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFilters:
    customer_id: int | None = None
    status: str = ""
    overdue: bool = False
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    q: str = ""
    sort: str = "-issued_on"

    @property
    def ordering(self) -> tuple[str, ...]:
        return INVOICE_SORTS.get(self.sort, INVOICE_SORTS["-issued_on"])


def invoice_base(*, actor: User) -> QuerySet[Invoice]:
    if not _may_view(actor):
        return Invoice.objects.none()
    return Invoice.objects.visible_to(actor)


def invoice_list(*, actor: User, filters: InvoiceFilters | None = None) -> QuerySet[Invoice]:
    """Visible invoices matching the filters, customer and order joined, sorted. `overdue`
    means still owed (open or partly paid) and due before today."""
    filters = filters or InvoiceFilters()
    qs = invoice_base(actor=actor)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.status:
        qs = (
            qs.filter(status=filters.status)
            if filters.status in InvoiceStatus.values
            else qs.none()
        )
    if filters.overdue:
        qs = qs.filter(status__in=OUTSTANDING_STATUSES, due_on__lt=timezone.localdate())
    if filters.due_from is not None:
        qs = qs.filter(due_on__gte=filters.due_from)
    if filters.due_to is not None:
        qs = qs.filter(due_on__lte=filters.due_to)
    if filters.q:
        qs = qs.filter(number_condition(filters.q))
    return qs.select_related("customer", "order").order_by(*filters.ordering)


def invoice_get(*, actor: User, pk: int) -> Invoice:
    """One visible invoice with customer, order and its payments (oldest first); else 404."""
    found = (
        invoice_base(actor=actor)
        .select_related("customer", "order")
        .prefetch_related(
            Prefetch(
                "payments",
                queryset=Payment.objects.select_related("recorded_by").order_by("paid_on", "pk"),
            )
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


# --- holdings -------------------------------------------------------------------------------


def commerce_customer(*, actor: User, customer_id: int) -> Customer:
    """The customer whose commerce facts the actor opens: PermissionDenied without
    commerce.view, Http404 outside the actor's scope."""
    if not _may_view(actor):
        raise PermissionDenied("commerce.view")
    return customer_get(actor=actor, pk=customer_id)


def holding_list(*, customer: Customer, limit: int = 100) -> list[HoldingSnapshot]:
    """A customer's snapshots, newest first (the caller has checked the customer's scope)."""
    return list(HoldingSnapshot.objects.filter(customer=customer).order_by("-as_of")[:limit])


# --- the customer 360 summary ---------------------------------------------------------------


@dataclass(frozen=True)
class CommerceSummary:
    """What a customer bought and owes. Amounts add up every currency as recorded."""

    lifetime_revenue: Decimal
    lifetime_margin: Decimal
    order_count: int
    first_ordered_at: dt.datetime | None
    last_ordered_at: dt.datetime | None
    open_receivables: Decimal
    overdue_amount: Decimal
    overdue_count: int
    latest_holding: HoldingSnapshot | None

    @property
    def average_order_value(self) -> Decimal:
        if not self.order_count:
            return ZERO
        return (self.lifetime_revenue / self.order_count).quantize(CENT, rounding=ROUND_HALF_UP)


def _sum(expression: Any, condition: Q) -> Any:
    money: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)
    return Coalesce(Sum(expression, filter=condition), Value(ZERO), output_field=money)


def _cents(value: Any) -> Decimal:
    """SQLite sums decimals as floats ("1333.33000000000"): back to cents."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def customer_commerce_summary(
    *, customer: Customer, today: dt.date | None = None
) -> CommerceSummary:
    """Lifetime revenue and margin, order count, first and last order (revenue orders:
    confirmed, shipped, completed), open and overdue receivables, and the latest holdings
    snapshot: three aggregate queries. The caller has checked the customer's scope."""
    today = today or timezone.localdate()
    revenue = Q(status__in=REVENUE_STATUSES)
    orders = Order.objects.filter(customer_id=customer.pk).aggregate(
        revenue=_sum("total_amount", revenue),
        margin=_sum(F("total_amount") - F("total_cost"), revenue),
        count=Count("pk", filter=revenue),
        first=Min("ordered_at", filter=revenue),
        last=Max("ordered_at", filter=revenue),
    )
    owed = Q(status__in=OUTSTANDING_STATUSES)
    late = owed & Q(due_on__lt=today)
    invoices = Invoice.objects.filter(customer_id=customer.pk).aggregate(
        open=_sum(F("amount") - F("paid_amount"), owed),
        overdue=_sum(F("amount") - F("paid_amount"), late),
        overdue_count=Count("pk", filter=late),
    )
    latest = HoldingSnapshot.objects.filter(customer_id=customer.pk).order_by("-as_of").first()
    return CommerceSummary(
        lifetime_revenue=_cents(orders["revenue"]),
        lifetime_margin=_cents(orders["margin"]),
        order_count=orders["count"],
        first_ordered_at=orders["first"],
        last_ordered_at=orders["last"],
        open_receivables=_cents(invoices["open"]),
        overdue_amount=_cents(invoices["overdue"]),
        overdue_count=invoices["overdue_count"],
        latest_holding=latest,
    )


def customer_recent_orders(*, customer: Customer, limit: int = RECENT_ORDERS) -> list[Order]:
    """The customer's latest orders, newest first (one query on the customer's index)."""
    return list(
        Order.objects.filter(customer_id=customer.pk)
        .select_related("owner")
        .order_by("-ordered_at", "-pk")[:limit]
    )


def customer_open_invoices(*, customer: Customer, limit: int = OPEN_INVOICES) -> list[Invoice]:
    """The customer's invoices still owed, earliest due first."""
    return list(
        Invoice.objects.filter(customer_id=customer.pk, status__in=OUTSTANDING_STATUSES).order_by(
            "due_on", "pk"
        )[:limit]
    )
