"""Mail in: each received message is stored raw first, then becomes a new ticket, a reply on
the right ticket, or an "unmatched" entry an agent settles by hand. Nothing is dropped.

The rules, in order:
1. The raw message is saved (`InboundMail`) before anything else is tried.
2. A Message-ID seen before (a redelivery) is kept but not applied twice.
3. The sender must parse as one address, else: unmatched, "malformed headers".
4. The ticket is found by the reference in the subject ("[#T-000123]"), else by the
   In-Reply-To / References headers against the Message-IDs of the ticket's messages.
5. The sender is matched to a contact by the blind index of their address (exact match on
   the normalised address; nothing is decrypted for it).
6. A reply from a contact of the ticket's customer is added to the ticket; from anyone else
   it is unmatched ("sender is not a contact of this customer").
7. A reply to a closed ticket opens a new ticket for the same customer that names the closed
   one (a closed ticket stays closed; the customer's mail is not lost).
8. A message without a ticket from a known contact opens a new ticket (channel email); from
   an unknown sender it is unmatched ("unknown sender").
Attachments the ticket rules refuse (too big, wrong type) are left out of the ticket with
the reason noted; they stay in the raw message.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import crypto
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Contact, ContactMethod, ContactMethodKind, Customer
from guanxi.service import services
from guanxi.service.models import (
    InboundMail,
    InboundMailStatus,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketStatus,
)

logger = logging.getLogger(__name__)

REFERENCE = re.compile(r"\[#(T-\d{6,})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
QUOTE_START = re.compile(
    r"^(On .+ wrote:|在.+写道[:：]|-{3,}\s*(Original Message|原始邮件)\s*-{3,})\s*$", re.MULTILINE
)


@dataclass
class Parsed:
    sender: str
    subject: str
    message_id: str
    references: list[str]
    body: str
    files: list[SimpleUploadedFile]


class Malformed(Exception):
    pass


def _parse(raw: bytes) -> Parsed:
    """Read what the rules need; Malformed when the sender or the headers do not parse."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)  # noqa: S101 - the default policy's class
        senders = getaddresses([str(message.get("From", ""))])
        subject = str(message.get("Subject", "") or "")
        message_id = str(message.get("Message-ID", "") or "").strip()
        references = MESSAGE_ID.findall(
            f"{message.get('In-Reply-To', '') or ''} {message.get('References', '') or ''}"
        )
    except (ValueError, TypeError, IndexError, LookupError, AssertionError) as error:
        raise Malformed(str(error)) from error
    addresses = [address for _name, address in senders if "@" in address]
    if len(addresses) != 1:
        raise Malformed("From")
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        try:
            body = body_part.get_content()
        except (LookupError, ValueError):  # an unknown charset: keep what decodes
            payload = body_part.get_payload(decode=True)
            body = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if body_part.get_content_type() == "text/html":
            body = re.sub(r"<[^>]+>", " ", body)
    files = []
    for part in message.iter_attachments():
        name = part.get_filename() or "attachment"
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            files.append(SimpleUploadedFile(name, payload, part.get_content_type()))
    return Parsed(
        sender=addresses[0].strip(),
        subject=subject.strip(),
        message_id=message_id[:255],
        references=references,
        body=_strip_quote(body),
        files=files,
    )


def _strip_quote(body: str) -> str:
    """The new text of a reply: cut at the quoted earlier message."""
    match = QUOTE_START.search(body)
    text = body[: match.start()] if match else body
    lines = [line for line in text.splitlines() if not line.startswith(">")]
    return "\n".join(lines).strip()


def _contact_for(address: str) -> Contact | None:
    try:
        normalised = crypto.normalise_email(address)
    except ValueError:
        return None
    index = crypto.blind_index(normalised, kind="email")
    method = (
        ContactMethod.objects.filter(kind=ContactMethodKind.EMAIL, value_index=index)
        .select_related("contact__customer")
        .order_by("pk")
        .first()
    )
    return method.contact if method is not None else None


def _ticket_for(parsed: Parsed) -> Ticket | None:
    match = REFERENCE.search(parsed.subject)
    if match:
        ticket = Ticket.objects.filter(number=match.group(1)).first()
        if ticket is not None:
            return ticket
    if parsed.references:
        message = (
            TicketMessage.objects.filter(message_id__in=parsed.references[-50:])
            .select_related("ticket")
            .order_by("-pk")
            .first()
        )
        if message is not None:
            return message.ticket
    return None


def _subject_without_reference(subject: str) -> str:
    cleaned = REFERENCE.sub("", subject)
    cleaned = re.sub(r"^\s*((re|fw|fwd|回复|答复|转发)\s*[:：]\s*)+", "", cleaned, flags=re.I)
    return cleaned.strip() or _("(no subject)")


def _settle(mail: InboundMail, status: str, reason: str = "", ticket: Ticket | None = None) -> None:
    mail.status = status
    mail.reason = reason[:255]
    mail.ticket = ticket
    mail.save(update_fields=["status", "reason", "ticket"])


