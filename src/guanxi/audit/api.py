"""Audit API: the access log, for holders of audit.view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from guanxi.audit import selectors
from guanxi.audit.models import AccessAction
from guanxi.core.pagination import keyset_page
from guanxi.core.permissions import require_perm
from guanxi.core.schemas import PageOut

router = Router(tags=["audit"])


class AccessLogOut(Schema):
    id: int
    actor_id: int | None
    actor_name: str
    action: AccessAction
    target_model: str
    target_pk: str
    field: str
    detail: dict[str, Any]
    ip: str | None
    at: datetime


class AccessLogQuery(Schema):
    actor_id: int | None = None
    action: AccessAction | None = None
    target_model: str = Field("", max_length=100)
    target_pk: str = Field("", max_length=64)
    date_from: date | None = None
    date_to: date | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(settings.API_PAGE_SIZE, ge=1, le=settings.API_MAX_PAGE_SIZE)


@router.get(
    "/audit/access-log",
    response=PageOut[AccessLogOut],
    summary="Who revealed, exported, imported or merged personal data, newest first",
)
def list_access_log(request: HttpRequest, query: Query[AccessLogQuery]) -> PageOut[AccessLogOut]:
    require_perm(request.user, "audit.view")
    filters = selectors.AccessLogFilters(
        actor_id=query.actor_id,
        action=query.action.value if query.action else "",
        target_model=query.target_model,
        target_pk=query.target_pk,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    page = keyset_page(
        selectors.access_log_list(actor=request.user, filters=filters),
        cursor=query.cursor,
        limit=query.limit,
    )
    return PageOut[AccessLogOut](
        items=[AccessLogOut.from_orm(entry) for entry in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )
