from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from guanxi.accounts.models import ApiToken, Team, User


def test_a_bearer_token_authenticates_as_its_user(make_user: Any, bearer: Any) -> None:
    rep = make_user("sales-rep", username="li.na")

    response = Client().get("/api/v1/me", headers=bearer(rep))

    assert response.status_code == 200
    assert response.json()["username"] == "li.na"
    assert response.json()["data_scope"] == "own"


def test_no_credentials_answer_401_as_problem_details(db: Any) -> None:
    response = Client().get("/api/v1/me")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Not authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer gx_not-a-real-token", "Bearer ", "Basic abc"])
def test_bad_tokens_answer_401(db: Any, header: str) -> None:
    response = Client().get("/api/v1/me", headers={"Authorization": header})

    assert response.status_code == 401


def test_a_revoked_token_stops_working(make_user: Any, api_token: Any) -> None:
    user = make_user()
    secret = api_token(user)
    ApiToken.objects.filter(user=user).update(revoked_at=timezone.now())

    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 401


def test_an_expired_token_stops_working(make_user: Any, api_token: Any) -> None:
    user = make_user()
    secret = api_token(user)  # 30 days

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 401


def test_a_deactivated_users_token_stops_working(make_user: Any, api_token: Any) -> None:
    user = make_user()
    secret = api_token(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 401


def test_session_writes_need_the_csrf_token(make_user: Any) -> None:
    user = make_user("administrator")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/api/v1/tokens", data={"name": "x"}, content_type="application/json")

    assert response.status_code in {401, 403}
    assert not ApiToken.objects.filter(user=user).exists()


def test_creating_a_token_shows_the_secret_once(make_user: Any, bearer: Any) -> None:
    user = make_user()
    headers = bearer(user)

    created = Client().post(
        "/api/v1/tokens",
        data={"name": "etl", "expires_in_days": 10},
        content_type="application/json",
        headers=headers,
    )
    listed = Client().get("/api/v1/tokens", headers=headers)

    assert created.status_code == 201
    assert created.json()["token"].startswith("gx_")
    assert "token" not in listed.json()[0]
    assert {token["name"] for token in listed.json()} == {"etl", "test"}


def test_revoking_a_token_via_the_api(make_user: Any, bearer: Any) -> None:
    user = make_user()
    headers = bearer(user)
    created = (
        Client()
        .post(
            "/api/v1/tokens",
            data={"name": "temp"},
            content_type="application/json",
            headers=headers,
        )
        .json()
    )

    response = Client().delete(f"/api/v1/tokens/{created['id']}", headers=headers)
    after = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"})

    assert response.status_code == 204
    assert after.status_code == 401


def test_another_users_token_id_answers_404(make_user: Any, bearer: Any, api_token: Any) -> None:
    owner, other = make_user(), make_user()
    api_token(owner)
    token_id = ApiToken.objects.get(user=owner).pk

    response = Client().delete(f"/api/v1/tokens/{token_id}", headers=bearer(other))

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token_id).revoked_at is None


# --- bad input ---------------------------------------------------------------------------------


def test_malformed_json_gets_a_clear_400_and_changes_nothing(admin_user: Any, bearer: Any) -> None:
    before = Team.objects.count()

    response = Client().post(
        "/api/v1/teams",
        data='{"name": "Broken',
        content_type="application/json",
        headers=bearer(admin_user),
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "The request body is not valid JSON."
    assert Team.objects.count() == before


def test_wrong_types_name_the_field(admin_user: Any, bearer: Any) -> None:
    response = Client().post(
        "/api/v1/teams",
        data={"name": "Ok", "parent_id": "not-a-number"},
        content_type="application/json",
        headers=bearer(admin_user),
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "parent_id",
            "in": "body",
            "code": "int_parsing",
            "message": "Enter a whole number.",
        }
    ]
    assert not Team.objects.filter(name="Ok").exists()


def test_unknown_fields_are_refused(admin_user: Any, bearer: Any) -> None:
    response = Client().post(
        "/api/v1/teams",
        data={"name": "Ok", "colour": "red"},
        content_type="application/json",
        headers=bearer(admin_user),
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("colour", "extra_forbidden")
    ]
    assert not Team.objects.filter(name="Ok").exists()


