"""Commands on orders: create with lines, change, cancel, number, and load many at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, F, Max, Q, Value, When
from django.db.models.functions import Cast, Concat, LPad
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.commerce.models import (
    DEFAULT_CURRENCY,
    ZERO,
    Invoice,
    InvoiceStatus,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    Product,
)
from guanxi.commerce.services import values as v
from guanxi.core import events
from guanxi.core.errors import Conflict, DomainError, StaleEdit
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get

ORDER_PREFIX = "SO"
NUMBER_DIGITS = 8
AUTO_ORDER_NUMBER = re.compile(rf"^{ORDER_PREFIX}\d{{{NUMBER_DIGITS},}}$")
ORDER_FIELDS = frozenset({"number", "ordered_at", "channel", "status", "currency", "notes"})
LINE_FIELDS = frozenset(
    {"product_id", "product_code", "description", "quantity", "unit_price", "discount", "unit_cost"}
)
CHUNK = 500  # SQLite caps bound parameters: long `__in` lists go in chunks


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleEdit(
            _("Someone else changed this record after you opened it. Reload and try again."),
            field="version",
        )


def padded_number(prefix: str) -> Any:
    """prefix + the id padded to 8 digits, as an expression; longer ids stay whole (LPAD
    would cut them, and two orders would share a number)."""
    text_id = Cast("id", CharField())
    return Concat(
        Value(prefix),
        Case(
            When(id__lt=10**NUMBER_DIGITS, then=LPad(text_id, NUMBER_DIGITS, Value("0"))),
            default=text_id,
        ),
    )


def order_numbers_assign(order_ids: Iterable[int] | None = None) -> int:
    """Give orders without a number "SO" + their id padded to 8 digits (one UPDATE a chunk)."""
    if order_ids is None:
        return Order.objects.filter(number__isnull=True).update(number=padded_number(ORDER_PREFIX))
    return sum(
        Order.objects.filter(pk__in=chunk, number__isnull=True).update(
            number=padded_number(ORDER_PREFIX)
        )
        for chunk in chunks(sorted(set(order_ids)))
    )


@dataclass
class Catalogue:
    """The products that a set of order lines names, by id and by code."""

    by_id: dict[int, Product] = field(default_factory=dict)
    by_code: dict[str, Product] = field(default_factory=dict)

    def add(self, product: Product) -> None:
        self.by_id[product.pk] = product
        self.by_code[product.code] = product


def _as_id(raw: Any) -> int | None:
    text = str(raw).strip()
    return int(text) if text.isdigit() else None


def catalogue_for(line_lists: Iterable[Sequence[Any]]) -> Catalogue:
    """Fetch every product the lines name by `product_id` or `product_code` (chunked)."""
    ids: set[int] = set()
    codes: set[str] = set()
    for lines in line_lists:
        for line in lines:
            if not isinstance(line, dict):
                continue
            if not v.blank(line.get("product_id")) and (pk := _as_id(line["product_id"])):
                ids.add(pk)
            elif not v.blank(line.get("product_code")):
                codes.add(str(line["product_code"]).strip())
    catalogue = Catalogue()
    for chunk in chunks(sorted(ids)):
        for product in Product.objects.filter(pk__in=chunk):
            catalogue.add(product)
    for chunk in chunks(sorted(codes - set(catalogue.by_code))):
        for product in Product.objects.filter(code__in=chunk):
            catalogue.add(product)
    return catalogue


def _line_product(
    raw: dict[str, Any], index: int, catalogue: Catalogue, errors: v.Errors
) -> tuple[Product | None, bool]:
    """The product a line names (or None) and whether naming it failed."""
    if not v.blank(raw.get("product_id")):
        pk = _as_id(raw["product_id"])
        product = catalogue.by_id.get(pk) if pk is not None else None
        if product is None:
            errors.fail(f"lines.{index}.product_id", _("Choose an existing product."))
            return None, True
        return product, False
    if not v.blank(raw.get("product_code")):
        product = catalogue.by_code.get(str(raw["product_code"]).strip())
        if product is None:
            errors.fail(f"lines.{index}.product_code", _("No product has this code."))
            return None, True
        return product, False
    return None, False


def prepare_lines(
    lines: Sequence[Any],
    catalogue: Catalogue,
    errors: v.Errors,
    *,
    inactive_allowed: bool | frozenset[int] = False,
) -> list[OrderLine]:
    """Check order lines and build them unsaved, totals computed; every error, none written.

    A line names a product (by id or code) or describes itself. Price and cost default to
    the product's; the discount is an amount between 0 and quantity × unit price.
    `inactive_allowed` lets discontinued products through (all, or those ids).
    """
    if not lines:
        errors.fail("lines", _("An order needs at least one line."))
        return []
    prepared = []
    for index, raw in enumerate(lines):
        at = f"lines.{index}."
        if not isinstance(raw, dict):
            errors.fail(f"lines.{index}", _("Enter an object."))
            continue
        for name in sorted(set(raw) - LINE_FIELDS):
            errors.fail(at + name, _("This field is not allowed."))
        product, failed = _line_product(raw, index, catalogue, errors)
        if product is not None and not product.is_active:
            allowed = (
                inactive_allowed
                if isinstance(inactive_allowed, bool)
                else product.pk in inactive_allowed
            )
            if not allowed:
                errors.fail(at + "product_id", _("This product is no longer sold."))
        description = v.text(raw.get("description"), at + "description", errors.fail, limit=200)
        if not description and product is not None:
            description = product.name[:200]
        if description == "" and product is None and not failed:
            errors.fail(at + "description", _("Choose a product or describe the line."))
        quantity = v.quantity(raw.get("quantity"), at + "quantity", errors.fail)
        if v.blank(raw.get("unit_price")) and (product is not None or failed):
            unit_price: Decimal | None = product.list_price if product is not None else None
        else:
            unit_price = v.amount(raw.get("unit_price"), at + "unit_price", errors.fail)
        if v.blank(raw.get("unit_cost")):
            unit_cost: Decimal | None = product.unit_cost if product is not None else ZERO
        else:
            unit_cost = v.amount(raw.get("unit_cost"), at + "unit_cost", errors.fail)
        discount = (
            ZERO
            if v.blank(raw.get("discount"))
            else v.amount(raw.get("discount"), at + "discount", errors.fail)
        )
        if quantity is None or unit_price is None or discount is None or unit_cost is None:
            continue
        gross = quantity * unit_price
        if discount > gross:
            errors.fail(
                at + "discount", _("The discount cannot be more than quantity × unit price.")
            )
            continue
        line_total = v.money(gross - discount)
        if line_total > v.MAX_MONEY or v.money(quantity * unit_cost) > v.MAX_MONEY:
            errors.fail(at + "quantity", _("This value is too large."))
            continue
        prepared.append(
            OrderLine(
                position=index,
                product=product,
                description=description or "",
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                unit_cost=unit_cost,
                line_total=line_total,
            )
        )
    return prepared


def set_totals(order: Order, lines: Sequence[OrderLine], errors: v.Errors) -> None:
    """total_amount = Σ line totals; total_cost = Σ quantity × unit cost, in cents."""
    total = sum((line.line_total for line in lines), ZERO)
    cost = v.money(sum((line.quantity * line.unit_cost for line in lines), ZERO))
    if total > v.MAX_MONEY or cost > v.MAX_MONEY:
        errors.fail("lines", _("The order total is too large."))
        return
    order.total_amount, order.total_cost = total, cost


def imported_order(
    order: Order,
    header: dict[str, Any],
    lines: Sequence[Any],
    catalogue: Any,
    errors: v.Errors,
) -> list[OrderLine]:
    """Check an unsaved order as a bulk import takes it (inactive products allowed): its
    header, lines and totals set, problems in `errors`; returns the prepared lines."""
    apply_order(order, header, errors)
    prepared = prepare_lines(lines, catalogue, errors, inactive_allowed=True)
    set_totals(order, prepared, errors)
    return prepared


def totals_with(
    total: Decimal, cost: Decimal, lines: Sequence[OrderLine]
) -> tuple[Decimal, Decimal] | None:
    """An order's total and cost with lines appended; None when either is too large to keep."""
    total += sum((line.line_total for line in lines), ZERO)
    cost += v.money(sum((line.quantity * line.unit_cost for line in lines), ZERO))
    if total > v.MAX_MONEY or cost > v.MAX_MONEY:
        return None
    return total, cost


