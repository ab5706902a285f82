"""A portal contact's ticket commands, through the service domain's contract: a ticket is
opened for the account's own organisation on the "portal" channel, a reply is the contact's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from guanxi.portal.models import PortalAccount


@transaction.atomic
def portal_ticket_open(
    *,
    account: PortalAccount,
    subject: str,
    description: str,
    files: Sequence[UploadedFile] = (),
) -> Any:
    """Open a ticket for the account's organisation, with the account's contact and its files
    (checked as an agent's are; one bad file refuses the request)."""
    from guanxi.service.services import ticket_open

    return ticket_open(
        actor=None,
        customer=account.customer,
        contact=account.contact,
        subject=subject,
        description=description,
        channel="portal",
        files=files,
    )


@transaction.atomic
def portal_ticket_reply(
    *, account: PortalAccount, ticket: Any, body: str, files: Sequence[UploadedFile] = ()
) -> Any:
    """A public reply by the account's contact on one of the organisation's tickets (the
    caller got `ticket` through `selectors.portal_ticket_get`, which checks that)."""
    from guanxi.service.services import ticket_reply

    if ticket.customer_id != account.customer_id:  # never trust the caller with another's
        from django.http import Http404

        raise Http404
    return ticket_reply(actor=None, ticket=ticket, body=body, contact=account.contact, files=files)
