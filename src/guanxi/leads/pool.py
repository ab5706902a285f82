"""The public pool (客户公海): customers and leads without an owner, claims with a daily
quota and a holding limit, manual give-backs, and the periodic return of neglected
customers and idle owned leads by each team's rules (a team without rules of its own follows
its nearest ancestor's, else the no-team default), with a warning to the owner beforehand.

Every move is a PoolMove row. Customer owners change only through the customers service
`customer_assign` (as a system move, this module having checked the rules). The sweep is
set-based: one annotated query per rule finds the due and the soon-due customers or leads.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import DateTimeField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanxi.accounts.models import Team, User
from guanxi.core import events
from guanxi.core.errors import Conflict, DomainError
from guanxi.core.permissions import require_perm
from guanxi.core.scoping import ALL, data_scope_of
from guanxi.customers.models import Customer, CustomerStatus
from guanxi.customers.services import customer_assign
from guanxi.leads.models import (
    OPEN_STATUSES,
    Lead,
    LeadEvent,
    LeadEventKind,
    PoolMove,
    PoolMoveKind,
    PoolPolicy,
    PoolRule,
)

logger = logging.getLogger(__name__)

POOL_CUSTOMER_STATUSES = (CustomerStatus.ACTIVE, CustomerStatus.DORMANT)
CHUNK = 500


class PoolLimit(DomainError):
    """A claim refused by the quota, the holding limit or the cooling-off period."""

    status = 409
    code = "pool-limit"


# --- policy ------------------------------------------------------------------------------------


def _ancestor_ids(team: Team | None) -> list[int]:
    if team is None or not team.path:
        return []
    return [int(part) for part in team.path.strip("/").split("/") if part.isdigit()]


def policy_for(team: Team | None) -> PoolPolicy:
    """The deepest policy on the team's path, else the company default (unsaved if none)."""
    ids = _ancestor_ids(team)
    policies = {p.team_id: p for p in PoolPolicy.objects.filter(Q(team_id__in=ids) | Q(team=None))}
    for team_id in reversed(ids):
        if team_id in policies:
            return policies[team_id]
    return policies.get(None) or PoolPolicy()


def pool_team_ids(user: User) -> list[int] | None:
    """Teams whose pool the user may browse: their own, its ancestors and sub-teams
    (None: every team, for a user who sees everything)."""
    if data_scope_of(user) == ALL:
        return None
    team = user.team
    if team is None:
        return []
    subtree = list(Team.objects.filter(path__startswith=team.path).values_list("pk", flat=True))
    return sorted({*_ancestor_ids(team), *subtree, team.pk})


def _pool_condition(user: User) -> Q:
    teams = pool_team_ids(user)
    if teams is None:
        return Q()
    return Q(team__isnull=True) | Q(team_id__in=teams)


def pool_customers(user: User) -> QuerySet[Customer]:
    """Customers in the pool the user may browse (unscoped by owner: they have none)."""
    return Customer.objects.filter(
        _pool_condition(user), owner__isnull=True, status__in=POOL_CUSTOMER_STATUSES
    )


def pool_leads(user: User) -> QuerySet[Lead]:
    return Lead.objects.filter(_pool_condition(user), owner__isnull=True, status__in=OPEN_STATUSES)


# --- claims ------------------------------------------------------------------------------------


def _start_of_today() -> datetime:
    now = timezone.localtime()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def claims_today(user: User) -> int:
    return PoolMove.objects.filter(
        user=user, kind=PoolMoveKind.CLAIMED, created_at__gte=_start_of_today()
    ).count()


def held_count(user: User) -> int:
    customers = Customer.objects.filter(owner=user, status__in=POOL_CUSTOMER_STATUSES).count()
    return customers + Lead.objects.filter(owner=user, status__in=OPEN_STATUSES).count()


