"""Commands on leads: create (with duplicate check, assignment and scoring), edit, intent,
status, behaviour events, reveal and conversion into a customer, contact and opportunity."""

from __future__ import annotations

import importlib
import logging
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanxi.accounts.models import Team, User
from guanxi.core import events
from guanxi.core.errors import DomainError, check_version
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers import services as customer_services
from guanxi.customers.imports import writes
from guanxi.customers.models import Customer, CustomerKind, CustomerStatus, Industry, SizeBand
from guanxi.customers.normalise import FieldError, clean_email, clean_phone, name_key
from guanxi.leads.models import (
    OPEN_STATUSES,
    IntentLevel,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadForm,
    LeadSource,
    LeadStatus,
)

logger = logging.getLogger(__name__)

TEXT_LIMITS = {
    "name": 120,
    "company": 200,
    "title": 120,
    "region": 50,
    "source_detail": 300,
    "message": 5000,
}
CHUNK = 500
PERSONAL_FIELDS = ("phone", "email")
MASKED_HISTORY_FIELDS = {"phone": "phone", "email": "email"}


def notify_user(user: User, *, title: str, body: str = "", url: str = "") -> None:
    """An in-app notification through the activities app, when it is installed."""
    try:
        module = importlib.import_module("guanxi.activities.services")
    except ImportError:
        return
    notify = getattr(module, "notify", None)
    if notify is None:
        return
    notify(user=user, title=title, body=body, url=url)


def lead_apply(lead: Lead, values: dict[str, Any]) -> Lead:
    """Validate `values` onto a lead, every bad field at once (DomainError)."""
    errors: list[dict[str, str]] = []
    for field, limit in TEXT_LIMITS.items():
        if field in values:
            text = str(values[field] or "").strip()
            if len(text) > limit:
                errors.append({"field": field, "message": _("This value is too long.")})
            else:
                setattr(lead, field, text)
    if not lead.name:
        errors.append({"field": "name", "message": _("This field is required.")})
    if "phone" in values:
        try:
            lead.phone, lead.phone_index, _last4 = clean_phone(str(values["phone"] or ""))
        except FieldError as error:
            errors.append({"field": error.field, "message": error.message})
    if "email" in values:
        try:
            lead.email, lead.email_index = clean_email(str(values["email"] or ""))
        except FieldError as error:
            errors.append({"field": error.field, "message": error.message})
    if "size_band" in values:
        size = str(values["size_band"] or "")
        if size not in SizeBand.values:
            errors.append({"field": "size_band", "message": _("Choose one of the allowed values.")})
        else:
            lead.size_band = size
    if "source" in values:
        source = str(values["source"] or LeadSource.MANUAL)
        if source not in LeadSource.values:
            errors.append({"field": "source", "message": _("Choose one of the allowed values.")})
        else:
            lead.source = source
    if "industry" in values:
        raw = values["industry"]
        if raw in (None, ""):
            lead.industry = None
        elif isinstance(raw, Industry):
            lead.industry = raw
        else:
            found = Industry.objects.filter(Q(code=str(raw)) | Q(pk=_int_or_zero(raw))).first()
            if found is None:
                errors.append({"field": "industry", "message": _("Unknown industry.")})
            else:
                lead.industry = found
    lead.company_key = name_key(lead.company) if lead.company else ""
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    return lead


def _int_or_zero(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def event_add(
    lead: Lead,
    kind: str,
    *,
    actor: User | None = None,
    detail: str = "",
    occurred_at: Any = None,
) -> LeadEvent:
    return LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        actor=actor,
        detail=detail[:500],
        occurred_at=occurred_at or timezone.now(),
    )


