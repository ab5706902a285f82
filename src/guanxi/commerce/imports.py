"""Importing commerce facts (orders, invoices, payments, holdings snapshots) from a CSV or
XLSX file, through the customer importer's job lifecycle (customers/imports/service.py
routes a job whose target is not "customers" here for its dry run, run and revert).

Each row names its customer by code; a batch looks its customers, invoices and existing
natural keys up in a few set-based queries, validates every row with the commerce value
checks (errors name the file's column), and writes the valid rows in bulk with the job's
checkpoint in one transaction. A row whose natural key already exists (order or invoice
number, a payment's reference for the customer, a customer's snapshot day) is skipped, so
importing the same file twice creates nothing new. Rows sharing an order number are the
lines of one order even when batches cut between them: a later batch adds its lines to the
order an earlier batch of the same job created (the row log ties every line's row to that
order, so revert removes the whole order). The dry run remembers what its earlier batches
would have written (orders with their customer and totals, invoice numbers, payments per
invoice, snapshot days) and checks new orders as the order services will, so it reports
for every row what the run will do. After each batch commits, the same events as the
single-item services are published for the new rows. Revert deletes what the job created
and nothing else refers to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, cast

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.accounts.models import User
from guanxi.commerce.models import (
    ZERO,
    HoldingSnapshot,
    Invoice,
    InvoiceStatus,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from guanxi.commerce.services import order_lines_append, orders_bulk_create
from guanxi.commerce.services import values as v
from guanxi.commerce.services.orders import (
    catalogue_for,
    imported_order,
    prepare_lines,
    totals_with,
)
from guanxi.core import events
from guanxi.core.errors import DomainError
from guanxi.customers.imports import targets
from guanxi.customers.imports.readers import BadRow, Row
from guanxi.customers.models import (
    Customer,
    ImportAction,
    ImportedRow,
    ImportJob,
    ImportRowError,
    ImportTarget,
)

CHUNK = 500
MAX_REMEMBERED = 500_000  # the dry run's memory of earlier batches' new keys (~200 MB of orders)

# Target field → the headers (lower case) that map to it, Chinese and English.
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportTarget.ORDERS: {
        "customer_code": ("客户编号", "客户代码", "customer code", "customer"),
        "number": ("订单号", "订单编号", "order number", "order no", "number"),
        "ordered_at": ("订单日期", "下单日期", "order date", "ordered at", "date"),
        "product_code": ("产品编号", "产品代码", "product code", "sku"),
        "description": ("描述", "品名", "产品名称", "description", "product"),
        "quantity": ("数量", "quantity", "qty"),
        "unit_price": ("单价", "unit price", "price"),
        "amount": ("金额", "总金额", "amount", "total"),
        "channel": ("渠道", "channel"),
        "currency": ("币种", "currency"),
    },
    ImportTarget.INVOICES: {
        "customer_code": ("客户编号", "客户代码", "customer code", "customer"),
        "number": ("发票号", "发票编号", "invoice number", "invoice no", "number"),
        "issued_on": ("开票日期", "issue date", "issued on", "date"),
        "due_on": ("到期日", "到期日期", "due date", "due on"),
        "amount": ("金额", "amount", "total"),
        "currency": ("币种", "currency"),
    },
    ImportTarget.PAYMENTS: {
        "customer_code": ("客户编号", "客户代码", "customer code", "customer"),
        "invoice_number": ("发票号", "发票编号", "invoice number", "invoice no", "invoice"),
        "paid_on": ("付款日期", "收款日期", "paid on", "payment date", "date"),
        "amount": ("金额", "付款金额", "amount"),
        "method": ("付款方式", "method", "payment method"),
        "reference": ("流水号", "交易号", "reference", "transaction id"),
    },
    ImportTarget.HOLDINGS: {
        "customer_code": ("客户编号", "客户代码", "customer code", "customer"),
        "as_of": ("日期", "统计日期", "as of", "date"),
        "assets_under_management": ("资产", "资产规模", "aum", "assets under management"),
        "monthly_average_assets": ("月日均资产", "月均资产", "monthly average assets"),
        "loan_balance": ("贷款余额", "loan balance", "loans"),
        "currency": ("币种", "currency"),
    },
}
LABELS: dict[str, Any] = {
    "customer_code": gettext_lazy("Customer code"),
    "number": gettext_lazy("Number"),
    "ordered_at": gettext_lazy("Order date"),
    "product_code": gettext_lazy("Product code"),
    "description": gettext_lazy("Description"),
    "quantity": gettext_lazy("Quantity"),
    "unit_price": gettext_lazy("Unit price"),
    "amount": gettext_lazy("Amount"),
    "channel": gettext_lazy("Channel"),
    "currency": gettext_lazy("Currency"),
    "issued_on": gettext_lazy("Issue date"),
    "due_on": gettext_lazy("Due date"),
    "invoice_number": gettext_lazy("Invoice number"),
    "paid_on": gettext_lazy("Paid on"),
    "method": gettext_lazy("Payment method"),
    "reference": gettext_lazy("Reference"),
    "as_of": gettext_lazy("As of"),
    "assets_under_management": gettext_lazy("Assets under management"),
    "monthly_average_assets": gettext_lazy("Monthly average assets"),
    "loan_balance": gettext_lazy("Loan balance"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    ImportTarget.ORDERS: ("customer_code", "number", "ordered_at"),
    ImportTarget.INVOICES: ("customer_code", "number", "issued_on", "amount"),
    ImportTarget.PAYMENTS: ("invoice_number", "paid_on", "amount"),
    ImportTarget.HOLDINGS: ("customer_code", "as_of"),
}


def target_choices(target: str) -> list[tuple[str, str]]:
    """(field, label in the active language) of a commerce target, for the mapping page."""
    return [(key, str(LABELS[key])) for key in HEADERS[target]]


def _normal(header: Any) -> str:
    return " ".join(str(header or "").replace("_", " ").split()).lower()


def auto_map(target: str, headers: list[str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Column index → field of the target for each known header (each field once), and a
    warning for each required field no column maps to."""
    known = {name: key for key, names in HEADERS[target].items() for name in names}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        key = known.get(_normal(header), "")
        if key in used:
            key = ""
        used.add(key)
        mapping[str(index)] = key
    warnings = missing(target, mapping)
    if warnings and (likely := _likely_target(target, headers)):
        warnings.append(
            {
                "column": None,
                "message": _(
                    "These columns look like a file of “%(kind)s”, not “%(chosen)s”: "
                    "upload it again as “%(kind)s”."
                )
                % {
                    "kind": ImportTarget(likely).label,
                    "chosen": ImportTarget(target).label,
                },
            }
        )
    return mapping, warnings


