"""Fixtures of the interactions tests: people in the demo team tree, their customers, files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.services import customer_create
from guanxi.interactions.models import Interaction


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files land in a fresh folder per test."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], username="rep.east")


@pytest.fixture
def other_rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["north"], username="rep.north")


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["sales"], username="manager")


@pytest.fixture
def make_customer(db: Any) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(owner: Any, name: str | None = None) -> Any:
        counter["n"] += 1
        return customer_create(
            actor=owner, values={"kind": "person", "name": name or f"客户 {counter['n']}"}
        )

    return make


@pytest.fixture
def customer(rep: Any, make_customer: Callable[..., Any]) -> Any:
    return make_customer(rep, "王芳")


@pytest.fixture
def foreign_customer(other_rep: Any, make_customer: Callable[..., Any]) -> Any:
    return make_customer(other_rep, "赵强")


@pytest.fixture
def make_interaction(db: Any) -> Callable[..., Interaction]:
    """A stored interaction written directly (the service is what the tests exercise)."""
    base = timezone.now().replace(microsecond=0) - dt.timedelta(days=30)

    def make(customer: Any, **fields: Any) -> Interaction:
        fields.setdefault("channel", "phone_call")
        fields.setdefault("summary", "电话回访")
        fields.setdefault("occurred_at", base)
        fields.setdefault("owner", customer.owner)
        return Interaction.objects.create(customer=customer, **fields)

    return make
