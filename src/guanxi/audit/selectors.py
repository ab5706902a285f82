"""Reading the access log: for holders of audit.view, within their data scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from guanxi.audit.models import AccessLog
from guanxi.core.permissions import has_perm
from guanxi.core.scoping import scope_q


@dataclass(frozen=True)
class AccessLogFilters:
    actor_id: int | None = None
    action: str = ""
    target_model: str = ""
    target_pk: str = ""
    date_from: date | None = None  # inclusive, in the current time zone
    date_to: date | None = None  # inclusive


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def access_log_list(*, actor: Any, filters: AccessLogFilters | None = None) -> QuerySet[AccessLog]:
    """Entries the actor may read, newest first; none without audit.view.

    The actor's data scope applies to who acted: their own entries, their team's, their
    sub-teams' or all (system entries without an actor only with the "all" scope).
    """
    filters = filters or AccessLogFilters()
    condition = scope_q(actor, owner_field="actor", team_field="actor__team")
    if condition is None or not has_perm(actor, "audit.view"):
        return AccessLog.objects.none()
    qs = AccessLog.objects.filter(condition)
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.target_model:
        qs = qs.filter(target_model=filters.target_model.lower())
    if filters.target_pk:
        qs = qs.filter(target_pk=filters.target_pk)
    # Ranges on the indexed column, not __date, which would convert every row's time.
    if filters.date_from is not None:
        qs = qs.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to is not None:
        qs = qs.filter(at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return qs.order_by("-pk")
