from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from guanxi.accounts.models import ApiToken, Role, Team, User
from guanxi.accounts.services import (
    api_token_create,
    api_token_revoke,
    role_create,
    role_update,
    team_create,
    team_update,
    user_create,
    user_update,
)
from guanxi.core.errors import Conflict, DomainError, StaleEdit


def test_built_in_roles_exist_after_migrate(db: Any) -> None:
    codes = set(Role.objects.values_list("code", flat=True))

    assert codes == {
        "administrator",
        "sales-manager",
        "sales-rep",
        "service-agent",
        "marketer",
        "analyst",
        "auditor",
    }


def test_the_auditor_role_is_read_only_and_sees_the_audit_log(db: Any) -> None:
    auditor = Role.objects.get(code="auditor")

    assert "audit.view" in auditor.permissions
    assert {perm.split(".")[1] for perm in auditor.permissions} == {"view"}


def test_user_create_refuses_an_actor_without_the_admin_permission(
    make_user: Any, teams: dict[str, Any]
) -> None:
    manager = make_user("sales-manager", teams["sales"])
    before = User.objects.count()

    with pytest.raises(PermissionDenied):
        user_create(actor=manager, username="sneaky", password="long-enough-pass-1")

    assert User.objects.count() == before


def test_user_create_refuses_a_weak_password_naming_the_field(admin_user: Any) -> None:
    with pytest.raises(DomainError) as caught:
        user_create(actor=admin_user, username="newbie", password="123")

    assert caught.value.field == "password"
    assert not User.objects.filter(username="newbie").exists()


def test_user_create_refuses_a_taken_username(admin_user: Any) -> None:
    with pytest.raises(Conflict):
        user_create(actor=admin_user, username="boss", password="another-long-pass-9")

    assert User.objects.filter(username="boss").count() == 1


def test_passwords_are_stored_hashed(admin_user: Any) -> None:
    user = user_create(actor=admin_user, username="hashme", password="plain-text-pass-7")

    user.refresh_from_db()
    assert "plain-text-pass-7" not in user.password
    assert user.check_password("plain-text-pass-7")


def test_user_update_refuses_a_stale_version_and_changes_nothing(
    admin_user: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    user = make_user("sales-rep", teams["east"], display_name="Old")
    user_update(actor=admin_user, user=user, version=user.version, display_name="First edit")

    with pytest.raises(StaleEdit):
        user_update(actor=admin_user, user=user, version=user.version, display_name="Stale")

    user.refresh_from_db()
    assert user.display_name == "First edit"
    assert user.version == 2


def test_an_administrator_cannot_deactivate_themselves(admin_user: Any) -> None:
    with pytest.raises(DomainError):
        user_update(actor=admin_user, user=admin_user, version=admin_user.version, is_active=False)

    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_team_paths_follow_the_tree(teams: dict[str, Any]) -> None:
    east = teams["east"]

    assert east.path == f"/{teams['hq'].pk}/{teams['sales'].pk}/{east.pk}/"


def test_moving_a_team_rewrites_the_paths_of_its_whole_subtree(
    admin_user: Any, teams: dict[str, Any]
) -> None:
    sales, other = teams["sales"], teams["other"]

    team_update(actor=admin_user, team=sales, version=sales.version, parent=other)

    east = Team.objects.get(pk=teams["east"].pk)
    assert east.path == f"/{other.pk}/{sales.pk}/{east.pk}/"


def test_a_team_cannot_move_under_its_own_sub_team(admin_user: Any, teams: dict[str, Any]) -> None:
    sales = teams["sales"]

    with pytest.raises(DomainError) as caught:
        team_update(actor=admin_user, team=sales, version=sales.version, parent=teams["east"])

    assert caught.value.field == "parent"
    assert Team.objects.get(pk=sales.pk).parent_id == teams["hq"].pk


def test_team_names_are_unique_among_siblings(admin_user: Any, teams: dict[str, Any]) -> None:
    with pytest.raises(Conflict):
        team_create(actor=admin_user, name="East", parent=teams["sales"])

    assert Team.objects.filter(name="East").count() == 1


def test_role_create_refuses_an_unknown_permission(admin_user: Any) -> None:
    with pytest.raises(DomainError) as caught:
        role_create(
            actor=admin_user,
            name="Odd",
            code="odd",
            permissions=["customers.fly"],
            data_scope="own",
        )

    assert caught.value.field == "permissions"
    assert not Role.objects.filter(code="odd").exists()


def test_the_administrator_role_keeps_account_administration(admin_user: Any) -> None:
    role = Role.objects.get(code="administrator")

    with pytest.raises(DomainError):
        role_update(actor=admin_user, role=role, version=role.version, permissions=[])

    assert "accounts.admin" in Role.objects.get(code="administrator").permissions


def test_role_change_takes_effect_for_its_holders(make_user: Any, admin_user: Any) -> None:
    from guanxi.core.permissions import has_perm

    rep = make_user("sales-rep")
    role = Role.objects.get(code="sales-rep")

    role_update(
        actor=admin_user,
        role=role,
        version=role.version,
        permissions=[*role.permissions, "customers.export"],
    )

    rep = User.objects.select_related("role").get(pk=rep.pk)
    assert has_perm(rep, "customers.export")


def test_api_tokens_store_only_a_hash(make_user: Any) -> None:
    user = make_user()

    token, secret = api_token_create(actor=user, name="script", expires_in_days=7)

    stored = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith("gx_")
    assert secret not in (stored.token_hash, stored.prefix)
    assert len(stored.token_hash) == 64


def test_a_user_cannot_revoke_someone_elses_token(make_user: Any) -> None:
    owner, other = make_user(), make_user()
    token, _secret = api_token_create(actor=owner, name="mine")

    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=other, token=token)

    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_field_history_records_who_changed_what(
    admin_user: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    from guanxi.core.history import history_rows

    user = make_user("sales-rep", teams["east"], display_name="Before")
    user_update(actor=admin_user, user=user, version=user.version, display_name="After")

    rows = history_rows(user)

    assert [str(row["kind"]) for row in rows] == ["Changed", "Created"]
    assert [(c["old"], c["new"]) for c in rows[0]["changes"]] == [("Before", "After")]