def lead_match(lead: Lead) -> None:
    """Attach the lead to an existing customer or flag it as a duplicate of an open lead.

    Matches on the phone and email blind indexes (the customers' own and their contacts'),
    then on the folded company name.
    """
    indexes = [value for value in (lead.phone_index, lead.email_index) if value]
    customer_match = Q()
    lead_match_q = Q()
    for index in indexes:
        customer_match |= Q(phone_index=index) | Q(email_index=index)
        lead_match_q |= Q(phone_index=index) | Q(email_index=index)
    customers = Customer.objects.exclude(status=CustomerStatus.MERGED)
    found = None
    if indexes:
        from guanxi.customers.models import ContactMethod

        found = (
            customers.filter(
                customer_match
                | Q(
                    pk__in=ContactMethod.objects.filter(value_index__in=indexes).values(
                        "customer_id"
                    )
                )
            )
            .order_by("pk")
            .first()
        )
    if found is None and lead.company_key:
        found = customers.filter(name_key=lead.company_key).order_by("pk").first()
    lead.matched_customer = found
    if lead.company_key:
        lead_match_q |= Q(company_key=lead.company_key, name__iexact=lead.name)
    lead.duplicate_of = (
        Lead.objects.filter(lead_match_q, status__in=OPEN_STATUSES)
        .exclude(pk=lead.pk)
        .order_by("pk")
        .first()
        if lead_match_q
        else None
    )


def _create_lead(
    *,
    actor: User | None,
    values: dict[str, Any],
    source: str,
    form: LeadForm | None = None,
    owner: User | None = None,
    team: Team | None = None,
    consent: tuple[str, str] | None = None,
    auto_assign: bool = True,
) -> Lead:
    from guanxi.leads import assignment, scoring

    lead = Lead(source=source, form=form, team=team)
    lead_apply(lead, values)
    if owner is not None:
        lead.owner, lead.team, lead.assigned_at = owner, owner.team, timezone.now()
    if consent is not None:
        lead.consent_given = True
        lead.consent_purpose, lead.consent_wording = consent
        lead.consent_at = timezone.now()
    lead_match(lead)
    lead._change_reason = "create"  # type: ignore[attr-defined]  # read by simple-history
    lead.save()
    event_add(
        lead,
        LeadEventKind.FILLED_FORM if form is not None else LeadEventKind.CREATED,
        actor=actor,
        detail=form.name if form is not None else lead.get_source_display(),
    )
    if lead.duplicate_of_id or lead.matched_customer_id:
        event_add(
            lead,
            LeadEventKind.DUPLICATE,
            detail=(
                _("Matches existing customer %(name)s") % {"name": lead.matched_customer}
                if lead.matched_customer
                else _("Matches lead #%(pk)s") % {"pk": lead.duplicate_of_id}
            ),
        )
    if lead.owner_id is None and auto_assign:
        assignment.lead_auto_assign(lead)
    scoring.lead_score_refresh(lead)
    events.publish_on_commit("lead.created", lead_id=lead.pk)
    if lead.owner_id is not None:
        _announce_assignment(lead)
    return lead


@transaction.atomic
def lead_create(
    *,
    actor: User,
    values: dict[str, Any],
    owner: User | None = None,
    auto_assign: bool = False,
) -> Lead:
    """Enter a lead by hand or through the API (sales.create).

    Owned by `owner`, else by the actor, unless `auto_assign` hands it to the assignment
    rules. Publishes lead.created (and lead.assigned) after commit.
    """
    require_perm(actor, "sales.create")
    if owner is not None and owner.pk != actor.pk:
        require_perm(actor, "sales.edit")
        if not owner.is_active:
            raise DomainError(_("The owner must be an active user."), field="owner")
    source = str(values.pop("source", "") or LeadSource.MANUAL)
    chosen = owner or (None if auto_assign else actor)
    return _create_lead(
        actor=actor,
        values={**values, "source": source},
        source=source,
        owner=chosen,
        team=actor.team,
        auto_assign=auto_assign,
    )


