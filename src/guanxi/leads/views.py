"""Leads pages: the lead list and page (score breakdown, timeline, convert), entry, the
web-to-lead form designer and the public form, the public pool, and the lead settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.accounts.auth import page_actor
from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.history import history_rows
from guanxi.core.pagination import BadCursor, Page, keyset_page
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.models import SizeBand
from guanxi.leads import assignment, learning, pool, scoring, selectors, services, webforms
from guanxi.leads.forms import (
    AssignForm,
    AssignmentRuleForm,
    ConvertForm,
    EventForm,
    IntentForm,
    LeadForm,
    LeadSettingsForm,
    PoolPolicyForm,
    PoolRuleForm,
    ScoringRuleForm,
    StatusForm,
    WebFormForm,
)
from guanxi.leads.models import FormField, IntentLevel, LeadSource, LeadStatus

PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _query_without_cursor(params: QueryDict) -> str:
    return urlencode([(key, value) for key, value in params.items() if key != "cursor" and value])


def _page(queryset: Any, request: HttpRequest, ordering: tuple[str, ...]) -> Page[Any]:
    """A keyset page; a forged or stale cursor starts over rather than failing."""
    try:
        return keyset_page(
            queryset, cursor=request.GET.get("cursor"), limit=PAGE_SIZE, ordering=ordering
        )
    except BadCursor:
        return keyset_page(queryset, limit=PAGE_SIZE, ordering=ordering)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- leads -------------------------------------------------------------------------------------


@login_required
@require_GET
def lead_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    params = request.GET
    filters = selectors.LeadFilters(
        q=params.get("q", "")[:60].strip(),
        status=params.get("status", ""),
        intent=params.get("intent", ""),
        source=params.get("source", ""),
        owner_id=actor.pk if params.get("mine") == "1" else None,
        duplicates=params.get("duplicates") == "1",
        sort=params.get("sort", "-created"),
    )
    page = _page(selectors.lead_list(actor=actor, filters=filters), request, filters.ordering)
    context = {
        "page": page,
        "filters": filters,
        "mine": params.get("mine") == "1",
        "query": _query_without_cursor(params),
        "statuses": LeadStatus.choices,
        "intents": IntentLevel.choices,
        "sources": LeadSource.choices,
        "can_create": has_perm(actor, "sales.create"),
        "can_admin": has_perm(actor, "sales.admin"),
    }
    template = "leads/list.html#rows" if _is_htmx(request) else "leads/list.html"
    return render(request, template, context)


@login_required
def lead_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "sales.create")
    form = LeadForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_create(
                actor=actor,
                values=form.values(),
                auto_assign=bool(form.cleaned_data.get("auto_assign")),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Lead %(lead)s created.") % {"lead": lead})
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form})


def _detail_context(actor: User, lead: Any) -> dict[str, Any]:
    model = learning.active_model()
    can_edit = has_perm(actor, "sales.edit") and lead.is_open
    return {
        "lead": lead,
        "contact_points": selectors.lead_contact_points(lead=lead),
        "can_reveal": services.may_reveal(actor),
        "timeline": selectors.lead_timeline(lead=lead),
        "history": history_rows(lead, limit=50, masked=services.MASKED_HISTORY_FIELDS),
        "model": learning.model_explain(model, lead) if model is not None else None,
        "can_edit": can_edit,
        "is_owner": lead.owner_id == actor.pk,
        "intent_form": IntentForm(
            initial={"intent": lead.intent if lead.intent_by_hand else "", "version": lead.version}
        ),
        "status_form": StatusForm(initial={"status": lead.status, "version": lead.version}),
        "event_form": EventForm(),
        "convert_form": ConvertForm(
            initial={"version": lead.version, "opportunity_name": str(lead)}
        ),
        "assign_form": AssignForm(
            initial={"version": lead.version},
            users=selectors.active_users(),
        ),
    }


@login_required
@require_GET
def lead_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    return render(request, "leads/detail.html", _detail_context(actor, lead))


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("leads:detail", pk=pk)


def _refused(request: HttpRequest, pk: int, error: DomainError) -> HttpResponse:
    messages.error(request, error.message)
    return redirect("leads:detail", pk=pk)


@login_required
@require_POST
def lead_intent_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    form = IntentForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, DomainError(_("Choose one of the allowed values.")))
    try:
        services.lead_set_intent(
            actor=actor,
            lead=lead,
            intent=form.cleaned_data["intent"],
            version=form.cleaned_data["version"],
        )
    except DomainError as error:
        return _refused(request, pk, error)
    return _done(request, pk, _("Intent level saved."))


@login_required
@require_POST
def lead_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, DomainError(_("Choose one of the allowed values.")))
    try:
        services.lead_set_status(
            actor=actor,
            lead=lead,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except DomainError as error:
        return _refused(request, pk, error)
    return _done(request, pk, _("Status saved."))


@login_required
@require_POST
def lead_event_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    form = EventForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, DomainError(_("Choose one of the allowed values.")))
    try:
        services.lead_record_event(
            actor=actor,
            lead=lead,
            kind=form.cleaned_data["kind"],
            detail=form.cleaned_data["detail"],
        )
    except DomainError as error:
        return _refused(request, pk, error)
    return _done(request, pk, _("Recorded."))


@login_required
@require_POST
def lead_convert_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, DomainError(_("Check the conversion form.")))
    data = form.cleaned_data
    try:
        converted = services.lead_convert(
            actor=actor,
            lead=lead,
            customer=lead.matched_customer if data["attach"] else None,
            create_opportunity=data["create_opportunity"],
            opportunity_name=data["opportunity_name"],
            amount=data["amount"],
            version=data["version"],
        )
    except DomainError as error:
        return _refused(request, pk, error)
    messages.success(request, _("Lead converted."))
    return redirect("customers:detail", converted.customer_id)


@login_required
@require_POST
def lead_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    form = AssignForm(request.POST, users=selectors.active_users())
    if not form.is_valid():
        return _refused(request, pk, DomainError(_("Choose an active user as the new owner.")))
    try:
        services.lead_assign(
            actor=actor,
            lead=lead,
            owner=form.cleaned_data["owner"],
            version=form.cleaned_data["version"],
        )
    except DomainError as error:
        return _refused(request, pk, error)
    return _done(request, pk, _("Lead assigned."))


@login_required
@require_POST
def lead_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    try:
        pool.pool_release_lead(actor=actor, lead=lead, reason=request.POST.get("reason", ""))
    except DomainError as error:
        return _refused(request, pk, error)
    messages.success(request, _("The lead is back in the public pool."))
    return redirect("leads:pool")


@login_required
@require_POST
def lead_reveal_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    field = request.POST.get("field", "")
    value = services.lead_reveal(actor=actor, lead=lead, field=field, request=request)
    return render(request, "leads/detail.html#revealed", {"value": value, "field": field})


# --- web-to-lead forms ---------------------------------------------------------------------


@login_required
@require_GET
def form_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    forms = list(selectors.lead_form_list(actor=actor))
    return render(request, "leads/forms.html", {"forms": forms})


def _form_initial(form: Any) -> dict[str, Any]:
    return {
        "name": form.name,
        "slug": form.slug,
        "heading": form.heading,
        "intro": form.intro,
        "form_fields": form.fields,
        "required_fields": form.required_fields,
        "consent_wording": form.consent_wording,
        "consent_required": form.consent_required,
        "consent_purpose": form.consent_purpose,
        "thank_you": form.thank_you,
        "team": form.team,
        "embed_origins": form.embed_origins,
        "is_active": form.is_active,
    }


@login_required
def form_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The form designer: fields, consent wording, thank-you text, and the embed snippet."""
    actor = page_actor(request)
    existing = selectors.lead_form_get(actor=actor, pk=pk) if pk is not None else None
    if request.method == "POST":
        designer = WebFormForm(request.POST)
        if designer.is_valid():
            values = dict(designer.cleaned_data)
            values["fields"] = values.pop("form_fields")
            try:
                saved = webforms.lead_form_save(actor=actor, values=values, form=existing)
            except DomainError as error:
                apply_domain_error(designer, error)
            else:
                messages.success(request, _("Form saved."))
                return redirect("leads:form-edit", pk=saved.pk)
    else:
        require_perm(actor, "sales.admin")
        designer = WebFormForm(initial=_form_initial(existing) if existing else None)
    public_url = (
        request.build_absolute_uri(reverse("leads:public-form", args=[existing.slug]))
        if existing
        else ""
    )
    return render(
        request,
        "leads/form_edit.html",
        {"designer": designer, "web_form": existing, "public_url": public_url},
    )


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def _frameable(response: HttpResponse, origins: str) -> HttpResponse:
    """Allow this one answer to be framed: by the form's listed sites, or by any site."""
    response.xframe_options_exempt = True
    response._csp_replace = {  # type: ignore[attr-defined]  # read by django-csp
        "frame-ancestors": origins.split() or ["*"],
        "form-action": ["'self'"],
    }
    return response


