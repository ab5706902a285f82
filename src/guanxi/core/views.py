"""Dashboard, health report and the friendly error pages."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from guanxi.core import selectors

logger = logging.getLogger(__name__)


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    context = selectors.dashboard_summary(actor=request.user)
    return render(request, "core/dashboard.html", context)


def _check(name: str, probe: Any) -> dict[str, str]:
    try:
        probe()
    except Exception as error:  # noqa: BLE001  (a health report names any failure, never raises)
        logger.warning("health check %s failed: %s", name, error)
        return {"status": "error", "detail": type(error).__name__}
    return {"status": "ok"}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key = "guanxi:healthz"
    cache.set(key, "ok", 10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not keep a value")


def _broker() -> None:
    from guanxi.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, cache and broker; 503 when a configured part is down."""
    report: dict[str, Any] = {
        "database": {**_check("database", _database), "vendor": connection.vendor},
        "cache": _check("cache", _cache) if settings.CACHE_URL else {"status": "local"},
        "broker": _check("broker", _broker) if settings.BROKER_URL else {"status": "in-process"},
        "time": timezone.now().isoformat(),
    }
    healthy = all(
        part.get("status") != "error" for part in report.values() if isinstance(part, dict)
    )
    report["status"] = "ok" if healthy else "error"
    return JsonResponse(report, status=200 if healthy else 503)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
