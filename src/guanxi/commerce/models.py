"""Commerce facts that customer grading reads: products, orders with their lines, invoices
(receivables) with their payments, and dated financial-holdings snapshots per customer.

Orders, invoices, payments and holdings are visible when their customer is. Money is a
decimal of 14 digits with 2 places in the row's currency (CNY unless told otherwise); the
totals on an order and the paid amount on an invoice are kept by the services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.commerce.indexes import CoveringIndex
from guanxi.core.models import TimeStampedModel
from guanxi.core.scoping import ScopedQuerySet

DEFAULT_CURRENCY = "CNY"
ZERO = Decimal("0.00")


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def balance_field(verbose_name: Any) -> models.DecimalField[Decimal, Decimal]:
    """Holdings of a bank's or wealth manager's customer can pass 10^12: two more digits."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, default=ZERO)


def currency_field() -> models.CharField[str, str]:
    return models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)


class ProductCategory(models.Model):
    """A nestable product category (手机 → 配件)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering: ClassVar[list[str]] = ["name", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="commerce_category_unique_name_in_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    """A product or service that orders sell, with its list price and unit cost."""

    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
    )
    list_price = money_field(_("list price"), default=ZERO)
    unit_cost = money_field(_("unit cost"), default=ZERO)
    currency = currency_field()
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(list_price__gte=0), name="commerce_product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="commerce_product_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class OrderChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    STORE = "store", _("Store")
    SALES_REP = "sales_rep", _("Sales rep")
    DISTRIBUTOR = "distributor", _("Distributor")
    PHONE = "phone", _("Phone")
    OTHER = "other", _("Other")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


# The orders that count as revenue: what the customer actually bought and kept.
REVENUE_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


class OrderQuerySet(ScopedQuerySet["Order"]):
    scope_owner_field = "customer__owner"
    scope_team_field = "customer__team"


class Order(TimeStampedModel):
    """A customer's order: a header with denormalised totals of its lines.

    `number` is "SO" + the id padded to 8 digits unless given. `owner` is who took the
    order; visibility follows the customer, not the order's owner.
    """

    number = models.CharField(_("order number"), max_length=32, unique=True, null=True, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # the (customer, ordered_at) indexes lead with it
    )
    # Indexed with the customer (order_day_customer) rather than alone.
    ordered_at = models.DateTimeField(_("ordered at"))
    channel = models.CharField(
        _("channel"), max_length=12, choices=OrderChannel.choices, default=OrderChannel.OTHER
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED
    )
    currency = currency_field()
    total_amount = money_field(_("total amount"), default=ZERO)
    total_cost = money_field(_("total cost"), default=ZERO)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["customer", "-ordered_at", "-id"], name="order_customer_recent"),
            # Orders by date, and which customers ordered in a span of days from the index
            # alone (the grading refresh's window edges).
            CoveringIndex(fields=["ordered_at"], covering=["customer"], name="order_day_customer"),
            # Recency, frequency, monetary value and margin per customer from the index
            # alone; status rides along so that "revenue orders only" stays index-only.
            # With the date in the key, a customer's last 12 months are a range of it.
            CoveringIndex(
                fields=["customer", "ordered_at"],
                covering=["total_amount", "total_cost", "status"],
                name="order_customer_rfm",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def margin(self) -> Decimal:
        return self.total_amount - self.total_cost

    @property
    def is_cancellable(self) -> bool:
        return self.status not in (OrderStatus.CANCELLED, OrderStatus.RETURNED)


class OrderLine(models.Model):
    """One line of an order: line_total = quantity × unit_price − discount (a sum, ≥ 0)."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_lines",
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = money_field(_("unit price"))
    discount = money_field(_("discount"), default=ZERO)
    unit_cost = money_field(_("unit cost"), default=ZERO)
    line_total = money_field(_("line total"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering: ClassVar[list[str]] = ["order", "position", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="commerce_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="commerce_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0), name="commerce_line_discount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="commerce_line_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.description or str(self.product_id)

    @property
    def cost_total(self) -> Decimal:
        return self.quantity * self.unit_cost


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    WRITTEN_OFF = "written_off", _("Written off")
    CANCELLED = "cancelled", _("Cancelled")


# Invoices the customer still owes money on.
OUTSTANDING_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID)


class InvoiceQuerySet(ScopedQuerySet["Invoice"]):
    scope_owner_field = "customer__owner"
    scope_team_field = "customer__team"


class Invoice(TimeStampedModel):
    """A receivable: what the customer owes, by when, and how much is paid (kept by the
    payment service, with `paid_on` the date it became fully paid)."""

    number = models.CharField(
        _("invoice number"), max_length=32, unique=True, null=True, blank=True
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="invoices",
        db_index=False,  # invoice_customer_credit leads with it
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    issued_on = models.DateField(_("issued on"), db_index=True)
    # Indexed with the customer (invoice_due_customer) rather than alone.
    due_on = models.DateField(_("due on"))
    amount = money_field(_("amount"))
    currency = currency_field()
    status = models.CharField(
        _("status"), max_length=12, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    paid_amount = money_field(_("paid amount"), default=ZERO)
    paid_on = models.DateField(_("paid in full on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "due_on"], name="invoice_status_due"),
            # Invoices by due date, and whose fall due in a span of days from the index alone
            # (the grading refresh's window edges).
            CoveringIndex(
                fields=["due_on"], covering=["customer", "status"], name="invoice_due_customer"
            ),
            # Payment recovery, days to pay and overdue amounts per customer (credit
            # grading) from the index alone.
            CoveringIndex(
                fields=["customer"],
                covering=["due_on", "issued_on", "paid_on", "amount", "paid_amount", "status"],
                name="invoice_customer_credit",
            ),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="commerce_invoice_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(paid_amount__lte=models.F("amount")),
                name="commerce_invoice_paid_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("issued_on")),
                name="commerce_invoice_due_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount

    def is_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status in OUTSTANDING_STATUSES and self.due_on < today


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    CHEQUE = "cheque", _("Cheque")
    OTHER = "other", _("Other")


class PaymentQuerySet(ScopedQuerySet["Payment"]):
    scope_owner_field = "customer__owner"
    scope_team_field = "customer__team"


class Payment(TimeStampedModel):
    """Money received against an invoice. A non-empty `reference` (the bank's or the
    wallet's transaction id) is unique per customer, so a replayed payment is not counted
    twice."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,  # the (customer, paid_on) index leads with it
    )
    paid_on = models.DateField(_("paid on"), db_index=True)
    amount = money_field(_("amount"))
    currency = currency_field()
    method = models.CharField(
        _("method"),
        max_length=14,
        choices=PaymentMethod.choices,
        default=PaymentMethod.BANK_TRANSFER,
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering: ClassVar[list[str]] = ["paid_on", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["customer", "paid_on"], name="payment_customer_paid"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="commerce_payment_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["customer", "reference"],
                condition=~Q(reference=""),
                name="commerce_payment_unique_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} @ {self.paid_on}"


class HoldingQuerySet(ScopedQuerySet["HoldingSnapshot"]):
    scope_owner_field = "customer__owner"
    scope_team_field = "customer__team"


class HoldingSnapshot(TimeStampedModel):
    """What a bank's or wealth manager's customer held on one day: assets under management,
    their monthly average, and the loan balance. One snapshot per customer and day."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="holdings",
        db_index=False,  # the (customer, as_of) unique index leads with it
    )
    as_of = models.DateField(_("as of"))
    assets_under_management = balance_field(_("assets under management"))
    monthly_average_assets = balance_field(_("monthly average assets"))
    loan_balance = balance_field(_("loan balance"))
    currency = currency_field()
    source = models.CharField(_("source"), max_length=100, blank=True)

    objects = HoldingQuerySet.as_manager()

    class Meta:
        verbose_name = _("holdings snapshot")
        verbose_name_plural = _("holdings snapshots")
        ordering: ClassVar[list[str]] = ["-as_of", "-pk"]
        indexes: ClassVar[list[models.Index]] = [
            # Whose snapshots take effect in a span of days, from the index alone (the
            # grading refresh's window edges).
            CoveringIndex(fields=["as_of"], covering=["customer"], name="holding_day_customer"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["customer", "as_of"], name="commerce_holding_unique_day"
            ),
            models.CheckConstraint(
                condition=Q(assets_under_management__gte=0)
                & Q(monthly_average_assets__gte=0)
                & Q(loan_balance__gte=0),
                name="commerce_holding_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.as_of}"
