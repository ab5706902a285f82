"""Demo commerce: a product catalogue and three years of orders, invoices, payments and
holdings for the demo customers, with big spenders, regulars, dormant buyers, late payers
and wealth-management clients, so that grading has something to tell apart."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.commerce.models import (
    HoldingSnapshot,
    Invoice,
    InvoiceStatus,
    Order,
    OrderChannel,
    OrderStatus,
    Payment,
    PaymentMethod,
    Product,
    ProductCategory,
)
from guanxi.commerce.services.orders import orders_bulk_create
from guanxi.commerce.services.receivables import invoice_numbers_assign
from guanxi.customers.models import Customer, CustomerKind, CustomerStatus

SEED = 20240601
YEARS = 3
TERM_DAYS = 30
# (code, category, name, list price, unit cost)
CATALOGUE: list[tuple[str, str, str, str, str]] = [
    ("GX-TEA-001", "茶叶 Tea", "西湖龙井 250g West Lake Longjing", "680.00", "410.00"),
    ("GX-TEA-002", "茶叶 Tea", "武夷岩茶礼盒 Wuyi rock tea gift box", "1280.00", "760.00"),
    ("GX-TEA-003", "茶叶 Tea", "普洱茶饼 357g Pu'er cake", "420.00", "230.00"),
    ("GX-ELE-001", "电子 Electronics", "商务笔记本电脑 Business laptop", "8999.00", "7200.00"),
    (
        "GX-ELE-002",
        "电子 Electronics",
        "会议平板 86 寸 86-inch meeting board",
        "23800.00",
        "17600.00",
    ),
    ("GX-ELE-003", "电子 Electronics", "无线耳机 Wireless earbuds", "899.00", "520.00"),
    ("GX-SVC-001", "服务 Services", "年度维保服务 Annual maintenance", "12000.00", "4800.00"),
    ("GX-SVC-002", "服务 Services", "上门安装调试 On-site installation", "1500.00", "600.00"),
    (
        "GX-SVC-003",
        "服务 Services",
        "企业培训（天） Corporate training (day)",
        "6800.00",
        "2500.00",
    ),
    ("GX-OFF-001", "办公 Office", "人体工学椅 Ergonomic chair", "2399.00", "1350.00"),
    ("GX-OFF-002", "办公 Office", "A4 复印纸（箱） A4 paper (carton)", "189.00", "120.00"),
    ("GX-OFF-003", "办公 Office", "旧款打印机 Discontinued printer", "1999.00", "1500.00"),
]
DISCONTINUED = {"GX-OFF-003"}


# The first seven demo customers cover the buyers grading must tell apart; the next two are a
# prospect who has not bought yet and a newcomer with a first order or two.
CYCLE = (
    "vip",
    "regular",
    "late_payer",
    "occasional",
    "dormant",
    "regular",
    "vip",
    "prospect",
    "newcomer",
)


def _profile(index: int, customer: Customer) -> str:
    """Spread the demo customers over the kinds of buyer grading should tell apart."""
    if customer.kind == CustomerKind.GOVERNMENT:
        return "slow_payer"
    return CYCLE[index % len(CYCLE)]


# profile -> (orders over the years, products per order, quantity range, days late range)
PROFILES: dict[str, tuple[int, tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "vip": (36, (2, 4), (2, 12), (-20, 0)),
    "regular": (12, (1, 3), (1, 5), (-5, 25)),
    "late_payer": (10, (1, 3), (1, 6), (25, 95)),
    "slow_payer": (10, (1, 3), (1, 6), (35, 65)),
    "occasional": (3, (1, 2), (1, 2), (-5, 10)),
    "dormant": (6, (1, 2), (1, 4), (10, 40)),
    "newcomer": (2, (1, 2), (1, 3), (-5, 5)),
    "prospect": (0, (1, 1), (1, 1), (0, 0)),
}
# Month-end holdings of the individuals, by their order among them: (assets, loans), so that
# every wealth tier, with and without loans, has someone in it.
WEALTH = [
    (6_200_000, 3_000_000),
    (1_800_000, 500_000),
    (450_000, 200_000),
    (85_000, 50_000),
    (6_200_000, 0),
    (1_800_000, 0),
    (450_000, 0),
    (85_000, 0),
]
CHANNELS = [
    OrderChannel.SALES_REP,
    OrderChannel.ONLINE,
    OrderChannel.STORE,
    OrderChannel.PHONE,
    OrderChannel.DISTRIBUTOR,
]
METHODS = [PaymentMethod.BANK_TRANSFER, PaymentMethod.ALIPAY, PaymentMethod.WECHAT_PAY]


def _products() -> list[Product]:
    categories = {
        name: ProductCategory.objects.get_or_create(name=name, parent=None)[0]
        for name in sorted({row[1] for row in CATALOGUE})
    }
    existing = {p.code: p for p in Product.objects.filter(code__in=[r[0] for r in CATALOGUE])}
    missing = [
        Product(
            code=code,
            name=name,
            category=categories[category],
            list_price=Decimal(price),
            unit_cost=Decimal(cost),
            is_active=code not in DISCONTINUED,
        )
        for code, category, name, price, cost in CATALOGUE
        if code not in existing
    ]
    Product.objects.bulk_create(missing)
    return [*existing.values(), *missing]


def _order_rows(
    rng: random.Random, customer: Customer, profile: str, products: list[Product], now: dt.datetime
) -> list[dict[str, Any]]:
    count, per_order, quantities, _late = PROFILES[profile]
    span = YEARS * 365
    if profile == "dormant":
        days = sorted(rng.randint(420, span) for _ in range(count))
    elif profile == "newcomer":
        days = sorted(rng.randint(5, 80) for _ in range(count))
    else:
        days = sorted(rng.randint(2, span) for _ in range(count))
    rows = []
    for days_ago in days:
        ordered_at = now - dt.timedelta(days=days_ago, hours=rng.randint(0, 9))
        chosen = rng.sample(products, rng.randint(*per_order))
        if days_ago > 60:
            status = OrderStatus.CANCELLED if rng.random() < 0.06 else OrderStatus.COMPLETED
        else:
            status = rng.choice([OrderStatus.CONFIRMED, OrderStatus.SHIPPED])
        lines = []
        for product in chosen:
            quantity = rng.randint(*quantities)
            discount = (
                (product.list_price * quantity * Decimal("0.05")).quantize(Decimal("0.01"))
                if rng.random() < 0.3
                else Decimal("0")
            )
            lines.append({"product_id": product.pk, "quantity": quantity, "discount": discount})
        rows.append(
            {
                "customer_id": customer.pk,
                "owner_id": customer.owner_id,
                "team_id": customer.team_id,
                "ordered_at": ordered_at,
                "channel": rng.choice(CHANNELS),
                "status": status,
                "lines": lines,
            }
        )
    return rows


def _receivables(
    rng: random.Random, orders: list[Order], profiles: dict[int, str], today: dt.date
) -> tuple[list[Invoice], list[tuple[int, dt.date, Decimal]]]:
    """One invoice per kept order; payments follow the customer's habit of paying late."""
    invoices: list[Invoice] = []
    payments: list[tuple[int, dt.date, Decimal]] = []
    for order in orders:
        if order.status == OrderStatus.CANCELLED:
            continue
        issued_on = timezone.localdate(order.ordered_at)
        due_on = issued_on + dt.timedelta(days=TERM_DAYS)
        invoice = Invoice(
            customer_id=order.customer_id,
            order_id=order.pk,
            issued_on=issued_on,
            due_on=due_on,
            amount=order.total_amount,
            currency=order.currency,
        )
        low, high = PROFILES[profiles[order.customer_id]][3]
        paid_on = due_on + dt.timedelta(days=rng.randint(low, high))
        paid_on = max(paid_on, issued_on)
        if paid_on > today:  # not paid yet: open, or half paid for a late payer
            if high > 20 and rng.random() < 0.5 and issued_on + dt.timedelta(days=3) <= today:
                part = (invoice.amount / 2).quantize(Decimal("0.01"))
                invoice.paid_amount, invoice.status = part, InvoiceStatus.PARTLY_PAID
                payments.append((len(invoices), issued_on + dt.timedelta(days=3), part))
        else:
            invoice.paid_amount, invoice.status, invoice.paid_on = (
                invoice.amount,
                InvoiceStatus.PAID,
                paid_on,
            )
            payments.append((len(invoices), paid_on, invoice.amount))
        invoices.append(invoice)
    return invoices, payments