@csrf_exempt  # a public form embedded on other sites has no session; the honeypot and the
# rate limit stand in for the CSRF check, and the form changes nothing but adding a lead
@require_http_methods(["GET", "POST"])
def public_form_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The public web-to-lead form: no sign-in, embeddable in an iframe."""
    web_form = selectors.public_form_get(slug=slug)
    context: dict[str, Any] = {
        "web_form": web_form,
        "size_bands": SizeBand.choices,
        "values": {},
        "errors": {},
        "honeypot": webforms.HONEYPOT_FIELD,
        "embedded": request.GET.get("embed") == "1",
    }
    status = 200
    if request.method == "POST":
        data = {key: request.POST.get(key, "") for key in request.POST}
        try:
            webforms.form_submit(
                form=web_form,
                data=data,
                address=_client_address(request),
                body_bytes=int(request.META.get("CONTENT_LENGTH") or 0),
                referrer=str(request.headers.get("Referer", ""))[:200],
            )
        except DomainError as error:
            status = error.status
            context["values"] = data
            context["errors"] = {
                str(item.get("field")): item["message"] for item in error.errors if item
            }
            context["refused"] = error.message
        else:
            context["thanked"] = True
    values, errors = context["values"], context["errors"]
    context["fields"] = [
        (name, FormField(name).label, values.get(name, ""), errors.get(name, ""))
        for name in web_form.fields
    ]
    response = render(request, "leads/public_form.html", context, status=status)
    return _frameable(response, web_form.embed_origins)


# --- the public pool -----------------------------------------------------------------------


@login_required
@require_GET
def pool_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    kind = "leads" if request.GET.get("kind") == "leads" else "customers"
    q = request.GET.get("q", "")[:60].strip()
    queryset: Any = (
        selectors.pool_lead_list(actor=actor, q=q)
        if kind == "leads"
        else selectors.pool_customer_list(actor=actor, q=q)
    )
    page = _page(queryset, request, ("-pk",))
    context = {
        "kind": kind,
        "q": q,
        "page": page,
        "rows": [selectors.masked_row(item) for item in page.items],
        "query": _query_without_cursor(request.GET),
        "allowance": pool.claim_allowance(actor),
        "moves": selectors.pool_moves(actor=actor, limit=20),
        "can_claim": has_perm(actor, "sales.create"),
    }
    template = "leads/pool.html#rows" if _is_htmx(request) else "leads/pool.html"
    return render(request, template, context)


@login_required
@require_POST
def pool_claim_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    actor = page_actor(request)
    try:
        if kind == "leads":
            lead = pool.pool_claim_lead(actor=actor, lead_id=pk)
            messages.success(request, _("You now own %(name)s.") % {"name": lead})
            return redirect("leads:detail", pk=lead.pk)
        customer = pool.pool_claim_customer(actor=actor, customer_id=pk)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('leads:pool')}?kind={kind}")
    messages.success(request, _("You now own %(name)s.") % {"name": customer.name})
    return redirect("customers:detail", customer.pk)


@login_required
@require_POST
def pool_release_customer_view(request: HttpRequest, pk: int) -> HttpResponse:
    from guanxi.customers.selectors import customer_get

    actor = page_actor(request)
    customer = customer_get(actor=actor, pk=pk)
    try:
        pool.pool_release_customer(
            actor=actor, customer=customer, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("customers:detail", pk)
    messages.success(request, _("The customer is back in the public pool."))
    return redirect("leads:pool")


@login_required
@require_GET
def customer_panel_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer 360 panel: the customer's pool moves and leads, and the give-back button."""
    from guanxi.customers.selectors import customer_get

    actor = page_actor(request)
    customer = customer_get(actor=actor, pk=customer_id)
    context = {
        "customer": customer,
        "moves": selectors.pool_moves(actor=actor, customer_id=customer.pk, limit=20),
        "leads": selectors.customer_leads(actor=actor, customer_id=customer.pk),
        "can_release": customer.owner_id == actor.pk and has_perm(actor, "sales.create"),
    }
    return render(request, "leads/customer_panel.html", context)


