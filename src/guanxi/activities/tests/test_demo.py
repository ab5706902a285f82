from __future__ import annotations

from typing import Any

import pytest

from guanxi.activities import demo
from guanxi.activities.models import Notification, Task

pytestmark = pytest.mark.django_db


def test_the_demo_gives_each_user_with_customers_a_day_of_tasks_once(
    rep: Any, make_customer: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    make_customer(rep)
    make_user("sales-rep", teams["north"])  # no customers: no tasks

    first = demo.load()
    second = demo.load()

    assert first == [f"Demo tasks: {len(demo.PLAN)} tasks for 1 users."]
    assert second == ["Demo tasks: nothing to add."]
    assert set(Task.objects.values_list("owner_id", flat=True)) == {rep.pk}
    assert Task.objects.filter(status="open").count() == len(demo.PLAN) - 1
    assert Notification.objects.filter(user=rep).count() == 1
