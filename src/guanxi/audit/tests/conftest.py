"""Audit fixtures: users with and without audit.view, and a helper that writes entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.accounts.models import Role
from guanxi.audit.models import AccessLog
from guanxi.audit.services import access_log_write


@pytest.fixture
def auditor(make_user: Callable[..., Any], teams: dict[str, Any]) -> Any:
    return make_user("auditor", teams["hq"], username="auditor")


@pytest.fixture
def rep(make_user: Callable[..., Any], teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], username="rep")


@pytest.fixture
def audit_role(db: Any) -> Callable[[str], Role]:
    """A role holding only audit.view, with the given data scope."""

    def make(scope: str) -> Role:
        return Role.objects.create(
            name=f"Audit {scope}",
            code=f"audit-{scope}",
            permissions=["audit.view"],
            data_scope=scope,
        )

    return make


@pytest.fixture
def log_entry(db: Any) -> Callable[..., AccessLog]:
    def make(actor: Any, **extra: Any) -> AccessLog:
        return access_log_write(
            actor=actor,
            action=extra.pop("action", "reveal"),
            target_model=extra.pop("target_model", "customers.customer"),
            target_pk=extra.pop("target_pk", "1"),
            **extra,
        )

    return make
