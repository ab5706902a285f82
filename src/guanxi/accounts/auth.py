"""API authentication: the browser session (with CSRF) or a personal bearer token."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer
from ninja.security.session import SessionAuth as NinjaSessionAuth

from guanxi.accounts.models import ApiToken, User

TOKEN_PREFIX = "gx_"  # noqa: S105  (a public marker, not a secret)
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_token(secret: str) -> str:
    """SHA-256 of the whole token: tokens carry 256 random bits, so no salt or stretch."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer gx_…`: a live (unrevoked, unexpired) token of an active user."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        found = (
            ApiToken.objects.usable()
            .select_related("user", "user__role", "user__team")
            .filter(token_hash=hash_token(token))
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class SessionAuth(NinjaSessionAuth):
    """The signed-in browser session; unsafe methods need the CSRF token."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


__all__ = ["APIKeyCookie", "ApiTokenAuth", "SessionAuth", "hash_token"]


def api_actor(request: HttpRequest) -> User:
    """The signed-in user of an API request; the auth classes let only users in, but a
    handler never trusts that blindly (401 otherwise)."""
    from ninja.errors import AuthenticationError

    user = request.user
    if not isinstance(user, User):
        raise AuthenticationError
    return user


def page_actor(request: HttpRequest) -> User:
    """The signed-in user of a page request (403 otherwise)."""
    from django.core.exceptions import PermissionDenied

    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
