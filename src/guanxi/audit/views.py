"""The access log page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guanxi.accounts.auth import page_actor
from guanxi.accounts.selectors import user_list
from guanxi.audit import selectors
from guanxi.audit.forms import AccessLogFilterForm
from guanxi.core.pagination import BadCursor, keyset_page
from guanxi.core.permissions import require_perm

PAGE_SIZE = 50
USER_CHOICES = 500


@login_required
def access_log_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "audit.view")
    form = AccessLogFilterForm(
        request.GET, users=user_list(actor=actor).order_by("username")[:USER_CHOICES]
    )
    filters = form.filters()
    entries = selectors.access_log_list(actor=actor, filters=filters)
    try:
        page = keyset_page(entries, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except BadCursor:
        page = keyset_page(entries, limit=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = "audit/access_log.html#rows" if request.htmx else "audit/access_log.html"  # type: ignore[attr-defined]  # set by django-htmx's middleware
    return render(request, template, context)
