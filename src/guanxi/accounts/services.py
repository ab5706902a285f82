"""Commands on users, teams, roles and API tokens; each checks `accounts.admin` first."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.auth import TOKEN_PREFIX, hash_token
from guanxi.accounts.models import ApiToken, DataScope, Role, Team, User
from guanxi.accounts.roles import BUILTIN_ROLES, all_permissions
from guanxi.core import events
from guanxi.core.errors import Conflict, DomainError, check_version
from guanxi.core.permissions import require_perm

ADMIN = "accounts.admin"


def _validation_error(error: ValidationError) -> DomainError:
    errors = [
        {"field": name, "message": str(message)}
        for name, messages in error.message_dict.items()
        for message in messages
    ]
    return DomainError(errors[0]["message"] if errors else str(error), errors=errors)


# --- roles -------------------------------------------------------------------------------------


def builtin_roles_ensure() -> None:
    """Create the built-in roles that are missing; leaves administrators' edits alone."""
    for code, (name, description, permissions, scope) in BUILTIN_ROLES.items():
        Role.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "permissions": sorted(set(permissions)),
                "data_scope": scope,
                "is_builtin": True,
            },
        )


def _clean_permissions(permissions: list[str]) -> list[str]:
    known = set(all_permissions())
    unknown = sorted(set(permissions) - known)
    if unknown:
        raise DomainError(
            _("Unknown permission: %(name)s") % {"name": unknown[0]}, field="permissions"
        )
    return sorted(set(permissions))


@transaction.atomic
def role_create(
    *,
    actor: User,
    name: str,
    code: str,
    permissions: list[str],
    data_scope: str,
    description: str = "",
) -> Role:
    """Create a custom role."""
    require_perm(actor, ADMIN)
    if data_scope not in DataScope.values:
        raise DomainError(_("Choose a valid data scope."), field="data_scope")
    role = Role(
        name=name.strip(),
        code=code.strip(),
        description=description,
        permissions=_clean_permissions(permissions),
        data_scope=data_scope,
    )
    try:
        role.full_clean()
    except ValidationError as error:
        raise _validation_error(error) from error
    role.save()
    events.publish_on_commit("accounts.role_created", role_id=role.pk, actor_id=actor.pk)
    return role


@transaction.atomic
def role_update(*, actor: User, role: Role, version: int | None, **changes: Any) -> Role:
    """Change a role's name, description, permissions or data scope (built-in ones too)."""
    require_perm(actor, ADMIN)
    role = Role.objects.select_for_update().get(pk=role.pk)
    check_version(role.version, version)
    if "permissions" in changes:
        changes["permissions"] = _clean_permissions(changes["permissions"])
    if "data_scope" in changes and changes["data_scope"] not in DataScope.values:
        raise DomainError(_("Choose a valid data scope."), field="data_scope")
    if (
        role.code == "administrator"
        and "permissions" in changes
        and "accounts.admin" not in changes["permissions"]
    ):
        raise DomainError(
            _("The Administrator role must keep the right to administer accounts."),
            field="permissions",
        )
    for name in ("name", "description", "permissions", "data_scope"):
        if name in changes and changes[name] is not None:
            setattr(role, name, changes[name])
    try:
        role.full_clean()
    except ValidationError as error:
        raise _validation_error(error) from error
    role.version += 1
    role.save()
    events.publish_on_commit("accounts.role_changed", role_id=role.pk, actor_id=actor.pk)
    return role


# --- teams -------------------------------------------------------------------------------------


@transaction.atomic
def team_create(*, actor: User | None, name: str, parent: Team | None = None) -> Team:
    """Create a team under `parent` (a root team when None). actor None: system setup."""
    if actor is not None:
        require_perm(actor, ADMIN)
    team = Team(name=name.strip(), parent=parent)
    if Team.objects.filter(parent=parent, name=team.name).exists():
        raise Conflict(_("A team with this name already exists here."), field="name")
    try:
        team.full_clean(exclude=["path"])
    except ValidationError as error:
        raise _validation_error(error) from error
    team.save()
    team.path = f"{parent.path if parent else '/'}{team.pk}/"
    team.save(update_fields=["path"])
    events.publish_on_commit("accounts.team_created", team_id=team.pk)
    return team


