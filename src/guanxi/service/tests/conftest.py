"""Fixtures of the service tests: agents in the Service team, a customer they serve with a
contact who has an email address, SLA policies on a Monday-to-Friday calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from guanxi.customers.services import contact_create, customer_create
from guanxi.service.models import BusinessCalendar, SlaPolicy, TicketPriority


@pytest.fixture
def agent(make_user: Any, teams: dict[str, Any]) -> Any:
    """A service agent: works the Service team's tickets."""
    return make_user("service-agent", teams["service"], username="agent.li")


@pytest.fixture
def agent2(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("service-agent", teams["service"], username="agent.wang")


@pytest.fixture
def outsider(make_user: Any, teams: dict[str, Any]) -> Any:
    """A service agent of an unrelated company branch: sees none of our tickets."""
    return make_user("service-agent", teams["other"], username="agent.other")


@pytest.fixture
def make_customer(admin_user: Any, teams: dict[str, Any]) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(name: str | None = None, team: Any = None) -> Any:
        counter["n"] += 1
        return customer_create(
            actor=admin_user,
            values={"kind": "enterprise", "name": name or f"公司 {counter['n']}"},
            team=team or teams["service"],
        )

    return make


@pytest.fixture
def customer(make_customer: Callable[..., Any]) -> Any:
    return make_customer("华信科技")


@pytest.fixture
def contact(admin_user: Any, customer: Any) -> Any:
    return contact_create(
        actor=admin_user,
        customer=customer,
        values={"name": "张伟"},
        emails=["zhang.wei@huaxin.example"],
    )


@pytest.fixture
def calendar(db: Any) -> BusinessCalendar:
    """Monday to Friday 09:00–18:00 in Shanghai."""
    return BusinessCalendar.objects.create(
        name="Shanghai office",
        time_zone="Asia/Shanghai",
        hours={str(day): [["09:00", "18:00"]] for day in range(1, 6)},
        is_default=True,
    )


@pytest.fixture
def policies(calendar: BusinessCalendar) -> dict[str, SlaPolicy]:
    """Customers without a tier class: response in 60 business minutes, resolution in 8 h."""
    return {
        priority: SlaPolicy.objects.create(
            name=f"Standard {priority}",
            sla_class="",
            priority=priority,
            first_response_minutes=60,
            resolution_minutes=480,
            warn_before_minutes=30,
            calendar=calendar,
        )
        for priority in TicketPriority.values
    }


@pytest.fixture
def signed_in(client: Client) -> Callable[[Any], Client]:
    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in


SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def shanghai(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]  # year, month, day, ...
