"""Writing the access log: one entry per reveal, and one per record for exports and imports."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from itertools import islice
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from guanxi.audit.models import AccessAction, AccessLog

BATCH_SIZE = 1000


def _client_ip(request: HttpRequest | None) -> str | None:
    # REMOTE_ADDR only, as the sign-in lockout does: a forwarded header is the client's to forge.
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_name": ""}
    return {"actor": actor, "actor_name": actor.get_username()}


def access_log_write(
    *,
    actor: Any,
    action: AccessAction | str,
    target_model: str,
    target_pk: str | int = "",
    field: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AccessLog:
    """Record one access (a reveal of `field` of one record); ValueError for an unknown action.

    Written in the caller's transaction, so a command that fails leaves no entry. `actor` is a
    user or None for the system; `detail` must not hold the personal data itself.
    """
    return AccessLog.objects.create(
        **_actor_fields(actor),
        action=AccessAction(action),
        target_model=target_model,
        target_pk=str(target_pk),
        field=field,
        detail=detail or {},
        ip=_client_ip(request),
    )


def access_logs_write_many(
    *,
    actor: Any,
    action: AccessAction | str,
    target_model: str,
    target_pks: Iterable[str | int],
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Record the same access to many records (an export), 1,000 rows per INSERT; the count.

    All entries share one timestamp and are written in one transaction: all or none.
    """
    common = {
        **_actor_fields(actor),
        "action": AccessAction(action),
        "target_model": target_model,
        "detail": detail or {},
        "ip": _client_ip(request),
        "at": timezone.now(),
    }
    pks = iter(target_pks)
    written = 0
    with transaction.atomic():
        while chunk := list(islice(pks, BATCH_SIZE)):
            AccessLog.objects.bulk_create(
                [AccessLog(**common, target_pk=str(pk)) for pk in chunk], batch_size=BATCH_SIZE
            )
            written += len(chunk)
    return written
