"""Commands on receivables: issue an invoice, record a payment against it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.commerce.models import (
    DEFAULT_CURRENCY,
    OUTSTANDING_STATUSES,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from guanxi.commerce.services import values as v
from guanxi.commerce.services.orders import NUMBER_DIGITS, chunks, padded_number
from guanxi.core import events
from guanxi.core.errors import Conflict, DomainError
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get

INVOICE_PREFIX = "IV"
AUTO_INVOICE_NUMBER = re.compile(rf"^{INVOICE_PREFIX}\d{{{NUMBER_DIGITS},}}$")
DEFAULT_TERM = dt.timedelta(days=30)
INVOICE_FIELDS = frozenset({"number", "issued_on", "due_on", "amount", "currency", "notes"})


def invoice_numbers_assign(invoice_ids: list[int]) -> int:
    """Give invoices without a number "IV" + their id padded to 8 digits."""
    return sum(
        Invoice.objects.filter(pk__in=chunk, number__isnull=True).update(
            number=padded_number(INVOICE_PREFIX)
        )
        for chunk in chunks(sorted(set(invoice_ids)))
    )


def _apply_invoice(invoice: Invoice, values: dict[str, Any], errors: v.Errors) -> None:
    for name in sorted(set(values) - INVOICE_FIELDS):
        errors.fail(name, _("This field is not allowed."))
    number = v.text(values.get("number"), "number", errors.fail, limit=32)
    if number and AUTO_INVOICE_NUMBER.match(number):
        errors.fail("number", _("Numbers of the form IV + digits are given automatically."))
    elif number:
        invoice.number = number
    issued_on = (
        timezone.localdate()
        if v.blank(values.get("issued_on"))
        else v.date(values["issued_on"], "issued_on", errors.fail)
    )
    due_on = (
        (issued_on + DEFAULT_TERM if issued_on else None)
        if v.blank(values.get("due_on"))
        else v.date(values["due_on"], "due_on", errors.fail)
    )
    if issued_on is not None and due_on is not None and due_on < issued_on:
        errors.fail("due_on", _("The due date cannot come before the issue date."))
    if issued_on is not None:
        invoice.issued_on = issued_on
    if due_on is not None:
        invoice.due_on = due_on
    if v.blank(values.get("amount")) and invoice.order is not None:
        invoice.amount = invoice.order.total_amount
        if invoice.amount <= 0:
            errors.fail("amount", _("Enter an amount greater than zero."))
    else:
        amount = v.amount(values.get("amount"), "amount", errors.fail, positive=True)
        if amount is not None:
            invoice.amount = amount
    if not v.blank(values.get("currency")):
        invoice.currency = v.currency(values["currency"], "currency", errors.fail) or ""
    else:
        invoice.currency = invoice.order.currency if invoice.order else DEFAULT_CURRENCY
    invoice.notes = v.text(values.get("notes"), "notes", errors.fail, limit=5000) or ""


@transaction.atomic
def invoice_create(
    *,
    actor: User,
    customer: Customer,
    values: dict[str, Any],
    order: Order | None = None,
    trusted: bool = False,
) -> Invoice:
    """Issue an invoice to a customer the actor can see, optionally for one of its orders.

    Needs commerce.create, unless `trusted` (another domain's service that authorised the
    actor itself, as `order_create`); a foreign customer is Http404. The amount must be above
    zero (an order's total when left out) and the due date not before the issue date (30 days
    after it when left out). Publishes invoice.created after commit.
    """
    if not trusted:
        require_perm(actor, "commerce.create")
    customer = customer_get(actor=actor, pk=customer.pk)
    errors = v.Errors()
    if order is not None and order.customer_id != customer.pk:
        errors.fail("order_id", _("Choose an order of this customer."))
        order = None
    elif order is not None and order.status == OrderStatus.CANCELLED:
        errors.fail("order_id", _("A cancelled order cannot be invoiced."))
    invoice = Invoice(customer=customer, order=order)
    _apply_invoice(invoice, values, errors)
    if invoice.number and Invoice.objects.filter(number=invoice.number).exists():
        errors.fail("number", _("This invoice number is already used."))
    errors.raise_any()
    try:
        with transaction.atomic():
            invoice.save()
    except IntegrityError as error:
        raise Conflict(_("This invoice number is already used."), field="number") from error
    if not invoice.number:
        invoice_numbers_assign([invoice.pk])
        invoice.refresh_from_db(fields=["number"])
    events.publish_on_commit(
        "invoice.created", invoice_id=invoice.pk, customer_id=customer.pk, actor_id=actor.pk
    )
    return invoice


def _replay(invoice: Invoice, reference: str, amount: Decimal | None) -> Payment | None:
    """The payment already recorded under this reference, when the call repeats it; a
    reference used for another invoice or amount is a Conflict."""
    existing = Payment.objects.filter(customer_id=invoice.customer_id, reference=reference).first()
    if existing is None:
        return None
    if existing.invoice_id == invoice.pk and (amount is None or existing.amount == amount):
        return existing
    raise Conflict(
        _("A different payment with this reference was already recorded for this customer."),
        field="reference",
    )


@transaction.atomic
def payment_record(
    *,
    actor: User,
    invoice: Invoice,
    amount: Any,
    paid_on: Any = None,
    method: str = PaymentMethod.BANK_TRANSFER,
    reference: str = "",
) -> Payment:
    """Record money received against an open invoice the actor can see.

    Needs commerce.create; a foreign invoice is Http404. The amount must be above zero and
    at most what is outstanding; the date not in the future (today when left out). The
    invoice row is locked while its paid amount, status and paid-in-full date change, in
    the same transaction. A repeat with the same reference for the same invoice and amount
    returns the first payment and pays nothing twice. Publishes payment.recorded and, when
    the invoice is now paid in full, invoice.paid, after commit.
    """
    require_perm(actor, "commerce.create")
    if not Invoice.objects.visible_to(actor).filter(pk=invoice.pk).exists():
        raise Http404
    errors = v.Errors()
    value = v.amount(amount, "amount", errors.fail, positive=True)
    today = timezone.localdate()
    day = today if v.blank(paid_on) else v.date(paid_on, "paid_on", errors.fail)
    if day is not None and day > today:
        errors.fail("paid_on", _("A payment cannot be dated in the future."))
    chosen = v.choice(method or PaymentMethod.BANK_TRANSFER, PaymentMethod, "method", errors.fail)
    ref = v.text(reference, "reference", errors.fail, limit=100) or ""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if ref and (found := _replay(locked, ref, value)) is not None:
        return found
    errors.raise_any()
    if value is None or day is None or chosen is None:  # unreachable: reported above
        raise DomainError(_("Some fields are not valid."))
    if locked.status not in OUTSTANDING_STATUSES:
        raise DomainError(_("This invoice is not open for payment."), field="amount")
    if value > locked.outstanding:
        raise DomainError(
            _("The payment is more than the %(outstanding)s outstanding on this invoice.")
            % {"outstanding": locked.outstanding},
            field="amount",
        )
    payment = Payment(
        invoice=locked,
        customer_id=locked.customer_id,
        paid_on=day,
        amount=value,
        currency=locked.currency,
        method=chosen,
        reference=ref,
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError as error:  # a twin on another invoice of the customer won the race
        raise Conflict(
            _("A different payment with this reference was already recorded for this customer."),
            field="reference",
        ) from error
    locked.paid_amount += value
    if locked.paid_amount >= locked.amount:
        locked.status = InvoiceStatus.PAID
        last = Payment.objects.filter(invoice_id=locked.pk).aggregate(last=Max("paid_on"))["last"]
        locked.paid_on = max(last or day, day)
    else:
        locked.status = InvoiceStatus.PARTLY_PAID
    locked.bump_version()
    locked.save(update_fields=["paid_amount", "status", "paid_on", "version", "updated_at"])
    events.publish_on_commit(
        "payment.recorded",
        payment_id=payment.pk,
        invoice_id=locked.pk,
        customer_id=locked.customer_id,
        amount=str(value),
        actor_id=actor.pk,
    )
    if locked.status == InvoiceStatus.PAID and locked.paid_on is not None:
        events.publish_on_commit(
            "invoice.paid",
            invoice_id=locked.pk,
            customer_id=locked.customer_id,
            due_on=locked.due_on.isoformat(),
            paid_on=locked.paid_on.isoformat(),
            days_late=max((locked.paid_on - locked.due_on).days, 0),
        )
    return payment