def lead_create_from_form(
    *, form: LeadForm, values: dict[str, Any], consent: bool, source_detail: str = ""
) -> Lead:
    """A lead sent through a public form (no actor): matched, assigned and scored."""
    wording = form.consent_wording.strip()
    with transaction.atomic():
        return _create_lead(
            actor=None,
            values={**values, "source_detail": source_detail[:300]},
            source=LeadSource.WEB_FORM,
            form=form,
            team=form.team,
            consent=(form.consent_purpose, wording) if consent and wording else None,
        )


def _announce_assignment(lead: Lead) -> None:
    owner = lead.owner
    if owner is None:
        return
    events.publish_on_commit("lead.assigned", lead_id=lead.pk, owner_id=owner.pk)
    url = reverse("leads:detail", args=[lead.pk])
    title = _("New lead assigned to you: %(lead)s") % {"lead": lead}

    def send() -> None:
        try:
            notify_user(owner, title=title, url=url)
        except Exception:  # a notification failure must not lose the lead
            logger.exception("could not notify user %s of lead %s", owner.pk, lead.pk)

    transaction.on_commit(send)


def _may_edit(actor: User, lead: Lead) -> None:
    if not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied("sales.edit")
    require_perm(actor, "sales.edit")


@transaction.atomic
def lead_update(
    *, actor: User, lead: Lead, values: dict[str, Any], version: int | None, reason: str = ""
) -> Lead:
    """Change a visible lead's fields; a stale `version` is refused (StaleEdit)."""
    from guanxi.leads import scoring

    _may_edit(actor, lead)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    check_version(lead.version, version)
    if not lead.is_open:
        raise DomainError(_("A closed lead cannot be changed."), field="status")
    lead_apply(lead, values)
    lead.version += 1
    lead._change_reason = reason or "edit"  # type: ignore[attr-defined]
    lead.save()
    scoring.lead_score_refresh(lead)
    return lead


@transaction.atomic
def lead_set_intent(*, actor: User, lead: Lead, intent: str, version: int | None = None) -> Lead:
    """Set the intent level by hand ("" hands it back to the score thresholds)."""
    from guanxi.leads import scoring

    _may_edit(actor, lead)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    check_version(lead.version, version)
    if intent and intent not in IntentLevel.values:
        raise DomainError(_("Choose one of the allowed values."), field="intent")
    lead.intent_by_hand = bool(intent)
    lead.intent = intent
    lead.version += 1
    lead._change_reason = "intent"  # type: ignore[attr-defined]
    lead.save()
    event_add(lead, LeadEventKind.INTENT, actor=actor, detail=intent or _("set by the score rules"))
    if not intent:
        scoring.lead_score_refresh(lead)
    return lead


@transaction.atomic
def lead_set_status(
    *, actor: User, lead: Lead, status: str, reason: str = "", version: int | None = None
) -> Lead:
    """Move an open lead to working, nurturing or disqualified (with a reason)."""
    _may_edit(actor, lead)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    check_version(lead.version, version)
    if status not in (*OPEN_STATUSES, LeadStatus.DISQUALIFIED):
        raise DomainError(_("Choose one of the allowed values."), field="status")
    if not lead.is_open:
        raise DomainError(_("A closed lead cannot be changed."), field="status")
    if status == LeadStatus.DISQUALIFIED and not reason.strip():
        raise DomainError(_("Say why the lead is disqualified."), field="reason")
    lead.status = status
    lead.disqualified_reason = reason.strip()[:300] if status == LeadStatus.DISQUALIFIED else ""
    lead.version += 1
    lead._change_reason = "status"  # type: ignore[attr-defined]
    lead.save()
    event_add(lead, LeadEventKind.STATUS, actor=actor, detail=lead.get_status_display())
    return lead


