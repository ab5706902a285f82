"""The activities pages: my day, the task list, forms, calendar and feed, notifications,
the bell and the customer panel."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from guanxi.activities.models import CalendarToken, Task
from guanxi.activities.services import notify
from guanxi.activities.tests.conftest import client_for, local
from guanxi.grading.models import FollowUp
from guanxi.grading.models import Notification as GradingNotification

pytestmark = pytest.mark.django_db

NOON = local(2026, 12, 10, 12, 0)
HTMX = {"HTTP_HX_REQUEST": "true"}


def ids_in(html: str, attribute: str = "data-task") -> list[int]:
    return [int(value) for value in re.findall(rf'{attribute}="(\d+)"', html)]


# ---------------------------------------------------------------- my day


def test_my_day_splits_overdue_from_today_and_leaves_out_later_tasks(
    rep: Any, make_task: Any
) -> None:
    overdue = make_task(rep, title="Late", due_at=local(2026, 12, 8, 10))
    today = make_task(rep, title="Today", due_at=local(2026, 12, 10, 16))
    make_task(rep, title="Next day call", due_at=local(2026, 12, 11, 9))

    with time_machine.travel(NOON, tick=False):
        html = client_for(rep).get(reverse("activities:my-day")).content.decode()

    overdue_part = html.split('id="overdue"')[1].split("</ul>")[0]
    today_part = html.split('id="today"')[1].split("</ul>")[0]
    assert ids_in(overdue_part) == [overdue.pk]
    assert ids_in(today_part) == [today.pk]
    assert "Next day call" not in html


def test_my_day_shows_only_the_users_own_tasks(
    rep: Any, make_user: Any, teams: dict[str, Any], make_task: Any
) -> None:
    make_task(make_user("sales-rep", teams["east"]), title="Teammate task", due_at=NOON)

    with time_machine.travel(NOON, tick=False):
        html = client_for(rep).get(reverse("activities:my-day")).content.decode()

    assert "Teammate task" not in html
    assert 'data-empty="today"' in html


def test_my_day_lists_the_follow_ups_due_and_closes_one_through_grading(
    rep: Any, make_customer: Any
) -> None:
    customer = make_customer(rep, name="赵敏")
    due = FollowUp.objects.create(customer=customer, owner=rep, due_on=dt.date(2026, 12, 9))
    later = FollowUp.objects.create(customer=customer, owner=rep, due_on=dt.date(2026, 12, 20))

    with time_machine.travel(NOON, tick=False):
        client = client_for(rep)
        html = client.get(reverse("activities:my-day")).content.decode()
        response = client.post(reverse("activities:follow-up-done", args=[due.pk]), **HTMX)

    assert ids_in(html, "data-follow-up") == [due.pk]
    assert later.pk not in ids_in(html, "data-follow-up")
    assert response.status_code == 200
    assert FollowUp.objects.get(pk=due.pk).status == "done"


def test_quick_add_on_my_day_creates_a_task_due_today(rep: Any) -> None:
    with time_machine.travel(NOON, tick=False):
        response = client_for(rep).post(
            reverse("activities:quick-add"),
            {"title": "Send the brochure", "due_date": "2026-12-10"},
            **HTMX,
        )

    task = Task.objects.get()
    assert (task.title, task.owner, task.due_at, task.all_day) == (
        "Send the brochure",
        rep,
        local(2026, 12, 10),
        True,
    )
    assert f'data-task="{task.pk}"' in response.content.decode()


def test_completing_from_my_day_removes_the_row_and_says_so(rep: Any, make_task: Any) -> None:
    task = make_task(rep, due_at=NOON)

    response = client_for(rep).post(
        reverse("activities:task-action", args=[task.pk, "complete"]), {"version": "1"}, **HTMX
    )

    assert response.content == b""
    assert "Task done." in response["HX-Trigger"]
    assert Task.objects.get(pk=task.pk).status == "done"


def test_snoozing_until_tomorrow_moves_a_timed_task_to_the_same_time_tomorrow(
    rep: Any, make_task: Any
) -> None:
    task = make_task(rep, due_at=local(2026, 12, 10, 8, 30))

    with time_machine.travel(NOON, tick=False):
        client_for(rep).post(
            reverse("activities:task-action", args=[task.pk, "snooze"]),
            {"until": "tomorrow", "version": "1"},
            **HTMX,
        )

    assert Task.objects.get(pk=task.pk).due_at == local(2026, 12, 11, 8, 30)


# ---------------------------------------------------------------- task list and forms


def test_the_task_list_filters_by_status_priority_and_due(rep: Any, make_task: Any) -> None:
    urgent_late = make_task(rep, title="A", due_at=local(2026, 12, 1, 9), priority="urgent")
    make_task(rep, title="B", due_at=local(2026, 12, 1, 9), priority="low")
    make_task(rep, title="C", due_at=local(2026, 12, 20, 9), priority="urgent")
    done = make_task(rep, title="D", due_at=local(2026, 12, 1, 9), priority="urgent")
    Task.objects.filter(pk=done.pk).update(status="done")

    with time_machine.travel(NOON, tick=False):
        html = (
            client_for(rep)
            .get(reverse("activities:tasks"), {"priority": "urgent", "due": "overdue"})
            .content.decode()
        )

    assert ids_in(html) == [urgent_late.pk]


def test_the_task_list_pages_by_keyset_and_pins_its_queries(
    rep: Any, make_task: Any, django_assert_num_queries: Any
) -> None:
    tasks = [make_task(rep, title=f"T{n}", due_at=NOON + dt.timedelta(hours=n)) for n in range(55)]
    client = client_for(rep)

    # session, user, role, team (top bar), tasks page
    with django_assert_num_queries(5):
        first = client.get(reverse("activities:tasks")).content.decode()
    cursor = re.search(r'cursor=([\w-]+)"', first)
    assert cursor is not None
    second = client.get(reverse("activities:tasks"), {"cursor": cursor.group(1)}, **HTMX)

    assert ids_in(first) == [t.pk for t in tasks[:50]]
    assert ids_in(second.content.decode()) == [t.pk for t in tasks[50:]]


@pytest.mark.parametrize(
    ("viewer_role", "viewer_team", "visible"),
    [
        ("sales-rep", "east", False),  # a rep sees only their own
        ("sales-manager", "sales", True),  # a manager sees the sub-teams
        ("sales-manager", "north", False),  # but not a sibling team
        ("sales-rep", "other", False),  # nor anyone from another company
    ],
)
def test_a_task_page_follows_the_data_scope(
    rep: Any,
    make_user: Any,
    teams: dict[str, Any],
    make_task: Any,
    viewer_role: str,
    viewer_team: str,
    visible: bool,
) -> None:
    task = make_task(rep, title="Scoped")
    viewer = make_user(viewer_role, teams[viewer_team])

    response = client_for(viewer).get(reverse("activities:task", args=[task.pk]))

    assert response.status_code == (200 if visible else 404)


def test_the_owner_sees_their_task_with_its_history(rep: Any, make_task: Any) -> None:
    task = make_task(rep, title="Mine")

    response = client_for(rep).get(reverse("activities:task", args=[task.pk]))

    assert response.status_code == 200
    assert 'id="task-history"' in response.content.decode()


def test_the_create_form_makes_a_timed_task_for_the_customer(rep: Any, make_customer: Any) -> None:
    customer = make_customer(rep)

    response = client_for(rep).post(
        reverse("activities:task-create") + f"?customer={customer.pk}",
        {
            "title": "Demo",
            "due_date": "2026-12-12",
            "due_time": "14:00",
            "priority": "high",
            "customer": customer.pk,
            "owner": rep.pk,
        },
    )

    task = Task.objects.get()
    assert response.status_code == 302
    assert (task.due_at, task.all_day, task.priority, task.customer) == (
        local(2026, 12, 12, 14),
        False,
        "high",
        customer,
    )


def test_a_stale_edit_form_is_refused_with_a_message_and_changes_nothing(
    rep: Any, make_task: Any
) -> None:
    task = make_task(rep, title="Before")
    Task.objects.filter(pk=task.pk).update(version=2, title="Someone else's")

    response = client_for(rep).post(
        reverse("activities:task-edit", args=[task.pk]),
        {"title": "Mine", "priority": "normal", "version": "1", "owner": rep.pk},
    )

    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    assert Task.objects.get(pk=task.pk).title == "Someone else's"


def test_bulk_complete_from_the_list(rep: Any, make_task: Any) -> None:
    first, second, kept = (make_task(rep, title=t) for t in ("one", "two", "three"))

    response = client_for(rep).post(
        reverse("activities:tasks-complete"), {"ids": [first.pk, second.pk]}
    )

    assert response.status_code == 302
    assert dict(Task.objects.values_list("title", "status")) == {
        "one": "done",
        "two": "done",
        "three": "open",
    }
    assert kept.pk


# ---------------------------------------------------------------- calendar and feed


def test_the_month_calendar_puts_each_task_on_its_due_day(rep: Any, make_task: Any) -> None:
    task = make_task(rep, title="Board meeting", due_at=local(2026, 12, 15, 10))

    html = (
        client_for(rep).get(reverse("activities:calendar"), {"date": "2026-12-01"}).content.decode()
    )

    cell = html.split('data-day="2026-12-15"')[1].split("</td>")[0]
    assert f'data-task="{task.pk}"' in cell
    assert "10:00 Board meeting" in cell


def test_the_week_calendar_shows_seven_days(rep: Any) -> None:
    html = (
        client_for(rep)
        .get(reverse("activities:calendar"), {"date": "2026-12-10", "view": "week"})
        .content.decode()
    )

    assert re.findall(r'data-day="([\d-]+)"', html) == [
        f"2026-12-{day:02d}" for day in range(7, 14)
    ]


def _issue_feed(client: Any) -> str:
    client.post(reverse("activities:calendar-token"))
    html = client.get(reverse("activities:calendar")).content.decode()
    url = re.search(r'value="(http[^"]+\.ics)"', html)
    assert url is not None
    return url.group(1).replace("http://testserver", "")


def test_the_feed_parses_and_holds_the_users_tasks(
    rep: Any, make_user: Any, teams: dict[str, Any], make_task: Any
) -> None:
    timed = make_task(rep, title="Call 王芳", due_at=local(2026, 12, 15, 10))
    all_day = make_task(rep, title="Trade fair", due_at=local(2026, 12, 16), all_day=True)
    make_task(rep, title="Undated")
    make_task(make_user("sales-rep", teams["east"]), title="Not mine", due_at=NOON)
    url = _issue_feed(client_for(rep))

    response = client_for(make_user(None)).get(url)

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert sorted(events) == ["Call 王芳", "Trade fair"]
    assert events["Call 王芳"].decoded("DTSTART") == local(2026, 12, 15, 10)
    assert events["Trade fair"].decoded("DTSTART") == dt.date(2026, 12, 16)
    assert str(events["Call 王芳"]["UID"]).startswith(f"task-{timed.pk}@")
    assert all_day.pk


def test_the_feed_token_is_stored_only_as_its_hash(rep: Any) -> None:
    url = _issue_feed(client_for(rep))
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")

    token = CalendarToken.objects.get(user=rep)

    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in token.token_hash


def test_a_revoked_feed_address_is_refused(rep: Any, make_task: Any) -> None:
    make_task(rep, due_at=NOON)
    client = client_for(rep)
    url = _issue_feed(client)

    client.post(reverse("activities:calendar-token"), {"action": "revoke"})

    assert client.get(url).status_code == 404


def test_a_new_feed_address_retires_the_old_one(rep: Any) -> None:
    client = client_for(rep)
    old = _issue_feed(client)

    new = _issue_feed(client)

    assert (client.get(old).status_code, client.get(new).status_code) == (404, 200)


def test_an_unknown_feed_secret_is_refused(db: Any) -> None:
    response = Client().get(reverse("activities:feed", args=["nope"]))

    assert response.status_code == 404


# ---------------------------------------------------------------- notifications and bell


def test_the_bell_counts_unread_task_and_grading_notifications(rep: Any) -> None:
    notify(user=rep, title="One")
    read = notify(user=rep, title="Read")
    read.read_at = timezone.now()
    read.save()
    GradingNotification.objects.create(user=rep, title="Tier up")

    html = client_for(rep).get(reverse("activities:bell"), **HTMX).content.decode()

    assert '<span class="badge rounded-pill text-bg-danger" id="bell-count">2</span>' in html


def test_every_page_loads_the_bell_over_htmx(rep: Any) -> None:
    html = client_for(rep).get(reverse("activities:tasks")).content.decode()

    assert f'hx-get="{reverse("activities:bell")}"' in html
    assert 'id="bell-count"' not in html


def test_the_notifications_page_merges_both_sources_newest_first(rep: Any) -> None:
    with time_machine.travel(NOON - dt.timedelta(hours=2), tick=False):
        notify(user=rep, title="Older reminder")
    with time_machine.travel(NOON - dt.timedelta(hours=1), tick=False):
        GradingNotification.objects.create(user=rep, title="Tier changed")
    with time_machine.travel(NOON, tick=False):
        notify(user=rep, title="Newest reminder")

    html = client_for(rep).get(reverse("activities:notifications")).content.decode()

    titles = re.findall(r'data-notification="([\w-]+)"', html)
    assert [t.split("-")[0] for t in titles] == ["activity", "grading", "activity"]
    assert html.index("Newest reminder") < html.index("Tier changed") < html.index("Older")


def test_mark_read_and_mark_all_read(rep: Any, make_user: Any, teams: dict[str, Any]) -> None:
    first = notify(user=rep, title="First")
    notify(user=rep, title="Second")
    GradingNotification.objects.create(user=rep, title="Tier changed")
    stranger = notify(user=make_user("sales-rep", teams["east"]), title="Not yours")
    client = client_for(rep)

    client.post(reverse("activities:notification-read", args=["activity", first.pk]))
    assert client.get(reverse("activities:bell")).content.decode().count("bell-count") == 1
    foreign = client.post(reverse("activities:notification-read", args=["activity", stranger.pk]))
    client.post(reverse("activities:notifications-read"))

    assert foreign.status_code == 404
    html = client.get(reverse("activities:bell")).content.decode()
    assert 'id="bell-count"' not in html
    assert GradingNotification.objects.get().read_at is not None
    stranger.refresh_from_db()
    assert stranger.read_at is None


# ---------------------------------------------------------------- customer panel


def test_the_customer_panel_lists_open_tasks_and_quick_adds_one(
    rep: Any, make_customer: Any, make_task: Any
) -> None:
    customer = make_customer(rep)
    existing = make_task(rep, title="Existing", customer=customer)
    make_task(rep, title="Elsewhere")
    client = client_for(rep)

    panel = client.get(reverse("activities:customer-tasks", args=[customer.pk])).content.decode()
    added = client.post(
        reverse("activities:quick-add"), {"title": "Follow up", "customer": customer.pk}, **HTMX
    ).content.decode()

    new = Task.objects.get(title="Follow up")
    assert ids_in(panel) == [existing.pk]
    assert new.customer == customer
    assert sorted(ids_in(added)) == sorted([existing.pk, new.pk])


def test_the_customer_panel_of_a_foreign_customer_is_a_404(
    rep: Any, make_user: Any, teams: dict[str, Any], make_customer: Any
) -> None:
    foreign = make_customer(make_user("sales-rep", teams["other"]))

    response = client_for(rep).get(reverse("activities:customer-tasks", args=[foreign.pk]))

    assert response.status_code == 404


def test_a_signed_out_bell_poll_gets_no_content_instead_of_the_login_page(db: Any) -> None:
    response = Client().get(reverse("activities:bell"), **HTMX)

    assert (response.status_code, response.content) == (204, b"")


def test_a_notification_link_off_the_site_is_not_linked(rep: Any) -> None:
    notify(user=rep, title="Phish", url="//evil.example/")

    html = client_for(rep).get(reverse("activities:notifications")).content.decode()

    assert "evil.example" not in html
    assert "Phish" in html


def test_the_task_list_narrows_to_one_customer(
    rep: Any, make_customer: Any, make_task: Any
) -> None:
    customer = make_customer(rep)
    theirs = make_task(rep, title="Theirs", customer=customer)
    make_task(rep, title="Elsewhere")

    html = (
        client_for(rep)
        .get(reverse("activities:tasks"), {"customer": customer.pk, "owner": "", "status": ""})
        .content.decode()
    )

    assert ids_in(html) == [theirs.pk]
