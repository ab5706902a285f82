"""Customer pages: the list, the 360 page, create/edit, contacts, addresses, consent,
reveal, bulk actions, saved filters and custom-field administration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.accounts.auth import page_actor
from guanxi.accounts.models import User
from guanxi.accounts.selectors import team_list
from guanxi.core import crypto
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.history import history_rows
from guanxi.core.pagination import BadCursor, keyset_page
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers import selectors, services
from guanxi.customers.forms import (
    AddressForm,
    ConsentForm,
    ContactForm,
    CustomerForm,
    CustomFieldForm,
)
from guanxi.customers.models import (
    CustomerKind,
    CustomerStatus,
    LifecycleStage,
    SourceChannel,
)

FILTER_KEYS = (
    "q",
    "kind",
    "industry",
    "region",
    "city",
    "owner",
    "team",
    "group",
    "tag",
    "source",
    "status",
    "stage",
    "sort",
)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def filters_from_query(params: QueryDict) -> selectors.CustomerFilters:
    return selectors.CustomerFilters(
        q=params.get("q", "")[:100],
        kind=params.get("kind", ""),
        industry_id=_int(params.get("industry")),
        region=params.get("region", "")[:50],
        city=params.get("city", "")[:50],
        owner_id=_int(params.get("owner")),
        team_id=_int(params.get("team")),
        group_id=_int(params.get("group")),
        tag_id=_int(params.get("tag")),
        source=params.get("source", ""),
        status=params.get("status", ""),
        lifecycle_stage=params.get("stage", ""),
        sort=params.get("sort", "-pk") if params.get("sort") in selectors.SORTS else "-pk",
        custom={
            key[3:]: str(params.get(key, ""))[:100]
            for key in params
            if key.startswith("cf_") and params.get(key)
        },
    )


def _query_without_cursor(params: QueryDict) -> str:
    kept = [(key, value) for key, value in params.items() if key != "cursor" and value]
    return urlencode(kept)


def _rows(customers: list[Any]) -> list[dict[str, Any]]:
    """The list's cells that are not plain attributes, computed once per page.

    Choice labels come from dicts built once per request (`get_kind_display` rebuilds the
    choices on every call) and only the phone is decrypted: the list shows nothing else.
    """
    kinds = {value: str(label) for value, label in CustomerKind.choices}
    statuses = {value: str(label) for value, label in CustomerStatus.choices}
    return [
        {
            "customer": customer,
            "pk": str(customer.pk),
            "kind": kinds.get(customer.kind, customer.kind),
            "status": statuses.get(customer.status, customer.status),
            "owner": str(customer.owner) if customer.owner_id else "",
            "phone": crypto.mask("phone", customer.phone),
        }
        for customer in customers
    ]


Option = tuple[str, str, bool]


def _options(pairs: Any, selected: int | None) -> list[Option]:
    """(value, label, selected) for a <select>: ids as text, which the template prints as is
    (an int goes through number localisation, ~10 µs each, hundreds a page)."""
    return [(str(pk), str(label), pk == selected) for pk, label in pairs]


def _filter_options(
    actor: User, filters: selectors.CustomerFilters, language: str
) -> dict[str, Any]:
    name = "name_zh" if language.startswith("zh") else "name_en"
    industries = selectors.industry_list().only("pk", "code", name)
    owners = (
        selectors.assignable_users(actor=actor)
        .select_related(None)
        .only("pk", "username", "display_name", "first_name", "last_name")[:500]
    )
    return {
        "industries": _options(
            ((i.pk, f"{i.code} {getattr(i, name)}") for i in industries), filters.industry_id
        ),
        "owners": _options(((user.pk, user) for user in owners), filters.owner_id),
        "teams": _options(
            ((team.pk, team.name) for team in team_list(actor=actor)), filters.team_id
        ),
        "groups": _options(
            selectors.group_list(actor=actor).values_list("pk", "name"), filters.group_id
        ),
        "tags": _options(selectors.tag_list(actor=actor).values_list("pk", "name"), filters.tag_id),
    }


@login_required
def customer_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "customers.view")
    filters = filters_from_query(request.GET)
    queryset = selectors.customer_list_page(actor=actor, filters=filters)
    try:
        page = keyset_page(
            queryset, cursor=request.GET.get("cursor"), limit=50, ordering=filters.ordering
        )
    except BadCursor:
        page = keyset_page(queryset, limit=50, ordering=filters.ordering)
    language = get_language() or "en"
    definitions = list(selectors.custom_field_list(target="customer"))
    columns = [{"key": d.key, "label": d.label(language)} for d in definitions if d.show_in_list]
    context = {
        "page": page,
        "rows": _rows(page.items),
        "detail_prefix": reverse("customers:list"),
        "query": _query_without_cursor(request.GET),
        "columns": columns,
        "can_edit": has_perm(actor, "customers.edit"),
    }
    if request.htmx:  # type: ignore[attr-defined]  # set by django-htmx's middleware
        return render(request, "customers/list.html#rows", context)
    context |= {
        "filters": filters,
        "kinds": CustomerKind.choices,
        "statuses": CustomerStatus.choices,
        "sources": SourceChannel.choices,
        "stages": LifecycleStage.choices,
        **_filter_options(actor, filters, language),
        "saved_filters": selectors.saved_filter_list(actor=actor),
        "custom_filters": [
            {
                "key": d.key,
                "label": d.label(language),
                "type": d.field_type,
                "choices": d.choices,
                "value": filters.custom.get(d.key, ""),
            }
            for d in definitions
        ],
        "can_create": has_perm(actor, "customers.create"),
        "can_export": has_perm(actor, "customers.export"),
    }
    return render(request, "customers/list.html", context)


@login_required
@require_POST
def customer_bulk_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()][:5000]
    back = request.POST.get("back", "")
    target = reverse("customers:list") + (f"?{back}" if back else "")
    if not ids:
        messages.warning(request, _("Select at least one customer."))
        return redirect(target)
    try:
        affected = services.customers_bulk(
            actor=actor,
            customers=selectors.customer_base(actor=actor).filter(pk__in=ids),
            action=request.POST.get("action", ""),
            owner_id=_int(request.POST.get("owner")),
            tag=request.POST.get("tag", "").strip() or None,
            group_id=_int(request.POST.get("group")),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(count)s customers updated.") % {"count": affected})
    return redirect(target)


@login_required
@require_POST
def saved_filter_save_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    query = request.POST.get("query", "")
    try:
        services.saved_filter_save(actor=actor, name=request.POST.get("name", ""), query=query)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Filter saved."))
    return redirect(reverse("customers:list") + (f"?{query}" if query else ""))


@login_required
@require_POST
def saved_filter_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    services.saved_filter_delete(actor=actor, saved=selectors.saved_filter_get(actor=actor, pk=pk))
    messages.success(request, _("Filter deleted."))
    return redirect("customers:list")


def _form_context(form: CustomerForm, editing: Any) -> dict[str, Any]:
    sections: dict[str, list[Any]] = {"": [], "person": [], "organisation": [], "custom": []}
    for field in form:
        if field.name.startswith("cf_"):
            sections["custom"].append(field)
        else:
            sections[form.section(field.name)].append(field)
    return {"form": form, "editing": editing, "sections": sections}


@login_required
def customer_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "customers.create")
    form = CustomerForm(request.POST or None, initial={"kind": request.GET.get("kind", "person")})
    duplicates: list[Any] = []
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(
                actor=actor,
                values=form.values(),
                allow_duplicate=form.cleaned_data.get("allow_duplicate", False),
            )
        except services.DuplicateCustomer as error:
            duplicates = error.duplicates
            form.add_error(None, error.message)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    context = _form_context(form, None)
    context["duplicates"] = duplicates
    return render(request, "customers/form.html", context)


@login_required
def customer_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    initial = {
        name: getattr(customer, name)
        for name in (
            "kind",
            "name",
            "code",
            "source",
            "status",
            "lifecycle_stage",
            "region",
            "city",
            "gender",
            "birthday",
            "occupation",
            "legal_name",
            "credit_code",
            "size_band",
            "website",
            "notes",
            "version",
        )
    }
    initial["industry"] = customer.industry_id
    for key, value in (customer.custom_fields or {}).items():
        initial[f"cf_{key}"] = value
    form = CustomerForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                actor=actor,
                customer=customer,
                values=form.values(editing=True),
                version=form.cleaned_data.get("version"),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", _form_context(form, customer))


@login_required
def customer_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    masked = {
        "phone": crypto.mask("phone", customer.phone),
        "email": crypto.mask("email", customer.email),
        "id_number": crypto.mask("id_number", customer.id_number),
        "bank_account": crypto.mask("bank_account", customer.bank_account),
    }
    language = get_language() or "en"
    custom = (
        [
            {"label": d.label(language), "value": customer.custom_fields.get(d.key)}
            for d in selectors.custom_field_list(target="customer")
            if d.key in customer.custom_fields
        ]
        if customer.custom_fields
        else []
    )
    contacts = [
        {
            "contact": contact,
            "methods": [(m.kind, crypto.mask(m.kind, m.value)) for m in contact.methods.all()],
        }
        for contact in selectors.customer_contacts(customer=customer)
    ]
    addresses = [
        {"address": address, "street": crypto.mask("address", address.street)}
        for address in customer.addresses.all()
    ]
    can_edit = has_perm(actor, "customers.edit") or (
        customer.owner_id == actor.pk and has_perm(actor, "customers.create")
    )
    if can_edit:
        all_groups = list(selectors.group_list_marked(actor=actor, customer=customer))
        groups = [group for group in all_groups if group.is_member]  # type: ignore[attr-defined]  # annotated
    else:
        all_groups, groups = [], list(customer.groups.all())
    context = {
        "customer": customer,
        "masked": masked,
        "custom": custom,
        "contacts": contacts,
        "addresses": addresses,
        "consents": selectors.consent_state(customer=customer),
        "groups": groups,
        "tags": list(customer.tags.all()),
        "all_groups": all_groups,
        "can_reveal": has_perm(actor, "customers.reveal"),
        "can_edit": can_edit,
        "can_delete": has_perm(actor, "customers.delete"),
        "timeline_url": _panel_url(actor, "interactions", "interactions:timeline", customer.pk),
        "grades_url": _panel_url(actor, "grading", "grading:customer-grades", customer.pk),
        "commerce_url": _panel_url(actor, "commerce", "commerce:customer-summary", customer.pk),
        "sales_url": _panel_url(actor, "sales", "sales:customer-panel", customer.pk),
        "tasks_url": _panel_url(actor, "customers", "activities:customer-tasks", customer.pk),
        "service_url": _panel_url(actor, "service", "service:customer-panel", customer.pk),
        "leads_url": _panel_url(actor, "sales", "leads:customer-panel", customer.pk),
        "portal_url": _panel_url(actor, "service", "portal:customer-panel", customer.pk),
    }
    return render(request, "customers/detail.html", context)


FORM_PARTS: dict[str, type[Any]] = {
    "contact": ContactForm,
    "address": AddressForm,
    "consent": ConsentForm,
}


@login_required
def customer_form_part_view(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    """One of the 360 page's empty forms (contact, address, consent), fetched when its
    section is opened: building them with the page costs more than the rest of it."""
    customer = selectors.customer_get(actor=page_actor(request), pk=pk)
    form_class = FORM_PARTS.get(part)
    if form_class is None:
        raise Http404
    return render(
        request,
        f"customers/detail.html#{part}_form",
        {"customer": customer, "form": form_class()},
    )


def _panel_url(actor: User, module: str, name: str, customer_id: int) -> str | None:
    """The URL of another domain's panel for this customer; None where it is not built or
    the actor may not view that module.

    The 360 page loads such panels over HTMX, so no domain imports another's templates.
    """
    from django.urls import NoReverseMatch

    if not has_perm(actor, f"{module}.view"):
        return None
    try:
        return reverse(name, args=[customer_id])
    except NoReverseMatch:
        return None


@login_required
@require_POST
def customer_reveal_view(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    value = services.customer_reveal(actor=actor, customer=customer, field=field, request=request)
    return render(request, "customers/detail.html#revealed", {"value": value, "field": field})


@login_required
def customer_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(actor=page_actor(request), pk=pk)
    rows = history_rows(customer, masked=services.MASKED_HISTORY_FIELDS)
    return render(
        request,
        "core/history.html",
        {"object": customer, "rows": rows, "back_url": "customers:list"},
    )


@login_required
@require_POST
def customer_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    services.customer_delete(actor=actor, customer=customer)
    messages.success(request, _("Customer %(name)s deleted.") % {"name": customer.name})
    return redirect("customers:list")


@login_required
@require_POST
def contact_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.contact_create(
                actor=actor,
                customer=customer,
                values={
                    k: data[k] for k in ("name", "title", "buying_role", "wechat_id", "is_primary")
                },
                phones=ContactForm.split(data["phones"]),
                emails=ContactForm.split(data["emails"]),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Contact added."))
    else:
        messages.error(request, _("Please correct the contact form."))
    return redirect("customers:detail", pk=pk)


@login_required
@require_POST
def contact_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    contact = selectors.contact_get(actor=actor, pk=pk)
    services.contact_delete(actor=actor, contact=contact)
    messages.success(request, _("Contact removed."))
    return redirect("customers:detail", pk=contact.customer_id)


@login_required
@require_POST
def address_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    form = AddressForm(request.POST)
    if form.is_valid():
        try:
            services.address_save(actor=actor, customer=customer, values=form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Address added."))
    else:
        messages.error(request, _("Please correct the address form."))
    return redirect("customers:detail", pk=pk)


@login_required
@require_POST
def consent_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                actor=actor,
                customer=customer,
                purpose=data["purpose"],
                granted=data["granted"],
                channel=data["channel"],
                wording=data["wording"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Consent recorded."))
    else:
        messages.error(request, _("Please correct the consent form."))
    return redirect("customers:detail", pk=pk)


@login_required
@require_POST
def customer_tags_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add or remove one tag or group on this customer."""
    actor = page_actor(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    action = request.POST.get("action", "")
    try:
        services.customers_bulk(
            actor=actor,
            customers=selectors.customer_base(actor=actor).filter(pk=customer.pk),
            action=action,
            tag=request.POST.get("tag", "").strip() or None,
            group_id=_int(request.POST.get("group")),
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("customers:detail", pk=pk)


# --- custom fields -----------------------------------------------------------------------------


@login_required
def custom_field_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "customers.admin")
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.custom_field_save(actor=actor, values=form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Custom field created."))
            return redirect("customers:custom-fields")
    return render(
        request,
        "customers/custom_fields.html",
        {
            "form": form,
            "definitions": selectors.custom_field_list(active_only=False),
            "language": get_language() or "en",
        },
    )


@login_required
def custom_field_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "customers.admin")
    definition = selectors.custom_field_get(pk=pk)
    initial = {
        "target": definition.target,
        "key": definition.key,
        "label_zh": definition.label_zh,
        "label_en": definition.label_en,
        "field_type": definition.field_type,
        "choices": ", ".join(definition.choices),
        "is_required": definition.is_required,
        "show_in_list": definition.show_in_list,
        "is_active": definition.is_active,
        "position": definition.position,
        "version": definition.version,
    }
    form = CustomFieldForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        values = {
            k: v
            for k, v in form.cleaned_data.items()
            if k not in {"target", "key", "field_type", "version"}
        }
        try:
            services.custom_field_save(
                actor=actor,
                definition=definition,
                values=values,
                version=form.cleaned_data.get("version"),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Custom field saved."))
            return redirect("customers:custom-fields")
    return render(
        request, "customers/custom_field_form.html", {"form": form, "definition": definition}
    )
