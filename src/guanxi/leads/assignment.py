"""Assignment rules: the first active rule that matches a new lead picks its owner.

Round robin is fair by construction: the rule row is locked, and the next member is the one
after the last one served (by user id, wrapping), so N leads over K members give each member
N/K (±1) whatever the order of arrival or the number of processes.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.leads.models import (
    OPEN_STATUSES,
    AssignmentMethod,
    AssignmentRule,
    Lead,
    LeadEventKind,
)


def _matches(rule: AssignmentRule, lead: Lead) -> bool:
    if rule.method == AssignmentMethod.REGION:
        return bool(rule.region) and rule.region == lead.region
    if rule.method == AssignmentMethod.INDUSTRY:
        return rule.industry_id is not None and rule.industry_id == lead.industry_id
    return True


def _candidates(rule: AssignmentRule) -> list[User]:
    members = list(rule.members.filter(is_active=True).order_by("pk"))
    if members:
        return members
    return list(User.objects.filter(team_id=rule.team_id, is_active=True).order_by("pk"))


def _next_in_turn(rule: AssignmentRule, members: list[User]) -> User:
    last = rule.last_user_id or 0
    return next((member for member in members if member.pk > last), members[0])


def _least_loaded(members: list[User]) -> User:
    loads = dict(
        Lead.objects.filter(owner__in=members, status__in=OPEN_STATUSES)
        .values("owner")
        .annotate(n=Count("pk"))
        .values_list("owner", "n")
    )
    return min(members, key=lambda member: (loads.get(member.pk, 0), member.pk))


def rule_pick(rule: AssignmentRule) -> User | None:
    """The member a rule gives its next lead to (locks the rule row for round robin)."""
    members = _candidates(rule)
    if not members:
        return None
    if rule.method == AssignmentMethod.WORKLOAD:
        return _least_loaded(members)
    return _next_in_turn(rule, members)


@transaction.atomic
def lead_auto_assign(lead: Lead) -> User | None:
    """Give an unowned lead an owner by the rules of its team (or of any team when it has
    none); a lead no rule matches stays in the public pool. Returns the owner."""
    from guanxi.leads.services import event_add

    rules = AssignmentRule.objects.filter(is_active=True).select_for_update()
    if lead.team_id is not None:
        rules = rules.filter(Q(team_id=lead.team_id) | Q(team__path__startswith=_path(lead)))
    for rule in rules.order_by("position", "pk"):
        if not _matches(rule, lead):
            continue
        owner = rule_pick(rule)
        if owner is None:
            continue
        AssignmentRule.objects.filter(pk=rule.pk).update(last_user=owner)
        lead.owner, lead.team, lead.assigned_at = owner, owner.team, timezone.now()
        lead._change_reason = "assign"  # type: ignore[attr-defined]
        lead.save(update_fields=["owner", "team", "assigned_at", "updated_at"])
        event_add(lead, LeadEventKind.ASSIGNED, detail=f"{rule.name}: {owner}")
        return owner
    return None


@transaction.atomic
def leads_auto_assign(leads: list[Lead]) -> list[str]:
    """`lead_auto_assign` over a batch of unsaved, unowned leads of one team, as if they
    arrived one by one: the rules are locked and read once, each round-robin cursor moves
    through its members in memory and is written once, workload counts are read once and
    grow with each lead handed out. Sets owner, team and assigned_at; returns each lead's
    assignment note ("rule: owner", or "" for a lead left in the pool)."""
    if not leads:
        return []
    team_ids = {lead.team_id for lead in leads}
    if len(team_ids) != 1:
        raise ValueError("leads_auto_assign takes the leads of one team")
    rules_qs = AssignmentRule.objects.filter(is_active=True).select_for_update()
    if leads[0].team_id is not None:
        rules_qs = rules_qs.filter(
            Q(team_id=leads[0].team_id) | Q(team__path__startswith=_path(leads[0]))
        )
    rules = list(rules_qs.order_by("position", "pk"))
    members: dict[int, list[User]] = {rule.pk: [] for rule in rules}
    through = AssignmentRule.members.through
    users_by_pk: dict[int, User] = {}
    if rules:
        links = list(
            through.objects.filter(assignmentrule_id__in=list(members), user__is_active=True)
            .select_related("user__team")
            .order_by("user_id")
        )
        for link in links:
            members[link.assignmentrule_id].append(link.user)
            users_by_pk[link.user_id] = link.user
    bare_teams = sorted({rule.team_id for rule in rules if not members[rule.pk]})
    by_team: dict[int, list[User]] = {}
    for user in (
        User.objects.filter(team_id__in=bare_teams, is_active=True)
        .select_related("team")
        .order_by("pk")
        if bare_teams
        else []
    ):
        by_team.setdefault(user.team_id or 0, []).append(users_by_pk.setdefault(user.pk, user))
    for rule in rules:
        if not members[rule.pk]:
            members[rule.pk] = by_team.get(rule.team_id, [])
    loaded = sorted(
        {
            user.pk
            for rule in rules
            if rule.method == AssignmentMethod.WORKLOAD
            for user in members[rule.pk]
        }
    )
    loads: dict[int, int] = dict.fromkeys(loaded, 0)
    if loaded:
        loads.update(
            Lead.objects.filter(owner_id__in=loaded, status__in=OPEN_STATUSES)
            .values("owner")
            .annotate(n=Count("pk"))
            .values_list("owner", "n")
        )
    moved: set[int] = set()
    now = timezone.now()
    notes: list[str] = []
    for lead in leads:
        note = ""
        for rule in rules:
            candidates = members[rule.pk]
            if not _matches(rule, lead) or not candidates:
                continue
            if rule.method == AssignmentMethod.WORKLOAD:
                owner = min(candidates, key=lambda member: (loads[member.pk], member.pk))
            else:
                owner = _next_in_turn(rule, candidates)
            rule.last_user_id = owner.pk
            moved.add(rule.pk)
            if owner.pk in loads:
                loads[owner.pk] += 1
            lead.owner, lead.team, lead.assigned_at = owner, owner.team, now
            note = f"{rule.name}: {owner}"
            break
        notes.append(note)
    for rule in rules:
        if rule.pk in moved:
            AssignmentRule.objects.filter(pk=rule.pk).update(last_user_id=rule.last_user_id)
    return notes


def _path(lead: Lead) -> str:
    team = lead.team
    return team.path if team is not None and team.path else "/-/"


@transaction.atomic
def assignment_rule_save(
    *,
    actor: User,
    values: dict[str, object],
    member_ids: list[int],
    rule: AssignmentRule | None = None,
) -> AssignmentRule:
    """Create or change an assignment rule (sales.admin or an administrator)."""
    require_perm(actor, "sales.admin")
    rule = rule or AssignmentRule()
    for field in ("name", "method", "region", "position", "is_active"):
        if field in values:
            setattr(rule, field, values[field])
    if "team" in values:
        rule.team = values["team"]  # type: ignore[assignment]  # a Team from the form
    if "industry" in values:
        rule.industry = values["industry"]  # type: ignore[assignment]  # an Industry or None
    if rule.method not in AssignmentMethod.values:
        raise DomainError(_("Choose one of the allowed values."), field="method")
    if rule.method == AssignmentMethod.REGION and not rule.region:
        raise DomainError(_("Name the region this rule serves."), field="region")
    if rule.method == AssignmentMethod.INDUSTRY and rule.industry_id is None:
        raise DomainError(_("Choose the industry this rule serves."), field="industry")
    try:
        rule.full_clean()
    except ValidationError as error:
        errors = [
            {"field": field, "message": str(message)}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
        raise DomainError(errors[0]["message"], errors=errors) from error
    rule.save()
    rule.members.set(User.objects.filter(pk__in=member_ids, is_active=True))
    return rule