def test_a_huge_body_is_refused_with_413(admin_user: Any, bearer: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x" * 20_000})

    response = Client().post(
        "/api/v1/teams", data=body, content_type="application/json", headers=bearer(admin_user)
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert not Team.objects.filter(name__startswith="xxx").exists()


def test_errors_are_localised_to_the_callers_language(admin_user: Any, bearer: Any) -> None:
    response = Client().post(
        "/api/v1/teams",
        data={"name": "Ok", "colour": "red"},
        content_type="application/json",
        headers={**bearer(admin_user), "Accept-Language": "zh-hans"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "不允许此字段。"


def test_a_stale_version_answers_409(admin_user: Any, bearer: Any, teams: dict[str, Any]) -> None:
    east = teams["east"]
    headers = bearer(admin_user)
    Client().patch(
        f"/api/v1/teams/{east.pk}",
        data={"version": east.version, "name": "E1"},
        content_type="application/json",
        headers=headers,
    )

    response = Client().patch(
        f"/api/v1/teams/{east.pk}",
        data={"version": east.version, "name": "E2"},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "version"
    assert Team.objects.get(pk=east.pk).name == "E1"


def test_a_rep_cannot_create_users_through_the_api(make_user: Any, bearer: Any) -> None:
    rep = make_user("sales-rep")

    response = Client().post(
        "/api/v1/users",
        data={"username": "x", "password": "long-enough-pass-1"},
        content_type="application/json",
        headers=bearer(rep),
    )

    assert response.status_code == 403
    assert not User.objects.filter(username="x").exists()


# --- users: scope and pages --------------------------------------------------------------------


def test_a_manager_lists_only_users_of_their_subtree(
    make_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    manager = make_user("sales-manager", teams["sales"], username="mgr")
    make_user("sales-rep", teams["east"], username="east1")
    make_user("sales-rep", teams["service"], username="svc1")

    response = Client().get("/api/v1/users", headers=bearer(manager))

    assert [item["username"] for item in response.json()["items"]] == ["east1", "mgr"]


def test_a_user_outside_the_scope_answers_404(
    make_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    manager = make_user("sales-manager", teams["sales"])
    foreign = make_user("sales-rep", teams["other"])

    response = Client().get(f"/api/v1/users/{foreign.pk}", headers=bearer(manager))

    assert response.status_code == 404


def test_user_pages_follow_the_cursor_without_gaps_or_repeats(
    admin_user: Any, make_user: Any, bearer: Any
) -> None:
    for _ in range(7):
        make_user()
    headers = bearer(admin_user)
    seen: list[str] = []
    cursor = ""

    for _ in range(5):
        page = Client().get(f"/api/v1/users?limit=3&cursor={cursor}", headers=headers).json()
        seen += [item["username"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]

    expected = list(User.objects.order_by("-pk").values_list("username", flat=True))
    assert seen == expected


def test_a_forged_cursor_is_a_clear_400(admin_user: Any, bearer: Any) -> None:
    response = Client().get("/api/v1/users?cursor=%%%garbage", headers=bearer(admin_user))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_the_user_list_runs_a_fixed_number_of_queries(
    admin_user: Any,
    make_user: Any,
    teams: dict[str, Any],
    api_token: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for name in ("east", "north", "service"):
        make_user("sales-rep", teams[name])
    headers = {"Authorization": f"Bearer {api_token(admin_user)}"}

    with django_assert_max_num_queries(3):
        response = Client().get("/api/v1/users", headers=headers)

    assert len(response.json()["items"]) == 4


def test_the_openapi_schema_lists_the_accounts_endpoints(db: Any) -> None:
    response = Client().get("/api/v1/openapi.json")

    paths = response.json()["paths"]
    assert {"/api/v1/me", "/api/v1/users", "/api/v1/tokens", "/api/v1/teams"} <= set(paths)


def test_api_docs_live_at_api_docs(db: Any) -> None:
    response = Client().get("/api/docs", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/api/v1/docs"
