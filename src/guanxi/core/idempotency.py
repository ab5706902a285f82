"""Idempotency keys for create-style API calls: a retried request returns the first answer.

A client sends `Idempotency-Key: <unique string>`; the first successful answer is stored
per user and key, and a repeat with the same key returns it without running the command
again. A repeat whose body differs from the first is refused (409), so a reused key never
silently applies to different data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from guanxi.core.errors import Conflict, DomainError
from guanxi.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 100


def _fingerprint(request: HttpRequest) -> str:
    method = (request.method or "").encode()
    return hashlib.sha256(method + request.path.encode() + request.body).hexdigest()


def idempotent(request: HttpRequest, run: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Run `run` once per (user, Idempotency-Key); without the header, just run it."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return run()
    if len(key) > MAX_KEY_LENGTH:
        raise DomainError(_("The idempotency key is too long."), field="Idempotency-Key")
    user_id = int(request.user.pk or 0)
    fingerprint = _fingerprint(request)
    found = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if found is not None:
        if found.fingerprint != fingerprint:
            raise Conflict(
                _("This idempotency key was used for a different request."),
                field="Idempotency-Key",
            )
        return found.status, json.loads(found.body)
    with transaction.atomic():
        status, body = run()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    user_id=user_id,
                    key=key,
                    fingerprint=fingerprint,
                    status=status,
                    body=json.dumps(body, default=str, ensure_ascii=False),
                )
        except IntegrityError as error:  # a concurrent twin won the race: undo ours
            raise Conflict(
                _("The same request is already being processed."), field="Idempotency-Key"
            ) from error
    return status, body
