"""The dashboard: each domain's panel of first figures, loaded from its own address, only for
those who work in that domain, counting only what they may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from guanxi.core.dashboard import panels_for


def test_each_user_gets_the_panels_of_the_domains_they_work_in(
    make_user: Callable[..., Any], teams: dict[str, Any], client: Client
) -> None:
    rep = make_user("sales-rep", teams["east"])
    agent = make_user("service-agent", teams["service"])
    marketer = make_user("marketer", teams["hq"])
    client.force_login(rep)

    page = client.get("/").content.decode()

    assert [panel["key"] for panel in panels_for(rep)] == ["my-day", "pipeline", "tickets"]
    assert [panel["key"] for panel in panels_for(agent)] == ["my-day", "tickets"]
    assert [panel["key"] for panel in panels_for(marketer)] == ["my-day"]
    assert 'id="panel-pipeline" hx-get="/sales/dashboard-panel/" hx-trigger="load"' in page


def test_the_my_day_panel_counts_the_users_own_tasks(
    make_user: Callable[..., Any], teams: dict[str, Any], client: Client
) -> None:
    from guanxi.activities.services import task_create

    rep = make_user("sales-rep", teams["east"])
    other = make_user("sales-rep", teams["east"])
    now = timezone.now()
    for owner, due in ((rep, now - dt.timedelta(days=2)), (rep, now), (other, now)):
        task_create(actor=owner, owner=owner, title="回访", due_at=due)
    client.force_login(rep)

    panel = client.get("/activities/dashboard-panel/").content.decode()

    assert 'data-figure="overdue">1<' in panel
    assert 'data-figure="due-today">1<' in panel
    assert 'data-figure="follow-ups">0<' in panel


def test_the_pipeline_panel_sums_the_open_deals_the_user_may_see(
    make_user: Callable[..., Any], teams: dict[str, Any], client: Client
) -> None:
    from guanxi.customers.services import customer_create
    from guanxi.sales.services import defaults_ensure, opportunity_create

    defaults_ensure()
    rep = make_user("sales-rep", teams["east"])
    stranger = make_user("sales-rep", teams["north"])
    today = timezone.localdate()
    for owner, amount, close in (
        (rep, "100000", today),
        (rep, "20000.50", today + dt.timedelta(days=70)),
        (stranger, "999999", today),
    ):
        customer = customer_create(actor=owner, values={"kind": "enterprise", "name": "华星"})
        opportunity_create(
            actor=owner,
            customer=customer,
            name="采购",
            amount=Decimal(amount),
            expected_close=close,
        )
    client.force_login(rep)

    panel = client.get("/sales/dashboard-panel/").content.decode()

    assert 'data-figure="open-count">2<' in panel
    assert 'data-figure="open-amount">120,000.50<' in panel
    assert 'data-figure="closing-count">1<' in panel
    assert "100,000.00" in panel


def test_the_ticket_panel_counts_the_queues_and_is_refused_without_service(
    make_user: Callable[..., Any], teams: dict[str, Any], admin_user: Any, client: Client
) -> None:
    from guanxi.customers.services import customer_create
    from guanxi.service.services import ticket_assign, ticket_open

    agent = make_user("service-agent", teams["service"])
    customer = customer_create(
        actor=admin_user, values={"kind": "enterprise", "name": "华信"}, team=teams["service"]
    )
    mine = ticket_open(actor=agent, customer=customer, subject="打印机", description="")
    ticket_assign(actor=agent, ticket=mine, assignee=agent)
    ticket_open(actor=agent, customer=customer, subject="网络", description="")
    client.force_login(agent)

    panel = client.get("/service/dashboard-panel/").content.decode()
    client.force_login(make_user("marketer", teams["hq"]))
    refused = client.get("/service/dashboard-panel/")

    assert 'data-figure="mine">1<' in panel
    assert 'data-figure="unassigned">1<' in panel
    assert refused.status_code == 403
