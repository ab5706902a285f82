"""Idle and absolute session timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

LOGIN_AT = "guanxi_login_at"
SEEN_AT = "guanxi_seen_at"
# Write the "last seen" stamp at most this often, not on every request.
SEEN_RESOLUTION = 30


class SessionTimeoutMiddleware:
    """Ends a session idle for SESSION_IDLE_SECONDS or older than SESSION_ABSOLUTE_SECONDS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and LOGIN_AT in request.session:
            now = time.time()
            login_at = float(request.session.get(LOGIN_AT, now))
            seen_at = float(request.session.get(SEEN_AT, login_at))
            if (
                now - seen_at > settings.SESSION_IDLE_SECONDS
                or now - login_at > settings.SESSION_ABSOLUTE_SECONDS
            ):
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {
                            "type": "about:blank",
                            "title": _("Not authenticated"),
                            "status": 401,
                            "detail": _("Your session has expired. Please sign in again."),
                        },
                        status=401,
                        content_type="application/problem+json",
                    )
                messages.warning(request, _("Your session has expired. Please sign in again."))
                return redirect(f"{reverse('accounts:login')}?next={request.path}")
            if now - seen_at > SEEN_RESOLUTION:
                request.session[SEEN_AT] = now
        return self.get_response(request)