def apply_order(order: Order, values: dict[str, Any], errors: v.Errors) -> None:
    """Check the header `values` onto an unsaved or loaded order; every error, none written."""
    for name in sorted(set(values) - ORDER_FIELDS):
        errors.fail(name, _("This field is not allowed."))
    if "number" in values:
        number = v.text(values["number"], "number", errors.fail, limit=32)
        if number and number != order.number and AUTO_ORDER_NUMBER.match(number):
            errors.fail("number", _("Numbers of the form SO + digits are given automatically."))
        elif number is not None:
            order.number = number or order.number or None
    if not v.blank(values.get("ordered_at")):
        ordered_at = v.moment(values["ordered_at"], "ordered_at", errors.fail)
        if ordered_at is not None and v.not_in_future(
            ordered_at,
            "ordered_at",
            errors.fail,
            _("The order date cannot be more than a day in the future."),
        ):
            order.ordered_at = ordered_at
    elif getattr(order, "ordered_at", None) is None:
        order.ordered_at = timezone.now()
    for name, choices in (("channel", OrderChannel), ("status", OrderStatus)):
        if not v.blank(values.get(name)):
            chosen = v.choice(values[name], choices, name, errors.fail)
            if chosen is not None:
                setattr(order, name, chosen)
    if not v.blank(values.get("currency")):
        code = v.currency(values["currency"], "currency", errors.fail)
        order.currency = code or order.currency
    elif not order.currency:
        order.currency = DEFAULT_CURRENCY
    if "notes" in values:
        notes = v.text(values["notes"], "notes", errors.fail, limit=5000)
        if notes is not None:
            order.notes = notes