@transaction.atomic
def lead_record_event(
    *, actor: User | None, lead: Lead, kind: str, detail: str = "", occurred_at: Any = None
) -> LeadEvent:
    """Record a behaviour (opened email, visit, reply, form, call) or a note; re-scores."""
    from guanxi.leads import scoring

    if actor is not None:
        _may_edit(actor, lead)
    allowed = {
        LeadEventKind.OPENED_EMAIL,
        LeadEventKind.VISITED,
        LeadEventKind.REPLIED,
        LeadEventKind.FILLED_FORM,
        LeadEventKind.CALLED,
        LeadEventKind.NOTE,
    }
    if kind not in allowed:
        raise DomainError(_("Choose one of the allowed values."), field="kind")
    if occurred_at is not None and occurred_at > timezone.now():
        raise DomainError(_("The time cannot be in the future."), field="occurred_at")
    event = event_add(lead, kind, actor=actor, detail=detail, occurred_at=occurred_at)
    scoring.lead_score_refresh(lead)
    return event


def lead_reveal(*, actor: User, lead: Lead, field: str, request: Any = None) -> str:
    """The plain phone or email of a visible lead, written to the access log."""
    if not may_reveal(actor):
        raise PermissionDenied("sales.reveal")
    if field not in PERSONAL_FIELDS:
        raise DomainError(_("This field cannot be revealed."), field="field")
    if not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied("sales.reveal")
    from guanxi.audit.services import access_log_write

    access_log_write(
        actor=actor,
        action="reveal",
        target_model="leads.lead",
        target_pk=str(lead.pk),
        field=field,
        request=request,
    )
    return str(getattr(lead, field) or "")


def may_reveal(actor: User) -> bool:
    return has_perm(actor, "sales.reveal") or has_perm(actor, "customers.reveal")


def _create_opportunity(
    *, actor: User, customer: Customer, contact: Any, name: str, amount: Decimal | None, owner: User
) -> int | None:
    try:
        module = importlib.import_module("guanxi.sales.services")
    except ImportError:
        return None
    create = getattr(module, "opportunity_create", None)
    if create is None:
        return None
    opportunity = create(
        actor=actor,
        customer=customer,
        name=name,
        amount=amount,
        owner=owner,
        contact=contact,
        source="lead",
    )
    return int(opportunity.pk)


@transaction.atomic
def lead_convert(
    *,
    actor: User,
    lead: Lead,
    customer: Customer | None = None,
    create_opportunity: bool = True,
    opportunity_name: str = "",
    amount: Decimal | None = None,
    version: int | None = None,
) -> Lead:
    """Turn an open lead into a customer (or attach it to `customer`), a contact and an
    opportunity, all or nothing; the lead keeps its history and points at what it became.

    Publishes lead.converted with lead_id, customer_id and opportunity_id after commit.
    """
    _may_edit(actor, lead)
    require_perm(actor, "customers.create")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    check_version(lead.version, version)
    if not lead.is_open:
        raise DomainError(_("Only an open lead can be converted."), field="status")
    if amount is not None and amount < 0:
        raise DomainError(_("The amount cannot be negative."), field="amount")
    owner = lead.owner or actor
    if customer is None:
        values: dict[str, Any] = {
            "kind": CustomerKind.ENTERPRISE if lead.company else CustomerKind.PERSON,
            "name": lead.company or lead.name,
            "source": "online_form" if lead.source == LeadSource.WEB_FORM else "other",
            "region": lead.region,
            "industry": lead.industry,
        }
        if lead.company:
            values["size_band"] = lead.size_band
        else:
            values.update(phone=lead.phone, email=lead.email, occupation=lead.title)
        customer = customer_services.customer_create(
            actor=actor, values=values, owner=owner, team=owner.team
        )
    contact = None
    if lead.company:
        contact = customer_services.contact_create(
            actor=actor,
            customer=customer,
            values={"name": lead.name, "title": lead.title},
            phones=[lead.phone] if lead.phone else [],
            emails=[lead.email] if lead.email else [],
        )
    if lead.consent_given and lead.consent_wording:
        customer_services.consent_record(
            actor=None,
            customer=customer,
            purpose=lead.consent_purpose or "processing",
            granted=True,
            channel=_("Web form"),
            wording=lead.consent_wording,
            recorded_at=lead.consent_at,
        )
    opportunity_id = None
    if create_opportunity:
        opportunity_id = _create_opportunity(
            actor=actor,
            customer=customer,
            contact=contact,
            name=opportunity_name.strip() or str(lead),
            amount=amount,
            owner=owner,
        )
    lead.status = LeadStatus.CONVERTED
    lead.customer = customer
    lead.contact = contact
    lead.opportunity_id = opportunity_id
    lead.converted_at = timezone.now()
    lead.version += 1
    lead._change_reason = "convert"  # type: ignore[attr-defined]
    lead.save()
    event_add(lead, LeadEventKind.CONVERTED, actor=actor, detail=customer.name)
    events.publish_on_commit(
        "lead.converted",
        lead_id=lead.pk,
        customer_id=customer.pk,
        opportunity_id=opportunity_id,
    )
    return lead