def claim_allowance(user: User) -> dict[str, int]:
    """What the user may still claim today and hold, under their team's policy."""
    policy = policy_for(user.team)
    today, held = claims_today(user), held_count(user)
    return {
        "quota": policy.daily_claim_quota,
        "claimed_today": today,
        "max_held": policy.max_held,
        "held": held,
        "left": max(0, min(policy.daily_claim_quota - today, policy.max_held - held)),
        "cooling_off_days": policy.cooling_off_days,
    }


def _check_limits(actor: User) -> None:
    # Lock the rep's row: two claims at once by the same rep are counted one after the other.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    policy = policy_for(actor.team)
    if claims_today(actor) >= policy.daily_claim_quota:
        raise PoolLimit(
            _("You have used today's %(n)s claims from the pool.")
            % {"n": policy.daily_claim_quota},
            field="quota",
        )
    if held_count(actor) >= policy.max_held:
        raise PoolLimit(
            _("You already hold %(n)s customers and leads, the most allowed.")
            % {"n": policy.max_held},
            field="max_held",
        )


def _check_cooling_off(actor: User, **target: Any) -> None:
    policy = policy_for(actor.team)
    since = timezone.now() - timedelta(days=policy.cooling_off_days)
    recent = (
        PoolMove.objects.filter(
            user=actor,
            kind__in=(PoolMoveKind.RETURNED, PoolMoveKind.RELEASED),
            created_at__gte=since,
            **target,
        )
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        until = timezone.localtime(recent.created_at + timedelta(days=policy.cooling_off_days))
        raise PoolLimit(
            _("This left your hands recently; you may claim it again from %(date)s.")
            % {"date": until.strftime("%Y-%m-%d")},
            field="cooling_off",
        )


@transaction.atomic
def pool_claim_customer(*, actor: User, customer_id: int) -> Customer:
    """Claim a customer from the pool: owner becomes the actor. Publishes pool.claimed."""
    require_perm(actor, "sales.create")
    customer = pool_customers(actor).select_for_update().filter(pk=customer_id).first()
    if customer is None:
        if Customer.objects.filter(pk=customer_id, owner__isnull=False).exists():
            raise Conflict(_("Someone has already claimed this customer."), field="customer")
        raise DomainError(_("This customer is not in your pool."), field="customer")
    _check_limits(actor)
    _check_cooling_off(actor, customer=customer)
    customer_assign(
        actor=None, customers=Customer.objects.filter(pk=customer.pk), owner=actor, reason="pool"
    )
    PoolMove.objects.create(
        kind=PoolMoveKind.CLAIMED,
        customer=customer,
        user=actor,
        actor=actor,
        created_at=timezone.now(),
    )
    events.publish_on_commit("pool.claimed", customer_id=customer.pk, user_id=actor.pk)
    customer.refresh_from_db()
    return customer


@transaction.atomic
def pool_claim_lead(*, actor: User, lead_id: int) -> Lead:
    """Claim an unowned lead from the pool. Publishes pool.claimed with lead_id."""
    from guanxi.leads.services import event_add

    require_perm(actor, "sales.create")
    lead = pool_leads(actor).select_for_update().filter(pk=lead_id).first()
    if lead is None:
        if Lead.objects.filter(pk=lead_id, owner__isnull=False).exists():
            raise Conflict(_("Someone has already claimed this lead."), field="lead")
        raise DomainError(_("This lead is not in your pool."), field="lead")
    _check_limits(actor)
    _check_cooling_off(actor, lead=lead)
    lead.owner, lead.team, lead.assigned_at = actor, actor.team, timezone.now()
    lead.version += 1
    lead._change_reason = "pool"  # type: ignore[attr-defined]
    lead.save()
    PoolMove.objects.create(
        kind=PoolMoveKind.CLAIMED, lead=lead, user=actor, actor=actor, created_at=timezone.now()
    )
    event_add(lead, LeadEventKind.POOL, actor=actor, detail=_("Claimed from the pool"))
    events.publish_on_commit("pool.claimed", lead_id=lead.pk, user_id=actor.pk)
    return lead


@transaction.atomic
def pool_release_customer(*, actor: User, customer: Customer, reason: str = "") -> None:
    """Give one of the actor's own customers back to the pool (cooling-off starts)."""
    require_perm(actor, "sales.create")
    locked = Customer.objects.select_for_update().filter(pk=customer.pk, owner=actor).first()
    if locked is None:
        raise DomainError(_("Only the owner can give a customer back."), field="customer")
    customer_assign(
        actor=None, customers=Customer.objects.filter(pk=customer.pk), owner=None, reason="pool"
    )
    PoolMove.objects.create(
        kind=PoolMoveKind.RELEASED,
        customer=customer,
        user=actor,
        actor=actor,
        reason=reason[:300],
        created_at=timezone.now(),
    )
    events.publish_on_commit(
        "pool.returned", customer_ids=[customer.pk], user_id=actor.pk, reason="released"
    )


@transaction.atomic
def pool_release_lead(*, actor: User, lead: Lead, reason: str = "") -> None:
    """Give one of the actor's own open leads back to the pool."""
    from guanxi.leads.services import event_add

    require_perm(actor, "sales.create")
    locked = Lead.objects.select_for_update().filter(pk=lead.pk, owner=actor).first()
    if locked is None or not locked.is_open:
        raise DomainError(_("Only the owner can give a lead back."), field="lead")
    locked.owner = None
    locked.version += 1
    locked._change_reason = "pool"  # type: ignore[attr-defined]
    locked.save()
    PoolMove.objects.create(
        kind=PoolMoveKind.RELEASED,
        lead=locked,
        user=actor,
        actor=actor,
        reason=reason[:300],
        created_at=timezone.now(),
    )
    event_add(locked, LeadEventKind.POOL, actor=actor, detail=_("Given back to the pool"))
    events.publish_on_commit("pool.returned", lead_id=locked.pk, user_id=actor.pk)


# --- the sweep -----------------------------------------------------------------------------------


def _annotated(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """Each customer's reference times: since when the current owner has held it, the last
    follow-up (interaction) and the last deal (revenue order), never before the claim."""
    from guanxi.commerce.models import REVENUE_STATUSES, Order
    from guanxi.interactions.models import Interaction

    claimed = Subquery(
        PoolMove.objects.filter(customer=OuterRef("pk"), kind=PoolMoveKind.CLAIMED)
        .order_by("-created_at")
        .values("created_at")[:1],
        output_field=DateTimeField(),
    )
    touched = Subquery(
        Interaction.objects.filter(customer=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1],
        output_field=DateTimeField(),
    )
    ordered = Subquery(
        Order.objects.filter(customer=OuterRef("pk"), status__in=REVENUE_STATUSES)
        .order_by("-ordered_at")
        .values("ordered_at")[:1],
        output_field=DateTimeField(),
    )
    qs = qs.annotate(held_since=Greatest("created_at", Coalesce(claimed, "created_at")))
    return qs.annotate(
        follow_ref=Greatest("held_since", Coalesce(touched, "held_since")),
        deal_ref=Greatest("held_since", Coalesce(ordered, "held_since")),
    )


def _ruling_teams(rules: list[PoolRule]) -> dict[int, int | None]:
    """Each team's id → the team whose rules govern it: the team itself when it has rules of
    its own, else its nearest ancestor that has some, else None (the no-team default)."""
    ruled = {rule.team_id for rule in rules if rule.team_id is not None}
    ruling: dict[int, int | None] = {}
    for pk, path in Team.objects.values_list("pk", "path"):
        chain = [int(part) for part in path.strip("/").split("/") if part.isdigit()]
        if pk not in chain:
            chain.append(pk)
        ruling[pk] = next((team_id for team_id in reversed(chain) if team_id in ruled), None)
    return ruling


def _governed(rule: PoolRule, ruling: dict[int, int | None]) -> Q:
    """The teams (and, for the default, the team-less rows) a rule applies to."""
    team_ids = sorted(pk for pk, ruler in ruling.items() if ruler == rule.team_id)
    if rule.team_id is None:
        return Q(team__isnull=True) | Q(team_id__in=team_ids)
    return Q(team_id__in=team_ids)


def _rule_customers(
    rule: PoolRule, rules: list[PoolRule], ruling: dict[int, int | None]
) -> QuerySet[Customer]:
    from guanxi.grading.models import CustomerGrade, Scheme

    qs = Customer.objects.filter(
        _governed(rule, ruling), owner__isnull=False, status__in=POOL_CUSTOMER_STATUSES
    )
    same_team_tiers = sorted(
        {o.tier_id for o in rules if o.team_id == rule.team_id and o.tier_id is not None}
    )
    if rule.tier_id is None and not same_team_tiers:
        return qs
    primary = Scheme.objects.filter(is_primary=True).values("pk")[:1]
    graded = CustomerGrade.objects.filter(scheme_id__in=primary)
    if rule.tier_id is not None:
        return qs.filter(pk__in=graded.filter(tier_id=rule.tier_id).values("customer_id"))
    return qs.exclude(pk__in=graded.filter(tier_id__in=same_team_tiers).values("customer_id"))


def _due_condition(rule: PoolRule, now: datetime, *, ahead_days: int = 0) -> Q | None:
    condition = None
    for days, column in ((rule.no_follow_up_days, "follow_ref"), (rule.no_deal_days, "deal_ref")):
        if days:
            part = Q(**{f"{column}__lt": now - timedelta(days=max(days - ahead_days, 0))})
            condition = part if condition is None else condition | part
    return condition


def _customer_touched() -> Subquery | None:
    """The latest interaction (call, visit, message…) logged on the customer a lead is
    attached to — the one it became, else the one it matched — when interactions are
    installed: working that customer is working the lead."""
    if not apps.is_installed("guanxi.interactions"):
        return None
    interaction = apps.get_model("interactions", "Interaction")
    return Subquery(
        interaction.objects.filter(
            customer_id=Coalesce(OuterRef("customer_id"), OuterRef("matched_customer_id"))
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1],
        output_field=DateTimeField(),
    )


def _lead_annotated(qs: QuerySet[Lead]) -> QuerySet[Lead]:
    """Each lead's last activity: its latest event (a call, note, status change, behaviour;
    pool bookkeeping aside) or interaction logged on its customer, never before the current
    owner got it."""
    claimed = Subquery(
        PoolMove.objects.filter(lead=OuterRef("pk"), kind=PoolMoveKind.CLAIMED)
        .order_by("-created_at")
        .values("created_at")[:1],
        output_field=DateTimeField(),
    )
    touched = Subquery(
        LeadEvent.objects.filter(lead=OuterRef("pk"))
        .exclude(kind=LeadEventKind.POOL)
        .order_by("-occurred_at")
        .values("occurred_at")[:1],
        output_field=DateTimeField(),
    )
    qs = qs.annotate(
        held_since=Greatest(
            "created_at",
            Coalesce("assigned_at", "created_at"),
            Coalesce(claimed, "created_at"),
        )
    )
    worked = _customer_touched()
    if worked is None:
        return qs.annotate(follow_ref=Greatest("held_since", Coalesce(touched, "held_since")))
    return qs.annotate(
        follow_ref=Greatest(
            "held_since", Coalesce(touched, "held_since"), Coalesce(worked, "held_since")
        )
    )


def _rule_leads(rule: PoolRule, ruling: dict[int, int | None]) -> QuerySet[Lead]:
    """Open owned leads under a rule (leads have no tier: only any-tier rules reach them)."""
    return _lead_annotated(
        Lead.objects.filter(_governed(rule, ruling), owner__isnull=False, status__in=OPEN_STATUSES)
    )


def _lead_condition(rule: PoolRule, now: datetime, *, ahead_days: int = 0) -> Q | None:
    if rule.tier_id is not None or not rule.no_follow_up_days:
        return None
    return Q(follow_ref__lt=now - timedelta(days=max(rule.no_follow_up_days - ahead_days, 0)))


def pool_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Return neglected customers and leads to the pool and warn owners of those about to go.

    A team without rules of its own follows its nearest ancestor's rules, else the default.
    Returns how many customers and leads were returned, and how many were warned about.
    """
    now = now or timezone.now()
    rules = list(PoolRule.objects.filter(is_active=True).select_related("team"))
    ruling = _ruling_teams(rules)
    counts = {"returned": 0, "warned": 0}
    for rule in rules:
        policy = policy_for(rule.team)
        for target in ("customer", "lead"):
            if target == "customer":
                due = _due_condition(rule, now)
                soon = _due_condition(rule, now, ahead_days=policy.warn_days)
                candidates: QuerySet[Any] = _annotated(_rule_customers(rule, rules, ruling))
            else:
                due = _lead_condition(rule, now)
                soon = _lead_condition(rule, now, ahead_days=policy.warn_days)
                candidates = _rule_leads(rule, ruling)
            if due is None:
                continue
            rows = list(candidates.filter(due).values_list("pk", "owner_id"))
            for start in range(0, len(rows), CHUNK):
                counts["returned"] += _return(
                    rows[start : start + CHUNK], now=now, rule=rule, target=target
                )
            if soon is None or not policy.warn_days:
                continue
            recently_warned = PoolMove.objects.filter(
                kind=PoolMoveKind.WARNED,
                created_at__gte=now - timedelta(days=policy.warn_days),
                **{f"{target}__isnull": False},
            ).values(f"{target}_id")
            to_warn = list(
                candidates.filter(soon)
                .exclude(due)
                .exclude(pk__in=recently_warned)
                .values_list("pk", "owner_id")
            )
            counts["warned"] += _warn(to_warn, now=now, warn_days=policy.warn_days, target=target)
    return counts


def _describe(rule: PoolRule, target: str = "customer") -> str:
    parts = []
    if rule.no_follow_up_days:
        parts.append(_("no follow-up for %(n)s days") % {"n": rule.no_follow_up_days})
    if rule.no_deal_days and target == "customer":
        parts.append(_("no deal for %(n)s days") % {"n": rule.no_deal_days})
    return _(" or ").join(parts)


def _returned_text(target: str) -> Any:
    if target == "lead":
        return lambda n: (
            ngettext(
                "%(n)s of your leads went back to the public pool.",
                "%(n)s of your leads went back to the public pool.",
                n,
            )
            % {"n": n}
        )
    return lambda n: (
        ngettext(
            "%(n)s of your customers went back to the public pool.",
            "%(n)s of your customers went back to the public pool.",
            n,
        )
        % {"n": n}
    )


def _warned_text(target: str, warn_days: int) -> Any:
    if target == "lead":
        return lambda n: (
            ngettext(
                "%(n)s of your leads will go back to the public pool within %(days)s days "
                "unless you follow up.",
                "%(n)s of your leads will go back to the public pool within %(days)s days "
                "unless you follow up.",
                n,
            )
            % {"n": n, "days": warn_days}
        )
    return lambda n: (
        ngettext(
            "%(n)s of your customers will go back to the public pool within %(days)s days "
            "unless you follow up.",
            "%(n)s of your customers will go back to the public pool within %(days)s days "
            "unless you follow up.",
            n,
        )
        % {"n": n, "days": warn_days}
    )


@transaction.atomic
def _return(
    rows: list[tuple[int, int]], *, now: datetime, rule: PoolRule, target: str = "customer"
) -> int:
    ids = [pk for pk, _owner in rows]
    reason = _describe(rule, target)
    if target == "lead":
        Lead.objects.filter(pk__in=ids, owner__isnull=False).update(
            owner=None, version=F("version") + 1, updated_at=now
        )
        LeadEvent.objects.bulk_create(
            [
                LeadEvent(
                    lead_id=pk,
                    kind=LeadEventKind.POOL,
                    occurred_at=now,
                    detail=_("Returned to the pool: %(reason)s") % {"reason": reason},
                )
                for pk in ids
            ]
        )
    else:
        customer_assign(
            actor=None,
            customers=Customer.objects.filter(pk__in=ids, owner__isnull=False),
            owner=None,
            reason="pool",
        )
    PoolMove.objects.bulk_create(
        [
            PoolMove(
                kind=PoolMoveKind.RETURNED,
                user_id=owner_id,
                reason=reason,
                created_at=now,
                **{f"{target}_id": pk},
            )
            for pk, owner_id in rows
        ]
    )
    events.publish_on_commit("pool.returned", **{f"{target}_ids": ids}, reason="rule")
    _notify_owners(Counter(owner_id for _pk, owner_id in rows), _returned_text(target))
    return len(ids)


@transaction.atomic
def _warn(
    rows: list[tuple[int, int]], *, now: datetime, warn_days: int, target: str = "customer"
) -> int:
    if not rows:
        return 0
    PoolMove.objects.bulk_create(
        [
            PoolMove(
                kind=PoolMoveKind.WARNED, user_id=owner_id, created_at=now, **{f"{target}_id": pk}
            )
            for pk, owner_id in rows
        ]
    )
    _notify_owners(Counter(owner_id for _pk, owner_id in rows), _warned_text(target, warn_days))
    return len(rows)


def _notify_owners(per_owner: Counter[int], text: Any) -> None:
    from guanxi.leads.services import notify_user

    owners = User.objects.filter(pk__in=list(per_owner))
    url = reverse("leads:pool")

    def send() -> None:
        for owner in owners:
            try:
                notify_user(owner, title=text(per_owner[owner.pk]), url=url)
            except Exception:  # one failed notification must not stop the others
                logger.exception("could not notify user %s about the pool", owner.pk)

    transaction.on_commit(send)


@transaction.atomic
def pool_policy_save(*, actor: User, team: Team | None, values: dict[str, int]) -> PoolPolicy:
    """Set a team's claim quota, holding limit, cooling-off and warning days (sales.admin)."""
    require_perm(actor, "sales.admin")
    policy = PoolPolicy.objects.filter(team=team).first() or PoolPolicy(team=team)
    for field in ("daily_claim_quota", "max_held", "cooling_off_days", "warn_days"):
        if field in values:
            if int(values[field]) < 0:
                raise DomainError(_("This value is too small."), field=field)
            setattr(policy, field, int(values[field]))
    policy.save()
    return policy


@transaction.atomic
def pool_rule_save(
    *,
    actor: User,
    team: Team | None,
    tier: Any,
    no_follow_up_days: int | None,
    no_deal_days: int | None,
) -> PoolRule:
    """Add or change the rule for a team and tier (sales.admin)."""
    require_perm(actor, "sales.admin")
    if not no_follow_up_days and not no_deal_days:
        raise DomainError(
            _("Give the days without follow-up, without a deal, or both."),
            field="no_follow_up_days",
        )
    rule, _created = PoolRule.objects.update_or_create(
        team=team,
        tier=tier,
        defaults={
            "no_follow_up_days": no_follow_up_days or None,
            "no_deal_days": no_deal_days or None,
            "is_active": True,
        },
    )
    return rule


@transaction.atomic
def pool_rule_delete(*, actor: User, rule: PoolRule) -> None:
    """Remove a return rule (sales.admin): its team then follows its parent's rules."""
    require_perm(actor, "sales.admin")
    PoolRule.objects.filter(pk=rule.pk).delete()


@transaction.atomic
def pool_policy_delete(*, actor: User, policy: PoolPolicy) -> None:
    """Remove a team's claim limits (sales.admin): the team then follows its parent's."""
    require_perm(actor, "sales.admin")
    PoolPolicy.objects.filter(pk=policy.pk).delete()
