"""The SLA sweep: warn before a breach, record and escalate at a breach, set-based.

Per policy (a handful of rows) and per batch of tickets, one SELECT of ids and one UPDATE;
history rows are bulk-inserted and the events published after commit. A rerun finds only
what is still due, so a sweep cut short resumes on the next run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import events
from guanxi.service.models import (
    ACTIVE_STATUSES,
    PRIORITY_ORDER,
    SlaPolicy,
    Ticket,
    TicketChange,
)

logger = logging.getLogger(__name__)
BATCH = 5000


@dataclass
class SweepResult:
    warned: int = 0
    response_breached: int = 0
    resolution_breached: int = 0
    notify: dict[int, list[str]] = field(default_factory=dict)


RAISED = Case(
    *[
        When(priority=low, then=Value(str(high)))
        for low, high in itertools.pairwise(PRIORITY_ORDER)
    ],
    default=F("priority"),
)


def _running() -> Q:
    return Q(status__in=ACTIVE_STATUSES, paused_at__isnull=True)


def _batches(queryset: Any, due_field: str) -> Any:
    """Yield lists of (pk, number, assignee_id) until the filter matches nothing more.

    Ordered by the due column, so that the partial index on it both finds and orders the
    rows (ordered by pk, SQLite walked the whole primary key instead).
    """
    while True:
        rows = list(
            queryset.order_by(due_field, "pk").values_list("pk", "number", "assignee_id")[:BATCH]
        )
        if not rows:
            return
        yield rows
        if len(rows) < BATCH:
            return


def _warn(policy: SlaPolicy, now: dt.datetime, result: SweepResult) -> None:
    """Stamp and report the tickets whose next deadline falls within the warning window:
    one query per clock, each served by that clock's partial index."""
    horizon = now + dt.timedelta(minutes=policy.warn_before_minutes)
    unwarned = Ticket.objects.filter(
        _running(),
        sla_policy=policy,
        warned_at__isnull=True,
        response_breached_at__isnull=True,
        resolution_breached_at__isnull=True,
    )
    clocks = (
        (
            "first_response_due_at",
            unwarned.filter(first_responded_at__isnull=True, first_response_due_at__lte=horizon),
        ),
        (
            "resolution_due_at",
            unwarned.filter(resolved_at__isnull=True, resolution_due_at__lte=horizon),
        ),
    )
    for due_field, due_soon in clocks:
        for rows in _batches(due_soon, due_field):
            with transaction.atomic():
                Ticket.objects.filter(pk__in=[r[0] for r in rows]).update(warned_at=now)
            result.warned += len(rows)
            for _pk, number, assignee_id in rows:
                if assignee_id is not None:
                    result.notify.setdefault(assignee_id, []).append(number)


def _breach(policy: SlaPolicy, now: dt.datetime, kind: str, result: SweepResult) -> None:
    if kind == "response":
        due = Ticket.objects.filter(
            _running(),
            sla_policy=policy,
            first_responded_at__isnull=True,
            response_breached_at__isnull=True,
            first_response_due_at__lte=now,
        )
        stamp, due_field = "response_breached_at", "first_response_due_at"
    else:
        due = Ticket.objects.filter(
            _running(),
            sla_policy=policy,
            resolution_breached_at__isnull=True,
            resolved_at__isnull=True,  # matches the partial index ticket_sla_resolution_due
            resolution_due_at__lte=now,
        )
        stamp, due_field = "resolution_breached_at", "resolution_due_at"
    for rows in _batches(due, due_field):
        ids = [r[0] for r in rows]
        update: dict[str, Any] = {stamp: now, "version": F("version") + 1}
        if policy.raise_priority:
            update["priority"] = RAISED
        if policy.escalate_to_group_id is not None:
            update["group_id"] = policy.escalate_to_group_id
        with transaction.atomic():
            Ticket.objects.filter(pk__in=ids).update(**update)
            TicketChange.objects.bulk_create(
                TicketChange(ticket_id=pk, field="sla", new_value=f"{kind} breached") for pk in ids
            )
            for pk in ids:
                events.publish_on_commit("ticket.breached", ticket_id=pk, kind=kind)
        if kind == "response":
            result.response_breached += len(ids)
        else:
            result.resolution_breached += len(ids)
        manager = policy.escalate_to_group.manager_id if policy.escalate_to_group else None
        for _pk, number, assignee_id in rows:
            for user_id in {assignee_id, manager} - {None}:
                result.notify.setdefault(user_id, []).append(number)


def sla_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Warn, breach and escalate every policy's due tickets; notify the people concerned."""
    now = now or timezone.now()
    result = SweepResult()
    for policy in SlaPolicy.objects.select_related("escalate_to_group"):
        _warn(policy, now, result)
        _breach(policy, now, "response", result)
        _breach(policy, now, "resolution", result)
    _notify(result)
    return result


def _notify(result: SweepResult) -> None:
    """One in-app notification per person listing their tickets (activities' notify)."""
    from guanxi.accounts.models import User
    from guanxi.activities.services import notify

    for user in User.objects.filter(pk__in=list(result.notify)):
        numbers = result.notify[user.pk]
        try:
            notify(
                user=user,
                title=_("SLA: %(count)s tickets need attention") % {"count": len(numbers)},
                body=", ".join(numbers[:50]),
                url="/service/",
            )
        except Exception:  # a notification failure must not undo the sweep
            logger.exception("SLA notification to user %s failed", user.pk)
