from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.customers.models import Customer


@pytest.fixture
def rep(make_user: Callable[..., Any], teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], email="rep@example.com")


@pytest.fixture
def make_customer(db: Any) -> Callable[..., Customer]:
    counter = {"n": 0}

    def make(owner: Any, name: str | None = None) -> Customer:
        counter["n"] += 1
        return Customer.objects.create(
            kind="person", name=name or f"客户{counter['n']}", owner=owner, team=owner.team
        )

    return make
