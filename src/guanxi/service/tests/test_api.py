"""The service API: queues, the workflow's refusals as problem details, scope, the webhook."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client

from guanxi.service import services
from guanxi.service.models import InboundMail, Ticket


def _post(client: Client, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def test_an_agent_opens_a_ticket_through_the_api_and_sees_its_clocks(
    client: Client, bearer: Any, agent: Any, customer: Any, policies: Any
) -> None:
    response = _post(
        client,
        "/api/v1/service/tickets",
        {"customer_id": customer.pk, "subject": "无法登录", "priority": "high"},
        bearer(agent),
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["subject"], body["priority"], body["status"]) == ("无法登录", "high", "new")
    assert [c["state"] for c in body["clocks"]] == ["running", "running"]
    assert "open" in body["allowed_transitions"]


def test_a_refused_transition_is_a_problem_naming_the_field(
    client: Client, bearer: Any, agent: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    services.ticket_transition(actor=agent, ticket=ticket, status="closed")

    response = _post(
        client,
        f"/api/v1/service/tickets/{ticket.pk}/transition",
        {"status": "open"},
        bearer(agent),
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "A ticket that is “Closed” cannot become “Open”."
    assert response.json()["errors"][0]["field"] == "status"


def test_a_stale_version_is_refused_with_409(
    client: Client, bearer: Any, agent: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    services.ticket_update(actor=agent, ticket=ticket, subject="moved on")

    response = client.patch(
        f"/api/v1/service/tickets/{ticket.pk}",
        json.dumps({"version": 1, "subject": "mine"}),
        content_type="application/json",
        headers=bearer(agent),
    )

    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.subject == "moved on"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/service/tickets/{pk}",
        "/api/v1/service/tickets/{pk}/messages",
        "/api/v1/service/tickets/{pk}/history",
    ],
)
def test_a_ticket_of_another_branch_is_404(
    client: Client, bearer: Any, agent: Any, outsider: Any, customer: Any, path: str
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    response = client.get(path.format(pk=ticket.pk), headers=bearer(outsider))

    assert response.status_code == 404


def test_a_reply_to_a_foreign_ticket_is_404_and_adds_nothing(
    client: Client, bearer: Any, agent: Any, outsider: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    response = _post(
        client, f"/api/v1/service/tickets/{ticket.pk}/messages", {"body": "hi"}, bearer(outsider)
    )

    assert response.status_code == 404
    assert not ticket.messages.exists()


def test_the_queue_lists_only_the_actors_visible_tickets(
    client: Client,
    bearer: Any,
    agent: Any,
    outsider: Any,
    customer: Any,
    make_customer: Any,
    teams: dict[str, Any],
) -> None:
    mine = services.ticket_open(actor=agent, customer=customer, subject="ours", description="")
    theirs_customer = make_customer("Other Co customer", team=teams["other"])
    services.ticket_open(actor=outsider, customer=theirs_customer, subject="theirs", description="")

    response = client.get("/api/v1/service/tickets?queue=team", headers=bearer(agent))

    assert [t["number"] for t in response.json()["items"]] == [mine.number]


def test_bulk_assign_through_the_api(
    client: Client, bearer: Any, agent: Any, agent2: Any, customer: Any
) -> None:
    ids = [
        services.ticket_open(actor=agent, customer=customer, subject=str(i), description="").pk
        for i in range(2)
    ]

    response = _post(
        client,
        "/api/v1/service/tickets/bulk",
        {"ids": ids, "action": "assign", "assignee_id": agent2.pk},
        bearer(agent),
    )

    assert response.json() == {"changed": 2, "errors": []}
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {agent2.pk}


def test_the_inbound_webhook_takes_a_raw_message_and_opens_a_ticket(
    client: Client, bearer: Any, agent: Any, contact: Any
) -> None:
    message = EmailMessage()
    message["From"] = "zhang.wei@huaxin.example"
    message["To"] = "service@guanxi.example"
    message["Subject"] = "网关投递"
    message.set_content("通过 webhook")

    response = client.post(
        "/api/v1/service/inbound-mail",
        message.as_bytes(),
        content_type="message/rfc822",
        headers=bearer(agent),
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["ticket_id"]) == ("created", ticket.pk)
    assert ticket.subject == "网关投递"


def test_the_inbound_webhook_refuses_a_caller_without_a_token(client: Client, db: Any) -> None:
    response = client.post(
        "/api/v1/service/inbound-mail", b"From: a@b.example\r\n\r\nx", content_type="message/rfc822"
    )

    assert response.status_code == 401
    assert not InboundMail.objects.exists()


def test_sla_attainment_by_agent(
    client: Client, bearer: Any, agent: Any, customer: Any, policies: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    services.ticket_assign(actor=agent, ticket=ticket, assignee=agent)
    services.ticket_reply(actor=agent, ticket=ticket, body="ok")

    response = client.get("/api/v1/service/reports/attainment?by=agent", headers=bearer(agent))

    assert response.json() == [
        {
            "key": agent.pk,
            "label": "agent.li",
            "tickets": 1,
            "response_pct": 100.0,
            "resolution_pct": None,
        }
    ]


def test_a_ticket_links_to_a_visible_order_once(
    client: Client, bearer: Any, agent: Any, admin_user: Any, customer: Any
) -> None:
    from guanxi.commerce.services import order_create
    from guanxi.service.models import TicketLink

    order = order_create(
        actor=admin_user,
        customer=customer,
        values={"ordered_at": "2026-11-01T10:00:00+08:00"},
        lines=[{"description": "维修服务", "quantity": "1", "unit_price": "100.00"}],
    )
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    path = f"/api/v1/service/tickets/{ticket.pk}/links"

    first = _post(client, path, {"kind": "order", "object_id": order.pk}, bearer(agent))
    again = _post(client, path, {"kind": "order", "object_id": order.pk}, bearer(agent))

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["object_id"] == order.pk
    assert TicketLink.objects.count() == 1


def test_merging_through_the_api_answers_with_the_target(
    client: Client, bearer: Any, agent: Any, customer: Any
) -> None:
    target = services.ticket_open(actor=agent, customer=customer, subject="A", description="")
    duplicate = services.ticket_open(actor=agent, customer=customer, subject="B", description="")

    response = _post(
        client,
        f"/api/v1/service/tickets/{duplicate.pk}/merge",
        {"target_id": target.pk},
        bearer(agent),
    )

    duplicate.refresh_from_db()
    assert response.json()["id"] == target.pk
    assert (duplicate.status, duplicate.merged_into_id) == ("closed", target.pk)


def test_an_agent_may_not_change_sla_policies(
    client: Client, bearer: Any, agent: Any, admin_user: Any
) -> None:
    body = {
        "name": "Gold urgent",
        "sla_class": "gold",
        "priority": "urgent",
        "first_response_minutes": 15,
        "resolution_minutes": 120,
    }

    refused = _post(client, "/api/v1/service/sla-policies", body, bearer(agent))
    created = _post(client, "/api/v1/service/sla-policies", body, bearer(admin_user))
    clash = _post(client, "/api/v1/service/sla-policies", body, bearer(admin_user))

    assert (refused.status_code, created.status_code, clash.status_code) == (403, 201, 400)
    assert clash.json()["errors"][0]["field"] == "priority"