def _likely_target(chosen: str, headers: list[str]) -> str | None:
    """The one other commerce target whose every required field the headers hold, if any."""
    names = {_normal(header) for header in headers}
    fits = [
        target
        for target, fields in HEADERS.items()
        if target != chosen and all(names.intersection(fields[key]) for key in REQUIRED[target])
    ]
    return fits[0] if len(fits) == 1 else None


def _missing_message(key: str) -> str:
    return _("No column holds the required field “%(field)s”.") % {"field": LABELS[key]}


def missing(target: str, mapping: dict[str, str]) -> list[dict[str, Any]]:
    """A warning naming each required field of the target that no column holds."""
    return [
        {"column": None, "message": _missing_message(key)}
        for key in REQUIRED[target]
        if key not in mapping.values()
    ]


def mapping_clean(
    target: str, mapping: dict[str, Any], headers: list[str]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The mapping with only this target's fields, each once; the errors found."""
    cleaned: dict[str, str] = {}
    errors: list[dict[str, Any]] = []
    used: set[str] = set()
    for index in range(len(headers)):
        key = str(mapping.get(str(index)) or "")
        if key and key not in HEADERS[target]:
            errors.append({"field": f"mapping.{index}", "message": _("Choose a valid column.")})
        elif key and key in used:
            errors.append(
                {"field": f"mapping.{index}", "message": _("Two columns hold the same field.")}
            )
        used.add(key)
        cleaned[str(index)] = key
    return cleaned, errors


# --- rows ------------------------------------------------------------------------------------


@dataclass
class Parsed:
    """One row of the file after validation: its values, or its errors."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    customer_id: int | None = None


@dataclass
class Outcome:
    """What one batch did (or, in the dry run, would do)."""

    created: list[tuple[Parsed, Any]] = field(default_factory=list)  # row, new object
    skipped: list[Parsed] = field(default_factory=list)
    failed: list[Parsed] = field(default_factory=list)


@dataclass
class Append:
    """More lines of an order that an earlier batch of the same job created: a batch never
    cuts an order, its later lines are added to it (totals recomputed)."""

    order_id: int  # 0 in the dry run: the order an earlier batch would have created
    customer_id: int
    number: str


@dataclass
class DryRun:
    """What the earlier batches of one dry run would have written and the real run's later
    batches find in the database: the orders by number (customer, total amount and cost),
    the invoice numbers, each invoice's payments (amount, references) and the holdings'
    (customer, day) keys. A dry run reads every batch in one call, so this lives in memory
    for that call; past MAX_REMEMBERED keys it stops learning new ones."""

    orders: dict[str, tuple[int, Decimal, Decimal]] = field(default_factory=dict)
    invoices: set[str] = field(default_factory=set)
    paid: dict[int, Decimal] = field(default_factory=dict)
    references: dict[int, set[str]] = field(default_factory=dict)
    holdings: set[tuple[int, dt.date]] = field(default_factory=set)
    size: int = 0  # keys remembered

    def learn(self) -> bool:
        """Whether one more key may be remembered (and count it)."""
        if self.size >= MAX_REMEMBERED:
            return False
        self.size += 1
        return True


def _columns(job: ImportJob) -> dict[str, str]:
    """Field key → the file's column header, worked out once per job object."""
    cached: dict[str, str] | None = getattr(job, "_import_columns", None)
    if cached is None:
        cached = {
            key: job.headers[int(index)] if int(index) < len(job.headers) else key
            for index, key in job.mapping.items()
            if key
        }
        job._import_columns = cached  # type: ignore[attr-defined]
    return cached


class Checker:
    """Field checks of one row, each error naming the file's column."""

    def __init__(self, job: ImportJob, row: Parsed, raw: dict[str, Any]) -> None:
        self.columns = _columns(job)
        self.row = row
        self.raw = raw

    def optional(self, key: str, parse: Any, *args: Any, default: Any = None, **kwargs: Any) -> Any:
        """The cell `key` checked by `parse(value, *args, key, fail, **kwargs)`, or `default`
        when the cell is blank."""
        if v.blank(self.raw.get(key)):
            return default
        return parse(self.raw[key], *args, key, self.fail, **kwargs)

    def fail(self, key: str, message: str) -> None:
        column = self.columns.get(key) or str(LABELS.get(key, key))
        self.row.errors.append(
            {
                "field": key,
                "value": str(self.raw.get(key, "") or "")[:200],
                "message": (
                    _("Column “%(column)s”: %(message)s") % {"column": column, "message": message}
                )[:500],
            }
        )


def _cells(job: ImportJob, rows: list[Row]) -> list[tuple[Parsed, dict[str, Any]]]:
    out = []
    for number, cells in rows:
        row = Parsed(number=number)
        raw: dict[str, Any] = {}
        if isinstance(cells, BadRow):
            row.errors.append({"field": "", "value": "", "message": cells.message[:500]})
        else:
            for index, key in job.mapping.items():
                if key and int(index) < len(cells):
                    cell = cells[int(index)]
                    raw[key] = cell.strip() if isinstance(cell, str) else cell
        out.append((row, raw))
    return out


def _lookup(model: Any, column: str, wanted: Iterable[Any], fields: tuple[str, ...]) -> list[Any]:
    values = sorted({item for item in wanted if item not in (None, "")})
    found: list[Any] = []
    for start in range(0, len(values), CHUNK):
        found.extend(
            model.objects.filter(**{f"{column}__in": values[start : start + CHUNK]}).values_list(
                *fields
            )
        )
    return found


def _customers(actor: User, codes: Iterable[Any]) -> dict[str, int]:
    """Customer id by code, only customers the job's user can see (one query a chunk)."""
    values = sorted({str(code) for code in codes if code not in (None, "")})
    found: dict[str, int] = {}
    for start in range(0, len(values), CHUNK):
        for code, pk in (
            Customer.objects.visible_to(actor)
            .filter(code__in=values[start : start + CHUNK])
            .values_list("code", "pk")
        ):
            found[str(code)] = pk
    return found


def _required(check: Checker, target: str) -> None:
    for key in REQUIRED[target]:
        if key not in check.columns:  # the file has no such column (or the wrong target)
            check.row.errors.append({"field": key, "value": "", "message": _missing_message(key)})
        elif v.blank(check.raw.get(key)):
            check.fail(key, _("This field is required."))


def _customer(check: Checker, customers: dict[str, int]) -> None:
    code = check.raw.get("customer_code")
    if v.blank(code):
        return
    customer_id = customers.get(str(code))
    if customer_id is None:
        check.fail("customer_code", _("No customer has the code %(code)s.") % {"code": code})
    check.row.customer_id = customer_id


def _earlier_orders(job: ImportJob, found: list[tuple[str, int, int]]) -> dict[str, Append]:
    """Of the orders found by number, those an earlier batch of this job created (and no
    revert removed), by number: a later batch appends its lines of them."""
    by_pk = {pk: (str(number), customer_id) for number, pk, customer_id in found}
    mine: dict[str, Append] = {}
    ids = sorted(by_pk)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        logged = ImportedRow.objects.filter(
            job=job,
            action=ImportAction.CREATED,
            revert_outcome="",
            customer_id__in=sorted({by_pk[pk][1] for pk in chunk}),
            before__id__in=chunk,
        ).values_list("before", flat=True)
        for before in logged:
            pk = int((before or {}).get("id") or 0)
            if (before or {}).get("model") == "order" and pk in by_pk:
                number, customer_id = by_pk[pk]
                mine[number] = Append(order_id=pk, customer_id=customer_id, number=number)
    return mine


def _orders(
    job: ImportJob, actor: User, parsed: list[tuple[Parsed, dict[str, Any]]], dry: DryRun | None
) -> Outcome:
    outcome = Outcome()
    customers = _customers(actor, (raw.get("customer_code") for _row, raw in parsed))
    numbers = {str(raw.get("number") or "") for _r, raw in parsed}
    found = _lookup(Order, "number", numbers, ("number", "pk", "customer_id"))
    taken = {str(number) for number, _pk, _customer in found}
    earlier = _earlier_orders(job, found)
    if dry is not None:  # the orders earlier batches would have created, as the run finds them
        for number in numbers.intersection(dry.orders):
            taken.add(number)
            earlier[number] = Append(order_id=0, customer_id=dry.orders[number][0], number=number)
    heads: dict[str, Parsed] = {}
    for row, raw in parsed:
        if row.errors:
            outcome.failed.append(row)
            continue
        check = Checker(job, row, raw)
        _required(check, ImportTarget.ORDERS)
        _customer(check, customers)
        moment = check.optional("ordered_at", v.moment)
        channel = check.optional("channel", v.choice, OrderChannel, default=OrderChannel.OTHER)
        quantity = check.optional("quantity", v.quantity, default=Decimal(1))
        price = None
        if not v.blank(raw.get("unit_price")):
            price = v.amount(raw["unit_price"], "unit_price", check.fail)
        elif not v.blank(raw.get("amount")):
            total = v.amount(raw["amount"], "amount", check.fail)
            if total is not None and quantity:
                price = v.money(total / quantity)
        else:
            check.fail("amount", _("This field is required."))
        number = str(raw.get("number") or "")
        if row.errors:
            outcome.failed.append(row)
            continue
        if number in taken and number not in earlier:
            outcome.skipped.append(row)
            continue
        line: dict[str, Any] = {"quantity": quantity, "unit_price": price}
        if not v.blank(raw.get("product_code")):
            line["product_code"] = raw["product_code"]
        line["description"] = str(raw.get("description") or raw.get("product_code") or number)[:200]
        if number in earlier:  # the order began in an earlier batch of this file
            if earlier[number].customer_id != row.customer_id:
                check.fail("number", _("This order number is already used."))
                outcome.failed.append(row)
            else:
                row.values = {"line": line}
                outcome.created.append((row, earlier[number]))
            continue
        head = heads.get(number)
        if head is not None:  # another line of an order begun by an earlier row
            if head.customer_id != row.customer_id:
                check.fail("number", _("This order number is already used."))
                outcome.failed.append(row)
            else:
                head.values["lines"].append(line)
                outcome.created.append((row, head))
            continue
        heads[number] = row
        row.values = {
            "customer_id": row.customer_id,
            "number": number,
            "ordered_at": moment,
            "channel": channel,
            "status": OrderStatus.COMPLETED,
            "lines": [line],
        }
        if not v.blank(raw.get("currency")):
            row.values["currency"] = raw["currency"]
        outcome.created.append((row, None))
    return outcome


def _invoices(
    job: ImportJob, actor: User, parsed: list[tuple[Parsed, dict[str, Any]]], dry: DryRun | None
) -> Outcome:
    outcome = Outcome()
    customers = _customers(actor, (raw.get("customer_code") for _row, raw in parsed))
    taken = {
        number
        for (number,) in _lookup(
            Invoice,
            "number",
            (str(raw.get("number") or "")[:32] for _r, raw in parsed),
            ("number",),
        )
    }
    if dry is not None:  # the invoices earlier batches would have created
        taken.update(dry.invoices)
    seen: set[str] = set()
    for row, raw in parsed:
        if row.errors:
            outcome.failed.append(row)
            continue
        check = Checker(job, row, raw)
        _required(check, ImportTarget.INVOICES)
        _customer(check, customers)
        issued = check.optional("issued_on", v.date)
        due = check.optional("due_on", v.date)
        if issued is not None and due is None:
            due = issued + dt.timedelta(days=30)
        if issued is not None and due is not None and due < issued:
            check.fail("due_on", _("The due date cannot come before the issue date."))
        amount = check.optional("amount", v.amount, positive=True)
        currency = check.optional("currency", v.currency, default="CNY")
        number = str(raw.get("number") or "")[:32]
        customer_id = row.customer_id
        if row.errors or customer_id is None or None in (issued, due, amount):
            outcome.failed.append(row)
            continue
        if number in taken or number in seen:
            outcome.skipped.append(row)
            continue
        seen.add(number)
        outcome.created.append(
            (
                row,
                Invoice(
                    number=number,
                    customer_id=customer_id,
                    issued_on=cast(dt.date, issued),
                    due_on=cast(dt.date, due),
                    amount=cast(Decimal, amount),
                    currency=currency or "CNY",
                ),
            )
        )
    return outcome


def _payments(
    job: ImportJob, actor: User, parsed: list[tuple[Parsed, dict[str, Any]]], dry: DryRun | None
) -> Outcome:
    outcome = Outcome()
    invoices = {
        invoice.number: invoice
        for invoice in Invoice.objects.visible_to(actor).filter(
            number__in=sorted({str(raw.get("invoice_number") or "") for _r, raw in parsed})
        )
    }
    customers = _customers(actor, (raw.get("customer_code") for _row, raw in parsed))
    references = {
        (customer_id, reference)
        for customer_id, reference in _lookup(
            Payment,
            "invoice_id",
            (invoice.pk for invoice in invoices.values()),
            ("customer_id", "reference"),
        )
        if reference
    }
    if dry is not None:  # the payments earlier batches would have recorded, invoices settled
        for settled in invoices.values():
            if settled.pk in dry.paid:
                _apply_paid(settled, settled.paid_amount + dry.paid[settled.pk], None)
            references.update(
                (settled.customer_id, reference) for reference in dry.references.get(settled.pk, ())
            )
    outstanding = {invoice.pk: invoice.outstanding for invoice in invoices.values()}
    today = timezone.localdate()
    for row, raw in parsed:
        if row.errors:
            outcome.failed.append(row)
            continue
        check = Checker(job, row, raw)
        _required(check, ImportTarget.PAYMENTS)
        invoice = invoices.get(str(raw.get("invoice_number") or ""))
        if invoice is None and not v.blank(raw.get("invoice_number")):
            check.fail(
                "invoice_number",
                _("No invoice has the number %(number)s.") % {"number": raw["invoice_number"]},
            )
        if not v.blank(raw.get("customer_code")):
            _customer(check, customers)
            if invoice is not None and row.customer_id and row.customer_id != invoice.customer_id:
                check.fail("customer_code", _("The invoice belongs to another customer."))
        day = check.optional("paid_on", v.date)
        if day is not None and day > today:
            check.fail("paid_on", _("A payment cannot be dated in the future."))
        amount = check.optional("amount", v.amount, positive=True)
        method = check.optional(
            "method", v.choice, PaymentMethod, default=PaymentMethod.BANK_TRANSFER
        )
        reference = v.text(raw.get("reference"), "reference", check.fail, limit=100) or ""
        replay = invoice is not None and (invoice.customer_id, reference) in references
        if reference and replay and not row.errors:
            outcome.skipped.append(row)
            continue
        if invoice is not None and amount is not None and not row.errors:
            if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID):
                check.fail("invoice_number", _("This invoice is not open for payment."))
            elif amount > outstanding[invoice.pk]:
                check.fail(
                    "amount",
                    _("The payment is more than the %(outstanding)s outstanding on this invoice.")
                    % {"outstanding": outstanding[invoice.pk]},
                )
        if row.errors or invoice is None or amount is None or day is None:
            outcome.failed.append(row)
            continue
        outstanding[invoice.pk] -= amount
        if reference:
            references.add((invoice.customer_id, reference))
        row.customer_id = invoice.customer_id
        outcome.created.append(
            (
                row,
                Payment(
                    invoice_id=invoice.pk,
                    customer_id=invoice.customer_id,
                    paid_on=day,
                    amount=amount,
                    currency=invoice.currency,
                    method=method or PaymentMethod.BANK_TRANSFER,
                    reference=reference,
                    recorded_by=actor,
                ),
            )
        )
    return outcome


