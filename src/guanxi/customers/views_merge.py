"""Duplicate and merge pages: a customer's likely twins, the on-demand scan for groups, and
the merge screen that picks the surviving values."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext

from guanxi.accounts.auth import page_actor
from guanxi.core import crypto
from guanxi.core.errors import DomainError
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers import selectors
from guanxi.customers.duplicates import duplicate_candidates, duplicate_groups
from guanxi.customers.merge import (
    MAX_OTHERS,
    customer_merge,
    merge_customers_get,
    merge_preview,
)

CHOICE_PREFIX = "choice_"
VERSION_PREFIX = "version_"


def merge_url(ids: list[int]) -> str:
    return reverse("customers:merge") + "?ids=" + ",".join(str(pk) for pk in ids)


def _ids(raw: str) -> list[int]:
    """ "3,5, 7" → [3, 5, 7]: digits only, first occurrence kept, at most a merge's worth."""
    ids: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if part.isdigit() and int(part) not in ids:
            ids.append(int(part))
    return ids[: MAX_OTHERS + 2]  # one too many still reaches the service's refusal


@login_required
def customer_duplicates_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    candidates = duplicate_candidates(actor=actor, customer=customer)
    rows = [
        {
            "candidate": candidate,
            "phone": crypto.mask("phone", candidate.customer.phone),
            "email": crypto.mask("email", candidate.customer.email),
            "merge_url": merge_url([customer.pk, candidate.customer.pk]),
        }
        for candidate in candidates
    ]
    context = {
        "customer": customer,
        "rows": rows,
        "can_merge": has_perm(actor, "customers.edit"),
    }
    return render(request, "customers/merge/duplicates.html", context)


@login_required
def duplicate_groups_view(request: HttpRequest) -> HttpResponse:
    """The scan runs only when asked (?scan=1): on a big book it reads every customer."""
    actor = page_actor(request)
    require_perm(actor, "customers.view")
    scanned = request.GET.get("scan") == "1"
    groups = duplicate_groups(actor=actor) if scanned else []
    context = {
        "scanned": scanned,
        "groups": [
            {"group": group, "merge_url": merge_url(group.customer_ids)} for group in groups
        ],
        "can_merge": has_perm(actor, "customers.edit"),
    }
    return render(request, "customers/merge/groups.html", context)


def _numbers(params: QueryDict, prefix: str) -> dict[str, int]:
    """The numeric values of the parameters named `prefix<something>`, by <something>."""
    found = {}
    for name in params:
        value = params.get(name) or ""
        if name.startswith(prefix) and value.isdigit():
            found[name[len(prefix) :]] = int(value)
    return found


def _choices(params: QueryDict) -> dict[str, int]:
    return _numbers(params, CHOICE_PREFIX)


def _versions(params: QueryDict) -> dict[int, int]:
    return {
        int(pk): version for pk, version in _numbers(params, VERSION_PREFIX).items() if pk.isdigit()
    }


def _survivor_id(params: QueryDict) -> int | None:
    value = params.get("survivor", "")
    return int(value) if value.isdigit() else None


@login_required
def customer_merge_view(request: HttpRequest) -> HttpResponse:
    """GET ?ids=a,b[,…][&survivor=b]: the merge screen; POST: merge, then the survivor."""
    actor = page_actor(request)
    require_perm(actor, "customers.edit")
    params = request.POST if request.method == "POST" else request.GET
    ids = _ids(params.get("ids", ""))
    survivor_id = _survivor_id(params)
    error: DomainError | None = None
    if request.method == "POST" and len(ids) >= 2:
        chosen = survivor_id if survivor_id in ids else ids[0]
        customers = merge_customers_get(
            actor=actor, ids=[chosen, *(pk for pk in ids if pk != chosen)]
        )
        try:
            survivor = customer_merge(
                actor=actor,
                survivor=customers[0],
                others=customers[1:],
                choices=_choices(request.POST),
                reason=request.POST.get("reason", "")[:500],
                versions=_versions(request.POST),
            )
        except DomainError as refused:
            error = refused
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s customer merged into %(name)s.",
                    "%(count)s customers merged into %(name)s.",
                    len(customers) - 1,
                )
                % {"count": len(customers) - 1, "name": survivor.name},
            )
            return redirect("customers:detail", pk=survivor.pk)
    try:
        preview = merge_preview(actor=actor, ids=ids, survivor_id=survivor_id)
    except DomainError as refused:
        context: dict[str, Any] = {"error": refused, "preview": None}
        return render(request, "customers/merge/merge.html", context, status=refused.status)
    context = {
        "preview": preview,
        "error": error,
        "ids": ",".join(str(pk) for pk in ids),
        "reason": request.POST.get("reason", ""),
    }
    return render(
        request,
        "customers/merge/merge.html",
        context,
        status=error.status if error is not None else 200,
    )