@transaction.atomic
def lead_assign(*, actor: User, lead: Lead, owner: User, version: int | None = None) -> Lead:
    """Hand a visible lead to another active user (sales.edit); notifies the new owner."""
    _may_edit(actor, lead)
    if not owner.is_active:
        raise DomainError(_("The owner must be an active user."), field="owner")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    check_version(lead.version, version)
    lead.owner, lead.team, lead.assigned_at = owner, owner.team, timezone.now()
    lead.version += 1
    lead._change_reason = "assign"  # type: ignore[attr-defined]
    lead.save()
    event_add(lead, LeadEventKind.ASSIGNED, actor=actor, detail=str(owner))
    _announce_assignment(lead)
    return lead


# --- many leads at once -----------------------------------------------------------------------

IN_CHUNK = 2000  # values per IN list: one query for an import batch of 1,000 rows


def _chunks(values: list[Any], size: int = IN_CHUNK) -> list[list[Any]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _iexact_fold(text: str) -> str:
    """What `name__iexact` compares on this database: SQLite's LIKE folds ASCII letters
    only, PostgreSQL compares UPPER() of both sides."""
    if connection.vendor == "sqlite":
        return text.translate(_ASCII_LOWER)
    return text.upper()


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def leads_match(leads: list[Lead]) -> None:
    """`lead_match` for a whole batch of unsaved leads in a few queries: each lead gets the
    customer and the open lead the single path would find, the open leads including the
    batch's earlier ones (the single path saves them first), which `duplicate_in_batch`
    records as positions to resolve once they have keys."""
    from guanxi.customers.models import ContactMethod

    indexes = sorted(
        {value for lead in leads for value in (lead.phone_index, lead.email_index) if value}
    )
    keys = sorted({lead.company_key for lead in leads if lead.company_key})
    live = Customer.objects.exclude(status=CustomerStatus.MERGED)
    by_index: dict[str, set[int]] = {}
    lead_by_index: dict[str, set[int]] = {}
    for chunk in _chunks(indexes):
        for pk, phone, email in live.filter(
            Q(phone_index__in=chunk) | Q(email_index__in=chunk)
        ).values_list("pk", "phone_index", "email_index"):
            for value in (phone, email):
                by_index.setdefault(value, set()).add(pk)
        for pk, value in ContactMethod.objects.filter(
            value_index__in=chunk, customer__in=live
        ).values_list("customer_id", "value_index"):
            by_index.setdefault(value, set()).add(pk)
        for pk, phone, email in Lead.objects.filter(
            Q(phone_index__in=chunk) | Q(email_index__in=chunk), status__in=OPEN_STATUSES
        ).values_list("pk", "phone_index", "email_index"):
            for value in (phone, email):
                lead_by_index.setdefault(value, set()).add(pk)
    by_key: dict[str, int] = {}
    lead_by_name: dict[tuple[str, str], int] = {}
    for chunk in _chunks(keys):
        for pk, key in live.filter(name_key__in=chunk).values_list("pk", "name_key"):
            by_key[key] = min(pk, by_key.get(key, pk))
        for pk, key, name in Lead.objects.filter(
            company_key__in=chunk, status__in=OPEN_STATUSES
        ).values_list("pk", "company_key", "name"):
            folded = (key, _iexact_fold(name))
            lead_by_name[folded] = min(pk, lead_by_name.get(folded, pk))
    customer_ids: list[int | None] = []
    first_by_index: dict[str, int] = {}
    first_by_name: dict[tuple[str, str], int] = {}
    for position, lead in enumerate(leads):
        own = [value for value in (lead.phone_index, lead.email_index) if value]
        found = min((pk for value in own for pk in by_index.get(value, ())), default=None)
        if found is None and lead.company_key:
            found = by_key.get(lead.company_key)
        customer_ids.append(found)
        named = (lead.company_key, _iexact_fold(lead.name)) if lead.company_key else None
        earlier = [pk for value in own for pk in lead_by_index.get(value, ())]
        if named is not None and named in lead_by_name:
            earlier.append(lead_by_name[named])
        lead.duplicate_of_id = min(earlier, default=None)
        lead.duplicate_in_batch = None  # type: ignore[attr-defined]  # read by leads_bulk_create
        if lead.duplicate_of_id is None:
            in_batch = [first_by_index[value] for value in own if value in first_by_index]
            if named is not None and named in first_by_name:
                in_batch.append(first_by_name[named])
            lead.duplicate_in_batch = min(in_batch, default=None)  # type: ignore[attr-defined]
        for value in own:
            first_by_index.setdefault(value, position)
        if named is not None:
            first_by_name.setdefault(named, position)
    wanted = sorted({pk for pk in customer_ids if pk is not None})
    customers: dict[int, Customer] = {}
    for chunk in _chunks(wanted):
        customers.update(live.only("pk", "name").in_bulk(chunk))
    for lead, customer_id in zip(leads, customer_ids, strict=True):
        lead.matched_customer = customers[customer_id] if customer_id is not None else None


def _history_rows(leads: list[Lead], team_id: int | None, now: Any) -> list[Any]:
    """The history the single path leaves: each lead as created (unowned, in the creator's
    team, unscored), then, for an assigned one, as the assignment saved it (still unscored;
    the score is written with update())."""
    history = Lead.history.model
    user = history.get_default_history_user(leads[0])
    tracked = [field.attname for field in history.tracked_fields]

    def row(lead: Lead, kind: str, reason: str, **values: Any) -> Any:
        state = {name: getattr(lead, name) for name in tracked}
        state.update(score=0, score_breakdown=[], intent="", **values)
        return history(
            history_date=now,
            history_user_id=getattr(user, "pk", None),
            history_change_reason=reason,
            history_type=kind,
            **state,
        )

    created = [
        row(lead, "+", "create", owner_id=None, team_id=team_id, assigned_at=None) for lead in leads
    ]
    return created + [row(lead, "~", "assign") for lead in leads if lead.owner_id is not None]


@transaction.atomic
def leads_bulk_create(
    *, actor: User, rows: list[dict[str, Any]], source: str = LeadSource.IMPORT
) -> list[Lead]:
    """Create many leads in the actor's team like `lead_create(auto_assign=True)` would one
    by one (sales.create): matched against customers, their contacts and the open leads (the
    batch's earlier rows included), assigned by the active rules, scored, with the same
    events, history and lead.created / lead.assigned events after commit.

    A constant number of queries per batch; each new owner gets one notification for all
    the batch's leads they received. A row that fails validation refuses the whole batch
    (DomainError naming `rows.<position>.<field>`). Returns the leads in the rows' order.
    """
    from guanxi.leads import assignment, scoring

    require_perm(actor, "sales.create")
    leads: list[Lead] = []
    for position, values in enumerate(rows):
        lead = Lead(source=source, team=actor.team)
        try:
            lead_apply(lead, {**values, "source": source})
        except DomainError as refused:
            errors = [
                {**item, "field": f"rows.{position}.{item.get('field', '')}"}
                for item in refused.errors or [{"field": "", "message": str(refused)}]
            ]
            raise DomainError(errors[0]["message"], errors=errors) from refused
        leads.append(lead)
    if not leads:
        return []
    leads_match(leads)
    picks = assignment.leads_auto_assign(leads)
    now = timezone.now()
    config = scoring.lead_settings()
    rules = scoring._active_rules()
    for lead in leads:
        lead.score, lead.score_breakdown = scoring.score_of(
            lead, rules=rules, events=[], config=config, now=now
        )
        lead.intent = scoring.intent_for(lead.score, config)
        lead.scored_at = now
    for lead, pk in zip(leads, writes.next_ids(Lead, len(leads)), strict=True):
        lead.pk = pk
    for lead in leads:
        position = lead.duplicate_in_batch  # type: ignore[attr-defined]  # set by leads_match
        if position is not None:
            lead.duplicate_of_id = leads[position].pk
    writes.insert_rows(Lead, leads)
    for lead in leads:
        lead._state.adding, lead._state.db = False, "default"
    writes.insert_rows(Lead.history.model, _history_rows(leads, actor.team_id, now))
    writes.insert_rows(LeadEvent, _creation_events(leads, picks, actor, now))
    for lead in leads:
        events.publish_on_commit("lead.created", lead_id=lead.pk)
    for lead in leads:
        if lead.owner_id is not None:
            events.publish_on_commit("lead.assigned", lead_id=lead.pk, owner_id=lead.owner_id)
    _announce_assignments(leads)
    return leads


def _creation_events(leads: list[Lead], picks: list[str], actor: User, now: Any) -> list[LeadEvent]:
    """Each lead's created, duplicate and assigned events, in the single path's order."""
    made: list[LeadEvent] = []
    for lead, pick in zip(leads, picks, strict=True):
        made.append(
            LeadEvent(
                lead=lead,
                kind=LeadEventKind.CREATED,
                actor=actor,
                detail=lead.get_source_display()[:500],
                occurred_at=now,
            )
        )
        if lead.duplicate_of_id or lead.matched_customer_id:
            detail = (
                _("Matches existing customer %(name)s") % {"name": lead.matched_customer}
                if lead.matched_customer
                else _("Matches lead #%(pk)s") % {"pk": lead.duplicate_of_id}
            )
            made.append(
                LeadEvent(
                    lead=lead, kind=LeadEventKind.DUPLICATE, detail=detail[:500], occurred_at=now
                )
            )
        if pick:
            made.append(
                LeadEvent(
                    lead=lead, kind=LeadEventKind.ASSIGNED, detail=pick[:500], occurred_at=now
                )
            )
    return made


def _announce_assignments(leads: list[Lead]) -> None:
    """One notification per owner after commit: the lead itself when it is the only one."""
    per_owner: dict[User, list[Lead]] = {}
    for lead in leads:
        if lead.owner is not None:
            per_owner.setdefault(lead.owner, []).append(lead)
    messages: list[tuple[User, str, str]] = []
    for owner, group in per_owner.items():
        if len(group) == 1:
            title = _("New lead assigned to you: %(lead)s") % {"lead": group[0]}
            url = reverse("leads:detail", args=[group[0].pk])
        else:
            title = ngettext(
                "%(n)s new lead assigned to you",
                "%(n)s new leads assigned to you",
                len(group),
            ) % {"n": len(group)}
            url = reverse("leads:list")
        messages.append((owner, title, url))

    def send() -> None:
        for owner, title, url in messages:
            try:
                notify_user(owner, title=title, url=url)
            except Exception:  # one failed notification must not stop the others
                logger.exception("could not notify user %s of new leads", owner.pk)

    if messages:
        transaction.on_commit(send)
