"""Reads of the customer timeline, always within the acting user's data scope: an
interaction or attachment is visible when its customer is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Max, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import has_perm
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get
from guanxi.interactions.models import Attachment, Channel, Interaction

TIMELINE_ORDERING = ("-occurred_at", "-pk")
MAX_PAGE = 200
ID_CHUNK = 10_000


def _base(actor: User) -> QuerySet[Interaction]:
    if not has_perm(actor, "interactions.view"):
        return Interaction.objects.none()
    return Interaction.objects.visible_to(actor)


def _with_parts(queryset: QuerySet[Interaction]) -> QuerySet[Interaction]:
    """Join what a timeline row shows: who logged it, the contact, the files (one query)."""
    return queryset.select_related("owner", "contact").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )


def timeline_customer(*, actor: User, customer_id: int) -> Customer:
    """The customer whose timeline the actor opens: PermissionDenied without
    interactions.view, Http404 outside the actor's scope."""
    if not has_perm(actor, "interactions.view"):
        raise PermissionDenied("interactions.view")
    return customer_get(actor=actor, pk=customer_id)


def timeline(
    *,
    actor: User,
    customer_id: int,
    cursor: str | None = None,
    limit: int = 20,
    channel: str = "",
) -> Page[Interaction]:
    """One keyset page of a visible customer's interactions, newest first.

    Owner, contact and attachments come joined, so a page costs the same few queries at any
    size. A foreign customer is Http404; an unknown channel or a forged cursor a DomainError.
    """
    timeline_customer(actor=actor, customer_id=customer_id)
    queryset = _base(actor).filter(customer_id=customer_id)
    if channel:
        if channel not in Channel.values:
            raise DomainError(_("Choose one of the allowed values."), field="channel")
        queryset = queryset.filter(channel=channel)
    return keyset_page(
        _with_parts(queryset),
        cursor=cursor,
        limit=max(1, min(limit, MAX_PAGE)),
        ordering=TIMELINE_ORDERING,
    )


def interaction_get(*, actor: User, pk: int) -> Interaction:
    """One visible interaction with its customer, owner, contact and files; else Http404."""
    found = _with_parts(_base(actor).select_related("customer").filter(pk=pk)).first()
    if found is None:
        raise Http404
    return found


def attachment_get(*, actor: User, pk: int) -> Attachment:
    """One attachment of a visible interaction; else Http404."""
    found = (
        Attachment.objects.visible_to(actor).select_related("interaction").filter(pk=pk).first()
        if has_perm(actor, "interactions.view")
        else None
    )
    if found is None:
        raise Http404
    return found


def last_interaction_at(
    customer_ids: Iterable[int] | QuerySet[Customer],
) -> dict[int, dt.datetime]:
    """When each customer was last in touch, for those with any interaction.

    Not scoped: for grading and other system jobs that already chose the customers. One
    aggregate query (a subquery when given a QuerySet; chunks of 10,000 ids for SQLite's
    bound-parameter limit otherwise).
    """
    if isinstance(customer_ids, QuerySet):
        chunks: list[Any] = [customer_ids.values("pk")]
    else:
        ids = sorted(set(customer_ids))
        chunks = [ids[start : start + ID_CHUNK] for start in range(0, len(ids), ID_CHUNK)]
    result: dict[int, dt.datetime] = {}
    for chunk in chunks:
        rows = (
            Interaction.objects.filter(customer_id__in=chunk)
            .order_by()
            .values("customer_id")
            .annotate(last=Max("occurred_at"))
            .values_list("customer_id", "last")
        )
        result.update(rows)
    return result
