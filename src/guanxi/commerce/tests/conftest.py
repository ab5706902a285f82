"""Fixtures of the commerce tests: people in the demo team tree, their customers, a small
catalogue, and helpers that place orders and issue invoices through the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.commerce.models import HoldingSnapshot, Invoice, Order, Product
from guanxi.commerce.services import invoice_create, order_create
from guanxi.core import events
from guanxi.customers.services import customer_create


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    """A sales rep in East: sees their own customers, may only view commerce."""
    return make_user("sales-rep", teams["east"], username="rep.east")


@pytest.fixture
def other_rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["north"], username="rep.north")


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    """A sales manager over Sales and its sub-teams: manages commerce."""
    return make_user("sales-manager", teams["sales"], username="manager")


@pytest.fixture
def outsider(make_user: Any, teams: dict[str, Any]) -> Any:
    """A sales manager of an unrelated company branch: manages commerce, sees none of ours."""
    return make_user("sales-manager", teams["other"], username="manager.other")


@pytest.fixture
def make_customer(db: Any) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(owner: Any, name: str | None = None) -> Any:
        counter["n"] += 1
        return customer_create(
            actor=owner, values={"kind": "person", "name": name or f"客户 {counter['n']}"}
        )

    return make


@pytest.fixture
def customer(rep: Any, make_customer: Callable[..., Any]) -> Any:
    return make_customer(rep, "王芳")


@pytest.fixture
def foreign_customer(other_rep: Any, make_customer: Callable[..., Any]) -> Any:
    return make_customer(other_rep, "赵强")


@pytest.fixture
def tea(db: Any) -> Product:
    return Product.objects.create(
        code="TEA-1", name="西湖龙井", list_price=Decimal("680.00"), unit_cost=Decimal("410.00")
    )


@pytest.fixture
def laptop(db: Any) -> Product:
    return Product.objects.create(
        code="LAP-1", name="笔记本电脑", list_price=Decimal("8999.00"), unit_cost=Decimal("7200.00")
    )


@pytest.fixture
def place_order(manager: Any) -> Callable[..., Order]:
    """An order through the service, by the manager unless told; one line of `amount`."""

    def place(
        customer: Any,
        amount: str = "100.00",
        *,
        actor: Any = None,
        cost: str = "0",
        lines: list[dict[str, Any]] | None = None,
        **values: Any,
    ) -> Order:
        values.setdefault("ordered_at", timezone.now() - dt.timedelta(days=1))
        lines = lines or [
            {"description": "服务费", "quantity": "1", "unit_price": amount, "unit_cost": cost}
        ]
        return order_create(actor=actor or manager, customer=customer, values=values, lines=lines)

    return place


@pytest.fixture
def issue_invoice(manager: Any) -> Callable[..., Invoice]:
    def issue(customer: Any, amount: str = "1000.00", **values: Any) -> Invoice:
        order = values.pop("order", None)
        return invoice_create(
            actor=manager,
            customer=customer,
            order=order,
            values={"amount": amount, **values},
        )

    return issue


@pytest.fixture
def snapshot(db: Any) -> Callable[..., HoldingSnapshot]:
    def make(customer: Any, as_of: dt.date, aum: str = "0", loans: str = "0") -> HoldingSnapshot:
        return HoldingSnapshot.objects.create(
            customer=customer,
            as_of=as_of,
            assets_under_management=Decimal(aum),
            monthly_average_assets=Decimal(aum),
            loan_balance=Decimal(loans),
        )

    return make


@pytest.fixture
def published() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every domain event published while the test runs, in order."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(name: str, **payload: Any) -> None:
        seen.append((name, payload))

    events.subscribe(events.WILDCARD, record)
    yield seen
    events.unsubscribe(events.WILDCARD, record)


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