BALANCES = ("assets_under_management", "monthly_average_assets", "loan_balance")


def _holdings(
    job: ImportJob, actor: User, parsed: list[tuple[Parsed, dict[str, Any]]], dry: DryRun | None
) -> Outcome:
    outcome = Outcome()
    customers = _customers(actor, (raw.get("customer_code") for _row, raw in parsed))
    taken = set(
        _lookup(HoldingSnapshot, "customer_id", customers.values(), ("customer_id", "as_of"))
    )
    today = timezone.localdate()
    for row, raw in parsed:
        if row.errors:
            outcome.failed.append(row)
            continue
        check = Checker(job, row, raw)
        _required(check, ImportTarget.HOLDINGS)
        _customer(check, customers)
        day = check.optional("as_of", v.date)
        if day is not None and day > today:
            check.fail("as_of", _("A snapshot cannot be dated in the future."))
        balances = {
            name: v.amount(raw[name], name, check.fail, maximum=v.MAX_BALANCE)
            for name in BALANCES
            if not v.blank(raw.get(name))
        }
        currency = check.optional("currency", v.currency, default="CNY")
        customer_id = row.customer_id
        if row.errors or customer_id is None or day is None:
            outcome.failed.append(row)
            continue
        key = (customer_id, day)
        if key in taken or (dry is not None and key in dry.holdings):
            outcome.skipped.append(row)
            continue
        taken.add(key)
        outcome.created.append(
            (
                row,
                HoldingSnapshot(
                    customer_id=customer_id,
                    as_of=day,
                    currency=currency or "CNY",
                    source=_("import #%(number)s") % {"number": job.pk},
                    **{name: value for name, value in balances.items() if value is not None},
                ),
            )
        )
    return outcome


