"""The activities API: tasks, notifications and the calendar feed token."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from icalendar import Calendar

from guanxi.activities.models import Task
from guanxi.activities.services import notify
from guanxi.activities.tests.conftest import local
from guanxi.grading.models import FollowUp
from guanxi.grading.models import Notification as GradingNotification

pytestmark = pytest.mark.django_db


def post_json(url: str, body: Any, headers: dict[str, str]) -> Any:
    return Client().post(url, data=body, content_type="application/json", headers=headers)


def patch_json(url: str, body: Any, headers: dict[str, str]) -> Any:
    return Client().patch(url, data=body, content_type="application/json", headers=headers)


def get(url: str, headers: dict[str, str], **params: Any) -> Any:
    return Client().get(url, params, headers=headers)


def test_a_task_is_created_for_a_customer_with_a_reminder(
    rep: Any, make_customer: Any, bearer: Any
) -> None:
    customer = make_customer(rep)
    body = {
        "title": "Call back",
        "due_at": "2026-12-15T10:00:00+08:00",
        "remind_at": "2026-12-15T09:45:00+08:00",
        "priority": "urgent",
        "customer_id": customer.pk,
    }

    response = post_json("/api/v1/tasks", body, bearer(rep))

    assert response.status_code == 201
    data = response.json()
    assert (data["title"], data["priority"], data["status"], data["version"]) == (
        "Call back",
        "urgent",
        "open",
        1,
    )
    assert data["customer"] == {"id": customer.pk, "name": customer.name}
    assert data["owner"]["id"] == rep.pk
    assert Task.objects.get().remind_at == local(2026, 12, 15, 9, 45)


def test_an_idempotent_retry_creates_one_task(rep: Any, bearer: Any) -> None:
    headers = {**bearer(rep), "Idempotency-Key": "task-1"}

    first = post_json("/api/v1/tasks", {"title": "Once"}, headers)
    second = post_json("/api/v1/tasks", {"title": "Once"}, headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"title": ""}, 422, "title"),
        ({"title": "x", "priority": "asap"}, 422, "priority"),
        ({"title": "x", "due_at": "tomorrow"}, 422, "due_at"),
        ({"title": "x", "colour": "red"}, 422, "colour"),
        ({"title": "x", "due_at": "2026-12-15T10:00:00"}, 400, "due_at"),
        ({"title": "x", "related_type": "sales.opportunity"}, 400, "related_id"),
        (
            {"title": "x", "related_type": "customers.customer", "related_id": 1},
            422,
            "related_type",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_creates_nothing(
    rep: Any, bearer: Any, body: dict[str, Any], status: int, field: str
) -> None:
    response = post_json("/api/v1/tasks", body, bearer(rep))

    assert response.status_code == status
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert Task.objects.count() == 0


def test_a_customer_outside_the_scope_is_refused(
    rep: Any, make_user: Any, teams: dict[str, Any], make_customer: Any, bearer: Any
) -> None:
    foreign = make_customer(make_user("sales-rep", teams["other"]))

    response = post_json("/api/v1/tasks", {"title": "x", "customer_id": foreign.pk}, bearer(rep))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "customer_id"
    assert Task.objects.count() == 0


def test_a_stale_patch_is_a_409_and_changes_nothing(rep: Any, make_task: Any, bearer: Any) -> None:
    task = make_task(rep, title="Before")
    headers = bearer(rep)
    patch_json(f"/api/v1/tasks/{task.pk}", {"version": 1, "title": "First"}, headers)

    response = patch_json(f"/api/v1/tasks/{task.pk}", {"version": 1, "title": "Second"}, headers)

    assert response.status_code == 409
    assert response.json()["type"] == "/problems/stale-edit"
    assert Task.objects.get(pk=task.pk).title == "First"


def test_someone_elses_task_is_a_404(
    rep: Any, make_user: Any, teams: dict[str, Any], make_task: Any, bearer: Any
) -> None:
    task = make_task(make_user("sales-rep", teams["east"]), title="Theirs")
    headers = bearer(rep)

    reads = get(f"/api/v1/tasks/{task.pk}", headers)
    completes = post_json(f"/api/v1/tasks/{task.pk}/complete", {}, headers)

    assert (reads.status_code, completes.status_code) == (404, 404)
    assert Task.objects.get(pk=task.pk).status == "open"


def test_the_list_filters_and_pages(rep: Any, make_task: Any, bearer: Any) -> None:
    late = [
        make_task(rep, title=f"Late {n}", due_at=local(2026, 11, 1) + dt.timedelta(hours=n))
        for n in range(3)
    ]
    make_task(rep, title="Later", due_at=local(2027, 1, 1))
    headers = bearer(rep)

    first = get("/api/v1/tasks", headers, due="overdue", limit=2).json()
    second = get(
        "/api/v1/tasks", headers, due="overdue", limit=2, cursor=first["next_cursor"]
    ).json()

    assert [t["id"] for t in first["items"] + second["items"]] == [t.pk for t in late]
    assert second["next_cursor"] is None


def test_complete_snooze_and_bulk_complete(rep: Any, make_task: Any, bearer: Any) -> None:
    one, two, three = (make_task(rep, title=t) for t in ("one", "two", "three"))
    headers = bearer(rep)

    done = post_json(f"/api/v1/tasks/{one.pk}/complete", {"version": 1}, headers)
    snoozed = post_json(
        f"/api/v1/tasks/{two.pk}/snooze", {"until": "2026-12-20T09:00:00+08:00"}, headers
    )
    bulk = post_json("/api/v1/tasks/complete", {"ids": [two.pk, three.pk]}, headers)

    assert done.json()["status"] == "done"
    assert snoozed.json()["due_at"].startswith("2026-12-20T01:00:00")
    assert bulk.json() == {"count": 2}
    assert set(Task.objects.values_list("status", flat=True)) == {"done"}


def test_notifications_from_both_sources_and_mark_all_read(rep: Any, bearer: Any) -> None:
    notify(user=rep, title="Reminder")
    GradingNotification.objects.create(user=rep, title="Tier up")
    headers = bearer(rep)

    listed = get("/api/v1/notifications", headers).json()
    read = post_json("/api/v1/notifications/read", {}, headers).json()
    after = get("/api/v1/notifications/unread-count", headers).json()

    assert sorted(item["kind"] for item in listed["items"]) == ["activity", "grading"]
    assert listed["unread"] == 2
    assert read == {"count": 2}
    assert after == {"count": 0}


def test_a_calendar_token_gives_a_feed_until_it_is_revoked(
    rep: Any, make_task: Any, bearer: Any
) -> None:
    make_task(rep, title="Visit", due_at=local(2026, 12, 15, 10))
    headers = bearer(rep)

    issued = post_json("/api/v1/calendar/token", {}, headers).json()
    feed = Client().get(issued["url"])
    revoked = Client().delete("/api/v1/calendar/token", headers=headers)
    after = Client().get(issued["url"])

    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(feed.content).walk("VEVENT")]
    assert summaries == ["Visit"]
    assert revoked.status_code == 204
    assert after.status_code == 404


def test_a_patch_hands_the_task_to_a_teammate_the_manager_may_assign(
    make_user: Any, teams: dict[str, Any], make_task: Any, bearer: Any
) -> None:
    manager = make_user("sales-manager", teams["sales"])
    rep_east = make_user("sales-rep", teams["east"])
    rep_north = make_user("sales-rep", teams["north"])
    task = make_task(rep_east, title="Hand over")

    response = patch_json(
        f"/api/v1/tasks/{task.pk}", {"version": 1, "owner_id": rep_north.pk}, bearer(manager)
    )

    assert response.status_code == 200
    assert response.json()["owner"]["id"] == rep_north.pk
    assert Task.objects.get(pk=task.pk).team == teams["north"]


def test_my_day_lists_overdue_and_today_and_the_follow_ups_due(
    rep: Any, make_task: Any, make_customer: Any, bearer: Any, django_assert_num_queries: Any
) -> None:
    customer = make_customer(rep)
    late = make_task(rep, title="Late", due_at=local(2026, 12, 8, 10), customer=customer)
    today = make_task(rep, title="Today", due_at=local(2026, 12, 10, 16))
    make_task(rep, title="Later", due_at=local(2026, 12, 11, 9))
    follow_up = FollowUp.objects.create(customer=customer, owner=rep, due_on=dt.date(2026, 12, 9))
    headers = bearer(rep)

    # token, its user, overdue, today, follow-ups
    with time_machine.travel(local(2026, 12, 10, 12), tick=False), django_assert_num_queries(5):
        data = get("/api/v1/my-day", headers).json()

    assert data["today"] == "2026-12-10"
    assert [t["id"] for t in data["overdue"]] == [late.pk]
    assert [t["id"] for t in data["due_today"]] == [today.pk]
    assert [f["id"] for f in data["follow_ups"]] == [follow_up.pk]
