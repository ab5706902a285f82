"""Mail out: a public reply goes to the ticket's contact with the ticket reference in the
subject and the thread's Message-IDs in its headers, so the contact's answer threads back."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from guanxi.customers.models import ContactMethod, ContactMethodKind
from guanxi.service.models import TicketMessage


def contact_email(contact_id: int) -> str:
    """The contact's first email address, decrypted ("" when they have none)."""
    method = (
        ContactMethod.objects.filter(contact_id=contact_id, kind=ContactMethodKind.EMAIL)
        .order_by("pk")
        .first()
    )
    return method.value if method is not None else ""


def reply_mail_send(*, message_id: int) -> bool:
    """Send one public reply to the ticket's contact; False when there is no address."""
    message = TicketMessage.objects.select_related("ticket").get(pk=message_id)
    ticket = message.ticket
    if message.internal or ticket.contact_id is None:
        return False
    address = contact_email(ticket.contact_id)
    if not address:
        return False
    earlier = list(
        TicketMessage.objects.filter(ticket=ticket, internal=False, pk__lt=message.pk)
        .exclude(message_id="")
        .order_by("pk")
        .values_list("message_id", flat=True)
    )
    headers = {"Message-ID": message.message_id}
    if earlier:
        headers["In-Reply-To"] = earlier[-1]
        headers["References"] = " ".join(earlier[-20:])
    mail = EmailMessage(
        subject=f"Re: {ticket.reference} {ticket.subject}",
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        reply_to=[getattr(settings, "SERVICE_INBOUND_ADDRESS", settings.DEFAULT_FROM_EMAIL)],
        headers=headers,
    )
    mail.send()
    return True
