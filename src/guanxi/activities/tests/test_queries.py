"""The activities pages and endpoints read a fixed number of queries, however many rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.activities.services import notify
from guanxi.activities.tests.conftest import client_for
from guanxi.grading.models import Notification as GradingNotification

pytestmark = pytest.mark.django_db

# session, user, role, team (top bar), overdue, today, follow-ups
MY_DAY_QUERIES = 7
# session, user, unread of ours, unread of grading's
BELL_QUERIES = 4
# session, user, role, team (top bar), ours, grading's
NOTIFICATIONS_QUERIES = 6
# token, its user with role and team, tasks page
API_LIST_QUERIES = 3


def test_my_day_reads_a_fixed_number_of_queries(
    rep: Any, make_task: Any, make_customer: Any, django_assert_num_queries: Any
) -> None:
    customer = make_customer(rep)
    for n in range(10):
        make_task(rep, title=f"T{n}", due_in=-30 - n, customer=customer)
        make_task(rep, title=f"U{n}", due_in=0.01, customer=customer)
    client = client_for(rep)

    with django_assert_num_queries(MY_DAY_QUERIES):
        client.get(reverse("activities:my-day"))


def test_the_bell_reads_a_fixed_number_of_queries(rep: Any, django_assert_num_queries: Any) -> None:
    for n in range(5):
        notify(user=rep, title=f"N{n}")
        GradingNotification.objects.create(user=rep, title=f"G{n}")
    client = client_for(rep)

    with django_assert_num_queries(BELL_QUERIES):
        client.get(reverse("activities:bell"))


def test_the_notifications_page_reads_a_fixed_number_of_queries(
    rep: Any, django_assert_num_queries: Any
) -> None:
    for n in range(5):
        notify(user=rep, title=f"N{n}")
        GradingNotification.objects.create(user=rep, title=f"G{n}")
    client = client_for(rep)

    with django_assert_num_queries(NOTIFICATIONS_QUERIES):
        client.get(reverse("activities:notifications"))


def test_the_task_list_endpoint_reads_a_fixed_number_of_queries(
    rep: Any, make_task: Any, make_customer: Any, bearer: Any, django_assert_num_queries: Any
) -> None:
    customer = make_customer(rep)
    for n in range(10):
        make_task(rep, title=f"T{n}", customer=customer, related=customer)
    headers = bearer(rep)

    with django_assert_num_queries(API_LIST_QUERIES):
        Client().get("/api/v1/tasks", headers=headers)
