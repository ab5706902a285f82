"""Commands on financial-holdings snapshots: one per customer and day, saved as an upsert."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.commerce.models import HoldingSnapshot
from guanxi.commerce.services import values as v
from guanxi.core import events
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get

BALANCES = ("assets_under_management", "monthly_average_assets", "loan_balance")
HOLDING_FIELDS = frozenset({*BALANCES, "currency", "source"})


@transaction.atomic
def holding_snapshot_save(
    *, actor: User, customer: Customer, as_of: Any, values: dict[str, Any]
) -> HoldingSnapshot:
    """Record what a visible customer held on `as_of`, replacing that day's snapshot.

    Needs commerce.create; a foreign customer is Http404. Balances are amounts ≥ 0 (0 when
    left out of a new snapshot); the day is not in the future. Publishes holding.recorded.
    """
    require_perm(actor, "commerce.create")
    customer = customer_get(actor=actor, pk=customer.pk)
    errors = v.Errors()
    for name in sorted(set(values) - HOLDING_FIELDS):
        errors.fail(name, _("This field is not allowed."))
    day = v.date(as_of, "as_of", errors.fail)
    if day is not None and day > timezone.localdate():
        errors.fail("as_of", _("A snapshot cannot be dated in the future."))
    changes: dict[str, Any] = {}
    for name in BALANCES:
        if name in values and not v.blank(values[name]):
            number = v.amount(values[name], name, errors.fail, maximum=v.MAX_BALANCE)
            if number is not None:
                changes[name] = number
    if not v.blank(values.get("currency")):
        changes["currency"] = v.currency(values["currency"], "currency", errors.fail)
    if "source" in values:
        changes["source"] = v.text(values["source"], "source", errors.fail, limit=100)
    errors.raise_any()
    if day is None:  # unreachable: reported above
        raise DomainError(_("Enter a valid date."), field="as_of")
    snapshot = (
        HoldingSnapshot.objects.select_for_update().filter(customer=customer, as_of=day).first()
    )
    if snapshot is None:
        snapshot = HoldingSnapshot(customer=customer, as_of=day, **changes)
        try:
            with transaction.atomic():
                snapshot.save()
        except IntegrityError:  # a concurrent save made that day's row first: update it
            snapshot = HoldingSnapshot.objects.select_for_update().get(customer=customer, as_of=day)
            snapshot = _update(snapshot, changes)
    else:
        snapshot = _update(snapshot, changes)
    events.publish_on_commit(
        "holding.recorded",
        holding_id=snapshot.pk,
        customer_id=customer.pk,
        as_of=day.isoformat(),
        actor_id=actor.pk,
    )
    return snapshot


def _update(snapshot: HoldingSnapshot, changes: dict[str, Any]) -> HoldingSnapshot:
    for name, value in changes.items():
        setattr(snapshot, name, value)
    snapshot.bump_version()
    snapshot.save()
    return snapshot
