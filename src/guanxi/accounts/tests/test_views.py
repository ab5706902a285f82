from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.accounts.models import Role, Team, User

PASSWORD = "correct-horse-42"


def _login(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


def test_signing_in_lands_on_the_dashboard(make_user: Any) -> None:
    make_user("sales-rep", username="li.na")
    client = Client()

    response = _login(client, "li.na", follow=True)

    assert response.redirect_chain[-1][0] == reverse("core:dashboard")
    assert "li.na" in response.content.decode()


def test_the_session_key_rotates_at_sign_in(make_user: Any) -> None:
    make_user(username="rotator")
    client = Client()
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key

    _login(client, "rotator")

    assert client.session.session_key != before


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(make_user: Any) -> None:
    make_user(username="li.na")
    client = Client()

    response = _login(client, "li.na", "wrong-password")

    assert response.status_code == 200
    assert "data-form-error" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "data",
    [{}, {"username": "", "password": ""}, {"username": "x" * 500, "password": "y"}],
    ids=["nothing", "blank", "oversized"],
)
def test_bad_login_input_gets_a_form_error(db: Any, data: dict[str, str]) -> None:
    client = Client()

    response = client.post(reverse("accounts:login"), data)

    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode() or "data-form-error" in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_username_from_that_address(
    make_user: Any, settings: Any
) -> None:
    make_user(username="target")
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, "target", "guess-wrong")

    response = _login(attacker, "target")

    assert response.status_code == 429
    assert "data-locked-out" in response.content.decode()
    assert "_auth_user_id" not in attacker.session


def test_a_lockout_elsewhere_does_not_lock_the_owner_out(make_user: Any, settings: Any) -> None:
    make_user(username="target")
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _login(attacker, "target", "guess-wrong")
    owner = Client(REMOTE_ADDR="10.1.1.1")

    response = _login(owner, "target", follow=True)

    assert response.redirect_chain[-1][0] == reverse("core:dashboard")


