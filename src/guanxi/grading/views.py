"""Grading pages: schemes and presets, a scheme with its tiers and runs, the scheme editor,
an evaluation run's progress and preview, a customer's grades (a fragment of the customer
360 page) with overrides, follow-ups and notifications, and a scheme's reports."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from guanxi.accounts.auth import page_actor
from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.permissions import has_perm, require_perm
from guanxi.core.scoping import OWN, data_scope_of
from guanxi.customers.models import CustomerKind
from guanxi.customers.selectors import customer_get
from guanxi.grading import selectors, services
from guanxi.grading.forms import OverrideForm, PeriodForm, SchemeForm, TierForm, TierFormSet
from guanxi.grading.metrics import CATALOGUE
from guanxi.grading.models import Method, RunStatus, Schedule, Scheme, Tier

FOLLOW_UP_LIMIT = 200
NOTIFICATION_LIMIT = 50
HISTORY_LIMIT = 20
# Bootstrap's colours as ECharts needs them (it cannot read CSS variables).
HEX = {
    "primary": "#0d6efd",
    "secondary": "#6c757d",
    "success": "#198754",
    "danger": "#dc3545",
    "warning": "#ffc107",
    "info": "#0dcaf0",
    "light": "#ced4da",
    "dark": "#212529",
}
UNGRADED_HEX = "#adb5bd"
KOTLER = {
    "basic": pgettext_lazy("Kotler relationship level", "Basic"),
    "reactive": pgettext_lazy("Kotler relationship level", "Reactive"),
    "accountable": pgettext_lazy("Kotler relationship level", "Accountable"),
    "proactive": pgettext_lazy("Kotler relationship level", "Proactive"),
    "partnership": pgettext_lazy("Kotler relationship level", "Partnership"),
}
# Where the service's field names of a scheme's method configuration show on the form.
CONFIG_FIELDS = {"dimensions", "cutoffs", "rest", "cells", "metric", "config"}


def _language() -> str:
    return get_language() or "en"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _toast(response: HttpResponse, text: str, level: str = "success") -> HttpResponse:
    trigger_client_event(response, "toast", {"text": text, "level": level})
    return response


def _kind_labels(kinds: list[str]) -> list[str]:
    labels = dict(CustomerKind.choices)
    return [str(labels.get(kind, kind)) for kind in kinds or []]


def _tier_name(tier: Tier | None, language: str) -> str:
    return tier.name(language) if tier is not None else _("Not graded")


# --- schemes -----------------------------------------------------------------------------------


@login_required
@require_GET
def scheme_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "grading.view")
    language = _language()
    rows = [
        {
            "scheme": scheme,
            "name": scheme.name(language),
            "kinds": _kind_labels(scheme.kinds),
            "tier_count": len(scheme.tiers.all()),
        }
        for scheme in selectors.scheme_list(actor=actor)
    ]
    methods = dict(Method.choices)
    presets = [
        {
            "code": preset["code"],
            "name": preset["name_zh"] if language.startswith("zh") else preset["name_en"],
            "description": preset["description"],
            "method": methods.get(preset["method"], preset["method"]),
        }
        for preset in selectors.presets_available()
        if not preset["installed"]
    ]
    context = {
        "rows": rows,
        "presets": presets,
        "can_admin": has_perm(actor, "grading.admin"),
    }
    return render(request, "grading/schemes.html", context)


@login_required
@require_POST
def preset_install_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    try:
        scheme = services.preset_install(actor=actor, code=request.POST.get("preset", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("grading:schemes")
    messages.success(request, _("Scheme %(name)s installed.") % {"name": scheme.name(_language())})
    return redirect("grading:scheme", pk=scheme.pk)


@login_required
@require_GET
def scheme_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "grading.view")
    scheme = selectors.scheme_get(actor=actor, pk=pk)
    language = _language()
    context = {
        "scheme": scheme,
        "name": scheme.name(language),
        "kinds": _kind_labels(scheme.kinds),
        "tiers": [{"tier": tier, "name": tier.name(language)} for tier in scheme.tiers.all()],
        "metrics": list(CATALOGUE.values()),
        "runs": selectors.run_list(actor=actor, scheme=scheme),
        "can_admin": has_perm(actor, "grading.admin"),
        "can_evaluate": has_perm(actor, "grading.edit"),
        "config": SchemeForm.initial_of(scheme)["config"],
    }
    return render(request, "grading/scheme.html", context)


def _apply_save_error(form: SchemeForm, formset: Any, error: DomainError) -> None:
    """Put a refused save on the row and field it names, else at the top of the form.

    The service numbers tiers from 1 in the order it received them ("tiers.2.code").
    """
    rows = formset.ordered_forms if formset.is_bound and formset.is_valid() else []
    items = error.errors or [{"field": error.field, "message": error.message}]
    rest = []
    for item in items:
        field = str(item.get("field") or "")
        parts = field.split(".")
        if len(parts) == 3 and parts[0] == "tiers" and parts[1].isdigit():
            index = int(parts[1]) - 1
            if 0 <= index < len(rows) and parts[2] in rows[index].fields:
                rows[index].add_error(parts[2], item["message"])
                continue
        if field in CONFIG_FIELDS and field != "config":
            item = {**item, "field": "config"}
        rest.append(item)
    if rest:
        apply_domain_error(form, DomainError(error.message, errors=rest))


def _scheme_form_view(request: HttpRequest, scheme: Scheme | None) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "grading.admin")
    creating = scheme is None
    if request.method == "POST":
        data: QueryDict = request.POST
        if "add_tier" in data:  # one more blank row, nothing saved yet
            data = _with_one_more_row(data)
        form = SchemeForm(data, creating=creating)
        formset = TierFormSet(data, prefix="tiers")
        if "add_tier" not in request.POST and form.is_valid() and formset.is_valid():
            try:
                saved = services.scheme_save(
                    actor=actor,
                    values=form.values(),
                    tiers=formset.tier_values(),
                    scheme=scheme,
                    version=form.cleaned_data.get("version"),
                )
            except DomainError as error:
                _apply_save_error(form, formset, error)
            else:
                messages.success(
                    request, _("Scheme %(name)s saved.") % {"name": saved.name(_language())}
                )
                return redirect("grading:scheme", pk=saved.pk)
    elif scheme is not None:
        form = SchemeForm(initial=SchemeForm.initial_of(scheme), creating=False)
        formset = TierFormSet(
            initial=[TierForm.initial_of(tier) for tier in scheme.tiers.all()], prefix="tiers"
        )
    else:
        form = SchemeForm(
            initial={"method": Method.THRESHOLDS, "is_active": True, "config": "{}"},
            creating=True,
        )
        formset = TierFormSet(prefix="tiers")
    context = {
        "form": form,
        "formset": formset,
        "scheme": scheme,
        "name": scheme.name(_language()) if scheme else "",
        "metrics": list(CATALOGUE.values()),
        "schedules": Schedule.choices,
    }
    return render(request, "grading/scheme_form.html", context)


def _with_one_more_row(data: QueryDict) -> QueryDict:
    """The posted data plus a blank tier row holding the form's defaults (so it stays blank)."""
    copy = data.copy()
    total = copy.get("tiers-TOTAL_FORMS", "0")
    index = int(total) if total.isdigit() else 0
    copy["tiers-TOTAL_FORMS"] = str(index + 1)
    for name, field in TierForm.base_fields.items():
        if field.initial is not None:
            copy[f"tiers-{index}-{name}"] = str(field.initial)
    return copy