def _number_taken(order: Order) -> bool:
    return bool(
        order.number and Order.objects.filter(number=order.number).exclude(pk=order.pk).exists()
    )


def _save(order: Order) -> None:
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError as error:  # a concurrent twin took the number first
        raise Conflict(_("This order number is already used."), field="number") from error


def _visible_order(actor: User, order: Order) -> Order:
    """The order locked for the rest of the transaction; Http404 outside the actor's scope."""
    if not Order.objects.visible_to(actor).filter(pk=order.pk).exists():
        raise Http404
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_create(
    *,
    actor: User,
    customer: Customer,
    values: dict[str, Any],
    lines: list[dict[str, Any]],
    trusted: bool = False,
) -> Order:
    """Create an order with its lines for a customer the actor can see; totals computed.

    Needs commerce.create, unless `trusted`: another domain's service that authorised the
    actor by its own rule (sales: an accepted quote of a deal the actor may edit). A customer
    outside the scope is Http404 either way. Refuses with every bad field named (lines as
    "lines.<n>.<field>") and nothing written. The actor is recorded as who took it.
    Publishes order.created after commit.
    """
    if not trusted:
        require_perm(actor, "commerce.create")
    customer = customer_get(actor=actor, pk=customer.pk)
    errors = v.Errors()
    order = Order(customer=customer, owner=actor, team_id=actor.team_id)
    apply_order(order, values, errors)
    prepared = prepare_lines(lines, catalogue_for([lines]), errors)
    set_totals(order, prepared, errors)
    if not errors.has("number") and _number_taken(order):
        errors.fail("number", _("This order number is already used."))
    errors.raise_any()
    _save(order)
    for line in prepared:
        line.order = order
    OrderLine.objects.bulk_create(prepared)
    if not order.number:
        order_numbers_assign([order.pk])
        order.refresh_from_db(fields=["number"])
    events.publish_on_commit(
        "order.created", order_id=order.pk, customer_id=customer.pk, actor_id=actor.pk
    )
    return order


def _cancel_invoices(order: Order) -> None:
    """An order with money received cannot be cancelled; its unpaid invoices are."""
    paid = Invoice.objects.filter(order_id=order.pk, paid_amount__gt=0).exclude(
        status=InvoiceStatus.CANCELLED
    )
    if paid.exists():
        raise DomainError(
            _("Payments were received for this order: record a return instead."),
            field="status",
        )
    Invoice.objects.filter(order_id=order.pk, status=InvoiceStatus.OPEN).update(
        status=InvoiceStatus.CANCELLED, version=F("version") + 1, updated_at=timezone.now()
    )