def _apply(mail: InboundMail, parsed: Parsed) -> None:
    """Rules 4–8 of the module docstring, in one transaction with the mail's outcome."""
    ticket = _ticket_for(parsed)
    contact = _contact_for(parsed.sender)
    body = parsed.body or _("(empty message)")
    files, note = _acceptable(parsed.files)
    if ticket is not None:
        if contact is None or contact.customer_id != ticket.customer_id:
            _settle(
                mail,
                InboundMailStatus.UNMATCHED,
                _("Sender is not a contact of this customer."),
                ticket,
            )
            return
        if ticket.status != TicketStatus.CLOSED:
            services.ticket_reply(
                actor=None,
                ticket=ticket,
                body=body,
                contact=contact,
                files=files,
                author_email=parsed.sender,
                message_id=parsed.message_id,
                channel=TicketChannel.EMAIL,
            )
            _settle(mail, InboundMailStatus.REPLIED, note, ticket)
            return
        follow_up = services.ticket_open(
            actor=None,
            customer=ticket.customer,
            contact=contact,
            channel=TicketChannel.EMAIL,
            subject=_subject_without_reference(parsed.subject),
            files=files,
            description=_("Follow-up of closed ticket %(number)s.") % {"number": ticket.number}
            + "\n\n"
            + body,
        )
        _first_message(follow_up, parsed, contact)
        reason = _("Reply to closed ticket %(number)s: opened a new ticket.") % {
            "number": ticket.number
        }
        _settle(mail, InboundMailStatus.CREATED, f"{reason} {note}".strip(), follow_up)
        return
    if contact is None:
        _settle(mail, InboundMailStatus.UNMATCHED, _("Unknown sender."))
        return
    created = services.ticket_open(
        actor=None,
        customer=contact.customer,
        contact=contact,
        channel=TicketChannel.EMAIL,
        subject=_subject_without_reference(parsed.subject),
        description=body,
        files=files,
    )
    _first_message(created, parsed, contact)
    _settle(mail, InboundMailStatus.CREATED, note, created)


def _first_message(ticket: Ticket, parsed: Parsed, contact: Contact) -> None:
    """Remember the opening mail's Message-ID so that replies to it thread to the ticket."""
    if parsed.message_id:
        TicketMessage.objects.create(
            ticket=ticket,
            internal=True,
            author_contact=contact,
            author_email=parsed.sender,
            body=_("Opened by email from %(sender)s.") % {"sender": parsed.sender},
            channel=TicketChannel.EMAIL,
            message_id=parsed.message_id,
        )


def _acceptable(files: list[SimpleUploadedFile]) -> tuple[list[SimpleUploadedFile], str]:
    """The attachments the ticket rules accept, and a note naming the ones left out."""
    kept: list[SimpleUploadedFile] = []
    left: list[str] = [f.name or "" for f in files[services.MAX_FILES :]]
    for file in files[: services.MAX_FILES]:
        _uploads, errors = services.check_files([file])
        if errors:
            left.append(errors[0]["message"])
        else:
            kept.append(file)
    if not left:
        return kept, ""
    note = _("Attachments left out (still in the raw message): %(list)s") % {
        "list": "; ".join(left)
    }
    return kept, note


def mail_receive(raw: bytes) -> InboundMail:
    """Take one raw RFC 822 message: store it, then apply the rules (module docstring)."""
    mail = InboundMail.objects.create(raw=raw, status=InboundMailStatus.UNMATCHED)
    try:
        parsed = _parse(raw)
    except Malformed:
        _settle(
            mail, InboundMailStatus.UNMATCHED, _("Malformed headers: no single sender address.")
        )
        return mail
    mail.sender = parsed.sender[:254]
    mail.subject = parsed.subject[:255]
    mail.message_id = parsed.message_id
    mail.save(update_fields=["sender", "subject", "message_id"])
    if parsed.message_id and (
        InboundMail.objects.filter(message_id=parsed.message_id)
        .exclude(pk=mail.pk)
        .exclude(status__in=(InboundMailStatus.UNMATCHED, InboundMailStatus.DISCARDED))
        .exists()
    ):
        _settle(mail, InboundMailStatus.DISCARDED, _("Already received (same Message-ID)."))
        return mail
    try:
        with transaction.atomic():
            _apply(mail, parsed)
    except DomainError as error:
        _settle(mail, InboundMailStatus.UNMATCHED, error.message)
    except Exception:  # a bug must not lose the mail: it stays unmatched with the raw bytes
        logger.exception("inbound mail %s could not be applied", mail.pk)
        _settle(mail, InboundMailStatus.UNMATCHED, _("Could not be processed; see the server log."))
    return mail


@transaction.atomic
def inbound_settle(
    *,
    actor: User,
    mail: InboundMail,
    ticket: Ticket | None = None,
    customer: Customer | None = None,
    discard: bool = False,
) -> InboundMail:
    """An agent settles an unmatched mail: add it to a ticket, open a ticket for a customer,
    or discard it (the raw message is kept either way)."""
    require_perm(actor, "service.edit")
    if mail.status != InboundMailStatus.UNMATCHED:
        raise DomainError(_("This mail has already been handled."), field="mail")
    if discard:
        _settle(mail, InboundMailStatus.DISCARDED, _("Discarded by %(user)s.") % {"user": actor})
        return mail
    try:
        parsed = _parse(bytes(mail.raw))
        body, subject, files = parsed.body, parsed.subject, parsed.files
    except Malformed:
        body = bytes(mail.raw).decode("utf-8", "replace")
        subject, files = mail.subject, []
    kept, note = _acceptable(files)
    if ticket is not None:
        services.ticket_reply(
            actor=None,
            ticket=ticket,
            body=body or _("(empty message)"),
            files=kept,
            author_email=mail.sender,
            channel=TicketChannel.EMAIL,
        )
        _settle(mail, InboundMailStatus.RESOLVED, note, ticket)
        return mail
    if customer is None:
        raise DomainError(_("Choose a ticket or a customer."), field="ticket")
    created = services.ticket_open(
        actor=actor,
        customer=customer,
        channel=TicketChannel.EMAIL,
        subject=_subject_without_reference(subject),
        description=body,
        files=kept,
    )
    _settle(mail, InboundMailStatus.RESOLVED, note, created)
    return mail
