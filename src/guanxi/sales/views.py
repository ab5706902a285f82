"""Sales pages: the board per pipeline (drag a card to change stage), the deal list, the
deal page (edit, move, close, lines, competitors, log a call or visit, history), reports,
pipeline administration, and the opportunities panel of the customer 360 page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format_value
from django.utils.dateparse import parse_date
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.accounts.auth import page_actor
from guanxi.accounts.models import User
from guanxi.accounts.selectors import team_list
from guanxi.commerce.selectors import product_list
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.history import history_rows
from guanxi.core.pagination import BadCursor, Page, keyset_page
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.selectors import assignable_users, customer_contacts, customer_get
from guanxi.sales import selectors, services
from guanxi.sales.forms import (
    CloseForm,
    CompetitorForm,
    LineForm,
    LogForm,
    OpportunityForm,
    PipelineForm,
    StageForm,
    TargetForm,
)
from guanxi.sales.models import ForecastCategory, Heat, Opportunity, OpportunityStatus

PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _date(value: str | None) -> dt.date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _query_without_cursor(params: QueryDict) -> str:
    return urlencode([(key, value) for key, value in params.items() if key != "cursor" and value])


def _viewer(request: HttpRequest) -> User:
    actor = page_actor(request)
    require_perm(actor, "sales.view")
    return actor


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _filters(params: QueryDict) -> selectors.OpportunityFilters:
    return selectors.OpportunityFilters(
        pipeline_id=_int(params.get("pipeline")),
        stage_id=_int(params.get("stage")),
        status=params.get("status", "") if params.get("status") in OpportunityStatus else "",
        owner_id=_int(params.get("owner")),
        customer_id=_int(params.get("customer")),
        heat=params.get("heat", "") if params.get("heat") in Heat else "",
        source=params.get("source", "")[:40].strip(),
        close_from=_date(params.get("close_from")),
        close_to=_date(params.get("close_to")),
        q=params.get("q", "")[:50].strip(),
        sort=params.get("sort", "-created"),
    )


# --- board ----------------------------------------------------------------------------------


_HEAT_BADGE = {Heat.HOT: "danger", Heat.WARM: "warning"}
_PK = 2_147_483_647  # a placeholder pk: reversed once, then replaced by each card's


def money_text() -> Callable[[Any], str]:
    """Format money as the template filter floatformat:"2g" does in the active language, for
    many values: the locale's separators are read once, not once per value."""
    decimal_point = str(get_format("DECIMAL_SEPARATOR"))
    thousands = str(get_format("THOUSAND_SEPARATOR"))
    grouping = get_format("NUMBER_GROUPING")
    if thousands and grouping != 3:
        return lambda value: floatformat(value, "2g")

    def text(value: Any) -> str:
        cents = Decimal(value).quantize(selectors.CENT, ROUND_HALF_UP)
        plain = f"{cents:,.2f}" if thousands else f"{cents:.2f}"
        return plain.replace(",", "\0").replace(".", decimal_point).replace("\0", thousands)

    return text


def _board_cards(columns: list[selectors.Column]) -> None:
    """Turn each column's card values into what the card shows, formatted once here rather
    than by a filter, tag or translation lookup per card in the template."""
    money = money_text()
    date_format = get_format("SHORT_DATE_FORMAT")
    heat_labels = {value: str(label) for value, label in Heat.choices}
    detail_url = reverse("sales:detail", args=[_PK]).replace(str(_PK), "{}")
    move_url = reverse("sales:move", args=[_PK]).replace(str(_PK), "{}")
    for column in columns:
        column.cards = [
            {  # numbers as text: the template would localize each through number_format
                "pk": str(card["pk"]),
                "name": card["name"],
                "stage_id": str(card["stage_id"]),
                "version": str(card["version"]),
                "url": detail_url.format(card["pk"]),
                "move_url": move_url.format(card["pk"]),
                "customer": card["customer__name"],
                "amount": money(card["amount"]),
                "heat": heat_labels.get(card["heat"], card["heat"]),
                "heat_badge": _HEAT_BADGE.get(card["heat"], "secondary"),
                "owner": _owner_label(card),
                "close": date_format_value(card["expected_close"], date_format)
                if card["expected_close"]
                else "",
            }
            for card in column.cards
        ]


