"""Timeline pages: the HTML fragment of a customer's interactions (with infinite scroll and
the quick-log form) that the customer 360 page loads, and attachment downloads."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from guanxi.accounts.auth import page_actor
from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.pagination import BadCursor, Page
from guanxi.core.permissions import has_perm
from guanxi.interactions import selectors, services
from guanxi.interactions.files import download_response
from guanxi.interactions.forms import FORM_FIELD_OF, QuickLogForm
from guanxi.interactions.models import Channel

PAGE_SIZE = 20


def _render(
    request: HttpRequest,
    actor: User,
    customer_id: int,
    form: QuickLogForm | None = None,
    *,
    channel: str = "",
) -> HttpResponse:
    page = selectors.timeline(
        actor=actor, customer_id=customer_id, limit=PAGE_SIZE, channel=channel
    )
    context: dict[str, Any] = {
        "customer_id": customer_id,
        "page": page,
        "form": form if form is not None else QuickLogForm(),
        "can_log": has_perm(actor, "interactions.create"),
        "channel": channel,
        "channels": Channel.choices,
    }
    return render(request, "interactions/timeline.html", context)


@login_required
@require_GET
def timeline_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The whole fragment; with `cursor`, only the next rows (infinite scroll).

    A forged or stale cursor ends the list rather than repeating its start.
    """
    actor = page_actor(request)
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    cursor = request.GET.get("cursor")
    if not cursor:
        return _render(request, actor, customer_id, channel=channel)
    try:
        page = selectors.timeline(
            actor=actor, customer_id=customer_id, cursor=cursor, limit=PAGE_SIZE, channel=channel
        )
    except BadCursor:
        page = Page(items=[], next_cursor=None, limit=PAGE_SIZE)
    context = {"customer_id": customer_id, "page": page, "channel": channel, "more": True}
    return render(request, "interactions/timeline.html#rows", context)


def _apply_error(form: QuickLogForm, error: DomainError) -> None:
    """Put the service's messages on the form fields that show them."""
    items = [
        {**item, "field": FORM_FIELD_OF.get(item.get("field") or "", item.get("field"))}
        for item in error.errors or [{"field": error.field, "message": error.message}]
    ]
    apply_domain_error(form, DomainError(error.message, errors=items))


@login_required
@require_POST
def interaction_log_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Log from the quick form; answers the refreshed fragment and a toast.

    A refusal also answers 200 (htmx swaps only 2xx answers) with the errors on the form.
    """
    actor = page_actor(request)
    customer = selectors.timeline_customer(actor=actor, customer_id=customer_id)
    form = QuickLogForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.interaction_log(
                actor=actor,
                customer=customer,
                values=form.values(),
                files=form.cleaned_data.get("attachments") or [],
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            response = _render(request, actor, customer.pk)
            trigger_client_event(
                response, "toast", {"text": _("Interaction logged."), "level": "success"}
            )
            return response
    return _render(request, actor, customer.pk, form)


@login_required
@require_GET
def attachment_download_view(request: HttpRequest, pk: int) -> FileResponse:
    """A visible interaction's file, as a download under its original name."""
    return download_response(selectors.attachment_get(actor=page_actor(request), pk=pk))