@login_required
def scheme_create_view(request: HttpRequest) -> HttpResponse:
    return _scheme_form_view(request, None)


@login_required
def scheme_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "grading.admin")
    return _scheme_form_view(request, selectors.scheme_get(actor=actor, pk=pk))


def _start(request: HttpRequest, pk: int, *, preview: bool) -> HttpResponse:
    actor = page_actor(request)
    scheme = selectors.scheme_get(actor=actor, pk=pk)
    try:
        run = services.evaluation_start(actor=actor, scheme=scheme, preview=preview)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("grading:scheme", pk=scheme.pk)
    return redirect("grading:run", pk=run.pk)


@login_required
@require_POST
def scheme_preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _start(request, pk, preview=True)


@login_required
@require_POST
def scheme_evaluate_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _start(request, pk, preview=False)


# --- runs --------------------------------------------------------------------------------------


def _preview(run_result: dict[str, Any], tiers: list[Tier], language: str) -> dict[str, Any]:
    """The preview's moves as a matrix (rows: current tier, columns: new tier) and examples."""
    known = {tier.pk: tier for tier in tiers}
    keys: list[int | None] = [tier.pk for tier in tiers]
    moves = run_result.get("moves") or []
    for move in moves:  # tiers removed since the run still get a row and a column
        for key in (move.get("from"), move.get("to")):
            if key is not None and key not in keys:
                keys.append(key)
    keys.append(None)

    def label(key: int | None) -> str:
        if key is None:
            return _("Not graded")
        tier = known.get(key)
        return tier.name(language) if tier else _("Removed tier #%(id)s") % {"id": key}

    counts = {(move.get("from"), move.get("to")): int(move.get("customers") or 0) for move in moves}
    rows = [
        {
            "label": label(source),
            "key": source,
            "cells": [
                {"count": counts.get((source, target), 0), "diagonal": source == target}
                for target in keys
            ],
            "total": sum(counts.get((source, target), 0) for target in keys),
        }
        for source in keys
    ]
    examples = run_result.get("examples") or {}
    changes = [
        {
            "from": label(move.get("from")),
            "to": label(move.get("to")),
            "customers": int(move.get("customers") or 0),
            "examples": examples.get(f"{move.get('from')}->{move.get('to')}", []),
        }
        for move in sorted(
            moves, key=lambda m: (keys.index(m.get("from")), keys.index(m.get("to")))
        )
        if move.get("from") != move.get("to")
    ]
    return {
        "columns": [label(key) for key in keys],
        "rows": rows,
        "changes": changes,
        "moved": sum(change["customers"] for change in changes),
        "total": sum(counts.values()),
    }


