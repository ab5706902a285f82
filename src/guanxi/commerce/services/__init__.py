"""Commands of the commerce domain: products, orders, invoices, payments and holdings."""

from guanxi.commerce.services.holdings import holding_snapshot_save
from guanxi.commerce.services.orders import (
    check_version,
    order_cancel,
    order_create,
    order_lines_append,
    order_numbers_assign,
    order_update,
    orders_bulk_create,
    prepare_lines,
)
from guanxi.commerce.services.products import category_get_or_create, product_save
from guanxi.commerce.services.receivables import (
    invoice_create,
    invoice_numbers_assign,
    payment_record,
)

__all__ = [
    "category_get_or_create",
    "check_version",
    "holding_snapshot_save",
    "invoice_create",
    "invoice_numbers_assign",
    "order_cancel",
    "order_create",
    "order_lines_append",
    "order_numbers_assign",
    "order_update",
    "orders_bulk_create",
    "payment_record",
    "prepare_lines",
    "product_save",
]