Handler = Callable[[ImportJob, User, list[tuple[Parsed, dict[str, Any]]], DryRun | None], Outcome]
HANDLERS: dict[str, Handler] = {
    ImportTarget.ORDERS: _orders,
    ImportTarget.INVOICES: _invoices,
    ImportTarget.PAYMENTS: _payments,
    ImportTarget.HOLDINGS: _holdings,
}


def _actor(job: ImportJob) -> User:
    actor = job.created_by
    if actor is None or not actor.is_active:
        raise DomainError(_("The user who uploaded this file is no longer active."))
    return actor


def plan_batch(job: ImportJob, rows: list[Row], dry: DryRun | None = None) -> Outcome:
    """Validate one batch of rows and sort them into created, skipped and failed; no write.

    In a dry run (`dry`), the batch also sees what the run's earlier batches would have
    written, the new orders are checked as the order services check them when the real run
    writes them, and what the batch would write is remembered for the later batches."""
    outcome = HANDLERS[job.target](job, _actor(job), _cells(job, rows), dry)
    if dry is not None:
        if job.target == ImportTarget.ORDERS:
            _orders_check(job, outcome, dry)
        _remember(outcome, dry)
    return outcome


def _apply_paid(invoice: Invoice, paid_amount: Decimal, last: dt.date | None) -> None:
    """An invoice's paid amount, status and paid-in-full day once its payments total
    `paid_amount`, the last paid on `last` (unsaved)."""
    invoice.paid_amount = paid_amount
    if invoice.status in (InvoiceStatus.WRITTEN_OFF, InvoiceStatus.CANCELLED):
        return
    if paid_amount >= invoice.amount:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_on = last
    else:
        invoice.status = InvoiceStatus.PARTLY_PAID if paid_amount > 0 else InvoiceStatus.OPEN
        invoice.paid_on = None


