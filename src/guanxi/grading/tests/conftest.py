from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.grading.models import CustomerMetrics, EvaluationRun, Scheme
from guanxi.grading.services import evaluation_run, preset_install


@pytest.fixture
def customer_with(db: Any, make_user: Any, teams: dict[str, Any]) -> Callable[..., Customer]:
    """A customer whose metrics row holds exactly the given values (no refresh needed)."""
    owner = make_user("sales-rep", teams["east"])
    counter = {"n": 0}

    def make(kind: str = "person", custom: dict[str, Any] | None = None, **values: Any) -> Customer:
        counter["n"] += 1
        customer = Customer.objects.create(
            kind=kind,
            name=f"客户{counter['n']}",
            owner=owner,
            team=owner.team,
            custom_fields=custom or {},
        )
        # Grading counts recency and tenure from the order dates: derive them from the days.
        for days, moment in (("recency_days", "last_order_at"), ("tenure_days", "first_order_at")):
            if values.get(days) is not None and moment not in values:
                values[moment] = noon_days_ago(values[days])
        # The longest term to pay is counted from the paid invoices' and the unpaid ones'.
        if "max_days_to_pay_24m" in values and "max_days_paid_24m" not in values:
            values["max_days_paid_24m"] = values["max_days_to_pay_24m"]
        CustomerMetrics.objects.create(customer=customer, as_of=timezone.localdate(), **values)
        return customer

    return make


@pytest.fixture
def grade() -> Callable[[str], dict[int, str | None]]:
    """Install a preset, evaluate it on the stored metrics, return {customer id: tier code}."""

    def run(code: str) -> dict[int, str | None]:
        scheme = preset_install(actor=None, code=code)
        evaluation_run(run_id=EvaluationRun.objects.create(scheme=scheme).pk, refresh=False)
        return {
            row.customer_id: row.tier.code if row.tier else None
            for row in Scheme.objects.get(pk=scheme.pk).grades.select_related("tier")
        }

    return run


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def noon_days_ago(days: int) -> dt.datetime:
    """Noon (local time) of the day `days` days before today: the same date in UTC."""
    day = timezone.localdate() - dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())
