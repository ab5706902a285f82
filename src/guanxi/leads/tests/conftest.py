"""Fixtures of the leads tests: reps and managers in the team tree, customers, leads made
through the services, and an empty cache so that rate limits start fresh."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from guanxi.customers.services import customer_create
from guanxi.leads.services import lead_create


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], username="rep.east")


@pytest.fixture
def teammate(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], username="rep.east2")


@pytest.fixture
def other_rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["north"], username="rep.north")


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["sales"], username="manager")


@pytest.fixture
def outsider(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["other"], username="manager.other")


@pytest.fixture
def make_customer(db: Any) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(owner: Any, name: str | None = None, **values: Any) -> Any:
        counter["n"] += 1
        return customer_create(
            actor=owner,
            values={"kind": "person", "name": name or f"客户 {counter['n']}", **values},
        )

    return make


@pytest.fixture
def make_lead(db: Any) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(actor: Any, name: str | None = None, **values: Any) -> Any:
        counter["n"] += 1
        return lead_create(actor=actor, values={"name": name or f"线索 {counter['n']}", **values})

    return make


@pytest.fixture
def published() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every domain event published while the test runs, as (name, payload)."""
    from guanxi.core import events

    seen: list[tuple[str, dict[str, Any]]] = []

    def record(name: str, **payload: Any) -> None:
        seen.append((name, payload))

    events.subscribe(events.WILDCARD, record)
    yield seen
    events.unsubscribe(events.WILDCARD, record)


@pytest.fixture
def client_for() -> Callable[[Any], Any]:
    from django.test import Client

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