def _owner_label(card: dict[str, Any]) -> str:
    """As str(User): display name, else full name, else username; "—" without an owner."""
    if card["owner_id"] is None:
        return "—"
    full_name = f"{card['owner__first_name']} {card['owner__last_name']}".strip()
    return card["owner__display_name"] or full_name or card["owner__username"]


def _board_context(actor: User, pipeline: Any, params: QueryDict) -> dict[str, Any]:
    filters = _filters(params)
    columns = selectors.board(actor=actor, pipeline=pipeline, filters=filters, card_values=True)
    _board_cards(columns)
    can_edit = has_perm(actor, "sales.edit")
    return {
        "pipeline": pipeline,
        "pipelines": selectors.pipeline_list(),
        "columns": columns,
        "filters": filters,
        "can_edit": can_edit,
        "draggable": "true" if can_edit else "false",
        "can_create": has_perm(actor, "sales.create"),
        "board_cards": selectors.BOARD_CARDS,
    }


@login_required
@require_GET
def board_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The pipeline's open deals in one column per stage; the default pipeline without a pk."""
    actor = _viewer(request)
    pipeline = selectors.pipeline_get(pk=pk or _int(request.GET.get("pipeline")))
    context = _board_context(actor, pipeline, request.GET)
    if _htmx(request) and request.headers.get("HX-Target") == "board":
        return render(request, "sales/board.html#board", context)
    return render(request, "sales/board.html", context)