@login_required
@require_GET
def run_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A run's progress; polls itself (the `run` partial) while it is queued or running."""
    actor = page_actor(request)
    require_perm(actor, "grading.view")
    run = selectors.run_get(actor=actor, pk=pk)
    language = _language()
    running = run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    preview = None
    if run.is_preview and run.status == RunStatus.COMPLETED:
        preview = _preview(run.result or {}, list(run.scheme.tiers.all()), language)
    context = {
        "run": run,
        "scheme_name": run.scheme.name(language),
        "running": running,
        "preview": preview,
        "can_evaluate": has_perm(actor, "grading.edit"),
    }
    if _is_htmx(request):
        return render(request, "grading/run.html#run", context)
    return render(request, "grading/run.html", context)


# --- a customer's grades (fragment of the customer 360 page) ----------------------------------


def _override_ids(scheme_id: int) -> str:
    """Field ids of an override form, new on each render.

    htmx "settles" elements whose id survives a swap by copying attributes, `style` among
    them, which the Content-Security-Policy refuses; fresh ids keep it from trying.
    """
    return f"override-{scheme_id}-{secrets.token_hex(3)}-%s"


def _reading(reading: dict[str, Any]) -> dict[str, Any]:
    """A metric reading ready to show: grouped digits, and a label for quantile scores."""
    value, label = reading["value"], reading["label"]
    try:
        number = Decimal(str(value)) if not isinstance(value, bool) and value is not None else None
    except InvalidOperation:
        number = None
    if number is not None and number.is_finite():
        places = 0 if number == number.to_integral_value() else 2
        value = number_format(number, places, force_grouping=True)
    if label == reading["name"] and label.endswith("_score"):
        label = _("%(dimension)s score") % {"dimension": label.removesuffix("_score").upper()}
    return {**reading, "value": value, "label": label}


def _grades_fragment(
    request: HttpRequest,
    actor: User,
    customer: Any,
    bound: OverrideForm | None = None,
) -> HttpResponse:
    language = _language()
    grades = selectors.customer_grades(actor=actor, customer=customer)
    can_override = has_perm(actor, "grading.edit")
    tiers = (
        selectors.tiers_by_scheme(scheme_ids=[item["scheme"].pk for item in grades])
        if can_override
        else {}
    )
    cards = []
    for item in grades:
        scheme, grade = item["scheme"], item["grade"]
        form = None
        if can_override:
            if bound is not None and bound.data.get("scheme") == str(scheme.pk):
                form = bound
            else:
                form = OverrideForm(
                    initial={"scheme": scheme.pk, "tier": grade.tier_id},
                    tiers=tiers.get(scheme.pk, []),
                    language=language,
                    auto_id=_override_ids(scheme.pk),
                )
        cards.append(
            {
                **item,
                "readings": [_reading(reading) for reading in item["readings"]],
                "scheme_name": scheme.name(language),
                "tier_name": _tier_name(item["tier"], language),
                "rule_tier_name": _tier_name(item["rule_tier"], language),
                "form": form,
            }
        )
    history = [
        {
            "change": change,
            "scheme_name": change.scheme.name(language),
            "from": _tier_name(change.from_tier, language),
            "to": _tier_name(change.to_tier, language),
            "from_color": change.from_tier.color if change.from_tier else "light",
            "to_color": change.to_tier.color if change.to_tier else "light",
        }
        for change in selectors.customer_grade_history(customer=customer, limit=HISTORY_LIMIT)
    ]
    context = {
        "customer": customer,
        "cards": cards,
        "history": history,
        "can_override": can_override,
    }
    return render(request, "grading/customer_grades.html", context)


