"""One-use links: a random 256-bit token that only its owner's mailbox sees, kept in the
database as its SHA-256 hash (a leaked table holds no usable link), with an expiry."""

from __future__ import annotations

import hashlib
import os
import secrets

from django.conf import settings
from django.urls import reverse


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token[:100].encode()).hexdigest()


def public_url(url_name: str, *args: object) -> str:
    """An absolute URL for an email: GUANXI_PUBLIC_URL (or settings.PUBLIC_URL) + the path."""
    base = getattr(settings, "PUBLIC_URL", "") or os.environ.get(
        "GUANXI_PUBLIC_URL", "http://localhost:8000"
    )
    return base.rstrip("/") + reverse(url_name, args=args)
