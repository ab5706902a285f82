"""Interactions API: a customer's timeline, logging, changing and deleting interactions,
attaching files and downloading them."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Query, Router, UploadedFile
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.core.idempotency import idempotent
from guanxi.core.schemas import PageOut
from guanxi.customers.selectors import customer_get
from guanxi.interactions import selectors, services
from guanxi.interactions.files import download_response
from guanxi.interactions.schemas import (
    AttachmentOut,
    InteractionIn,
    InteractionOut,
    InteractionPatch,
    InteractionQuery,
)

router = Router(tags=["interactions"])


@router.get(
    "/customers/{customer_id}/interactions",
    response=PageOut[InteractionOut],
    summary="A customer's timeline, newest first (keyset pages, optional channel filter)",
)
def list_interactions(
    request: HttpRequest, customer_id: int, query: Query[InteractionQuery]
) -> PageOut[InteractionOut]:
    page = selectors.timeline(
        actor=api_actor(request),
        customer_id=customer_id,
        cursor=query.cursor,
        limit=query.limit,
        channel=query.channel,
    )
    return PageOut[InteractionOut](
        items=[InteractionOut.from_interaction(i) for i in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post(
    "/customers/{customer_id}/interactions",
    response={201: InteractionOut},
    summary="Log an interaction (send Idempotency-Key to make retries safe)",
)
def create_interaction(
    request: HttpRequest, customer_id: int, payload: InteractionIn
) -> Status[Any]:
    actor = api_actor(request)

    def run() -> tuple[int, Any]:
        customer = customer_get(actor=actor, pk=customer_id)
        interaction = services.interaction_log(
            actor=actor, customer=customer, values=payload.model_dump(exclude_unset=True)
        )
        found = selectors.interaction_get(actor=actor, pk=interaction.pk)
        return 201, InteractionOut.from_interaction(found).model_dump(mode="json")

    status, body = idempotent(request, run)
    return Status(status, body)


@router.get("/interactions/{interaction_id}", response=InteractionOut)
def get_interaction(request: HttpRequest, interaction_id: int) -> InteractionOut:
    found = selectors.interaction_get(actor=api_actor(request), pk=interaction_id)
    return InteractionOut.from_interaction(found)


@router.patch("/interactions/{interaction_id}", response=InteractionOut)
def update_interaction(
    request: HttpRequest, interaction_id: int, payload: InteractionPatch
) -> InteractionOut:
    actor = api_actor(request)
    services.interaction_update(
        actor=actor,
        interaction=selectors.interaction_get(actor=actor, pk=interaction_id),
        values=payload.model_dump(exclude_unset=True, exclude={"version"}),
        version=payload.version,
    )
    return InteractionOut.from_interaction(
        selectors.interaction_get(actor=actor, pk=interaction_id)
    )


@router.delete("/interactions/{interaction_id}", response={204: None})
def delete_interaction(request: HttpRequest, interaction_id: int) -> Status[None]:
    actor = api_actor(request)
    services.interaction_delete(
        actor=actor, interaction=selectors.interaction_get(actor=actor, pk=interaction_id)
    )
    return Status(204, None)


@router.post(
    "/interactions/{interaction_id}/attachments",
    response={201: list[AttachmentOut]},
    summary="Attach files (multipart field `files`; at most five per interaction)",
)
def upload_attachments(
    request: HttpRequest, interaction_id: int, files: File[list[UploadedFile]]
) -> Status[list[AttachmentOut]]:
    actor = api_actor(request)
    attachments = services.attachments_add(
        actor=actor,
        interaction=selectors.interaction_get(actor=actor, pk=interaction_id),
        files=list(files),
    )
    return Status(201, [AttachmentOut.from_attachment(a) for a in attachments])


@router.get(
    "/interactions/attachments/{attachment_id}",
    url_name="interaction_attachment",
    summary="Download an attachment (always as a file, never shown inline)",
)
def download_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    return download_response(selectors.attachment_get(actor=api_actor(request), pk=attachment_id))
