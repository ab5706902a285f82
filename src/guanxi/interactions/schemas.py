"""API schemas of the interactions domain: types and lengths here, rules in the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from ninja import Field, Schema

from guanxi.core.schemas import InputSchema
from guanxi.interactions.models import Attachment, Channel, Direction, Interaction


class Ref(Schema):
    id: int
    name: str


class InteractionIn(InputSchema):
    channel: Channel
    direction: Direction = Direction.NONE
    occurred_at: dt.datetime | None = None
    duration_seconds: int | None = None
    summary: str = Field(min_length=1, max_length=500)
    details: str = Field("", max_length=20_000)
    outcome: str = Field("", max_length=200)
    next_step: str = Field("", max_length=200)
    next_step_date: dt.date | None = None
    location_name: str = Field("", max_length=200)
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    contact_id: int | None = None


class InteractionPatch(InputSchema):
    version: int
    channel: Channel | None = None
    direction: Direction | None = None
    occurred_at: dt.datetime | None = None
    duration_seconds: int | None = None
    summary: str | None = Field(None, min_length=1, max_length=500)
    details: str | None = Field(None, max_length=20_000)
    outcome: str | None = Field(None, max_length=200)
    next_step: str | None = Field(None, max_length=200)
    next_step_date: dt.date | None = None
    location_name: str | None = Field(None, max_length=200)
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    contact_id: int | None = None


class InteractionQuery(Schema):
    channel: str = Field("", max_length=12)
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(20, ge=1, le=200)


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    sha256: str
    url: str
    created_at: dt.datetime

    @staticmethod
    def from_attachment(attachment: Attachment) -> AttachmentOut:
        return AttachmentOut(
            id=attachment.pk,
            name=attachment.original_name,
            size=attachment.size,
            content_type=attachment.content_type,
            sha256=attachment.sha256,
            url=reverse("api:interaction_attachment", kwargs={"attachment_id": attachment.pk}),
            created_at=attachment.created_at,
        )


class InteractionOut(Schema):
    id: int
    customer_id: int
    contact: Ref | None
    channel: str
    direction: str
    occurred_at: dt.datetime
    duration_seconds: int | None
    summary: str
    details: str
    outcome: str
    next_step: str
    next_step_date: dt.date | None
    location_name: str
    latitude: float | None
    longitude: float | None
    owner: Ref | None
    attachments: list[AttachmentOut]
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @staticmethod
    def from_interaction(interaction: Interaction) -> InteractionOut:
        contact, owner = interaction.contact, interaction.owner
        return InteractionOut(
            id=interaction.pk,
            customer_id=interaction.customer_id,
            contact=Ref(id=contact.pk, name=contact.name) if contact else None,
            channel=interaction.channel,
            direction=interaction.direction,
            occurred_at=interaction.occurred_at,
            duration_seconds=interaction.duration_seconds,
            summary=interaction.summary,
            details=interaction.details,
            outcome=interaction.outcome,
            next_step=interaction.next_step,
            next_step_date=interaction.next_step_date,
            location_name=interaction.location_name,
            latitude=float(interaction.latitude) if interaction.latitude is not None else None,
            longitude=float(interaction.longitude) if interaction.longitude is not None else None,
            owner=Ref(id=owner.pk, name=str(owner)) if owner else None,
            attachments=[AttachmentOut.from_attachment(a) for a in interaction.attachments.all()],
            created_at=interaction.created_at,
            updated_at=interaction.updated_at,
            version=interaction.version,
        )
