"""Service desk pages: the agent's queue (keyset pages, bulk actions), a ticket with its
clocks, thread, notes and status actions (HTMX), the customer 360 panel, callbacks,
unmatched mail, attainment reports and the settings (categories, SLA policies, calendars,
agent groups and assignment rules)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.accounts.auth import page_actor
from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.pagination import BadCursor, Page, keyset_page
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.selectors import customer_get
from guanxi.interactions.files import download_response
from guanxi.service import callbacks, inbound, selectors, services
from guanxi.service.forms import (
    CalendarDaysForm,
    CallbackDoneForm,
    CategoryForm,
    GroupForm,
    PolicyForm,
    ReplyForm,
    RuleForm,
    TicketForm,
)
from guanxi.service.models import TicketPriority, TicketStatus

PAGE_SIZE = 50
QUEUE_LABELS = {
    "mine": gettext_lazy("My queue"),
    "unassigned": gettext_lazy("Unassigned"),
    "breach_soon": gettext_lazy("Breaching soon"),
    "team": gettext_lazy("All open"),
    "closed": gettext_lazy("Resolved and closed"),
}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _query_without_cursor(params: QueryDict) -> str:
    return urlencode([(key, value) for key, value in params.items() if key != "cursor" and value])


def _page(queryset: Any, request: HttpRequest) -> Page[Any]:
    try:
        return keyset_page(queryset, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except BadCursor:
        return keyset_page(queryset, limit=PAGE_SIZE)


def _viewer(request: HttpRequest) -> User:
    actor = page_actor(request)
    require_perm(actor, "service.view")
    return actor


@login_required
@require_GET
def dashboard_panel_view(request: HttpRequest) -> HttpResponse:
    """The dashboard's panel: the actor's open tickets, those breaching soon, the unassigned."""
    actor = _viewer(request)
    counts = {
        queue: selectors.ticket_list(
            actor=actor, filters=selectors.TicketFilters(queue=queue)
        ).count()
        for queue in ("mine", "breach_soon", "unassigned")
    }
    return render(request, "service/dashboard_panel.html", {"counts": counts})


@login_required
@require_GET
def queue_view(request: HttpRequest) -> HttpResponse:
    actor = _viewer(request)
    params = request.GET
    queue = params.get("queue") or "mine"
    if queue not in QUEUE_LABELS:
        queue = "mine"
    filters = selectors.TicketFilters(
        queue=queue,
        status=params.get("status", ""),
        priority=params.get("priority", ""),
        category_id=_int(params.get("category")),
        q=params.get("q", ""),
    )
    page = _page(selectors.ticket_queue_page(actor=actor, filters=filters), request)
    context = {
        "page": page,
        "filters": filters,
        "queue_url": reverse("service:queue"),  # row links: one reverse, not one per row
        "queues": list(QUEUE_LABELS.items()),
        "statuses": TicketStatus.choices,
        "priorities": TicketPriority.choices,
        "query": _query_without_cursor(params),
        "can_edit": has_perm(actor, "service.edit"),
        "agents": selectors.agent_choices(actor=actor) if has_perm(actor, "service.edit") else [],
        "memberships": selectors.my_memberships(actor),
    }
    template = "service/queue.html#rows" if request.htmx else "service/queue.html"  # type: ignore[attr-defined]  # django-htmx middleware
    return render(request, template, context)


@login_required
@require_POST
def availability_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The agent marks themselves away from / available for new tickets of one group."""
    actor = _viewer(request)
    membership = selectors.my_membership_get(actor=actor, pk=pk)
    services.membership_set_available(
        actor=actor, membership=membership, available=request.POST.get("available") == "1"
    )
    if request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware
        return render(
            request,
            "service/queue.html#availability",
            {"memberships": selectors.my_memberships(actor)},
        )
    return redirect("service:queue")