# --- settings --------------------------------------------------------------------------------


@login_required
def settings_view(request: HttpRequest) -> HttpResponse:
    """Scoring rules and thresholds, the lead model, assignment rules and pool rules."""
    actor = page_actor(request)
    require_perm(actor, "sales.admin")
    config = scoring.lead_settings()
    forms: dict[str, Any] = {
        "settings": LeadSettingsForm(
            initial={
                "half_life_days": config.half_life_days,
                "intent_s": config.intent_s,
                "intent_a": config.intent_a,
                "intent_b": config.intent_b,
            }
        ),
        "scoring": ScoringRuleForm(),
        "assignment": AssignmentRuleForm(),
        "policy": PoolPolicyForm(
            initial={
                "daily_claim_quota": 20,
                "max_held": 300,
                "cooling_off_days": 30,
                "warn_days": 3,
            }
        ),
        "pool_rule": PoolRuleForm(),
    }
    if request.method == "POST":
        action = request.POST.get("action", "")
        if _settings_post(request, actor, action, forms):
            return redirect("leads:settings")
    context = {
        "forms": forms,
        "scoring_rules": list(selectors.scoring_rule_list(actor=actor)),
        "assignment_rules": list(selectors.assignment_rule_list(actor=actor)),
        "pool_rules": selectors.pool_rules(actor=actor),
        "pool_policies": selectors.pool_policies(actor=actor),
        "model": learning.active_model(),
        "history": learning.history_counts(),
        "model_offered": learning.model_offered(),
        "min_history": learning.MIN_PER_OUTCOME,
    }
    return render(request, "leads/settings.html", context)