@transaction.atomic
def order_update(
    *,
    actor: User,
    order: Order,
    values: dict[str, Any],
    version: int | None,
    lines: list[dict[str, Any]] | None = None,
) -> Order:
    """Change an order's header and, when `lines` is given, replace its lines.

    Needs commerce.edit; outside the scope is Http404; a stale `version` is StaleEdit. A
    cancelled order cannot change. Setting the status to cancelled cancels as
    `order_cancel` does. Publishes order.updated (and order.cancelled) after commit.
    """
    require_perm(actor, "commerce.edit")
    locked = _visible_order(actor, order)
    check_version(locked.version, version)
    if locked.status == OrderStatus.CANCELLED:
        raise DomainError(_("A cancelled order cannot be changed."), field="status")
    errors = v.Errors()
    apply_order(locked, values, errors)
    prepared = None
    if lines is not None:
        kept = frozenset(
            pk for pk in locked.lines.values_list("product_id", flat=True) if pk is not None
        )
        prepared = prepare_lines(lines, catalogue_for([lines]), errors, inactive_allowed=kept)
        set_totals(locked, prepared, errors)
    if not errors.has("number") and _number_taken(locked):
        errors.fail("number", _("This order number is already used."))
    errors.raise_any()
    cancelled = locked.status == OrderStatus.CANCELLED
    if cancelled:
        _cancel_invoices(locked)
    if prepared is not None:
        locked.lines.all().delete()
        for line in prepared:
            line.order = locked
        OrderLine.objects.bulk_create(prepared)
    locked.bump_version()
    _save(locked)
    events.publish_on_commit(
        "order.updated", order_id=locked.pk, customer_id=locked.customer_id, actor_id=actor.pk
    )
    if cancelled:
        events.publish_on_commit(
            "order.cancelled",
            order_id=locked.pk,
            customer_id=locked.customer_id,
            actor_id=actor.pk,
        )
    return locked


@transaction.atomic
def order_cancel(*, actor: User, order: Order, version: int | None = None) -> Order:
    """Cancel an order and its unpaid invoices; cancelling a cancelled order changes nothing.

    Needs commerce.edit; outside the scope is Http404; a stale `version` is StaleEdit. An
    order with payments received or already returned is refused. Publishes order.cancelled.
    """
    require_perm(actor, "commerce.edit")
    locked = _visible_order(actor, order)
    check_version(locked.version, version)
    if locked.status == OrderStatus.CANCELLED:
        return locked
    if locked.status == OrderStatus.RETURNED:
        raise DomainError(_("A returned order cannot be cancelled."), field="status")
    _cancel_invoices(locked)
    locked.status = OrderStatus.CANCELLED
    locked.bump_version()
    locked.save()
    events.publish_on_commit(
        "order.cancelled", order_id=locked.pk, customer_id=locked.customer_id, actor_id=actor.pk
    )
    return locked


def _existing(model: Any, column: str, wanted: set[Any]) -> set[Any]:
    found: set[Any] = set()
    for chunk in chunks(sorted(wanted)):
        found.update(
            model.objects.filter(**{f"{column}__in": chunk}).values_list(column, flat=True)
        )
    return found


@transaction.atomic
def orders_bulk_create(rows: Sequence[dict[str, Any]], *, batch_size: int = 1000) -> list[int]:
    """Check and insert many orders with their lines in a few set-based statements.

    Each row holds an order's values (as `order_create` takes them) plus `customer_id`,
    optional `owner_id` / `team_id`, and `lines`. For the importer and the benchmarks: no
    actor and no permission check (the caller's), discontinued products allowed (history),
    and no query per row. Any bad row refuses the whole call, each error naming its `row`
    (0-based) and field, nothing written. Returns the new ids in row order; publishes
    orders.imported once after commit.
    """
    catalogue = catalogue_for(row.get("lines") or [] for row in rows)
    customers = _existing(Customer, "pk", {_as_id(r.get("customer_id")) or 0 for r in rows})
    owners = _existing(User, "pk", {_as_id(r["owner_id"]) or 0 for r in rows if r.get("owner_id")})
    teams = _existing(Team, "pk", {_as_id(r["team_id"]) or 0 for r in rows if r.get("team_id")})
    wanted = {str(r["number"]).strip() for r in rows if not v.blank(r.get("number"))}
    taken = _existing(Order, "number", wanted)
    seen: set[str] = set()
    failures: list[dict[str, Any]] = []
    orders: list[Order] = []
    lines: list[list[OrderLine]] = []
    for index, row in enumerate(rows):
        errors = v.Errors()
        customer_id = _as_id(row.get("customer_id"))
        if customer_id not in customers:
            errors.fail("customer_id", _("No customer has this id."))
        owner_id, team_id = _as_id(row.get("owner_id") or ""), _as_id(row.get("team_id") or "")
        if row.get("owner_id") and owner_id not in owners:
            errors.fail("owner_id", _("No user has this id."))
        if row.get("team_id") and team_id not in teams:
            errors.fail("team_id", _("No team has this id."))
        order = Order(customer_id=customer_id or 0, owner_id=owner_id, team_id=team_id)
        header = {
            k: row[k] for k in row if k not in {"customer_id", "owner_id", "team_id", "lines"}
        }
        prepared = imported_order(order, header, row.get("lines") or [], catalogue, errors)
        if order.number and not errors.has("number"):
            if order.number in taken or order.number in seen:
                errors.fail("number", _("This order number is already used."))
            seen.add(order.number)
        failures.extend({"row": index, **item} for item in errors.items)
        orders.append(order)
        lines.append(prepared)
    if failures:
        raise DomainError(failures[0]["message"], errors=failures)
    Order.objects.bulk_create(orders, batch_size=batch_size)
    for order, prepared in zip(orders, lines, strict=True):
        for line in prepared:
            line.order_id = order.pk
    OrderLine.objects.bulk_create(
        [line for prepared in lines for line in prepared], batch_size=batch_size
    )
    ids = [int(order.pk) for order in orders]
    if ids:
        Order.objects.filter(Q(pk__gte=min(ids)) & Q(pk__lte=max(ids)), number__isnull=True).update(
            number=padded_number(ORDER_PREFIX)
        )
        events.publish_on_commit(
            "orders.imported",
            order_count=len(ids),
            customer_ids=sorted({int(order.customer_id) for order in orders}),
        )
    return ids