def _holdings(rng: random.Random, customers: list[Customer], today: dt.date) -> list[Any]:
    """Month-end snapshots for a year, for the investor and the individuals."""
    people = [c for c in customers if c.kind == CustomerKind.PERSON]
    clients = [
        (client, Decimal(assets), Decimal(loans))
        for client, (assets, loans) in zip(people, WEALTH * len(people), strict=False)
    ]
    clients += [
        (c, Decimal(rng.randint(3, 80) * 2_500_000), Decimal(0))
        for c in customers
        if c.kind == CustomerKind.INVESTOR
    ]
    month_ends = []
    first = today.replace(day=1)
    for _ in range(12):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        month_ends.append((first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1))
    rows = []
    for client, base, loan in clients:
        for step, as_of in enumerate(sorted(month_ends)):
            drift = Decimal(1 + (step - 6) * rng.uniform(-0.01, 0.03)).quantize(Decimal("0.0001"))
            aum = (base * drift).quantize(Decimal("0.01"))
            rows.append(
                HoldingSnapshot(
                    customer=client,
                    as_of=as_of,
                    assets_under_management=aum,
                    monthly_average_assets=(aum * Decimal("0.97")).quantize(Decimal("0.01")),
                    loan_balance=loan,
                    source="demo",
                )
            )
    return rows


