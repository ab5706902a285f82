"""Reads of leads, their timeline, forms and the pool, always scoped to the acting user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.core.crypto import mask
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Customer
from guanxi.leads import pool
from guanxi.leads.models import (
    AssignmentRule,
    Lead,
    LeadEvent,
    LeadForm,
    PoolMove,
    PoolPolicy,
    PoolRule,
    ScoringRule,
)

SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "-score": ("-score", "-pk"),
    "name": ("name", "pk"),
}


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    status: str = ""
    intent: str = ""
    source: str = ""
    owner_id: int | None = None
    unassigned: bool = False
    duplicates: bool = False
    sort: str = "-created"

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORTS.get(self.sort, SORTS["-created"])


def lead_list(*, actor: User, filters: LeadFilters | None = None) -> QuerySet[Lead]:
    """Leads the actor may see, filtered; owner and industry joined."""
    require_perm(actor, "sales.view")
    filters = filters or LeadFilters()
    qs = Lead.objects.visible_to(actor).select_related("owner", "industry")
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(company__icontains=term))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.intent:
        qs = qs.filter(intent=filters.intent)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.unassigned:
        qs = qs.filter(owner__isnull=True)
    if filters.duplicates:
        qs = qs.filter(Q(duplicate_of__isnull=False) | Q(matched_customer__isnull=False))
    return qs


def lead_get(*, actor: User, pk: int) -> Lead:
    """A visible lead (Http404 otherwise: a foreign id does not leak its existence)."""
    require_perm(actor, "sales.view")
    lead = (
        Lead.objects.visible_to(actor)
        .select_related("owner", "team", "industry", "form", "matched_customer", "customer")
        .filter(pk=pk)
        .first()
    )
    if lead is None:
        raise Http404
    return lead


def lead_timeline(*, lead: Lead, limit: int = 200) -> list[LeadEvent]:
    return list(
        LeadEvent.objects.filter(lead=lead)
        .select_related("actor")
        .order_by("-occurred_at", "-pk")[:limit]
    )


def lead_contact_points(*, lead: Lead) -> dict[str, str]:
    """Phone and email masked, as pages and the API show them; the plain value only through
    `services.lead_reveal`, which writes the access log."""
    return {"phone": mask("phone", lead.phone), "email": mask("email", lead.email)}


def lead_form_list(*, actor: User) -> QuerySet[LeadForm]:
    require_perm(actor, "sales.admin")
    return LeadForm.objects.select_related("team").order_by("-pk")


def lead_form_get(*, actor: User, pk: int) -> LeadForm:
    require_perm(actor, "sales.admin")
    form = LeadForm.objects.filter(pk=pk).first()
    if form is None:
        raise Http404
    return form


def public_form_get(*, slug: str) -> LeadForm:
    """An active form by its public address (no user: the form is public by design)."""
    form = LeadForm.objects.filter(slug=slug, is_active=True).first()
    if form is None:
        raise Http404
    return form


def assignment_rule_list(*, actor: User) -> QuerySet[AssignmentRule]:
    require_perm(actor, "sales.admin")
    return AssignmentRule.objects.select_related("team", "industry").prefetch_related("members")


def scoring_rule_list(*, actor: User) -> QuerySet[ScoringRule]:
    require_perm(actor, "sales.view")
    return ScoringRule.objects.order_by("factor", "pk")


@dataclass(frozen=True)
class PoolFilters:
    kind: str = "customers"
    q: str = ""


def pool_customer_list(*, actor: User, q: str = "") -> QuerySet[Customer]:
    """Customers in the actor's pool, newest first (phones are masked by the caller)."""
    require_perm(actor, "sales.view")
    qs = pool.pool_customers(actor).select_related("team", "industry")
    if q:
        qs = qs.filter(name__icontains=q.strip())
    return qs


def pool_lead_list(*, actor: User, q: str = "") -> QuerySet[Lead]:
    require_perm(actor, "sales.view")
    qs = pool.pool_leads(actor).select_related("team", "industry")
    if q:
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(company__icontains=q.strip()))
    return qs


def masked_row(item: Customer | Lead) -> dict[str, Any]:
    """A pool row with its phone and email masked: no one sees them before claiming."""
    return {
        "id": item.pk,
        "name": str(item),
        "phone": mask("phone", item.phone),
        "email": mask("email", item.email),
        "region": item.region,
        "team": str(item.team) if item.team_id else "",
        "industry": str(item.industry) if item.industry_id else "",
        "created_at": item.created_at,
    }


def customer_leads(*, actor: User, customer_id: int) -> list[Lead]:
    """Visible leads converted into, or matched to, a customer."""
    return list(
        lead_list(actor=actor)
        .filter(Q(customer_id=customer_id) | Q(matched_customer_id=customer_id))
        .order_by("-pk")[:20]
    )


def pool_moves(*, actor: User, customer_id: int | None = None, limit: int = 100) -> list[PoolMove]:
    """Recent moves: the actor's own, or all for a sales administrator."""
    require_perm(actor, "sales.view")
    qs = PoolMove.objects.select_related("customer", "lead", "user").order_by("-created_at", "-pk")
    from guanxi.core.permissions import has_perm

    if customer_id is not None:  # the caller has checked that the customer is visible
        qs = qs.filter(customer_id=customer_id)
    elif not has_perm(actor, "sales.admin"):
        qs = qs.filter(user=actor)
    return list(qs[:limit])


def pool_rules(*, actor: User) -> list[PoolRule]:
    require_perm(actor, "sales.view")
    return list(PoolRule.objects.select_related("team", "tier").order_by("team_id", "tier_id"))


def pool_policies(*, actor: User) -> list[PoolPolicy]:
    require_perm(actor, "sales.view")
    return list(PoolPolicy.objects.select_related("team").order_by("team_id"))


def parse_int(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise DomainError(_("Enter a whole number."), field=field) from error


def active_users() -> QuerySet[User]:
    """The users a lead may be given to: active members of a team."""
    return User.objects.filter(is_active=True, team__isnull=False).order_by("username")


def active_user(pk: int) -> User | None:
    return User.objects.filter(pk=pk, is_active=True).first()


def team_find(pk: int) -> Team | None:
    return Team.objects.filter(pk=pk).first()


def industry_find(code: str) -> Any:
    from guanxi.customers.models import Industry

    return Industry.objects.filter(code=code).first()


def tier_find(pk: int) -> Any:
    from guanxi.grading.models import Tier

    return Tier.objects.filter(pk=pk).first()


def pool_rule_get(*, actor: User, pk: int) -> PoolRule:
    """One pool rule, for an administrator (404 when it does not exist)."""
    require_perm(actor, "sales.admin")
    return get_object_or_404(PoolRule, pk=pk)


def pool_policy_get(*, actor: User, pk: int) -> PoolPolicy:
    """One team's claim limits, for an administrator (404 when they do not exist)."""
    require_perm(actor, "sales.admin")
    return get_object_or_404(PoolPolicy, pk=pk)
