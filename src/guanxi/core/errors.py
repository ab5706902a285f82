"""Domain exceptions and their one rendering as RFC 9457 problem details.

Services raise these; the API maps them once (see `guanxi.api`), pages turn them into form
errors and toasts. Messages are translated strings, so the client gets the user's language.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _


class DomainError(Exception):
    """A refused command: bad input or a broken rule. Nothing was changed."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ([{"field": field, "message": message}] if field else [])


class StaleEdit(DomainError):
    """The row changed since the editor read it; their write would overwrite someone."""

    status = 409
    code = "stale-edit"


def check_version(current: int, expected: int | None) -> None:
    """Refuse a write whose editor read an older version of the row (None: not checked)."""
    if expected is not None and expected != current:
        raise StaleEdit(
            _("Someone else changed this record after you opened it. Reload and try again."),
            field="version",
        )


class Conflict(DomainError):
    """The command clashes with existing data (a duplicate name, a used token)."""

    status = 409
    code = "conflict"


def _title(status: int) -> str:
    # Spelled out so that makemessages finds each title.
    titles = {
        400: _("Bad request"),
        401: _("Not authenticated"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Request body too large"),
        415: _("Unsupported media type"),
        422: _("Invalid input"),
        429: _("Too many requests"),
        500: _("Server error"),
    }
    return titles.get(status, _("Error"))


def problem(
    request: HttpRequest | None,
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """A problem-details answer: type, title, status, detail, instance and field errors."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}" if code else "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    response = JsonResponse(
        body,
        status=status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