@transaction.atomic
def load(*, force: bool = False) -> list[str]:
    """Add the catalogue, and orders with invoices, payments and holdings for every demo
    customer that has no orders yet; idempotent. Skips quietly without customers."""
    everyone = list(Customer.objects.exclude(status=CustomerStatus.MERGED).order_by("pk"))
    # A customer's profile follows its place among all customers, so that a rerun gives the
    # prospects (who never get orders) no orders either.
    profiles = {c.pk: _profile(i, c) for i, c in enumerate(everyone)}
    without_orders = set(
        Customer.objects.filter(orders__isnull=True).values_list("pk", flat=True).distinct()
    )
    customers = [c for c in everyone if c.pk in without_orders and profiles[c.pk] != "prospect"]
    if not customers:
        return ["Demo commerce: no customers without orders."]
    rng = random.Random(SEED)  # noqa: S311  # demo data, not a secret
    products = _products()
    now = timezone.now().replace(second=0, microsecond=0)
    today = timezone.localdate()
    rows = [
        row
        for customer in customers
        for row in _order_rows(rng, customer, profiles[customer.pk], products, now)
    ]
    ids = orders_bulk_create(rows)
    orders = list(Order.objects.filter(pk__in=ids).order_by("pk"))
    invoices, paid = _receivables(rng, orders, profiles, today)
    Invoice.objects.bulk_create(invoices, batch_size=500)
    invoice_numbers_assign([invoice.pk for invoice in invoices])
    Payment.objects.bulk_create(
        [
            Payment(
                invoice_id=invoices[index].pk,
                customer_id=invoices[index].customer_id,
                paid_on=day,
                amount=amount,
                currency=invoices[index].currency,
                method=rng.choice(METHODS),
                reference=f"DEMO-{invoices[index].pk}-{day:%Y%m%d}",
            )
            for index, day, amount in paid
        ],
        batch_size=500,
    )
    holdings = _holdings(rng, customers, today)
    HoldingSnapshot.objects.bulk_create(holdings, batch_size=500, ignore_conflicts=True)
    return [
        f"Demo commerce: {len(products)} products, {len(ids)} orders, {len(invoices)} invoices, "
        f"{len(paid)} payments, {len(holdings)} holdings snapshots on {len(customers)} customers."
    ]
