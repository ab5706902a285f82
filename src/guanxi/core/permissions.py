"""The one permission check for writes (and for module access): `require_perm`.

Permissions are "<module>.<action>" strings granted by the user's role; a superuser holds
them all, an inactive or anonymous user none.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied


def has_perm(user: Any, permission: str) -> bool:
    """Whether the user's role grants the permission ("customers.create")."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    role = getattr(user, "role", None)
    return role is not None and role.grants(permission)


def has_module(user: Any, module: str) -> bool:
    """Whether the user may open the module at all (its view permission)."""
    return has_perm(user, f"{module}.view")


def require_perm(user: Any, permission: str) -> None:
    """Raise PermissionDenied unless the user holds the permission."""
    if not has_perm(user, permission):
        raise PermissionDenied(permission)