def _settle(invoice_ids: Iterable[int]) -> list[Invoice]:
    """Recompute the paid amount, status and paid-in-full day of invoices from their
    payments (one aggregate query and one bulk update a chunk); returns those now paid in
    full that were not before."""
    ids = sorted(set(invoice_ids))
    paid: list[Invoice] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        sums = {
            row["invoice_id"]: row
            for row in Payment.objects.filter(invoice_id__in=chunk)
            .values("invoice_id")
            .annotate(total=Sum("amount"), last=Max("paid_on"))
        }
        invoices = list(Invoice.objects.select_for_update().filter(pk__in=chunk))
        for invoice in invoices:
            found = sums.get(invoice.pk)
            was_paid = invoice.status == InvoiceStatus.PAID
            _apply_paid(
                invoice,
                found["total"] if found else Decimal("0.00"),
                found["last"] if found else None,
            )
            invoice.bump_version()
            invoice.updated_at = timezone.now()
            if invoice.status == InvoiceStatus.PAID and invoice.paid_on and not was_paid:
                paid.append(invoice)
        Invoice.objects.bulk_update(
            invoices, ["paid_amount", "status", "paid_on", "version", "updated_at"]
        )
    return paid


MODEL_KEYS: dict[str, Any] = {
    "order": Order,
    "invoice": Invoice,
    "payment": Payment,
    "holding": HoldingSnapshot,
}
TARGET_MODEL: dict[str, str] = {
    ImportTarget.ORDERS: "order",
    ImportTarget.INVOICES: "invoice",
    ImportTarget.PAYMENTS: "payment",
    ImportTarget.HOLDINGS: "holding",
}


