from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from guanxi.audit.models import AccessAction, AccessLog
from guanxi.audit.services import access_log_write, access_logs_write_many


def test_a_reveal_is_recorded_with_who_what_and_from_where(rep: Any) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")

    entry = access_log_write(
        actor=rep,
        action="reveal",
        target_model="customers.customer",
        target_pk=42,
        field="phone",
        detail={"reason": "callback"},
        request=request,
    )

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name, entry.action) == (rep, "rep", AccessAction.REVEAL)
    assert (entry.target_model, entry.target_pk, entry.field) == (
        "customers.customer",
        "42",
        "phone",
    )
    assert (entry.detail, entry.ip) == ({"reason": "callback"}, "10.1.2.3")


def test_a_system_access_has_no_actor(db: Any) -> None:
    entry = access_log_write(actor=None, action="import", target_model="customers.customer")

    assert (entry.actor, entry.actor_name, entry.target_pk, entry.ip) == (None, "", "", None)


def test_an_unknown_action_is_refused_and_nothing_is_written(rep: Any) -> None:
    with pytest.raises(ValueError, match="peek"):
        access_log_write(actor=rep, action="peek", target_model="customers.customer")

    assert not AccessLog.objects.exists()


def test_an_address_that_is_not_an_ip_is_left_empty(rep: Any) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="unix-socket")

    entry = access_log_write(
        actor=rep, action="reveal", target_model="customers.customer", request=request
    )

    assert entry.ip is None


def test_an_entry_keeps_the_actors_name_after_the_user_is_deleted(rep: Any) -> None:
    entry = access_log_write(actor=rep, action="export", target_model="customers.customer")

    rep.delete()

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name) == (None, "rep")


def test_an_export_writes_one_entry_per_record(rep: Any) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="::1")

    written = access_logs_write_many(
        actor=rep,
        action=AccessAction.EXPORT,
        target_model="customers.customer",
        target_pks=range(1, 2502),
        detail={"format": "xlsx"},
        request=request,
    )

    assert written == 2501
    assert AccessLog.objects.count() == 2501
    assert set(AccessLog.objects.values_list("target_pk", flat=True)) == {
        str(pk) for pk in range(1, 2502)
    }
    assert set(AccessLog.objects.values_list("actor_id", "action", "ip").distinct()) == {
        (rep.pk, "export", "::1")
    }
    assert not AccessLog.objects.exclude(detail={"format": "xlsx"}).exists()


def test_the_entries_of_one_export_share_one_timestamp(rep: Any) -> None:
    access_logs_write_many(
        actor=rep, action="export", target_model="customers.customer", target_pks=["a", "b", "c"]
    )

    assert AccessLog.objects.values("at").distinct().count() == 1


def test_an_export_of_nothing_writes_nothing(rep: Any) -> None:
    written = access_logs_write_many(
        actor=rep, action="export", target_model="customers.customer", target_pks=[]
    )

    assert (written, AccessLog.objects.count()) == (0, 0)


def test_an_export_with_an_unknown_action_writes_nothing(rep: Any) -> None:
    with pytest.raises(ValueError, match="download"):
        access_logs_write_many(
            actor=rep, action="download", target_model="customers.customer", target_pks=[1, 2]
        )

    assert not AccessLog.objects.exists()
