from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.activities.models import Task
from guanxi.activities.services import task_create
from guanxi.customers.models import Customer


@pytest.fixture
def rep(make_user: Callable[..., Any], teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], email="rep@example.com", display_name="Li Na")


@pytest.fixture
def make_customer(db: Any) -> Callable[..., Customer]:
    counter = {"n": 0}

    def make(owner: Any, name: str | None = None) -> Customer:
        counter["n"] += 1
        return Customer.objects.create(
            kind="person", name=name or f"客户{counter['n']}", owner=owner, team=owner.team
        )

    return make


@pytest.fixture
def make_task(db: Any) -> Callable[..., Task]:
    """A task owned by `owner`, created by the system; `due_in` in hours from now."""

    def make(owner: Any, title: str = "Call back", due_in: float | None = None, **kw: Any) -> Task:
        due_at = kw.pop("due_at", None)
        if due_in is not None:
            due_at = timezone.now() + dt.timedelta(hours=due_in)
        return task_create(actor=None, owner=owner, title=title, due_at=due_at, **kw)

    return make


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))  # noqa: DTZ001
