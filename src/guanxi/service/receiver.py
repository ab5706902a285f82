"""The inbound SMTP receiver (`guanxi mail-inbound`): a small aiosmtpd server that accepts
mail for the service address and hands each message to `inbound.mail_receive`.

Deploy it behind the organisation's mail relay (MX or a forwarding rule for
service@example.com → this host:port); it accepts only the configured recipient domains
and answers 250 once the raw message is stored, so a message the rules cannot place is
still kept for an agent instead of bouncing.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from guanxi.service.inbound import mail_receive

logger = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 30 * 1024 * 1024


def _receive(raw: bytes) -> int:
    close_old_connections()
    try:
        return mail_receive(raw).pk
    finally:
        connections.close_all()  # a worker thread of the executor: keep no connection open


class InboundHandler:
    """aiosmtpd handler: refuse foreign recipients, store and apply each message."""

    def __init__(self, domains: list[str] | None = None) -> None:
        self.domains = {d.lower().lstrip("@") for d in (domains or []) if d}

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if self.domains and domain not in self.domains:
            return "550 5.1.1 not a service address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            pk = await sync_to_async(_receive, thread_sensitive=False)(raw)
        except Exception:  # the database is down: let the sender's server retry later
            logger.exception("inbound mail could not be stored")
            return "451 4.3.0 temporarily unable to store the message"
        return f"250 2.0.0 stored as {pk}"


def receiver(host: str, port: int, domains: list[str] | None = None) -> Controller:
    """A started-on-demand controller; call .start() and .stop()."""
    return Controller(
        InboundHandler(domains),
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        decode_data=False,
    )