def test_an_idle_session_expires(make_user: Any, settings: Any) -> None:
    make_user(username="sleepy")
    client = Client()
    _login(client, "sleepy")
    session = client.session
    session["guanxi_seen_at"] = time.time() - settings.SESSION_IDLE_SECONDS - 5
    session.save()

    response = client.get(reverse("core:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session


def test_a_session_expires_after_the_absolute_timeout_even_when_active(
    make_user: Any, settings: Any
) -> None:
    make_user(username="busy")
    client = Client()
    _login(client, "busy")
    session = client.session
    session["guanxi_login_at"] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 5
    session["guanxi_seen_at"] = time.time()
    session.save()

    response = client.get(reverse("core:dashboard"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_pages_require_sign_in(db: Any) -> None:
    response = Client().get(reverse("core:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_pages_carry_security_headers(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user())

    response = client.get(reverse("core:dashboard"))

    assert response["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_navigation_shows_administration_only_to_those_who_may_see_it(
    make_user: Any, teams: dict[str, Any]
) -> None:
    admin, rep = Client(), Client()
    admin.force_login(make_user("administrator", teams["hq"]))
    rep.force_login(make_user("sales-rep", teams["east"]))

    admin_page = admin.get(reverse("core:dashboard")).content.decode()
    rep_page = rep.get(reverse("core:dashboard")).content.decode()

    assert 'data-nav="users"' in admin_page
    assert 'data-nav="users"' not in rep_page


def test_a_rep_gets_403_on_the_user_administration(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("sales-rep"))

    response = client.get(reverse("accounts:users"))

    assert response.status_code == 403


def test_a_manager_gets_404_for_a_user_outside_their_scope(
    make_user: Any, teams: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(make_user("sales-manager", teams["sales"]))
    foreign = make_user("sales-rep", teams["other"])

    response = client.get(reverse("accounts:user-history", args=[foreign.pk]))

    assert response.status_code == 404


def test_the_language_switch_renders_the_page_in_chinese(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user())

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    response = client.get(reverse("core:dashboard"))

    assert '<html lang="zh-hans">' in response.content.decode()
    assert "仪表盘" in response.content.decode()


def test_an_administrator_creates_a_user_in_the_ui(admin_user: Any, teams: dict[str, Any]) -> None:
    client = Client()
    client.force_login(admin_user)
    role = Role.objects.get(code="service-agent")

    response = client.post(
        reverse("accounts:user-create"),
        {
            "username": "chen.jing",
            "display_name": "陈静",
            "email": "chen@example.com",
            "team": teams["service"].pk,
            "role": role.pk,
            "is_active": "on",
            "password": "a-long-password-1",
        },
    )

    assert response.status_code == 302
    created = User.objects.get(username="chen.jing")
    assert (created.team, created.role, created.display_name) == (teams["service"], role, "陈静")


def test_a_stale_edit_in_the_ui_is_refused_with_a_message(
    admin_user: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    target = make_user("sales-rep", teams["east"], display_name="Original")
    User.objects.filter(pk=target.pk).update(version=5, display_name="Someone else's")
    client = Client()
    client.force_login(admin_user)

    response = client.post(
        reverse("accounts:user-edit", args=[target.pk]),
        {
            "display_name": "Mine",
            "email": "",
            "team": teams["east"].pk,
            "role": target.role_id,
            "is_active": "on",
            "password": "",
            "version": 1,
        },
    )

    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    assert User.objects.get(pk=target.pk).display_name == "Someone else's"


def test_an_administrator_builds_the_team_tree_in_the_ui(
    admin_user: Any, teams: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(admin_user)

    client.post(reverse("accounts:team-create"), {"name": "Shanghai", "parent": teams["east"].pk})
    page = client.get(reverse("accounts:teams")).content.decode()

    shanghai = Team.objects.get(name="Shanghai")
    assert shanghai.path.startswith(teams["east"].path)
    assert page.index('data-team="East"') < page.index('data-team="Shanghai"')


def test_an_administrator_edits_a_roles_permissions_and_scope(admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)
    role = Role.objects.get(code="sales-rep")

    response = client.post(
        reverse("accounts:role-edit", args=[role.pk]),
        {
            "name": role.name,
            "description": "",
            "data_scope": "team",
            "permissions": ["customers.view", "customers.export"],
            "version": role.version,
        },
    )

    role.refresh_from_db()
    assert response.status_code == 302
    assert (role.data_scope, role.permissions) == ("team", ["customers.export", "customers.view"])


def test_the_user_list_filters_and_pages(
    admin_user: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    for index in range(3):
        make_user("sales-rep", teams["east"], username=f"east{index}")
    make_user("sales-rep", teams["north"], username="north0")
    client = Client()
    client.force_login(admin_user)

    page = client.get(reverse("accounts:users"), {"team": teams["east"].pk}).content.decode()

    assert [
        name for name in ("east0", "east1", "east2", "north0") if f'data-user-row="{name}"' in page
    ] == ["east0", "east1", "east2"]


def test_the_htmx_user_list_returns_only_the_rows(admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)

    response = client.get(reverse("accounts:users"), headers={"HX-Request": "true"})

    body = response.content.decode()
    assert "data-user-row" in body
    assert "<html" not in body


def test_a_user_creates_and_revokes_a_token_on_the_tokens_page(make_user: Any) -> None:
    client = Client()
    user = make_user()
    client.force_login(user)

    created = client.post(reverse("accounts:tokens"), {"name": "sheet", "expires_in_days": 5})
    token = user.api_tokens.get()
    client.post(reverse("accounts:token-revoke", args=[token.pk]))

    assert 'id="new-token"' in created.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_unknown_pages_get_the_friendly_404(make_user: Any, settings: Any) -> None:
    settings.DEBUG = False
    client = Client()
    client.force_login(make_user())

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