@transaction.atomic
def order_lines_append(
    lines: Sequence[tuple[int, dict[str, Any]]], *, actor_id: int | None = None
) -> list[int]:
    """Add lines, each `(order_id, line)`, after the existing lines of their orders and add
    them to the orders' totals, in a few set-based statements.

    For the importer, when a later batch brings more lines of an order an earlier batch of
    the same job created: no permission check (the caller's), discontinued products allowed,
    no query per line. Any bad line refuses the whole call, each error naming its `row`
    (0-based) and field ("lines.0.<field>"), nothing written. Returns the changed orders'
    ids; publishes order.updated for each after commit.
    """
    if not lines:
        return []
    catalogue = catalogue_for([line] for _pk, line in lines)
    order_ids = sorted({int(pk) for pk, _line in lines})
    orders: dict[int, Order] = {}
    after: dict[int, int] = {}
    for chunk in chunks(order_ids):
        orders.update(
            (order.pk, order) for order in Order.objects.select_for_update().filter(pk__in=chunk)
        )
        after.update(
            OrderLine.objects.filter(order_id__in=chunk)
            .values("order_id")
            .annotate(last=Max("position"))
            .values_list("order_id", "last")
        )
    failures: list[dict[str, Any]] = []
    added: dict[int, list[tuple[int, OrderLine]]] = {}
    for index, (pk, raw) in enumerate(lines):
        errors = v.Errors()
        order = orders.get(int(pk))
        if order is None:
            errors.fail("number", _("This order no longer exists."))
        elif order.status == OrderStatus.CANCELLED:
            errors.fail("number", _("A cancelled order cannot be changed."))
        prepared = prepare_lines([raw], catalogue, errors, inactive_allowed=True)
        failures.extend({"row": index, **item} for item in errors.items)
        if order is not None and not errors.items:
            for line in prepared:
                after[order.pk] = position = after.get(order.pk, -1) + 1
                line.order_id, line.position = order.pk, min(position, 32767)
                added.setdefault(order.pk, []).append((index, line))
    for pk, items in added.items():
        order = orders[pk]
        totals = totals_with(order.total_amount, order.total_cost, [line for _i, line in items])
        if totals is None:
            failures.extend(
                {"row": index, "field": "lines", "message": _("The order total is too large.")}
                for index, _line in items
            )
            continue
        order.total_amount, order.total_cost = totals
        order.bump_version()
        order.updated_at = timezone.now()
    if failures:
        raise DomainError(failures[0]["message"], errors=sorted(failures, key=lambda f: f["row"]))
    OrderLine.objects.bulk_create([line for items in added.values() for _i, line in items])
    changed = [orders[pk] for pk in sorted(added)]
    Order.objects.bulk_update(changed, ["total_amount", "total_cost", "version", "updated_at"])
    events.publish_many_on_commit(
        "order.updated",
        (
            {"order_id": order.pk, "customer_id": order.customer_id, "actor_id": actor_id}
            for order in changed
        ),
    )
    return [int(order.pk) for order in changed]
