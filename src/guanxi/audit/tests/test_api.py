from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from guanxi.audit.models import AccessLog

URL = "/api/v1/audit/access-log"


def test_an_auditor_reads_the_access_log(
    auditor: Any, rep: Any, bearer: Any, log_entry: Callable[..., AccessLog]
) -> None:
    with time_machine.travel(datetime(2026, 3, 1, 9, 30, tzinfo=UTC), tick=False):
        entry = log_entry(rep, field="phone", detail={"reason": "callback"})

    response = Client().get(URL, headers=bearer(auditor))

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": entry.pk,
                "actor_id": rep.pk,
                "actor_name": "rep",
                "action": "reveal",
                "target_model": "customers.customer",
                "target_pk": "1",
                "field": "phone",
                "detail": {"reason": "callback"},
                "ip": None,
                "at": "2026-03-01T09:30:00Z",
            }
        ],
        "next_cursor": None,
        "limit": 50,
    }


def test_without_audit_view_the_api_answers_403(
    rep: Any, bearer: Any, log_entry: Callable[..., AccessLog]
) -> None:
    log_entry(rep)

    response = Client().get(URL, headers=bearer(rep))

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_without_credentials_the_api_answers_401(db: Any) -> None:
    response = Client().get(URL)

    assert response.status_code == 401


def test_walking_the_pages_yields_every_entry_once_newest_first(
    auditor: Any, rep: Any, bearer: Any, log_entry: Callable[..., AccessLog]
) -> None:
    entries = [log_entry(rep, target_pk=n) for n in range(5)]
    headers = bearer(auditor)
    seen: list[int] = []
    cursor = ""

    for _ in range(3):
        page = Client().get(URL, {"limit": 2, "cursor": cursor}, headers=headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"] or ""

    assert seen == [entry.pk for entry in reversed(entries)]
    assert cursor == ""


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "export"}, ["export"]),
        ({"target_model": "customers.contact"}, ["contact"]),
        ({"target_pk": "7"}, ["seven"]),
    ],
)
def test_the_api_filters_entries(
    auditor: Any,
    rep: Any,
    bearer: Any,
    log_entry: Callable[..., AccessLog],
    params: dict[str, str],
    expected: list[str],
) -> None:
    log_entry(rep, detail={"name": "export"}, action="export")
    log_entry(rep, detail={"name": "contact"}, target_model="customers.contact")
    log_entry(rep, detail={"name": "seven"}, target_pk=7)

    response = Client().get(URL, params, headers=bearer(auditor))

    assert [item["detail"]["name"] for item in response.json()["items"]] == expected


def test_the_api_filters_by_actor(
    auditor: Any, rep: Any, bearer: Any, log_entry: Callable[..., AccessLog]
) -> None:
    log_entry(auditor)
    mine = log_entry(rep)

    response = Client().get(URL, {"actor_id": rep.pk}, headers=bearer(auditor))

    assert [item["id"] for item in response.json()["items"]] == [mine.pk]


@pytest.mark.parametrize(
    "params",
    [{"action": "peek"}, {"date_from": "yesterday"}, {"limit": 0}, {"limit": 1000}],
)
def test_bad_filters_answer_422_naming_the_field(
    auditor: Any, bearer: Any, params: dict[str, Any]
) -> None:
    response = Client().get(URL, params, headers=bearer(auditor))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == next(iter(params))


def test_a_forged_cursor_is_a_clear_400(auditor: Any, bearer: Any) -> None:
    response = Client().get(URL, {"cursor": "%%%garbage"}, headers=bearer(auditor))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_the_access_log_runs_a_fixed_number_of_queries(
    auditor: Any,
    rep: Any,
    api_token: Any,
    log_entry: Callable[..., AccessLog],
    django_assert_num_queries: Any,
) -> None:
    for n in range(10):
        log_entry(rep, target_pk=n)
    headers = {"Authorization": f"Bearer {api_token(auditor)}"}

    # token lookup, its last-used stamp, the page
    with django_assert_num_queries(3):
        response = Client().get(URL, headers=headers)

    assert len(response.json()["items"]) == 10


def test_the_openapi_schema_lists_the_access_log(db: Any) -> None:
    response = Client().get("/api/v1/openapi.json")

    assert URL in response.json()["paths"]
