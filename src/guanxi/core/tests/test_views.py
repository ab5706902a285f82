from __future__ import annotations

from typing import Any

from django.test import Client


def test_healthz_reports_the_database_and_in_process_parts(db: Any) -> None:
    response = Client().get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"] == {"status": "in-process"}


def test_healthz_answers_503_when_a_configured_cache_is_down(db: Any, settings: Any) -> None:
    settings.CACHE_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["cache"]["status"] == "error"


def test_the_dashboard_shows_the_users_role_and_scope(
    make_user: Any, teams: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(make_user("sales-manager", teams["sales"]))

    page = client.get("/").content.decode()

    assert 'data-scope="subtree"' in page
    assert "Sales manager" in page
