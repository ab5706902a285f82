"""The portal's tickets: a contact opens and replies on their organisation's tickets, sees
agents' public replies, never internal notes, and never another organisation's ticket; a
resolved ticket sends the CSAT survey."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanxi.portal.models import PortalAccount, Survey, SurveyInvitation


@pytest.fixture
def open_ticket() -> Any:
    from guanxi.service.services import ticket_open

    def make(customer: Any, contact: Any, subject: str) -> Any:
        return ticket_open(
            actor=None, customer=customer, contact=contact, subject=subject, description="…"
        )

    return make


def test_a_contact_opens_a_ticket_on_the_portal_channel(
    portal_client: Client, account: PortalAccount
) -> None:
    from guanxi.service.models import Ticket

    created = portal_client.post(
        "/portal/tickets/new/", {"subject": "设备无法开机", "description": "按电源键无反应。"}
    )

    ticket = Ticket.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"/portal/tickets/{ticket.pk}/"
    assert (ticket.customer_id, ticket.contact_id, ticket.channel) == (
        account.customer_id,
        account.contact_id,
        "portal",
    )
    assert "设备无法开机" in portal_client.get("/portal/").content.decode()


def test_another_organisations_ticket_is_a_404_by_page_and_by_reply(
    portal_client: Client, other_org: tuple[Any, Any], open_ticket: Any
) -> None:
    from guanxi.service.models import TicketMessage

    foreign = open_ticket(*other_org, "北方物流的工单")

    page = portal_client.get(f"/portal/tickets/{foreign.pk}/")
    reply = portal_client.post(f"/portal/tickets/{foreign.pk}/", {"body": "偷看"})
    listing = portal_client.get("/portal/")

    assert page.status_code == 404
    assert reply.status_code == 404
    assert not TicketMessage.objects.filter(ticket=foreign).exists()
    assert "北方物流的工单" not in listing.content.decode()


def test_the_contact_sees_public_replies_but_never_internal_notes(
    portal_client: Client, org: tuple[Any, Any], agent: Any, open_ticket: Any
) -> None:
    from guanxi.service.services import ticket_reply

    ticket = open_ticket(*org, "发票抬头错误")
    ticket_reply(actor=agent, ticket=ticket, body="我们已重新开具发票。")
    ticket_reply(actor=agent, ticket=ticket, body="内部：客户上次也开错了", internal=True)

    page = portal_client.get(f"/portal/tickets/{ticket.pk}/").content.decode()

    assert "我们已重新开具发票。" in page
    assert "内部：客户上次也开错了" not in page


def test_the_contacts_reply_is_recorded_as_theirs(
    portal_client: Client, account: PortalAccount, org: tuple[Any, Any], open_ticket: Any
) -> None:
    from guanxi.service.models import TicketMessage

    ticket = open_ticket(*org, "安装时间")

    sent = portal_client.post(f"/portal/tickets/{ticket.pk}/", {"body": "周三上午可以。"})

    message = TicketMessage.objects.get(ticket=ticket)
    assert sent.status_code == 302
    assert (message.author_contact_id, message.author_user_id, message.internal) == (
        account.contact_id,
        None,
        False,
    )


def test_a_resolved_ticket_sends_its_contact_the_csat_survey_once(
    org: tuple[Any, Any],
    agent: Any,
    csat_survey: Survey,
    open_ticket: Any,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from guanxi.portal.services import csat_for_ticket

    ticket = open_ticket(*org, "网络中断")
    with django_capture_on_commit_callbacks(execute=True):
        csat_for_ticket(ticket_id=ticket.pk)
        csat_for_ticket(ticket_id=ticket.pk)

    invitation = SurveyInvitation.objects.get()
    assert (invitation.ticket_id, invitation.contact_id) == (ticket.pk, org[1].pk)
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["li.lei@huadong.example"]


def test_resolving_a_ticket_invites_its_contact(
    org: tuple[Any, Any],
    agent: Any,
    csat_survey: Survey,
    open_ticket: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from guanxi.service.services import ticket_transition

    ticket = open_ticket(*org, "打印机卡纸")

    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(actor=agent, ticket=ticket, status="resolved")

    assert list(SurveyInvitation.objects.values_list("ticket_id", flat=True)) == [ticket.pk]


def test_the_contact_answers_a_pending_survey_from_the_portal(
    portal_client: Client, org: tuple[Any, Any], csat_survey: Survey, invite: Any
) -> None:
    invitation, _token = invite(csat_survey, org[0], org[1])
    overall = csat_survey.questions.get(is_overall=True)

    home = portal_client.get("/portal/").content.decode()
    done = portal_client.post(f"/portal/my-surveys/{invitation.pk}/", {f"q{overall.pk}": "5"})

    assert f"/portal/my-surveys/{invitation.pk}/" in home
    assert "Thank you for your answers." in done.content.decode()


def test_another_organisations_survey_is_a_404(
    portal_client: Client, other_org: tuple[Any, Any], csat_survey: Survey, invite: Any
) -> None:
    invitation, _token = invite(csat_survey, other_org[0], other_org[1])

    page = portal_client.get(f"/portal/my-surveys/{invitation.pk}/")

    assert page.status_code == 404


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def _file(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_a_contact_sends_files_with_a_request_and_a_reply_and_downloads_them(
    portal_client: Client, account: PortalAccount, media: None
) -> None:
    from guanxi.service.models import Ticket, TicketAttachment

    portal_client.post(
        "/portal/tickets/new/",
        {"subject": "屏幕报错", "description": "见截图。", "attachments": [_file("报错.png", PNG)]},
    )
    ticket = Ticket.objects.get()
    portal_client.post(
        f"/portal/tickets/{ticket.pk}/",
        {"body": "补充日志。", "attachments": [_file("日志.txt", "错误 42\n".encode())]},
    )

    sent, log = TicketAttachment.objects.order_by("pk")
    page = portal_client.get(f"/portal/tickets/{ticket.pk}/").content.decode()
    download = portal_client.get(f"/portal/tickets/{ticket.pk}/files/{sent.pk}/")

    assert (sent.message_id, sent.uploaded_by_id) == (None, None)
    assert log.message is not None
    assert log.message.author_contact_id == account.contact_id
    assert f'href="/portal/tickets/{ticket.pk}/files/{sent.pk}/"' in page
    assert f'href="/portal/tickets/{ticket.pk}/files/{log.pk}/"' in page
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG  # type: ignore[attr-defined]
    assert download["Content-Disposition"].startswith("attachment;")


def test_files_on_internal_notes_and_on_other_organisations_tickets_stay_hidden(
    portal_client: Client,
    org: tuple[Any, Any],
    other_org: tuple[Any, Any],
    agent: Any,
    open_ticket: Any,
    media: None,
) -> None:
    from guanxi.service.services import attachments_add, ticket_reply

    ticket = open_ticket(*org, "发票")
    invoice = _file("发票.pdf", b"%PDF-1")
    ticket_reply(actor=agent, ticket=ticket, body="发票已重开", files=[invoice])
    ticket_reply(
        actor=agent, ticket=ticket, body="内部", internal=True, files=[_file("内部.txt", b"x")]
    )
    attachments_add(actor=agent, ticket=ticket, files=[_file("核对表.txt", b"y")])
    foreign = open_ticket(*other_org, "北方物流")
    attachments_add(actor=agent, ticket=foreign, files=[_file("北方.txt", b"z")])
    public, internal, added = ticket.attachments.order_by("pk")
    theirs = foreign.attachments.get()

    page = portal_client.get(f"/portal/tickets/{ticket.pk}/").content.decode()

    def status(ticket_pk: int, pk: int) -> int:
        return portal_client.get(f"/portal/tickets/{ticket_pk}/files/{pk}/").status_code

    assert "发票.pdf" in page
    assert "内部.txt" not in page
    assert "核对表.txt" not in page  # added by an agent to the ticket, not sent to the contact
    assert status(ticket.pk, public.pk) == 200
    assert status(ticket.pk, internal.pk) == 404
    assert status(ticket.pk, added.pk) == 404
    assert status(foreign.pk, theirs.pk) == 404
    assert status(ticket.pk, theirs.pk) == 404


def test_a_request_with_a_disguised_file_is_refused_and_nothing_is_opened(
    portal_client: Client, media: None
) -> None:
    from guanxi.service.models import Ticket, TicketAttachment

    response = portal_client.post(
        "/portal/tickets/new/",
        {"subject": "发票", "description": "附件", "attachments": [_file("发票.pdf", b"MZ\x90")]},
    )

    assert response.status_code == 200
    assert "发票.pdf" in response.content.decode()
    assert not Ticket.objects.exists()
    assert not TicketAttachment.objects.exists()