def _refuse(job: ImportJob, outcome: Outcome, refused: dict[int, list[dict[str, Any]]]) -> None:
    """Move the created rows whose key (the row's own id for appended lines, else its order's
    head row) was refused to the failures, each refusal as an error of its column."""
    keep = []
    for row, head in outcome.created:
        key = id(row) if head is None or isinstance(head, Append) else id(head)
        if key not in refused:
            keep.append((row, head))
            continue
        check = Checker(job, row, {})
        for item in refused[key]:
            name = str(item.get("field") or "")
            check.fail(
                name.split(".")[-1] if name.startswith("lines.") else name, str(item["message"])
            )
        outcome.failed.append(row)
    outcome.created = keep


def _orders_write(job: ImportJob, outcome: Outcome) -> list[int]:
    """Insert the batch's orders (rows sharing an order number are the lines of one order)
    through orders_bulk_create, and add the lines of orders an earlier batch created through
    order_lines_append; an order (or appended line) they refuse moves with its rows to the
    failures and the rest are tried again. Returns the order id of each created row."""
    while appends := [(row, head) for row, head in outcome.created if isinstance(head, Append)]:
        try:
            order_lines_append(
                [(head.order_id, row.values["line"]) for row, head in appends],
                actor_id=job.created_by_id,
            )
        except DomainError as error:
            refused: dict[int, list[dict[str, Any]]] = {}
            for item in error.errors or []:
                refused.setdefault(id(appends[int(item.get("row", 0))][0]), []).append(item)
            if not refused:
                raise
            _refuse(job, outcome, refused)
            continue
        break
    while outcome.created:
        heads = [row for row, head in outcome.created if head is None]
        try:
            ids = orders_bulk_create([row.values for row in heads]) if heads else []
        except DomainError as error:
            refused = {}
            for item in error.errors or []:
                refused.setdefault(id(heads[int(item.get("row", 0))]), []).append(item)
            if not refused:
                raise
            _refuse(job, outcome, refused)
            continue
        order_of: dict[int, int] = {id(row): pk for row, pk in zip(heads, ids, strict=True)}
        return [
            head.order_id if isinstance(head, Append) else order_of[id(head or row)]
            for row, head in outcome.created
        ]
    return []