@login_required
@require_POST
def opportunity_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Drop a card on a stage (HTMX): answers the re-read board, with the refusal on top and
    a 4xx status when the move is refused, so the card goes back where it was."""
    actor = _viewer(request)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    status = 200
    error = ""
    try:
        stage = selectors.stage_get(
            pipeline_id=opportunity.pipeline_id, pk=_int(request.POST.get("stage")) or 0
        )
        services.opportunity_move(
            actor=actor,
            opportunity=opportunity,
            stage=stage,
            version=_int(request.POST.get("version")),
        )
    except DomainError as refusal:
        status, error = refusal.status, refusal.message
    except PermissionDenied:
        status, error = 403, _("You may not change this deal.")
    except Http404:
        status, error = 400, _("That stage is not part of this pipeline.")
    if not _htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("The deal changed stage."))
        return redirect("sales:detail", pk=pk)
    context = _board_context(actor, opportunity.pipeline, QueryDict())
    context["error"] = error
    context["moved"] = str(opportunity.pk) if not error else None
    return render(request, "sales/board.html#board", context, status=status)


# --- list -----------------------------------------------------------------------------------


def _page(queryset: Any, request: HttpRequest, ordering: tuple[str, ...]) -> Page[Any]:
    try:
        return keyset_page(
            queryset, cursor=request.GET.get("cursor"), limit=PAGE_SIZE, ordering=ordering
        )
    except BadCursor:
        return keyset_page(queryset, limit=PAGE_SIZE, ordering=ordering)


@login_required
@require_GET
def opportunity_list_view(request: HttpRequest) -> HttpResponse:
    actor = _viewer(request)
    filters = _filters(request.GET)
    page = _page(
        selectors.opportunity_list(actor=actor, filters=filters), request, filters.ordering
    )
    context = {
        "page": page,
        "filters": filters,
        "query": _query_without_cursor(request.GET),
        "pipelines": selectors.pipeline_list(),
        "statuses": OpportunityStatus.choices,
        "heats": Heat.choices,
        "can_create": has_perm(actor, "sales.create"),
    }
    if _htmx(request):
        return render(request, "sales/list.html#rows", context)
    return render(request, "sales/list.html", context)


# --- create and the deal page ---------------------------------------------------------------


@login_required
def opportunity_create_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "sales.create")
    customer = customer_get(actor=actor, pk=customer_id)
    contacts = customer_contacts(customer=customer)
    form = OpportunityForm(request.POST or None, contacts=contacts)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        contact_id = values.pop("contact")
        try:
            opportunity = services.opportunity_create(
                actor=actor,
                customer=customer,
                contact=next((c for c in contacts if c.pk == contact_id), None),
                **values,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Opportunity created."))
            return redirect("sales:detail", pk=opportunity.pk)
    return render(request, "sales/create.html", {"form": form, "customer": customer})


def _detail_context(actor: User, opportunity: Opportunity, **forms: Any) -> dict[str, Any]:
    contacts = customer_contacts(customer=opportunity.customer)
    reasons = services.close_reasons()
    can_edit = has_perm(actor, "sales.edit")
    initial = {
        "name": opportunity.name,
        "amount": opportunity.amount,
        "contact": opportunity.contact_id,
        "expected_close": opportunity.expected_close,
        "source": opportunity.source,
        "heat": opportunity.heat,
        "forecast_category": opportunity.forecast_category,
        "next_step": opportunity.next_step,
        "description": opportunity.description,
        "version": opportunity.version,
    }
    return {
        "opportunity": opportunity,
        "stages": selectors.stage_list(pipeline=opportunity.pipeline),
        "can_edit": can_edit and opportunity.status == OpportunityStatus.OPEN,
        "can_reopen": can_edit and opportunity.status != OpportunityStatus.OPEN,
        "can_log": has_perm(actor, "interactions.create"),
        "history": selectors.history_named(history_rows(opportunity, limit=50)),
        "timeline_url": reverse("interactions:timeline", args=[opportunity.customer_id])
        if has_perm(actor, "interactions.view")
        else None,
        "edit_form": forms.get("edit_form") or OpportunityForm(initial=initial, contacts=contacts),
        "close_form": forms.get("close_form")
        or CloseForm(initial={"version": opportunity.version}, reasons=reasons),
        "line_form": forms.get("line_form")
        or LineForm(
            initial={"version": opportunity.version},
            products=list(product_list(actor=actor, active_only=True)[:500]),
        ),
        "competitor_form": forms.get("competitor_form") or CompetitorForm(),
        "log_form": forms.get("log_form") or LogForm(),
        "quotes": selectors.opportunity_quotes(opportunity=opportunity),
        **selectors.opportunity_detail(opportunity=opportunity),
    }


@login_required
@require_GET
def opportunity_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    return render(request, "sales/detail.html", _detail_context(actor, opportunity))


def _refused(request: HttpRequest, actor: User, pk: int, name: str, form: Any) -> HttpResponse:
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    context = _detail_context(actor, opportunity, **{name: form})
    context["open_section"] = name
    return render(request, "sales/detail.html", context, status=400)


@login_required
@require_POST
def opportunity_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    form = OpportunityForm(request.POST, contacts=customer_contacts(customer=opportunity.customer))
    if form.is_valid():
        try:
            services.opportunity_update(
                actor=actor,
                opportunity=opportunity,
                values=form.values(),
                version=form.cleaned_data.get("version"),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:detail", pk=pk)
    return _refused(request, actor, pk, "edit_form", form)


@login_required
@require_POST
def opportunity_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    form = CloseForm(request.POST, reasons=services.close_reasons())
    if form.is_valid():
        try:
            services.opportunity_close(
                actor=actor,
                opportunity=selectors.opportunity_get(actor=actor, pk=pk),
                status=form.cleaned_data["status"],
                reason=selectors.close_reason_get(pk=form.cleaned_data["reason"]),
                note=form.cleaned_data["note"],
                version=form.cleaned_data.get("version"),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The deal is closed."))
            return redirect("sales:detail", pk=pk)
    return _refused(request, actor, pk, "close_form", form)


@login_required
@require_POST
def opportunity_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    try:
        services.opportunity_reopen(
            actor=actor,
            opportunity=selectors.opportunity_get(actor=actor, pk=pk),
            version=_int(request.POST.get("version")),
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("sales:detail", pk=pk)


@login_required
@require_POST
def opportunity_line_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    form = LineForm(request.POST, products=list(product_list(actor=actor, active_only=True)[:500]))
    if form.is_valid():
        existing = [
            {
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
            }
            for line in opportunity.lines.all()
        ]
        data = form.cleaned_data
        new = {
            "product_id": data["product"],
            "quantity": data["quantity"],
            "unit_price": data["unit_price"],
            "discount": data["discount"] or 0,
        }
        try:
            services.opportunity_lines_set(
                actor=actor,
                opportunity=opportunity,
                lines=[*existing, new],
                version=data.get("version"),
            )
        except DomainError as error:
            apply_domain_error(form, error)
            for item in error.errors:
                form.add_error(None, item["message"])
        else:
            return redirect("sales:detail", pk=pk)
    return _refused(request, actor, pk, "line_form", form)


@login_required
@require_POST
def opportunity_line_remove_view(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    actor = _viewer(request)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    kept = [
        {
            "product_id": line.product_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount": line.discount,
        }
        for line in opportunity.lines.all()
        if line.pk != line_id
    ]
    try:
        services.opportunity_lines_set(actor=actor, opportunity=opportunity, lines=kept)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("sales:detail", pk=pk)


@login_required
@require_POST
def opportunity_competitor_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    form = CompetitorForm(request.POST)
    if form.is_valid():
        try:
            services.opportunity_competitor_set(
                actor=actor,
                opportunity=selectors.opportunity_get(actor=actor, pk=pk),
                competitor_name=form.cleaned_data["name"],
                strengths=form.cleaned_data["strengths"],
                weaknesses=form.cleaned_data["weaknesses"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return redirect("sales:detail", pk=pk)
    return _refused(request, actor, pk, "competitor_form", form)


@login_required
@require_POST
def opportunity_competitor_remove_view(request: HttpRequest, pk: int, row_id: int) -> HttpResponse:
    actor = _viewer(request)
    services.opportunity_competitor_remove(
        actor=actor, opportunity=selectors.opportunity_get(actor=actor, pk=pk), pk=row_id
    )
    return redirect("sales:detail", pk=pk)


@login_required
@require_POST
def opportunity_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a call or visit from the deal page: it lands on the customer's timeline."""
    actor = _viewer(request)
    form = LogForm(request.POST)
    if form.is_valid():
        try:
            services.opportunity_log_interaction(
                actor=actor,
                opportunity=selectors.opportunity_get(actor=actor, pk=pk),
                channel=form.cleaned_data["channel"],
                summary=form.cleaned_data["summary"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Logged on the customer's timeline."))
            return redirect("sales:detail", pk=pk)
    return _refused(request, actor, pk, "log_form", form)


# --- customer 360 panel ---------------------------------------------------------------------


@login_required
@require_GET
def customer_panel_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's deals as a card of the 360 page; 204 without sales.view."""
    actor = page_actor(request)
    if not has_perm(actor, "sales.view"):
        return HttpResponse(status=204)
    customer = customer_get(actor=actor, pk=customer_id)
    context = {
        "customer": customer,
        "opportunities": selectors.customer_opportunities(actor=actor, customer_id=customer.pk),
        "can_create": has_perm(actor, "sales.create"),
    }
    return render(request, "sales/customer_panel.html", context)


# --- reports --------------------------------------------------------------------------------


def _chart_data(funnel: dict[str, Any], forecast: list[Any]) -> dict[str, Any]:
    by_period: dict[str, dict[str, float]] = {}
    for row in forecast:
        bucket = by_period.setdefault(
            row.period_label, {"weighted": 0.0, "commit": 0.0, "best_case": 0.0}
        )
        bucket["weighted"] += float(row.weighted)
        bucket["commit"] += float(row.commit)
        bucket["best_case"] += float(row.best_case)
    periods = sorted(by_period)
    return {
        "funnel": {
            "labels": [row.stage.label for row in funnel["rows"]],
            "values": [row.reached for row in funnel["rows"]],
        },
        "forecast": {
            "periods": periods,
            "series": [
                {"name": str(label), "data": [round(by_period[p][key], 2) for p in periods]}
                for key, label in (
                    ("weighted", _("Weighted")),
                    ("commit", ForecastCategory.COMMIT.label),
                    ("best_case", ForecastCategory.BEST_CASE.label),
                )
            ],
        },
    }


@login_required
@require_GET
def dashboard_panel_view(request: HttpRequest) -> HttpResponse:
    """The dashboard's panel: the actor's open deals and those closing this month."""
    figures = selectors.dashboard_figures(actor=_viewer(request))
    return render(request, "sales/dashboard_panel.html", figures)


@login_required
@require_GET
def reports_view(request: HttpRequest) -> HttpResponse:
    """Funnel, weighted forecast, win/loss and the targets leaderboard on one page."""
    actor = _viewer(request)
    params = request.GET
    pipeline = selectors.pipeline_get(pk=_int(params.get("pipeline")))
    today = timezone.localdate()
    date_from = _date(params.get("from")) or today.replace(day=1)
    date_to = _date(params.get("to")) or (date_from + dt.timedelta(days=366))
    period = params.get("period") or "month"
    period = period if period in selectors.PERIODS else "month"
    group = params.get("group") or "owner"
    group = group if group in selectors.GROUPS else "owner"
    by = params.get("by") or "reason"
    by = by if by in {"reason", "source", "competitor"} else "reason"
    funnel = selectors.funnel(actor=actor, pipeline=pipeline)
    forecast = selectors.forecast(
        actor=actor,
        date_from=date_from,
        date_to=date_to,
        period=period,
        group=group,
        pipeline=pipeline,
    )
    context = {
        "pipeline": pipeline,
        "pipelines": selectors.pipeline_list(),
        "funnel": funnel,
        "forecast": forecast,
        "win_loss": selectors.win_loss(actor=actor, by=by),
        "leaderboard": selectors.targets_attainment(actor=actor),
        "chart_data": _chart_data(funnel, forecast),
        "params": {"from": date_from, "to": date_to, "period": period, "group": group, "by": by},
        "can_admin": has_perm(actor, "sales.admin"),
        "target_form": TargetForm(
            users=list(assignable_users(actor=actor)[:500]), teams=list(team_list(actor=actor))
        )
        if has_perm(actor, "sales.admin")
        else None,
    }
    return render(request, "sales/reports.html", context)


@login_required
@require_POST
def target_save_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "sales.admin")
    form = TargetForm(
        request.POST,
        users=list(assignable_users(actor=actor)[:500]),
        teams=list(team_list(actor=actor)),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.target_save(
                actor=actor,
                amount=data["amount"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                user=selectors.user_for_assignment(pk=data["user"]) if data["user"] else None,
                team=selectors.team_get(pk=data["team"]) if data["team"] else None,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Target saved."))
    else:
        messages.error(request, _("Please correct the target: every field but one of rep/team."))
    return redirect("sales:reports")


# --- pipelines (administration) -------------------------------------------------------------


@login_required
def pipeline_admin_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Edit pipelines and their stages (sales.admin)."""
    actor = page_actor(request)
    require_perm(actor, "sales.admin")
    pipeline = selectors.pipeline_get(pk=pk) if pk else None
    pipeline_form = PipelineForm(
        request.POST if request.method == "POST" and "pipeline" in request.POST else None,
        initial={
            "name": pipeline.name,
            "name_zh": pipeline.name_zh,
            "is_default": pipeline.is_default,
            "is_active": pipeline.is_active,
            "version": pipeline.version,
        }
        if pipeline
        else {"is_active": True},
    )
    stage_form = StageForm(
        request.POST if request.method == "POST" and "stage" in request.POST else None,
        initial={"probability": 10},
    )
    if request.method == "POST":
        try:
            if "pipeline" in request.POST and pipeline_form.is_valid():
                data = pipeline_form.cleaned_data
                pipeline = services.pipeline_save(
                    actor=actor,
                    pipeline=pipeline,
                    name=data["name"],
                    name_zh=data["name_zh"],
                    is_default=data["is_default"],
                    is_active=data["is_active"],
                    version=data.get("version"),
                )
                messages.success(request, _("Pipeline saved."))
                return redirect("sales:pipeline-admin", pk=pipeline.pk)
            if "stage" in request.POST and pipeline is not None and stage_form.is_valid():
                data = stage_form.cleaned_data
                stage_id = _int(request.POST.get("stage"))
                services.stage_save(
                    actor=actor,
                    pipeline=pipeline,
                    stage=selectors.stage_get(pipeline_id=pipeline.pk, pk=stage_id)
                    if stage_id
                    else None,
                    name=data["name"],
                    name_zh=data["name_zh"],
                    probability=data["probability"],
                    required_fields=data["required_fields"],
                    order=data["order"],
                )
                messages.success(request, _("Stage saved."))
                return redirect("sales:pipeline-admin", pk=pipeline.pk)
            if "delete_stage" in request.POST and pipeline is not None:
                services.stage_delete(
                    actor=actor,
                    stage=selectors.stage_get(
                        pipeline_id=pipeline.pk, pk=_int(request.POST.get("delete_stage")) or 0
                    ),
                )
                messages.success(request, _("Stage removed."))
                return redirect("sales:pipeline-admin", pk=pipeline.pk)
        except DomainError as error:
            messages.error(request, error.message)
    stages = selectors.stage_list(pipeline=pipeline) if pipeline else []
    context = {
        "pipeline": pipeline,
        "pipelines": selectors.pipeline_list(include_inactive=True),
        "pipeline_form": pipeline_form,
        "stage_form": stage_form,
        "stage_rows": [
            {
                "stage": stage,
                "form": StageForm(
                    initial={
                        "name": stage.name,
                        "name_zh": stage.name_zh,
                        "probability": stage.probability,
                        "order": stage.order,
                        "required_fields": stage.required_fields,
                    },
                    auto_id=f"s{stage.pk}_%s",
                ),
            }
            for stage in stages
        ],
    }
    return render(request, "sales/pipelines.html", context)


# --- quotes ---------------------------------------------------------------------------------


@login_required
@require_POST
def quote_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    try:
        quote = services.quote_create(
            actor=actor,
            opportunity=opportunity,
            valid_until=_date(request.POST.get("valid_until")),
            notes=request.POST.get("notes", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("sales:detail", pk=pk)
    return redirect("sales:quote", pk=quote.pk)


@login_required
@require_GET
def quote_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    quote = selectors.quote_get(actor=actor, pk=pk)
    context = {
        "quote": quote,
        **selectors.quote_parts(quote=quote),
        "can_edit": has_perm(actor, "sales.edit"),
        "can_decide": has_perm(actor, "sales.delete")
        and (quote.author_id != actor.pk or has_perm(actor, "sales.admin")),
        "can_view_invoices": has_perm(actor, "commerce.view"),
    }
    return render(request, "sales/quote.html", context)


@login_required
@require_POST
def quote_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Submit, approve, reject, accept (with a payment plan) or decline a quote."""
    actor = _viewer(request)
    quote = selectors.quote_get(actor=actor, pk=pk)
    version = _int(request.POST.get("version"))
    comment = request.POST.get("comment", "")
    try:
        if action == "submit":
            services.quote_submit(actor=actor, quote=quote, version=version)
        elif action in {"approve", "reject"}:
            services.quote_decide(
                actor=actor,
                quote=quote,
                approve=action == "approve",
                comment=comment,
                version=version,
            )
        elif action == "accept":
            plan = [
                {"due_on": due, "amount": amount}
                for due, amount in zip(
                    request.POST.getlist("due_on"), request.POST.getlist("amount"), strict=False
                )
                if due and amount
            ]
            services.quote_accept(actor=actor, quote=quote, instalments=plan, version=version)
        elif action == "decline":
            services.quote_decline(actor=actor, quote=quote, version=version)
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    except PermissionDenied:
        messages.error(request, _("You may not do this with this quote."))
    else:
        messages.success(request, _("Quote updated."))
    return redirect("sales:quote", pk=pk)


@login_required
@require_GET
def quote_print_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote as a printable page (?format=pdf: as PDF) in the chosen language."""
    from django.utils import translation

    from guanxi.sales.pdf import quote_pdf

    actor = _viewer(request)
    quote = selectors.quote_get(actor=actor, pk=pk)
    language = "zh-hans" if request.GET.get("lang", "").startswith("zh") else "en"
    parts = selectors.quote_parts(quote=quote)
    plan = selectors.quote_payment_plan(instalments=parts["instalments"])
    if request.GET.get("format") == "pdf":
        response = HttpResponse(
            quote_pdf(quote=quote, lines=parts["lines"], plan=plan, language=language),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = f'inline; filename="{quote.number}.pdf"'
        return response
    with translation.override(language):
        return render(request, "sales/quote_print.html", {"quote": quote, "plan": plan, **parts})
