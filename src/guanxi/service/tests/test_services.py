"""Tickets: opening, replying, the status workflow, assignment, merging and attachments."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.core import events
from guanxi.core.errors import DomainError, StaleEdit
from guanxi.service import services
from guanxi.service.models import (
    AgentGroup,
    AgentMembership,
    AssignmentRule,
    Ticket,
    TicketAttachment,
    TicketChange,
    TicketMessage,
    TicketStatus,
)


def test_opening_a_ticket_numbers_it_and_publishes_ticket_created(
    agent: Any, customer: Any, contact: Any, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[dict[str, Any]] = []
    events.subscribe("ticket.created", lambda **p: seen.append(p))

    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_open(
            actor=agent,
            customer=customer,
            contact=contact,
            subject="打印机无法连接",
            description="型号 X100",
            type="fault",
            priority="high",
        )

    ticket.refresh_from_db()
    assert ticket.number == f"T-{ticket.pk:06d}"
    assert (ticket.status, ticket.type, ticket.priority) == ("new", "fault", "high")
    assert ticket.team_id == agent.team_id
    assert seen == [{"ticket_id": ticket.pk, "customer_id": customer.pk}]


def test_a_user_without_the_service_create_permission_cannot_open_a_ticket(
    make_user: Any, teams: dict[str, Any], customer: Any
) -> None:
    auditor = make_user("auditor", teams["service"])

    with pytest.raises(PermissionDenied):
        services.ticket_open(actor=auditor, customer=customer, subject="x", description="")

    assert not Ticket.objects.exists()


def test_a_ticket_without_a_subject_is_refused_naming_the_field(agent: Any, customer: Any) -> None:
    with pytest.raises(DomainError) as refused:
        services.ticket_open(actor=agent, customer=customer, subject="  ", description="d")

    assert refused.value.errors[0]["field"] == "subject"
    assert not Ticket.objects.exists()


def test_a_refused_transition_names_both_statuses_and_changes_nothing(
    agent: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    services.ticket_transition(actor=agent, ticket=ticket, status="resolved")

    with pytest.raises(DomainError) as refused:
        services.ticket_transition(actor=agent, ticket=ticket, status="waiting_customer")

    assert (
        refused.value.message == "A ticket that is “Resolved” cannot become “Waiting on customer”."
    )
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_the_workflow_resolves_closes_and_reopens_with_history(
    agent: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    resolved: list[int] = []
    events.subscribe("ticket.resolved", lambda ticket_id: resolved.append(ticket_id))
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    with django_capture_on_commit_callbacks(execute=True):
        for status in ("open", "resolved", "closed", "reopened"):
            ticket = services.ticket_transition(actor=agent, ticket=ticket, status=status)

    assert ticket.status == "reopened"
    assert (ticket.resolved_at, ticket.closed_at) == (None, None)
    assert resolved == [ticket.pk]
    assert list(
        TicketChange.objects.filter(ticket=ticket, field="status").values_list(
            "old_value", "new_value"
        )
    ) == [
        ("", "new"),
        ("new", "open"),
        ("open", "resolved"),
        ("resolved", "closed"),
        ("closed", "reopened"),
    ]


def test_a_stale_edit_is_refused(agent: Any, customer: Any) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    services.ticket_update(actor=agent, ticket=ticket, version=1, subject="新主题")

    with pytest.raises(StaleEdit):
        services.ticket_update(actor=agent, ticket=ticket, version=1, subject="旧的")

    ticket.refresh_from_db()
    assert ticket.subject == "新主题"


def test_an_agents_first_public_reply_opens_the_ticket_and_stops_the_response_clock(
    agent: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    services.ticket_reply(actor=agent, ticket=ticket, body="我们正在处理")

    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.first_responded_at is not None


def test_an_internal_note_does_not_count_as_a_response(agent: Any, customer: Any) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    note = services.ticket_reply(actor=agent, ticket=ticket, body="查日志", internal=True)

    ticket.refresh_from_db()
    assert note.internal
    assert (ticket.status, ticket.first_responded_at) == ("new", None)


def test_a_reply_to_a_closed_ticket_is_refused_and_nothing_is_added(
    agent: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    services.ticket_transition(actor=agent, ticket=ticket, status="closed")

    with pytest.raises(DomainError) as refused:
        services.ticket_reply(actor=None, ticket=ticket, body="还有问题")

    assert "is closed" in refused.value.message
    assert not TicketMessage.objects.exists()


def test_a_customer_reply_reopens_a_resolved_ticket(
    agent: Any, customer: Any, contact: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    services.ticket_transition(actor=agent, ticket=ticket, status="resolved")

    services.ticket_reply(actor=None, ticket=ticket, body="问题又出现了", contact=contact)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REOPENED


def test_round_robin_gives_tickets_to_each_agent_in_turn(
    agent: Any, agent2: Any, customer: Any, teams: dict[str, Any]
) -> None:
    group = AgentGroup.objects.create(name="一线", team=teams["service"])
    AgentMembership.objects.create(group=group, user=agent)
    AgentMembership.objects.create(group=group, user=agent2)
    AssignmentRule.objects.create(name="all", group=group)

    assignees = [
        services.ticket_open(
            actor=None, customer=customer, subject=f"s{i}", description=""
        ).assignee
        for i in range(4)
    ]

    assert assignees == [agent, agent2, agent, agent2]


def test_by_skill_only_agents_with_the_skill_get_the_ticket(
    agent: Any, agent2: Any, customer: Any, teams: dict[str, Any]
) -> None:
    group = AgentGroup.objects.create(name="二线", team=teams["service"])
    AgentMembership.objects.create(group=group, user=agent, skills="billing")
    AgentMembership.objects.create(group=group, user=agent2, skills="network, printers")
    AssignmentRule.objects.create(name="faults", type="fault", skill="printers", group=group)

    ticket = services.ticket_open(
        actor=None, customer=customer, subject="s", description="", type="fault"
    )

    assert ticket.assignee == agent2


def test_by_load_the_agent_with_fewest_open_tickets_gets_the_ticket(
    agent: Any, agent2: Any, customer: Any, teams: dict[str, Any]
) -> None:
    busy = services.ticket_open(actor=None, customer=customer, subject="busy", description="")
    services.ticket_assign(actor=None, ticket=busy, assignee=agent)
    group = AgentGroup.objects.create(name="三线", team=teams["service"])
    AgentMembership.objects.create(group=group, user=agent)
    AgentMembership.objects.create(group=group, user=agent2)
    AssignmentRule.objects.create(name="load", group=group, strategy="load")

    ticket = services.ticket_open(actor=None, customer=customer, subject="s", description="")

    assert ticket.assignee == agent2


def test_merging_moves_the_messages_and_closes_the_duplicate_with_a_link(
    agent: Any, customer: Any
) -> None:
    target = services.ticket_open(actor=agent, customer=customer, subject="A", description="")
    duplicate = services.ticket_open(actor=agent, customer=customer, subject="B", description="")
    services.ticket_reply(actor=agent, ticket=duplicate, body="重复的回复")

    services.ticket_merge(actor=agent, source=duplicate, target=target)

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == ("closed", target.pk)
    bodies = list(TicketMessage.objects.filter(ticket=target).values_list("body", flat=True))
    assert bodies[0] == "重复的回复"
    assert bodies[1].startswith(f"Merged from {duplicate.number}")


def test_bulk_status_changes_the_allowed_ones_and_reports_the_refused(
    agent: Any, customer: Any
) -> None:
    first = services.ticket_open(actor=agent, customer=customer, subject="1", description="")
    closed = services.ticket_open(actor=agent, customer=customer, subject="2", description="")
    services.ticket_transition(actor=agent, ticket=closed, status="closed")

    result = services.tickets_bulk(
        actor=agent, tickets=Ticket.objects.all(), action="status", value="resolved"
    )

    assert result.changed == 1
    assert [e["field"] for e in result.errors] == [closed.number]
    first.refresh_from_db()
    assert first.status == "resolved"


def test_bulk_assign_gives_every_chosen_ticket_to_the_agent(
    agent: Any, agent2: Any, customer: Any
) -> None:
    tickets = [
        services.ticket_open(actor=agent, customer=customer, subject=str(i), description="")
        for i in range(3)
    ]

    result = services.tickets_bulk(
        actor=agent, tickets=Ticket.objects.all(), action="assign", value=agent2
    )

    assert result.changed == 3
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {agent2.pk}
    assert TicketChange.objects.filter(field="assignee", ticket__in=tickets).count() == 3


def test_an_oversized_attachment_is_refused_and_the_ticket_is_not_opened(
    agent: Any, customer: Any, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("log.txt", b"a" * 2048, content_type="text/plain")

    with pytest.raises(DomainError) as refused:
        services.ticket_open(
            actor=agent, customer=customer, subject="s", description="", files=[big]
        )

    assert refused.value.errors == [
        {"field": "files", "message": "log.txt is larger than 1.0\xa0KB."}
    ]
    assert not Ticket.objects.exists()
    assert not TicketAttachment.objects.exists()


def test_an_executable_renamed_to_pdf_is_refused(agent: Any, customer: Any) -> None:
    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00rest", content_type="application/pdf")
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    with pytest.raises(DomainError):
        services.attachments_add(actor=agent, ticket=ticket, files=[fake])

    assert not TicketAttachment.objects.exists()


def test_a_checked_attachment_is_stored_with_its_type(
    agent: Any, customer: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.4 data", content_type="application/pdf")

    ticket = services.ticket_open(
        actor=agent, customer=customer, subject="s", description="", files=[pdf]
    )

    attachment = TicketAttachment.objects.get(ticket=ticket)
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "report.pdf",
        "application/pdf",
        13,
    )