def _orders_check(job: ImportJob, outcome: Outcome, dry: DryRun) -> None:
    """The dry run's stand-in for _orders_write, nothing written: each new order checked as
    orders_bulk_create checks it and each line of an order an earlier batch would have
    created as order_lines_append checks it (values, products, totals), a refusal moved to
    the failures with its rows as the run moves it; the orders that pass are remembered
    with their totals."""
    refused: dict[int, list[dict[str, Any]]] = {}
    appends = [(row, head) for row, head in outcome.created if isinstance(head, Append)]
    catalogue = catalogue_for([row.values["line"]] for row, _head in appends)
    added: dict[str, list[tuple[Parsed, OrderLine]]] = {}
    for row, head in appends:
        errors = v.Errors()
        prepared = prepare_lines([row.values["line"]], catalogue, errors, inactive_allowed=True)
        if errors.items:
            refused[id(row)] = errors.items
        else:
            added.setdefault(head.number, []).extend((row, line) for line in prepared)
    for number, items in added.items():
        if number not in dry.orders:  # a stored order: none before the job's first batch
            continue
        customer_id, total, cost = dry.orders[number]
        totals = totals_with(total, cost, [line for _row, line in items])
        if totals is None:
            too_large = {"field": "lines", "message": _("The order total is too large.")}
            refused.update((id(row), [too_large]) for row, _line in items)
        else:
            dry.orders[number] = (customer_id, *totals)
    heads = [row for row, head in outcome.created if head is None]
    catalogue = catalogue_for(row.values["lines"] for row in heads)
    for row in heads:
        errors = v.Errors()
        order = Order(customer_id=row.values["customer_id"])
        header = {key: row.values[key] for key in row.values if key not in ("customer_id", "lines")}
        imported_order(order, header, row.values["lines"], catalogue, errors)
        if errors.items:
            refused[id(row)] = errors.items
        elif dry.learn():
            dry.orders[row.values["number"]] = (
                row.values["customer_id"],
                order.total_amount,
                order.total_cost,
            )
    _refuse(job, outcome, refused)


def _remember(outcome: Outcome, dry: DryRun) -> None:
    """Note the invoices, payments and holdings a dry-run batch would write, for the later
    batches of the run (orders are noted by _orders_check)."""
    for _row, obj in outcome.created:
        if isinstance(obj, Invoice) and dry.learn():
            dry.invoices.add(str(obj.number))
        elif isinstance(obj, Payment):
            dry.paid[obj.invoice_id] = dry.paid.get(obj.invoice_id, ZERO) + obj.amount
            if obj.reference and dry.learn():
                dry.references.setdefault(obj.invoice_id, set()).add(obj.reference)
        elif isinstance(obj, HoldingSnapshot) and dry.learn():
            dry.holdings.add((obj.customer_id, obj.as_of))