@login_required
@require_GET
def customer_grades_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = page_actor(request)
    customer = customer_get(actor=actor, pk=customer_id)
    return _grades_fragment(request, actor, customer)


@login_required
@require_POST
def customer_override_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Set (or, with action=clear, end) an override; htmx gets the fragment and a toast."""
    actor = page_actor(request)
    require_perm(actor, "grading.edit")
    customer = customer_get(actor=actor, pk=customer_id)
    scheme_id = request.POST.get("scheme", "")
    scheme = selectors.scheme_get(actor=actor, pk=int(scheme_id) if scheme_id.isdigit() else 0)
    clearing = request.POST.get("action") == "clear"
    form = OverrideForm(
        request.POST,
        tiers=list(scheme.tiers.all()),
        language=_language(),
        auto_id=_override_ids(scheme.pk),
    )
    done, failed = "", ""
    try:
        if clearing:
            services.grade_override(
                actor=actor, customer=customer, scheme=scheme, tier=None, reason=""
            )
            done = _("Override cleared.")
        elif form.is_valid():
            services.grade_override(
                actor=actor,
                customer=customer,
                scheme=scheme,
                tier=selectors.tier_get(scheme=scheme, pk=form.cleaned_data["tier"]),
                reason=form.cleaned_data["reason"],
                expires_at=form.expires_at(),
            )
            done = _("Override saved.")
    except DomainError as error:
        if clearing:
            failed = error.message
        else:
            apply_domain_error(form, error)
    if not _is_htmx(request):
        if done:
            messages.success(request, done)
        else:
            messages.error(request, failed or _("Please correct the override form."))
        return redirect("customers:detail", pk=customer.pk)
    response = _grades_fragment(request, actor, customer, None if done or clearing else form)
    if done:
        return _toast(response, done)
    return _toast(response, failed, "danger") if failed else response


# --- follow-ups and notifications --------------------------------------------------------------


def _follow_up_rows(queryset: Any, today: dt.date) -> tuple[list[dict[str, Any]], bool]:
    language = _language()
    found = list(queryset[: FOLLOW_UP_LIMIT + 1])
    rows = [
        {
            "follow_up": follow_up,
            "tier_name": follow_up.tier.name(language) if follow_up.tier else "",
            "overdue": follow_up.due_on < today,
            "due_today": follow_up.due_on == today,
        }
        for follow_up in found[:FOLLOW_UP_LIMIT]
    ]
    return rows, len(found) > FOLLOW_UP_LIMIT


def _notification_rows(actor: User) -> tuple[list[dict[str, Any]], bool]:
    """The newest unread notifications (and whether there are more than shown)."""
    language = _language()
    found = list(
        selectors.notification_list(actor=actor, unread_only=True)[: NOTIFICATION_LIMIT + 1]
    )
    rows = []
    for notification in found[:NOTIFICATION_LIMIT]:
        change = notification.change
        rows.append(
            {
                "notification": notification,
                "customer": notification.customer,
                "change": change,
                "scheme_name": change.scheme.name(language) if change else "",
                "from": _tier_name(change.from_tier, language) if change else "",
                "to": _tier_name(change.to_tier, language) if change else "",
            }
        )
    return rows, len(found) > NOTIFICATION_LIMIT


@login_required
@require_GET
def follow_up_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "customers.view")
    today = timezone.localdate()
    mine, mine_truncated = _follow_up_rows(
        selectors.follow_up_list(actor=actor, owner_id=actor.pk), today
    )
    is_manager = data_scope_of(actor) not in (None, OWN)
    notifications, more_notifications = _notification_rows(actor)
    context: dict[str, Any] = {
        "today": today,
        "mine": mine,
        "mine_truncated": mine_truncated,
        "limit": FOLLOW_UP_LIMIT,
        "is_manager": is_manager,
        "notifications": notifications,
        "more_notifications": more_notifications,
        "notification_limit": NOTIFICATION_LIMIT,
    }
    if is_manager:
        owner = request.GET.get("owner", "")
        owner_id = int(owner) if owner.isdigit() else None
        team, team_truncated = (
            _follow_up_rows(selectors.follow_up_list(actor=actor, owner_id=owner_id), today)
            if owner_id is not None
            else ([], False)
        )
        context.update(
            {
                "owners": [
                    row
                    for row in selectors.overdue_counts_by_owner(actor=actor, today=today)
                    if row["owner_id"] is not None
                ],
                "owner_id": owner_id,
                "team": team,
                "team_truncated": team_truncated,
            }
        )
    return render(request, "grading/follow_ups.html", context)


@login_required
@require_POST
def follow_up_done_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a follow-up; htmx gets an empty answer (the row goes away) and a toast."""
    actor = page_actor(request)
    follow_up = selectors.follow_up_get(actor=actor, pk=pk)
    try:
        services.follow_up_close(actor=actor, follow_up=follow_up)
    except DomainError as error:
        if _is_htmx(request):
            return _toast(HttpResponse(status=204), error.message, "danger")
        messages.error(request, error.message)
    else:
        if _is_htmx(request):
            return _toast(HttpResponse(""), _("Follow-up done."))
        messages.success(request, _("Follow-up done."))
    return redirect(reverse("grading:follow-ups") + _back_query(request))


