"""Service pages: the queue in few queries, the ticket page's clocks and actions, scope,
the customer panel, settings and callbacks."""

from __future__ import annotations

from typing import Any

from django.test import Client

from guanxi.interactions.models import Interaction
from guanxi.service import services
from guanxi.service.models import CalendarDay, Callback, Ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_the_queue_shows_my_tickets_in_a_fixed_number_of_queries(
    client: Client, agent: Any, customer: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        ticket = services.ticket_open(
            actor=agent, customer=customer, subject=f"问题 {i}", description=""
        )
        services.ticket_assign(actor=agent, ticket=ticket, assignee=agent)
    client.force_login(agent)

    with django_assert_max_num_queries(12):
        response = client.get("/service/?queue=mine")

    assert response.status_code == 200
    assert response.content.decode().count("data-ticket=") == 30


def test_the_unassigned_queue_leaves_out_assigned_tickets(
    client: Client, agent: Any, customer: Any
) -> None:
    free = services.ticket_open(actor=agent, customer=customer, subject="没人管", description="")
    taken = services.ticket_open(actor=agent, customer=customer, subject="有人管", description="")
    services.ticket_assign(actor=agent, ticket=taken, assignee=agent)
    client.force_login(agent)

    page = client.get("/service/?queue=unassigned").content.decode()

    assert f'data-ticket="{free.pk}"' in page
    assert f'data-ticket="{taken.pk}"' not in page


def test_the_ticket_page_shows_clocks_and_only_allowed_status_actions(
    client: Client, agent: Any, customer: Any, policies: Any
) -> None:
    ticket = services.ticket_open(
        actor=agent, customer=customer, subject="屏幕闪烁", description=""
    )
    client.force_login(agent)

    page = client.get(f"/service/{ticket.pk}/").content.decode()

    assert page.count('data-clock="running"') == 2
    assert 'data-status="open"' in page
    assert 'data-status="reopened"' not in page


def test_a_status_action_through_htmx_updates_the_workspace(
    client: Client, agent: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    client.force_login(agent)

    response = client.post(
        f"/service/{ticket.pk}/status/",
        {"status": "resolved", "version": ticket.version},
        headers={"HX-Request": "true"},
    )

    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert 'id="ticket-status">Resolved<' in response.content.decode()


def test_an_internal_note_from_the_page_is_marked_internal(
    client: Client, agent: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    client.force_login(agent)

    response = client.post(
        f"/service/{ticket.pk}/reply/",
        {"body": "客户是 VIP", "internal": "on"},
        headers={"HX-Request": "true"},
    )

    assert "data-internal" in response.content.decode()
    assert list(ticket.messages.values_list("body", "internal")) == [("客户是 VIP", True)]


def test_a_foreign_ticket_page_is_404(
    client: Client, agent: Any, outsider: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    client.force_login(outsider)

    assert client.get(f"/service/{ticket.pk}/").status_code == 404
    assert client.post(f"/service/{ticket.pk}/status/", {"status": "closed"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_the_customer_panel_lists_the_customers_tickets(
    client: Client, agent: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="面板", description="")
    client.force_login(agent)

    page = client.get(f"/service/customers/{customer.pk}/tickets/").content.decode()

    assert f'data-ticket="{ticket.pk}"' in page


def test_opening_a_ticket_from_the_page(client: Client, agent: Any, customer: Any) -> None:
    client.force_login(agent)

    response = client.post(
        f"/service/new/?customer={customer.pk}",
        {
            "customer": customer.pk,
            "subject": "电话报修",
            "description": "d",
            "type": "fault",
            "priority": "normal",
            "channel": "phone",
        },
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert (ticket.subject, ticket.channel) == ("电话报修", "phone")


def test_an_administrator_sets_holidays_and_a_bad_line_changes_nothing(
    client: Client, admin_user: Any, calendar: Any
) -> None:
    client.force_login(admin_user)

    bad = client.post(
        f"/service/settings/calendars/{calendar.pk}/days/",
        {"year": 2026, "text": "2026-10-01 holiday 国庆节\n2026-13-01 holiday"},
    )
    good = client.post(
        f"/service/settings/calendars/{calendar.pk}/days/",
        {"year": 2026, "text": "2026-10-01 holiday 国庆节\n2026-10-10 workday 调休"},
    )

    assert "Line 2" in bad.content.decode()
    assert good.status_code == 302
    assert list(CalendarDay.objects.values_list("kind", "name")) == [
        ("holiday", "国庆节"),
        ("workday", "调休"),
    ]


def test_resolving_creates_a_callback_whose_outcome_lands_on_the_timeline(
    client: Client, agent: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="已修复", description="")
    services.ticket_assign(actor=agent, ticket=ticket, assignee=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(actor=agent, ticket=ticket, status="resolved")
    callback = Callback.objects.get()
    client.force_login(agent)

    response = client.post(
        f"/service/callbacks/{callback.pk}/done/", {"outcome": "satisfied", "notes": "很满意"}
    )

    callback.refresh_from_db()
    assert response.status_code == 302
    assert (callback.agent, callback.status, callback.outcome) == (agent, "done", "satisfied")
    interaction = Interaction.objects.get(pk=callback.interaction_id)
    assert (interaction.customer_id, interaction.details) == (customer.pk, "很满意")


def test_the_ticket_page_speaks_chinese(client: Client, agent: Any, customer: Any) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    services.ticket_transition(actor=agent, ticket=ticket, status="waiting_customer")
    client.force_login(agent)

    page = client.get(f"/service/{ticket.pk}/", headers={"Accept-Language": "zh-hans"})

    assert 'id="ticket-status">等待客户<' in page.content.decode()
    assert "沟通记录" in page.content.decode()


def test_bulk_actions_from_the_queue_return_to_the_queue_not_a_foreign_site(
    client: Client, agent: Any, agent2: Any, customer: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    client.force_login(agent)

    response = client.post(
        "/service/bulk/",
        {
            "ticket": [ticket.pk],
            "action": "assign",
            "assignee": agent2.pk,
            "next": "https://evil.example/",
        },
    )

    ticket.refresh_from_db()
    assert response["Location"] == "/service/"
    assert ticket.assignee == agent2


def test_the_ticket_page_lists_every_file_and_an_agent_downloads_one(
    client: Client, agent: Any, customer: Any, settings: Any, tmp_path: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    sent_with_ticket = SimpleUploadedFile("报错截图.png", PNG, content_type="image/png")
    ticket = services.ticket_open(
        actor=agent, customer=customer, subject="打印机", description="", files=[sent_with_ticket]
    )
    services.ticket_reply(
        actor=agent,
        ticket=ticket,
        body="日志见附件",
        internal=True,
        files=[SimpleUploadedFile("debug.txt", "第一行\n".encode(), content_type="text/plain")],
    )
    client.force_login(agent)

    page = client.get(f"/service/{ticket.pk}/").content.decode()
    first, second = ticket.attachments.order_by("pk")
    download = client.get(f"/service/attachments/{first.pk}/")

    assert "报错截图.png" in page  # on the ticket itself, not on a message
    assert f'href="/service/attachments/{second.pk}/"' in page
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG  # type: ignore[attr-defined]
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Type"] == "image/png"


def test_a_file_on_a_ticket_the_agent_cannot_see_is_a_404(
    client: Client, agent: Any, outsider: Any, customer: Any, settings: Any, tmp_path: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    ticket = services.ticket_open(
        actor=agent,
        customer=customer,
        subject="合同",
        description="",
        files=[SimpleUploadedFile("合同.pdf", b"%PDF-1.4 x", content_type="application/pdf")],
    )
    client.force_login(outsider)

    response = client.get(f"/service/attachments/{ticket.attachments.get().pk}/")

    assert response.status_code == 404