@login_required
@require_POST
def pool_rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a pool return rule (sales.admin), after the page asked to confirm."""
    actor = page_actor(request)
    pool.pool_rule_delete(actor=actor, rule=selectors.pool_rule_get(actor=actor, pk=pk))
    messages.success(request, _("The pool rule was deleted."))
    return redirect(f"{reverse('leads:settings')}#pool-settings")


@login_required
@require_POST
def pool_policy_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a team's claim limits (sales.admin); the team then follows its parent's."""
    actor = page_actor(request)
    pool.pool_policy_delete(actor=actor, policy=selectors.pool_policy_get(actor=actor, pk=pk))
    messages.success(request, _("The pool limits were deleted."))
    return redirect(f"{reverse('leads:settings')}#pool-settings")


def _settings_post(request: HttpRequest, actor: User, action: str, forms: dict[str, Any]) -> bool:
    """Run one settings action; True when it succeeded (the page then redirects)."""
    form_classes = {
        "settings": LeadSettingsForm,
        "scoring": ScoringRuleForm,
        "assignment": AssignmentRuleForm,
        "policy": PoolPolicyForm,
        "pool_rule": PoolRuleForm,
    }
    try:
        if action == "train":
            trained = learning.lead_model_train(actor=actor)
            messages.success(
                request, _("Model trained; validation AUC %(auc).2f.") % {"auc": trained.auc}
            )
            return True
        if action == "rescore":
            count = scoring.leads_rescore()
            messages.success(request, _("%(n)s leads re-scored.") % {"n": count})
            return True
        if action not in form_classes:
            return False
        form = form_classes[action](request.POST)
        forms[action] = form
        if not form.is_valid():
            return False
        data = form.cleaned_data
        if action == "settings":
            scoring.lead_settings_save(actor=actor, **data)
        elif action == "scoring":
            scoring.scoring_rule_save(actor=actor, **data)
        elif action == "assignment":
            members = data.pop("members")
            assignment.assignment_rule_save(
                actor=actor, values=data, member_ids=[member.pk for member in members]
            )
        elif action == "policy":
            team = data.pop("team")
            pool.pool_policy_save(actor=actor, team=team, values=data)
        else:
            pool.pool_rule_save(actor=actor, **data)
    except DomainError as error:
        if action in forms:
            apply_domain_error(forms[action], error)
        messages.error(request, error.message)
        return False
    messages.success(request, _("Settings saved."))
    return True
