"""API schemas of the commerce domain: types and lengths here, rules in the services. Money
leaves as decimal strings ("1288.00") so that no client rounds it through a float."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from guanxi.commerce.models import (
    HoldingSnapshot,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
)
from guanxi.commerce.selectors import CommerceSummary
from guanxi.core.schemas import InputSchema


class Ref(Schema):
    id: int
    name: str


# --- products -------------------------------------------------------------------------------


class ProductIn(InputSchema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    category: str | None = Field(None, max_length=100)
    list_price: Decimal = Decimal("0")
    unit_cost: Decimal = Decimal("0")
    currency: str | None = Field(None, max_length=3)
    is_active: bool = True


class ProductPatch(InputSchema):
    version: int
    code: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, max_length=100)
    list_price: Decimal | None = None
    unit_cost: Decimal | None = None
    currency: str | None = Field(None, max_length=3)
    is_active: bool | None = None


class ProductQuery(Schema):
    q: str = Field("", max_length=100)
    active: bool = False
    category_id: int | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class ProductOut(Schema):
    id: int
    code: str
    name: str
    category: Ref | None
    list_price: Decimal
    unit_cost: Decimal
    currency: str
    is_active: bool
    version: int

    @staticmethod
    def from_product(product: Product) -> ProductOut:
        category = product.category
        return ProductOut(
            id=product.pk,
            code=product.code,
            name=product.name,
            category=Ref(id=category.pk, name=category.name) if category else None,
            list_price=product.list_price,
            unit_cost=product.unit_cost,
            currency=product.currency,
            is_active=product.is_active,
            version=product.version,
        )


# --- orders ---------------------------------------------------------------------------------


class LineIn(InputSchema):
    product_id: int | None = None
    product_code: str | None = Field(None, max_length=40)
    description: str | None = Field(None, max_length=200)
    quantity: Decimal
    unit_price: Decimal | None = None
    discount: Decimal | None = None
    unit_cost: Decimal | None = None


class OrderIn(InputSchema):
    customer_id: int
    number: str | None = Field(None, max_length=32)
    ordered_at: dt.datetime | None = None
    channel: str | None = Field(None, max_length=12)
    status: str | None = Field(None, max_length=10)
    currency: str | None = Field(None, max_length=3)
    notes: str | None = Field(None, max_length=5000)
    lines: list[LineIn] = Field(max_length=500)


class OrderPatch(InputSchema):
    version: int
    number: str | None = Field(None, max_length=32)
    ordered_at: dt.datetime | None = None
    channel: str | None = Field(None, max_length=12)
    status: str | None = Field(None, max_length=10)
    currency: str | None = Field(None, max_length=3)
    notes: str | None = Field(None, max_length=5000)
    lines: list[LineIn] | None = Field(None, max_length=500)


class CancelIn(InputSchema):
    version: int | None = None


class OrderQuery(Schema):
    customer_id: int | None = None
    status: str = Field("", max_length=12)
    channel: str = Field("", max_length=12)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    owner_id: int | None = None
    q: str = Field("", max_length=32)
    sort: str = Field("-ordered_at", max_length=20)
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class LineOut(Schema):
    id: int
    product: Ref | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    unit_cost: Decimal
    line_total: Decimal

    @staticmethod
    def from_line(line: OrderLine) -> LineOut:
        product = line.product
        return LineOut(
            id=line.pk,
            product=Ref(id=product.pk, name=product.name) if product else None,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            unit_cost=line.unit_cost,
            line_total=line.line_total,
        )


class OrderOut(Schema):
    id: int
    number: str | None
    customer: Ref
    ordered_at: dt.datetime
    channel: str
    status: str
    currency: str
    total_amount: Decimal
    total_cost: Decimal
    owner: Ref | None
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @staticmethod
    def fields_of(order: Order) -> dict[str, Any]:
        owner = order.owner
        return {
            "id": order.pk,
            "number": order.number,
            "customer": Ref(id=order.customer.pk, name=order.customer.name),
            "ordered_at": order.ordered_at,
            "channel": order.channel,
            "status": order.status,
            "currency": order.currency,
            "total_amount": order.total_amount,
            "total_cost": order.total_cost,
            "owner": Ref(id=owner.pk, name=str(owner)) if owner else None,
            "notes": order.notes,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "version": order.version,
        }

    @staticmethod
    def from_order(order: Order) -> OrderOut:
        return OrderOut(**OrderOut.fields_of(order))


class OrderDetailOut(OrderOut):
    lines: list[LineOut]
    invoice_ids: list[int]

    @staticmethod
    def from_order(order: Order) -> OrderDetailOut:
        return OrderDetailOut(
            **OrderOut.fields_of(order),
            lines=[LineOut.from_line(line) for line in order.lines.all()],
            invoice_ids=[invoice.pk for invoice in order.invoices.all()],
        )


# --- invoices and payments ------------------------------------------------------------------


class InvoiceIn(InputSchema):
    customer_id: int
    order_id: int | None = None
    number: str | None = Field(None, max_length=32)
    issued_on: dt.date | None = None
    due_on: dt.date | None = None
    amount: Decimal | None = None
    currency: str | None = Field(None, max_length=3)
    notes: str | None = Field(None, max_length=5000)


class InvoiceQuery(Schema):
    customer_id: int | None = None
    status: str = Field("", max_length=12)
    overdue: bool = False
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    q: str = Field("", max_length=32)
    sort: str = Field("-issued_on", max_length=20)
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class PaymentIn(InputSchema):
    amount: Decimal
    paid_on: dt.date | None = None
    method: str = Field("bank_transfer", max_length=14)
    reference: str = Field("", max_length=100)


class PaymentOut(Schema):
    id: int
    invoice_id: int
    customer_id: int
    paid_on: dt.date
    amount: Decimal
    currency: str
    method: str
    reference: str
    created_at: dt.datetime

    @staticmethod
    def from_payment(payment: Payment) -> PaymentOut:
        return PaymentOut(
            id=payment.pk,
            invoice_id=payment.invoice_id,
            customer_id=payment.customer_id,
            paid_on=payment.paid_on,
            amount=payment.amount,
            currency=payment.currency,
            method=payment.method,
            reference=payment.reference,
            created_at=payment.created_at,
        )


class InvoiceOut(Schema):
    id: int
    number: str | None
    customer: Ref
    order_id: int | None
    issued_on: dt.date
    due_on: dt.date
    amount: Decimal
    paid_amount: Decimal
    outstanding: Decimal
    currency: str
    status: str
    paid_on: dt.date | None
    is_overdue: bool
    version: int

    @staticmethod
    def fields_of(invoice: Invoice) -> dict[str, Any]:
        return {
            "id": invoice.pk,
            "number": invoice.number,
            "customer": Ref(id=invoice.customer.pk, name=invoice.customer.name),
            "order_id": invoice.order_id,
            "issued_on": invoice.issued_on,
            "due_on": invoice.due_on,
            "amount": invoice.amount,
            "paid_amount": invoice.paid_amount,
            "outstanding": invoice.outstanding,
            "currency": invoice.currency,
            "status": invoice.status,
            "paid_on": invoice.paid_on,
            "is_overdue": invoice.is_overdue(),
            "version": invoice.version,
        }

    @staticmethod
    def from_invoice(invoice: Invoice) -> InvoiceOut:
        return InvoiceOut(**InvoiceOut.fields_of(invoice))


class InvoiceDetailOut(InvoiceOut):
    notes: str
    payments: list[PaymentOut]

    @staticmethod
    def from_invoice(invoice: Invoice) -> InvoiceDetailOut:
        return InvoiceDetailOut(
            **InvoiceOut.fields_of(invoice),
            notes=invoice.notes,
            payments=[PaymentOut.from_payment(p) for p in invoice.payments.all()],
        )


# --- holdings and the summary ---------------------------------------------------------------


class HoldingIn(InputSchema):
    as_of: dt.date
    assets_under_management: Decimal | None = None
    monthly_average_assets: Decimal | None = None
    loan_balance: Decimal | None = None
    currency: str | None = Field(None, max_length=3)
    source: str | None = Field(None, max_length=100)


class HoldingOut(Schema):
    id: int
    customer_id: int
    as_of: dt.date
    assets_under_management: Decimal
    monthly_average_assets: Decimal
    loan_balance: Decimal
    currency: str
    source: str

    @staticmethod
    def from_holding(holding: HoldingSnapshot) -> HoldingOut:
        return HoldingOut(
            id=holding.pk,
            customer_id=holding.customer_id,
            as_of=holding.as_of,
            assets_under_management=holding.assets_under_management,
            monthly_average_assets=holding.monthly_average_assets,
            loan_balance=holding.loan_balance,
            currency=holding.currency,
            source=holding.source,
        )


class SummaryOut(Schema):
    customer_id: int
    lifetime_revenue: Decimal
    lifetime_margin: Decimal
    order_count: int
    average_order_value: Decimal
    first_ordered_at: dt.datetime | None
    last_ordered_at: dt.datetime | None
    open_receivables: Decimal
    overdue_amount: Decimal
    overdue_count: int
    latest_holding: HoldingOut | None

    @staticmethod
    def from_summary(customer_id: int, summary: CommerceSummary) -> SummaryOut:
        holding = summary.latest_holding
        return SummaryOut(
            customer_id=customer_id,
            lifetime_revenue=summary.lifetime_revenue,
            lifetime_margin=summary.lifetime_margin,
            order_count=summary.order_count,
            average_order_value=summary.average_order_value,
            first_ordered_at=summary.first_ordered_at,
            last_ordered_at=summary.last_ordered_at,
            open_receivables=summary.open_receivables,
            overdue_amount=summary.overdue_amount,
            overdue_count=summary.overdue_count,
            latest_holding=HoldingOut.from_holding(holding) if holding else None,
        )