def _back_query(request: HttpRequest) -> str:
    owner = request.POST.get("owner", "")
    return f"?owner={owner}" if owner.isdigit() else ""


@login_required
@require_POST
def notifications_read_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    count = services.notifications_mark_read(actor=actor)
    messages.success(request, _("%(count)s notifications marked read.") % {"count": count})
    return redirect("grading:follow-ups")


# --- reports -----------------------------------------------------------------------------------


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


@login_required
@require_GET
def scheme_reports_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "grading.view")
    scheme = selectors.scheme_get(actor=actor, pk=pk)
    language = _language()
    tiers = list(scheme.tiers.all())
    known = {tier.pk: tier for tier in tiers}

    snapshots = selectors.distribution_over_time(scheme=scheme)
    keys: list[int | None] = [tier.pk for tier in tiers]
    if any(None in snapshot["counts"] for snapshot in snapshots):
        keys.append(None)
    distribution = {
        "labels": [
            timezone.localtime(snapshot["taken_at"]).strftime("%Y-%m-%d %H:%M")
            for snapshot in snapshots
        ],
        "series": [
            {
                "name": _tier_name(known.get(key) if key is not None else None, language),
                "color": HEX.get(known[key].color, UNGRADED_HEX) if key in known else UNGRADED_HEX,
                "data": [snapshot["counts"].get(key, 0) for snapshot in snapshots],
            }
            for key in keys
        ],
    }

    period = PeriodForm(request.GET or None)
    start, end = period.period()
    moves = selectors.migration_between(scheme=scheme, start=_end_of(start), end=_end_of(end))
    migration_keys: list[int | None] = [tier.pk for tier in tiers]
    for move in moves:
        for key in (move["from"], move["to"]):
            if key not in migration_keys and key is not None:
                migration_keys.append(key)
    migration_keys.append(None)
    counts = {(move["from"], move["to"]): move["customers"] for move in moves}

    def label(key: int | None) -> str:
        if key is None:
            return _("Not graded")
        tier = known.get(key)
        return tier.name(language) if tier else _("Removed tier #%(id)s") % {"id": key}

    migration = {
        "columns": [label(key) for key in migration_keys],
        "rows": [
            {
                "label": label(source),
                "cells": [
                    {"count": counts.get((source, target), 0), "diagonal": source == target}
                    for target in migration_keys
                ],
            }
            for source in migration_keys
        ],
        "total": sum(counts.values()),
    }

    effort = [
        {
            **row,
            "name": label(row["tier_id"]),
            "color": row["tier"].color if row["tier"] else "light",
            "kotler_label": KOTLER.get(row["kotler"], row["kotler"]),
        }
        for row in selectors.effort_and_value(scheme=scheme)
    ]
    effort_chart = {
        "tiers": [row["name"] for row in effort],
        "series": [
            {
                "name": str(name),
                "color": color,
                "data": [round(float(row[f"{key}_share"]), 1) for row in effort],
            }
            for key, name, color in (
                ("customers", _("Customers"), HEX["secondary"]),
                ("revenue", _("Revenue, 12 months"), HEX["primary"]),
                ("margin", _("Margin, 12 months"), HEX["success"]),
                ("interactions", _("Interactions, 90 days"), "#fd7e14"),
            )
        ],
        "unit": "%",
    }
    context = {
        "scheme": scheme,
        "name": scheme.name(language),
        "distribution": distribution,
        "has_distribution": bool(snapshots),
        "period": period,
        "start": start,
        "end": end,
        "migration": migration,
        "effort": effort,
        "effort_chart": effort_chart,
    }
    return render(request, "grading/reports.html", context)