def _publish(job: ImportJob, objects: list[Any]) -> None:
    """After commit, the events the single-item services publish for each new invoice,
    payment (with invoice.paid for the invoices it paid in full) or holdings snapshot,
    with the same payloads; the uploader is the actor. Settles the payments' invoices."""
    actor_id = job.created_by_id
    if job.target == ImportTarget.INVOICES:
        events.publish_many_on_commit(
            "invoice.created",
            (
                {"invoice_id": obj.pk, "customer_id": obj.customer_id, "actor_id": actor_id}
                for obj in objects
            ),
        )
    elif job.target == ImportTarget.HOLDINGS:
        events.publish_many_on_commit(
            "holding.recorded",
            (
                {
                    "holding_id": obj.pk,
                    "customer_id": obj.customer_id,
                    "as_of": obj.as_of.isoformat(),
                    "actor_id": actor_id,
                }
                for obj in objects
            ),
        )
    elif job.target == ImportTarget.PAYMENTS:
        paid = _settle(obj.invoice_id for obj in objects)
        events.publish_many_on_commit(
            "payment.recorded",
            (
                {
                    "payment_id": obj.pk,
                    "invoice_id": obj.invoice_id,
                    "customer_id": obj.customer_id,
                    "amount": str(obj.amount),
                    "actor_id": actor_id,
                }
                for obj in objects
            ),
        )
        events.publish_many_on_commit(
            "invoice.paid",
            (
                {
                    "invoice_id": invoice.pk,
                    "customer_id": invoice.customer_id,
                    "due_on": invoice.due_on.isoformat(),
                    "paid_on": invoice.paid_on.isoformat(),
                    "days_late": max((invoice.paid_on - invoice.due_on).days, 0),
                }
                for invoice in paid
                if invoice.paid_on is not None
            ),
        )


def write_batch(job: ImportJob, outcome: Outcome) -> None:
    """Write a planned batch in the caller's transaction: the new rows in bulk, the row log
    (what to revert) and the row errors."""
    created = outcome.created
    if job.target == ImportTarget.ORDERS:
        ids = _orders_write(job, outcome)
        created = outcome.created
    else:
        objects = [obj for _row, obj in created]
        MODEL_KEYS[TARGET_MODEL[job.target]].objects.bulk_create(objects, batch_size=CHUNK)
        ids = [int(obj.pk) for obj in objects]
        _publish(job, objects)
    kind = TARGET_MODEL[job.target]
    log = [
        ImportedRow(
            job=job,
            row_number=row.number,
            customer_id=row.customer_id,
            action=ImportAction.CREATED,
            before={"model": kind, "id": pk},
        )
        for (row, _obj), pk in zip(created, ids, strict=True)
    ]
    log += [
        ImportedRow(
            job=job,
            row_number=row.number,
            customer_id=row.customer_id,
            action=ImportAction.SKIPPED,
        )
        for row in outcome.skipped
    ]
    ImportedRow.objects.bulk_create(log, batch_size=CHUNK)
    ImportRowError.objects.bulk_create(targets.error_rows(job, outcome.failed), batch_size=CHUNK)


def analyse(job: ImportJob, batches: Iterable[list[Row]], max_errors: int) -> ImportJob:
    """The dry run of a commerce job: counts and errors, nothing else written; each batch
    sees what the earlier ones would have written, so it reports what the run will do."""
    return targets.analyse(job, batches, max_errors, partial(plan_batch, dry=DryRun()))


def commit_batch(job: ImportJob, rows: list[Row]) -> bool:
    """Plan and write one batch with the job's checkpoint; False when another run is ahead."""
    return targets.commit_batch(job, rows, plan_batch, write_batch)


def revert(job: ImportJob) -> None:
    """Delete what the job created, newest kind of fact first; a fact that other records now
    refer to (an order with invoices, an invoice with payments) is kept ("linked")."""
    rows = list(
        ImportedRow.objects.filter(
            job=job, action=ImportAction.CREATED, revert_outcome=""
        ).order_by("pk")
    )
    by_id: dict[int, list[ImportedRow]] = {}
    for row in rows:
        by_id.setdefault(int((row.before or {}).get("id") or 0), []).append(row)
    kind = TARGET_MODEL.get(job.target)
    if kind is None or not rows:
        return
    model = MODEL_KEYS[kind]
    ids = sorted(by_id)
    with transaction.atomic():
        present = {pk for (pk,) in _lookup(model, "pk", ids, ("pk",))}
        linked: set[int] = set()
        if kind == "order":
            linked = {pk for (pk,) in _lookup(Invoice, "order_id", present, ("order_id",))}
        elif kind == "invoice":
            linked = {pk for (pk,) in _lookup(Payment, "invoice_id", present, ("invoice_id",))}
        doomed = sorted(present - linked)
        invoices = (
            {pk for (pk,) in _lookup(Payment, "pk", doomed, ("invoice_id",))}
            if kind == "payment"
            else set()
        )
        for start in range(0, len(doomed), CHUNK):
            model.objects.filter(pk__in=doomed[start : start + CHUNK]).delete()
        if invoices:
            _settle(invoices)
        for outcome, keys in (
            ("deleted", doomed),
            ("linked", sorted(linked & present)),
            ("missing", sorted(set(ids) - present)),
        ):
            pks = [row.pk for key in keys for row in by_id[key]]
            for start in range(0, len(pks), CHUNK):
                ImportedRow.objects.filter(pk__in=pks[start : start + CHUNK]).update(
                    revert_outcome=outcome
                )
