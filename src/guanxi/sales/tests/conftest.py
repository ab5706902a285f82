"""Fixtures of the sales tests: reps and managers in the demo team tree, their customers,
the seeded default pipeline and a helper that opens deals through the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from guanxi.core import events
from guanxi.customers.services import contact_create, customer_create
from guanxi.sales.models import Opportunity, Pipeline, Stage
from guanxi.sales.services import defaults_ensure, opportunity_create


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    """A sales rep in East: sees and works their own deals."""
    return make_user("sales-rep", teams["east"], username="rep.east")


@pytest.fixture
def other_rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["north"], username="rep.north")


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    """A sales manager over Sales and its sub-teams."""
    return make_user("sales-manager", teams["sales"], username="manager")


@pytest.fixture
def analyst(make_user: Any, teams: dict[str, Any]) -> Any:
    """Sees every deal, may change none."""
    return make_user("analyst", teams["hq"], username="analyst")


@pytest.fixture
def make_customer(db: Any) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(owner: Any, name: str | None = None) -> Any:
        counter["n"] += 1
        return customer_create(
            actor=owner, values={"kind": "enterprise", "name": name or f"公司 {counter['n']}"}
        )

    return make


@pytest.fixture
def customer(rep: Any, make_customer: Callable[..., Any]) -> Any:
    return make_customer(rep, "华星科技")


@pytest.fixture
def contact(rep: Any, customer: Any) -> Any:
    return contact_create(actor=rep, customer=customer, values={"name": "陈静"})


@pytest.fixture
def pipeline(db: Any) -> Pipeline:
    """The default pipeline the migration seeds: five stages, 10 % to 90 %."""
    return defaults_ensure()


@pytest.fixture
def stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("order"))


@pytest.fixture
def make_deal(pipeline: Pipeline) -> Callable[..., Opportunity]:
    def make(actor: Any, customer: Any, **values: Any) -> Opportunity:
        values.setdefault("name", "ERP 项目")
        values.setdefault("amount", Decimal("100000.00"))
        return opportunity_create(actor=actor, customer=customer, **values)

    return make


@pytest.fixture
def published() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every event published while the test runs, as (name, payload)."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(name: str, **payload: Any) -> None:
        seen.append((name, payload))

    events.subscribe(events.WILDCARD, handler)
    yield seen
    events.unsubscribe(events.WILDCARD, handler)


@pytest.fixture
def login() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
