"""Accounts' own reactions: stamp the login time, keep the built-in roles present."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from guanxi.accounts.middleware import LOGIN_AT, SEEN_AT


@receiver(user_logged_in)
def stamp_login(sender: Any, request: Any, user: Any, **_: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


@receiver(post_migrate)
def ensure_roles(sender: Any, app_config: Any = None, **_: Any) -> None:
    if app_config is not None and app_config.label == "accounts":
        from guanxi.accounts.services import builtin_roles_ensure

        builtin_roles_ensure()
