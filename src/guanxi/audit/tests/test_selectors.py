from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from guanxi.audit.models import AccessLog
from guanxi.audit.selectors import AccessLogFilters, access_log_list

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_without_audit_view_nothing_is_listed(
    rep: Any, log_entry: Callable[..., AccessLog]
) -> None:
    log_entry(rep)

    assert list(access_log_list(actor=rep)) == []


def test_an_auditor_sees_every_entry_newest_first(
    auditor: Any, rep: Any, log_entry: Callable[..., AccessLog]
) -> None:
    older = log_entry(rep)
    system = log_entry(None, action="import")
    newer = log_entry(auditor)

    assert list(access_log_list(actor=auditor)) == [newer, system, older]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("action", "export", ["export"]),
        ("target_model", "Customers.Contact", ["contact"]),
        ("target_pk", "7", ["seven"]),
    ],
)
def test_entries_filter_by_action_record_type_and_id(
    auditor: Any,
    rep: Any,
    log_entry: Callable[..., AccessLog],
    field: str,
    value: str,
    expected: list[str],
) -> None:
    log_entry(rep, detail={"name": "export"}, action="export")
    log_entry(rep, detail={"name": "contact"}, target_model="customers.contact")
    log_entry(rep, detail={"name": "seven"}, target_pk=7)

    found = access_log_list(actor=auditor, filters=AccessLogFilters(**{field: value}))

    assert [entry.detail["name"] for entry in found] == expected


def test_entries_filter_by_who_acted(
    auditor: Any, rep: Any, log_entry: Callable[..., AccessLog]
) -> None:
    mine = log_entry(auditor)
    log_entry(rep)

    found = access_log_list(actor=auditor, filters=AccessLogFilters(actor_id=auditor.pk))

    assert list(found) == [mine]


def test_a_date_range_includes_both_whole_local_days(
    auditor: Any, rep: Any, log_entry: Callable[..., AccessLog]
) -> None:
    times = {
        "before": datetime(2026, 2, 28, 23, 59, tzinfo=SHANGHAI),
        "first": datetime(2026, 3, 1, 0, 0, tzinfo=SHANGHAI),
        "last": datetime(2026, 3, 2, 23, 59, tzinfo=SHANGHAI),
        "after": datetime(2026, 3, 3, 0, 0, tzinfo=SHANGHAI),
    }
    for name, moment in times.items():
        with time_machine.travel(moment, tick=False):
            log_entry(rep, detail={"name": name})

    found = access_log_list(
        actor=auditor,
        filters=AccessLogFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 2)),
    )

    assert [entry.detail["name"] for entry in found] == ["last", "first"]


# Whose entries a viewer with audit.view sees, by the viewer's data scope (viewer in "sales").
@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("own", {"viewer"}),
        ("team", {"viewer", "teammate"}),
        ("subtree", {"viewer", "teammate", "sub-team"}),
        ("all", {"viewer", "teammate", "sub-team", "foreign", "system"}),
    ],
)
def test_the_viewers_data_scope_limits_whose_entries_they_see(
    make_user: Callable[..., Any],
    teams: dict[str, Any],
    audit_role: Callable[[str], Any],
    log_entry: Callable[..., AccessLog],
    scope: str,
    expected: set[str],
) -> None:
    viewer = make_user(audit_role(scope).code, teams["sales"])
    actors = {
        "viewer": viewer,
        "teammate": make_user("sales-rep", teams["sales"]),
        "sub-team": make_user("sales-rep", teams["east"]),
        "foreign": make_user("sales-rep", teams["other"]),
        "system": None,
    }
    for name, actor in actors.items():
        log_entry(actor, detail={"name": name})

    found = {entry.detail["name"] for entry in access_log_list(actor=viewer)}

    assert found == expected
