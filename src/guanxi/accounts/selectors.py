"""Reads of users, teams, roles and tokens, scoped to the acting user."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from guanxi.accounts.models import ApiToken, Role, Team, User
from guanxi.core.permissions import has_perm
from guanxi.core.scoping import ALL, OWN, TEAM, data_scope_of


@dataclass(frozen=True)
class UserFilters:
    q: str = ""
    team_id: int | None = None
    role_id: int | None = None
    is_active: bool | None = None


def user_list(*, actor: User, filters: UserFilters | None = None) -> QuerySet[User]:
    """Users the actor may see (accounts.view, then their data scope), team and role joined."""
    filters = filters or UserFilters()
    scope = data_scope_of(actor)
    if scope is None or not has_perm(actor, "accounts.view"):
        return User.objects.none()
    qs = User.objects.select_related("team", "role")
    team = actor.team
    if scope == OWN or (scope != ALL and team is None):
        qs = qs.filter(pk=actor.pk)
    elif scope == TEAM:
        qs = qs.filter(Q(team_id=actor.team_id) | Q(pk=actor.pk))
    elif scope != ALL and team is not None:
        qs = qs.filter(Q(team__path__startswith=team.path) | Q(pk=actor.pk))
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(
            Q(username__icontains=term) | Q(display_name__icontains=term) | Q(email__icontains=term)
        )
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.role_id is not None:
        qs = qs.filter(role_id=filters.role_id)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    return qs.order_by("-pk")


def user_get(*, actor: User, pk: int) -> User:
    """One visible user; anything else is 404."""
    found = user_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def team_list(*, actor: User) -> QuerySet[Team]:
    """The team tree in path order with member counts, for anyone who may view accounts."""
    if not has_perm(actor, "accounts.view"):
        return Team.objects.none()
    return (
        Team.objects.select_related("parent")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
        .order_by("path")
    )


def team_get(*, actor: User, pk: int) -> Team:
    found = team_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def role_list(*, actor: User) -> QuerySet[Role]:
    if not has_perm(actor, "accounts.view"):
        return Role.objects.none()
    return Role.objects.annotate(user_count=Count("users")).order_by("pk")


def role_get(*, actor: User, pk: int) -> Role:
    found = role_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def api_token_list(*, actor: User) -> QuerySet[ApiToken]:
    """The actor's own tokens, newest first."""
    return ApiToken.objects.filter(user_id=actor.pk).order_by("-pk")


def api_token_get(*, actor: User, pk: int) -> ApiToken:
    found = api_token_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def user_permissions(user: User) -> list[str]:
    """Every permission the user holds, sorted (a superuser holds them all)."""
    from guanxi.accounts.roles import all_permissions

    if user.is_superuser:
        return all_permissions()
    return sorted(user.role.permissions) if user.role is not None else []