@login_required
@require_POST
def bulk_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    ids = [int(v) for v in request.POST.getlist("ticket") if v.isdigit()]
    tickets = selectors.ticket_list(
        actor=actor, filters=selectors.TicketFilters(queue="all")
    ).filter(pk__in=ids)
    action = request.POST.get("action", "")
    value: Any
    if action == "assign":
        agent_id = _int(request.POST.get("assignee"))
        value = selectors.agent_get(actor=actor, pk=agent_id) if agent_id else None
    else:
        value = request.POST.get("status", "")
    try:
        result = services.tickets_bulk(actor=actor, tickets=tickets, action=action, value=value)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(count)s tickets changed.") % {"count": result.changed})
        for refused in result.errors:
            messages.warning(request, f"{refused['field']}: {refused['message']}")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("service:queue")  # never back to a foreign site
    return redirect(target)


@login_required
def ticket_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "service.create")
    customer_id = _int(request.GET.get("customer") or request.POST.get("customer"))
    customer = customer_get(actor=actor, pk=customer_id or 0)
    categories = list(selectors.category_list())
    data = request.POST if request.method == "POST" else None
    form = TicketForm(
        data, request.FILES or None, categories=categories, initial={"customer": customer.pk}
    )
    if data is not None and form.is_valid():
        values = form.cleaned_data
        category_id = values.get("category")
        try:
            ticket = services.ticket_open(
                actor=actor,
                customer=customer,
                subject=values["subject"],
                description=values["description"],
                type=values["type"],
                priority=values["priority"],
                channel=values["channel"],
                category=selectors.category_get(pk=category_id) if category_id else None,
                files=request.FILES.getlist("attachments"),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
            return redirect("service:detail", pk=ticket.pk)
    return render(request, "service/ticket_form.html", {"form": form, "customer": customer})


def _detail_context(actor: User, pk: int, reply_form: ReplyForm | None = None) -> dict[str, Any]:
    ticket = selectors.ticket_get(actor=actor, pk=pk)
    return {
        "ticket": ticket,
        "clocks": selectors.ticket_clocks(ticket=ticket),
        "thread": list(selectors.ticket_messages(ticket=ticket)),
        "files": list(selectors.ticket_files(ticket=ticket)),
        "history": list(selectors.ticket_history(ticket=ticket)),
        "links": selectors.ticket_links(ticket=ticket),
        "transitions": [(s, TicketStatus(s).label) for s in ticket.allowed_transitions()],
        "reply_form": reply_form or ReplyForm(),
        "can_edit": has_perm(actor, "service.edit"),
        "agents": selectors.agent_choices(actor=actor) if has_perm(actor, "service.edit") else [],
    }


@login_required
@require_GET
def ticket_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _viewer(request)
    return render(request, "service/ticket_detail.html", _detail_context(actor, pk))


@login_required
@require_GET
def attachment_download_view(request: HttpRequest, pk: int) -> FileResponse:
    """A file on a visible ticket, as a download under its original name."""
    return download_response(selectors.attachment_get(actor=_viewer(request), pk=pk))


@login_required
@require_POST
def ticket_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    ticket = selectors.ticket_get(actor=actor, pk=pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_reply(
                actor=actor,
                ticket=ticket,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
                files=request.FILES.getlist("attachments"),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            form = ReplyForm()
    context = _detail_context(actor, pk, form)
    if request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware
        return render(request, "service/ticket_detail.html#workspace", context)
    return render(request, "service/ticket_detail.html", context)


@login_required
@require_POST
def ticket_transition_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    ticket = selectors.ticket_get(actor=actor, pk=pk)
    try:
        services.ticket_transition(
            actor=actor,
            ticket=ticket,
            status=request.POST.get("status", ""),
            version=_int(request.POST.get("version")),
        )
    except DomainError as error:
        messages.error(request, error.message)
    context = _detail_context(actor, pk)
    if request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware
        return render(request, "service/ticket_detail.html#workspace", context)
    return redirect("service:detail", pk=pk)


@login_required
@require_POST
def ticket_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    ticket = selectors.ticket_get(actor=actor, pk=pk)
    agent_id = _int(request.POST.get("assignee"))
    assignee = selectors.agent_get(actor=actor, pk=agent_id) if agent_id else None
    try:
        services.ticket_assign(actor=actor, ticket=ticket, assignee=assignee)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("service:detail", pk=pk)


@login_required
@require_GET
def customer_panel_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer 360 page's "Tickets" card; 204 (nothing swapped) without service.view."""
    actor = page_actor(request)
    if not has_perm(actor, "service.view"):
        return HttpResponse(status=204)
    customer = customer_get(actor=actor, pk=customer_id)
    context = {
        "customer": customer,
        "tickets": selectors.customer_tickets(actor=actor, customer=customer),
        "can_create": has_perm(actor, "service.create"),
    }
    return render(request, "service/customer_panel.html", context)


@login_required
@require_GET
def callback_list_view(request: HttpRequest) -> HttpResponse:
    actor = _viewer(request)
    context = {
        "callbacks": list(selectors.callback_list(actor=actor)[:200]),
        "form": CallbackDoneForm(),
    }
    return render(request, "service/callbacks.html", context)


@login_required
@require_POST
def callback_done_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    callback = selectors.callback_get(actor=actor, pk=pk)
    form = CallbackDoneForm(request.POST)
    if form.is_valid():
        try:
            callbacks.callback_complete(
                actor=actor,
                callback=callback,
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Callback recorded on the customer's timeline."))
    else:
        messages.error(request, _("Choose an outcome."))
    return redirect("service:callbacks")


@login_required
@require_GET
def inbound_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    return render(
        request,
        "service/inbound.html",
        {"mails": list(selectors.inbound_list(actor=actor)[:200])},
    )


@login_required
@require_POST
def inbound_settle_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    mail = selectors.inbound_get(actor=actor, pk=pk)
    ticket_number = request.POST.get("ticket", "").strip()
    ticket = None
    if ticket_number:
        found = (
            selectors.ticket_list(actor=actor, filters=selectors.TicketFilters(queue="all"))
            .filter(number__iexact=ticket_number)
            .first()
        )
        if found is None:
            messages.error(request, _("No ticket %(number)s.") % {"number": ticket_number})
            return redirect("service:inbound")
        ticket = found
    customer_id = _int(request.POST.get("customer"))
    customer = customer_get(actor=actor, pk=customer_id) if customer_id else None
    try:
        inbound.inbound_settle(
            actor=actor,
            mail=mail,
            ticket=ticket,
            customer=customer,
            discard=request.POST.get("discard") == "1",
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Mail handled."))
    return redirect("service:inbound")


@login_required
@require_GET
def report_view(request: HttpRequest) -> HttpResponse:
    actor = _viewer(request)
    context = {
        "reports": [
            (_("By tier (SLA class)"), selectors.sla_attainment(actor=actor, by="tier")),
            (_("By agent"), selectors.sla_attainment(actor=actor, by="agent")),
            (_("By category"), selectors.sla_attainment(actor=actor, by="category")),
        ]
    }
    return render(request, "service/reports.html", context)


def _settings_context(actor: User, **forms: Any) -> dict[str, Any]:
    categories = list(selectors.category_list())
    return {
        "policies": list(selectors.policy_list()),
        "calendars": list(selectors.calendar_list()),
        "categories": categories,
        "groups": list(selectors.group_list()),
        "rules": list(selectors.rule_list()),
        "policy_form": forms.get("policy_form") or PolicyForm(),
        "category_form": forms.get("category_form") or CategoryForm(categories=categories),
        "days_form": forms.get("days_form") or CalendarDaysForm(),
    }


@login_required
@require_GET
def settings_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "service.admin")
    return render(request, "service/settings.html", _settings_context(actor))


@login_required
@require_POST
def policy_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            services.policy_save(actor=actor, values=form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("SLA policy saved."))
            return redirect("service:settings")
    return render(request, "service/settings.html", _settings_context(actor, policy_form=form))


@login_required
@require_POST
def category_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    categories = list(selectors.category_list())
    form = CategoryForm(request.POST, categories=categories)
    if form.is_valid():
        parent_id = form.cleaned_data.get("parent")
        try:
            services.category_save(
                actor=actor,
                name=form.cleaned_data["name"],
                parent=selectors.category_get(pk=parent_id) if parent_id else None,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Category saved."))
            return redirect("service:settings")
    return render(request, "service/settings.html", _settings_context(actor, category_form=form))


@login_required
@require_POST
def calendar_days_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    calendar = selectors.calendar_get(pk=pk)
    form = CalendarDaysForm(request.POST)
    if form.is_valid():
        try:
            count = services.calendar_days_set(
                actor=actor,
                calendar=calendar,
                year=form.cleaned_data["year"],
                text=form.cleaned_data["text"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("%(count)s special days saved.") % {"count": count})
            return redirect("service:settings")
    return render(request, "service/settings.html", _settings_context(actor, days_form=form))


# --- agent groups and assignment rules ------------------------------------------------------


def _admin(request: HttpRequest) -> User:
    actor = page_actor(request)
    require_perm(actor, "service.admin")
    return actor


def _group_form(actor: User, data: Any = None, initial: Any = None) -> GroupForm:
    return GroupForm(
        data,
        initial=initial,
        teams=selectors.team_choices(),
        agents=list(selectors.agent_choices(actor=actor)),
    )


@login_required
def group_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or change an agent group: name, team, escalation manager, members."""
    actor = _admin(request)
    group = selectors.group_list().filter(pk=pk).first() if pk is not None else None
    if pk is not None and group is None:
        raise Http404
    if request.method != "POST":
        form = _group_form(actor, initial=GroupForm.initial_of(group) if group else None)
        return render(request, "service/group_form.html", {"form": form, "group": group})
    form = _group_form(actor, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.group_save(
                actor=actor,
                name=data["name"],
                team=selectors.team_find(data["team"]) if data["team"] else None,
                manager=selectors.agent_get(actor=actor, pk=data["manager"])
                if data["manager"]
                else None,
                members=data["members"],
                away=form.away_ids,
                group=group,
                version=data.get("version") if group else None,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Agent group saved."))
            return redirect("service:settings")
    return render(request, "service/group_form.html", {"form": form, "group": group})


@login_required
@require_POST
def group_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    group = selectors.group_get(pk=pk)
    try:
        services.group_delete(actor=actor, group=group, version=_int(request.POST.get("version")))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("service:group-edit", pk=pk)
    messages.success(request, _("Agent group “%(name)s” deleted.") % {"name": group.name})
    return redirect("service:settings")


def _rule_form(data: Any = None, initial: Any = None) -> RuleForm:
    return RuleForm(
        data,
        initial=initial,
        categories=list(selectors.category_list()),
        groups=list(selectors.group_list()),
    )


@login_required
def rule_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or change an assignment rule."""
    actor = _admin(request)
    rule = selectors.rule_get(pk=pk) if pk is not None else None
    if request.method != "POST":
        initial = None
        if rule is not None:
            initial = {
                "name": rule.name,
                "position": rule.position,
                "category": rule.category_id,
                "type": rule.type,
                "channel": rule.channel,
                "group": rule.group_id,
                "strategy": rule.strategy,
                "skill": rule.skill,
                "is_active": rule.is_active,
                "version": rule.version,
            }
        form = _rule_form(initial=initial)
        return render(request, "service/rule_form.html", {"form": form, "rule": rule})
    form = _rule_form(request.POST)
    if form.is_valid():
        values = dict(form.cleaned_data)
        version = values.pop("version")
        values["category"] = (
            selectors.category_get(pk=values["category"]) if values["category"] else None
        )
        values["group"] = selectors.group_get(pk=values["group"])
        try:
            services.rule_save(
                actor=actor, values=values, rule=rule, version=version if rule else None
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Assignment rule saved."))
            return redirect("service:settings")
    return render(request, "service/rule_form.html", {"form": form, "rule": rule})


@login_required
@require_POST
def rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    rule = selectors.rule_get(pk=pk)
    try:
        services.rule_delete(actor=actor, rule=rule, version=_int(request.POST.get("version")))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("service:rule-edit", pk=pk)
    messages.success(request, _("Assignment rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("service:settings")
