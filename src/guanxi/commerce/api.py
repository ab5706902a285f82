"""Commerce API: products, orders with lines, invoices, payments, a customer's holdings and
commerce summary."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.commerce import selectors, services
from guanxi.commerce.schemas import (
    CancelIn,
    HoldingIn,
    HoldingOut,
    InvoiceDetailOut,
    InvoiceIn,
    InvoiceOut,
    InvoiceQuery,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    OrderPatch,
    OrderQuery,
    PaymentIn,
    PaymentOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductQuery,
    SummaryOut,
)
from guanxi.core.idempotency import idempotent
from guanxi.core.pagination import keyset_page
from guanxi.core.schemas import PageOut

router = Router(tags=["commerce"])


def _lines(lines: list[Any] | None) -> list[dict[str, Any]] | None:
    if lines is None:
        return None
    return [line.model_dump(exclude_none=True) for line in lines]


# --- products -------------------------------------------------------------------------------


@router.get("/products", response=PageOut[ProductOut], summary="The product catalogue, by code")
def list_products(request: HttpRequest, query: Query[ProductQuery]) -> PageOut[ProductOut]:
    page = keyset_page(
        selectors.product_list(
            actor=api_actor(request),
            q=query.q,
            active_only=query.active,
            category_id=query.category_id,
        ),
        cursor=query.cursor,
        limit=query.limit,
        ordering=selectors.PRODUCT_ORDERING,
    )
    return PageOut[ProductOut](
        items=[ProductOut.from_product(p) for p in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post("/products", response={201: ProductOut})
def create_product(request: HttpRequest, payload: ProductIn) -> Status[ProductOut]:
    actor = api_actor(request)
    product = services.product_save(actor=actor, values=payload.model_dump(exclude_none=True))
    return Status(201, ProductOut.from_product(selectors.product_get(actor=actor, pk=product.pk)))


@router.get("/products/{int:product_id}", response=ProductOut)
def get_product(request: HttpRequest, product_id: int) -> ProductOut:
    return ProductOut.from_product(selectors.product_get(actor=api_actor(request), pk=product_id))


@router.patch("/products/{int:product_id}", response=ProductOut)
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch) -> ProductOut:
    actor = api_actor(request)
    services.product_save(
        actor=actor,
        product=selectors.product_get(actor=actor, pk=product_id),
        values=payload.model_dump(exclude_unset=True, exclude={"version"}),
        version=payload.version,
    )
    return ProductOut.from_product(selectors.product_get(actor=actor, pk=product_id))


# --- orders ---------------------------------------------------------------------------------


@router.get(
    "/orders",
    response=PageOut[OrderOut],
    summary="Orders (filters; dates are local days, both included; keyset pages)",
)
def list_orders(request: HttpRequest, query: Query[OrderQuery]) -> PageOut[OrderOut]:
    filters = selectors.OrderFilters(
        customer_id=query.customer_id,
        status=query.status,
        channel=query.channel,
        date_from=query.date_from,
        date_to=query.date_to,
        owner_id=query.owner_id,
        q=query.q,
        sort=query.sort,
    )
    page = keyset_page(
        selectors.order_list(actor=api_actor(request), filters=filters),
        cursor=query.cursor,
        limit=query.limit,
        ordering=filters.ordering,
    )
    return PageOut[OrderOut](
        items=[OrderOut.from_order(o) for o in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post(
    "/orders",
    response={201: OrderDetailOut},
    summary="Create an order with its lines (send Idempotency-Key to make retries safe)",
)
def create_order(request: HttpRequest, payload: OrderIn) -> Status[Any]:
    actor = api_actor(request)

    def run() -> tuple[int, Any]:
        customer = selectors.commerce_customer(actor=actor, customer_id=payload.customer_id)
        order = services.order_create(
            actor=actor,
            customer=customer,
            values=payload.model_dump(exclude_none=True, exclude={"customer_id", "lines"}),
            lines=_lines(payload.lines) or [],
        )
        found = selectors.order_get(actor=actor, pk=order.pk)
        return 201, OrderDetailOut.from_order(found).model_dump(mode="json")

    status, body = idempotent(request, run)
    return Status(status, body)


@router.get("/orders/{int:order_id}", response=OrderDetailOut)
def get_order(request: HttpRequest, order_id: int) -> OrderDetailOut:
    return OrderDetailOut.from_order(selectors.order_get(actor=api_actor(request), pk=order_id))


@router.patch(
    "/orders/{int:order_id}",
    response=OrderDetailOut,
    summary="Change an order; `lines`, when sent, replace all lines",
)
def update_order(request: HttpRequest, order_id: int, payload: OrderPatch) -> OrderDetailOut:
    actor = api_actor(request)
    services.order_update(
        actor=actor,
        order=selectors.order_get(actor=actor, pk=order_id),
        values=payload.model_dump(exclude_unset=True, exclude={"version", "lines"}),
        version=payload.version,
        lines=_lines(payload.lines),
    )
    return OrderDetailOut.from_order(selectors.order_get(actor=actor, pk=order_id))


@router.post(
    "/orders/{int:order_id}/cancel",
    response=OrderDetailOut,
    summary="Cancel an order and its unpaid invoices",
)
def cancel_order(request: HttpRequest, order_id: int, payload: CancelIn) -> OrderDetailOut:
    actor = api_actor(request)
    services.order_cancel(
        actor=actor,
        order=selectors.order_get(actor=actor, pk=order_id),
        version=payload.version,
    )
    return OrderDetailOut.from_order(selectors.order_get(actor=actor, pk=order_id))


# --- invoices and payments ------------------------------------------------------------------


@router.get(
    "/invoices",
    response=PageOut[InvoiceOut],
    summary="Invoices (filters, `overdue=true` for those still owed past their due date)",
)
def list_invoices(request: HttpRequest, query: Query[InvoiceQuery]) -> PageOut[InvoiceOut]:
    filters = selectors.InvoiceFilters(
        customer_id=query.customer_id,
        status=query.status,
        overdue=query.overdue,
        due_from=query.due_from,
        due_to=query.due_to,
        q=query.q,
        sort=query.sort,
    )
    page = keyset_page(
        selectors.invoice_list(actor=api_actor(request), filters=filters),
        cursor=query.cursor,
        limit=query.limit,
        ordering=filters.ordering,
    )
    return PageOut[InvoiceOut](
        items=[InvoiceOut.from_invoice(i) for i in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post(
    "/invoices",
    response={201: InvoiceDetailOut},
    summary="Issue an invoice (send Idempotency-Key to make retries safe)",
)
def create_invoice(request: HttpRequest, payload: InvoiceIn) -> Status[Any]:
    actor = api_actor(request)

    def run() -> tuple[int, Any]:
        customer = selectors.commerce_customer(actor=actor, customer_id=payload.customer_id)
        order = (
            selectors.order_get(actor=actor, pk=payload.order_id)
            if payload.order_id is not None
            else None
        )
        invoice = services.invoice_create(
            actor=actor,
            customer=customer,
            order=order,
            values=payload.model_dump(exclude_none=True, exclude={"customer_id", "order_id"}),
        )
        found = selectors.invoice_get(actor=actor, pk=invoice.pk)
        return 201, InvoiceDetailOut.from_invoice(found).model_dump(mode="json")

    status, body = idempotent(request, run)
    return Status(status, body)


@router.get("/invoices/{int:invoice_id}", response=InvoiceDetailOut)
def get_invoice(request: HttpRequest, invoice_id: int) -> InvoiceDetailOut:
    return InvoiceDetailOut.from_invoice(
        selectors.invoice_get(actor=api_actor(request), pk=invoice_id)
    )


@router.post(
    "/invoices/{int:invoice_id}/payments",
    response={201: PaymentOut},
    summary="Record a payment (a repeated `reference` or Idempotency-Key pays nothing twice)",
)
def record_payment(request: HttpRequest, invoice_id: int, payload: PaymentIn) -> Status[Any]:
    actor = api_actor(request)

    def run() -> tuple[int, Any]:
        payment = services.payment_record(
            actor=actor,
            invoice=selectors.invoice_get(actor=actor, pk=invoice_id),
            amount=payload.amount,
            paid_on=payload.paid_on,
            method=payload.method,
            reference=payload.reference,
        )
        return 201, PaymentOut.from_payment(payment).model_dump(mode="json")

    status, body = idempotent(request, run)
    return Status(status, body)


# --- a customer's holdings and summary ------------------------------------------------------


@router.get(
    "/customers/{int:customer_id}/holdings",
    response=list[HoldingOut],
    summary="A customer's holdings snapshots, newest first",
)
def list_holdings(request: HttpRequest, customer_id: int) -> list[HoldingOut]:
    customer = selectors.commerce_customer(actor=api_actor(request), customer_id=customer_id)
    return [HoldingOut.from_holding(h) for h in selectors.holding_list(customer=customer)]


@router.post(
    "/customers/{int:customer_id}/holdings",
    response={201: HoldingOut},
    summary="Record a holdings snapshot (replaces the same day's)",
)
def save_holding(request: HttpRequest, customer_id: int, payload: HoldingIn) -> Status[HoldingOut]:
    actor = api_actor(request)
    holding = services.holding_snapshot_save(
        actor=actor,
        customer=selectors.commerce_customer(actor=actor, customer_id=customer_id),
        as_of=payload.as_of,
        values=payload.model_dump(exclude_none=True, exclude={"as_of"}),
    )
    return Status(201, HoldingOut.from_holding(holding))


@router.get(
    "/customers/{int:customer_id}/commerce-summary",
    response=SummaryOut,
    summary="What a customer bought and owes, and their latest holdings",
)
def customer_summary(request: HttpRequest, customer_id: int) -> SummaryOut:
    customer = selectors.commerce_customer(actor=api_actor(request), customer_id=customer_id)
    return SummaryOut.from_summary(
        customer.pk, selectors.customer_commerce_summary(customer=customer)
    )
