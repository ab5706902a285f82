"""Each built-in role's data scope against owned, team-mate's, sub-team's and foreign rows."""

from __future__ import annotations

from typing import Any

import pytest
from tests.scopeapp.models import Record

# role -> which of (own, teammate, subteam, parent team, foreign) the holder sees.
EXPECTED = {
    "administrator": {"own", "teammate", "subteam", "parent", "foreign"},
    "sales-manager": {"own", "teammate", "subteam"},
    "sales-rep": {"own"},
    "service-agent": {"own", "teammate"},
    "marketer": {"own", "teammate", "subteam", "parent", "foreign"},
    "analyst": {"own", "teammate", "subteam", "parent", "foreign"},
    "auditor": {"own", "teammate", "subteam", "parent", "foreign"},
}


@pytest.fixture
def records(make_user: Any, teams: dict[str, Any]) -> dict[str, Any]:
    actor_team = teams["sales"]
    return {
        "actor_team": actor_team,
        "teammate": make_user("sales-rep", actor_team),
        "subteam_user": make_user("sales-rep", teams["east"]),
        "parent_user": make_user("sales-rep", teams["hq"]),
        "foreign_user": make_user("sales-rep", teams["other"]),
        "teams": teams,
    }


def _seed(actor: Any, records: dict[str, Any]) -> None:
    teams = records["teams"]
    Record.objects.create(title="own", owner=actor, team=records["actor_team"])
    Record.objects.create(title="teammate", owner=records["teammate"], team=records["actor_team"])
    Record.objects.create(title="subteam", owner=records["subteam_user"], team=teams["east"])
    Record.objects.create(title="parent", owner=records["parent_user"], team=teams["hq"])
    Record.objects.create(title="foreign", owner=records["foreign_user"], team=teams["other"])


@pytest.mark.parametrize(("role", "expected"), sorted(EXPECTED.items()))
def test_each_built_in_role_sees_exactly_its_data_scope(
    role: str, expected: set[str], make_user: Any, records: dict[str, Any]
) -> None:
    actor = make_user(role, records["actor_team"])
    _seed(actor, records)

    visible = set(Record.objects.visible_to(actor).values_list("title", flat=True))

    assert visible == expected


def test_an_inactive_user_sees_nothing(make_user: Any, records: dict[str, Any]) -> None:
    actor = make_user("administrator", records["actor_team"], is_active=False)
    _seed(actor, records)

    assert list(Record.objects.visible_to(actor)) == []


def test_a_user_without_a_role_sees_only_own_records(
    make_user: Any, records: dict[str, Any]
) -> None:
    actor = make_user(None, records["actor_team"])
    _seed(actor, records)

    assert list(Record.objects.visible_to(actor).values_list("title", flat=True)) == ["own"]


def test_a_team_scoped_user_without_a_team_sees_only_own_records(
    make_user: Any, records: dict[str, Any]
) -> None:
    actor = make_user("sales-manager", None)
    _seed(actor, records)

    assert list(Record.objects.visible_to(actor).values_list("title", flat=True)) == ["own"]


def test_a_superuser_without_a_role_sees_everything(
    make_user: Any, records: dict[str, Any]
) -> None:
    actor = make_user(None, None, is_superuser=True)
    _seed(actor, records)

    assert Record.objects.visible_to(actor).count() == 5


def test_moving_a_team_carries_its_sub_teams_into_the_new_scope(
    make_user: Any, records: dict[str, Any], admin_user: Any
) -> None:
    from guanxi.accounts.services import team_update

    teams = records["teams"]
    manager = make_user("sales-manager", teams["other"])
    Record.objects.create(title="east row", owner=records["subteam_user"], team=teams["east"])
    sales = teams["sales"]

    team_update(actor=admin_user, team=sales, version=sales.version, parent=teams["other"])

    assert list(Record.objects.visible_to(manager).values_list("title", flat=True)) == ["east row"]
