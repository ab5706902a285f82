"""Mail in and out over real SMTP: new tickets, threading, and bad mail kept for an agent."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from guanxi.service import inbound, services
from guanxi.service.models import InboundMail, Ticket, TicketMessage
from guanxi.service.receiver import receiver

SENDER = "zhang.wei@huaxin.example"


def _mail(
    subject: str = "打印机坏了", sender: str = SENDER, body: str = "无法打印", **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"张伟 <{sender}>"
    message["To"] = "service@guanxi.example"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbound_smtp(transactional_db: Any) -> Iterator[int]:
    """The service's own SMTP receiver on a free port."""
    port = _free_port()
    controller = receiver("127.0.0.1", port, ["guanxi.example"])
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_a_mail_from_a_known_contact_over_smtp_opens_a_ticket(
    inbound_smtp: int, contact: Any
) -> None:
    with smtplib.SMTP("127.0.0.1", inbound_smtp) as client:
        client.send_message(_mail(Message_ID="<first@huaxin.example>"))

    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.channel, ticket.contact) == ("打印机坏了", "email", contact)
    assert ticket.description == "无法打印"
    mail = InboundMail.objects.get()
    assert (mail.status, mail.ticket_id) == ("created", ticket.pk)


def test_the_smtp_receiver_refuses_a_recipient_outside_its_domains(inbound_smtp: int) -> None:
    message = _mail()
    message.replace_header("To", "someone@elsewhere.example")

    with (
        smtplib.SMTP("127.0.0.1", inbound_smtp) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        client.send_message(message)

    assert not InboundMail.objects.exists()


def test_a_mail_from_an_unknown_sender_is_kept_unmatched_over_smtp(inbound_smtp: int) -> None:
    with smtplib.SMTP("127.0.0.1", inbound_smtp) as client:
        client.send_message(_mail(sender="stranger@nowhere.example"))

    mail = InboundMail.objects.get()
    assert (mail.status, mail.reason, mail.sender) == (
        "unmatched",
        "Unknown sender.",
        "stranger@nowhere.example",
    )
    assert b"stranger@nowhere.example" in bytes(mail.raw)
    assert not Ticket.objects.exists()


def test_an_agents_reply_is_mailed_and_the_contacts_answer_threads_back(
    agent: Any,
    customer: Any,
    contact: Any,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = services.ticket_open(
        actor=agent, customer=customer, contact=contact, subject="发票", description=""
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.ticket_reply(actor=agent, ticket=ticket, body="发票已重开")
    sent = smtp_server.wait_for(1)[0]

    answer = inbound.mail_receive(
        _mail(
            subject="Re: 发票",
            body="谢谢\n\nOn Mon, agent wrote:\n> 发票已重开",
            In_Reply_To=sent["Message-ID"],
        ).as_bytes()
    )

    assert sent["To"] == SENDER
    assert sent["Subject"] == f"Re: [#{ticket.number}] 发票"
    assert sent["Message-ID"] == reply.message_id
    assert (answer.status, answer.ticket_id) == ("replied", ticket.pk)
    assert TicketMessage.objects.filter(ticket=ticket).last().body == "谢谢"  # type: ignore[union-attr]  # there is one


def test_a_reference_in_the_subject_threads_a_reply(
    agent: Any, customer: Any, contact: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    mail = inbound.mail_receive(
        _mail(subject=f"回复: [#{ticket.number}] s", body="补充").as_bytes()
    )

    assert (mail.status, mail.ticket_id) == ("replied", ticket.pk)
    assert list(TicketMessage.objects.values_list("body", "author_contact")) == [
        ("补充", contact.pk)
    ]


def test_a_reply_from_someone_not_of_the_customer_is_not_added(
    agent: Any, customer: Any, contact: Any
) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    mail = inbound.mail_receive(
        _mail(subject=f"[#{ticket.number}] s", sender="mallory@evil.example").as_bytes()
    )

    assert (mail.status, mail.ticket_id) == ("unmatched", ticket.pk)
    assert mail.reason == "Sender is not a contact of this customer."
    assert not TicketMessage.objects.exists()


def test_a_reply_to_a_closed_ticket_opens_a_new_ticket_that_names_it(
    agent: Any, customer: Any, contact: Any
) -> None:
    closed = services.ticket_open(actor=agent, customer=customer, subject="旧问题", description="")
    services.ticket_transition(actor=agent, ticket=closed, status="closed")

    mail = inbound.mail_receive(_mail(subject=f"Re: [#{closed.number}] 旧问题").as_bytes())

    follow_up = Ticket.objects.exclude(pk=closed.pk).get()
    closed.refresh_from_db()
    assert closed.status == "closed"
    assert (mail.status, mail.ticket_id) == ("created", follow_up.pk)
    assert follow_up.subject == "旧问题"
    assert follow_up.description.startswith(f"Follow-up of closed ticket {closed.number}.")


def test_a_mail_with_malformed_headers_is_kept_raw_and_unmatched(db: Any) -> None:
    raw = b"From: <<<not an address\r\nSubject: =?bad?=\r\n\r\nbody"

    mail = inbound.mail_receive(raw)

    assert (mail.status, bytes(mail.raw)) == ("unmatched", raw)
    assert mail.reason == "Malformed headers: no single sender address."
    assert not Ticket.objects.exists()


def test_a_redelivered_message_is_not_applied_twice(contact: Any) -> None:
    raw = _mail(Message_ID="<once@huaxin.example>").as_bytes()

    first = inbound.mail_receive(raw)
    second = inbound.mail_receive(raw)

    assert (first.status, second.status) == ("created", "discarded")
    assert Ticket.objects.count() == 1


def test_an_oversized_attachment_is_left_out_and_the_ticket_still_opens(
    contact: Any, settings: Any, tmp_path: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024
    settings.MEDIA_ROOT = tmp_path
    message = _mail()
    message.add_attachment(b"x" * 4096, maintype="text", subtype="plain", filename="big.txt")

    mail = inbound.mail_receive(message.as_bytes())

    ticket = Ticket.objects.get()
    assert (mail.status, mail.ticket_id) == ("created", ticket.pk)
    assert "big.txt is larger than" in mail.reason
    assert not ticket.attachments.exists()


def test_an_agent_settles_an_unmatched_mail_onto_a_ticket(agent: Any, customer: Any) -> None:
    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
    mail = inbound.mail_receive(_mail(sender="assistant@huaxin.example", body="代发").as_bytes())

    inbound.inbound_settle(actor=agent, mail=mail, ticket=ticket)

    mail.refresh_from_db()
    assert (mail.status, mail.ticket_id) == ("resolved", ticket.pk)
    assert list(TicketMessage.objects.values_list("body", "author_email")) == [
        ("代发", "assistant@huaxin.example")
    ]