@transaction.atomic
def team_update(
    *,
    actor: User,
    team: Team,
    version: int | None,
    name: str | None = None,
    parent: Team | bool | None = False,
    is_active: bool | None = None,
) -> Team:
    """Rename or move a team; moving rewrites its subtree's paths in one statement.

    `parent=False` leaves the parent as it is; None makes the team a root.
    """
    require_perm(actor, ADMIN)
    team = Team.objects.select_for_update().get(pk=team.pk)
    check_version(team.version, version)
    if name is not None:
        team.name = name.strip()
    if is_active is not None:
        team.is_active = is_active
    old_path = team.path
    if parent is not False:
        new_parent = parent if isinstance(parent, Team) else None
        if new_parent is not None and new_parent.path.startswith(old_path):
            raise DomainError(
                _("A team cannot be moved under itself or one of its sub-teams."), field="parent"
            )
        team.parent = new_parent
        team.path = f"{new_parent.path if new_parent else '/'}{team.pk}/"
    if Team.objects.filter(parent=team.parent, name=team.name).exclude(pk=team.pk).exists():
        raise Conflict(_("A team with this name already exists here."), field="name")
    try:
        team.full_clean(exclude=["path"])
    except ValidationError as error:
        raise _validation_error(error) from error
    team.version += 1
    team.save()
    if team.path != old_path:
        Team.objects.filter(path__startswith=old_path).exclude(pk=team.pk).update(
            path=Concat(Value(team.path), Substr(F("path"), len(old_path) + 1))
        )
    events.publish_on_commit("accounts.team_changed", team_id=team.pk)
    return team


# --- users -------------------------------------------------------------------------------------


def _set_password(user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="password") from error
    user.set_password(password)


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    team: Team | None = None,
    role: Role | None = None,
    is_active: bool = True,
    is_superuser: bool = False,
) -> User:
    """Create a user; only administrators may (actor None: system setup)."""
    if actor is not None:
        require_perm(actor, ADMIN)
        if is_superuser and not actor.is_superuser:
            raise PermissionDenied("superuser")
    user = User(
        username=username.strip(),
        display_name=display_name.strip(),
        email=email.strip(),
        team=team,
        role=role,
        is_active=is_active,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    if User.objects.filter(username__iexact=user.username).exists():
        raise Conflict(_("This username is taken."), field="username")
    _set_password(user, password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        raise _validation_error(error) from error
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        raise Conflict(_("This username is taken."), field="username") from error
    events.publish_on_commit("accounts.user_created", user_id=user.pk)
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, version: int | None, **changes: Any) -> User:
    """Change a user's profile, team, role, active flag or password (with `password`)."""
    require_perm(actor, ADMIN)
    user = User.objects.select_for_update().get(pk=user.pk)
    check_version(user.version, version)
    if user.pk == actor.pk and changes.get("is_active") is False:
        raise DomainError(_("You cannot deactivate your own account."), field="is_active")
    for name in ("display_name", "email", "team", "role", "is_active", "phone"):
        if name in changes and (changes[name] is not None or name in {"team", "role"}):
            value = changes[name]
            setattr(user, name, value.strip() if isinstance(value, str) else value)
    if changes.get("password"):
        _set_password(user, changes["password"])
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        raise _validation_error(error) from error
    user.version += 1
    user.save()
    events.publish_on_commit("accounts.user_changed", user_id=user.pk)
    return user


# --- API tokens --------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *, actor: User, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a personal token for the actor; returns it and its secret, shown only now."""
    name = name.strip()
    if not name:
        raise DomainError(_("Give the token a name."), field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise DomainError(_("A token lives between 1 and 3650 days."), field="expires_in_days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    days = expires_in_days
    token = ApiToken.objects.create(
        user=actor,
        name=name[:80],
        prefix=secret[:10],
        token_hash=hash_token(secret),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    events.publish_on_commit("accounts.token_created", token_id=token.pk, user_id=actor.pk)
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's own tokens (idempotent)."""
    if token.user_id != actor.pk:
        raise PermissionDenied("token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        events.publish_on_commit("accounts.token_revoked", token_id=token.pk, user_id=actor.pk)
    return token
