"""Each evaluation's tier snapshot is the scheme's real distribution, whatever changed the
grades since the last one: an expert's override, a deleted customer, another evaluation.
PostgreSQL keeps the counts with triggers (grading.tiercounts); SQLite counts the grades."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.grading import tiercounts
from guanxi.grading.models import CustomerGrade, EvaluationRun, Scheme, TierSnapshot
from guanxi.grading.services import evaluation_run, grade_override, preset_install

TODAY = timezone.localdate()


def _evaluate(scheme: Scheme, days: int = 0) -> EvaluationRun:
    run = evaluation_run(
        run_id=EvaluationRun.objects.create(scheme=scheme).pk,
        refresh=False,
        as_of=TODAY + dt.timedelta(days=days),
    )
    assert run.status == "completed", run.message
    return run


def _snapshot(scheme: Scheme) -> dict[str, int]:
    latest = TierSnapshot.objects.filter(scheme=scheme).order_by("-taken_at").first()
    assert latest is not None
    rows = TierSnapshot.objects.filter(scheme=scheme, taken_at=latest.taken_at)
    return {row.tier.code: row.customers for row in rows.select_related("tier")}


def _real(scheme: Scheme) -> dict[str, int]:
    rows = (
        CustomerGrade.objects.filter(scheme=scheme)
        .values_list("tier__code")
        .annotate(n=Count("pk"))
    )
    return {str(code): int(n) for code, n in rows}


@pytest.fixture
def wealth(customer_with: Any) -> tuple[Scheme, list[Customer]]:
    assets = ["6000000", "2000000", "200000", "150000", "50000", "10"]
    customers = [customer_with(monthly_average_assets=Decimal(value)) for value in assets]
    return preset_install(actor=None, code="wealth-tier"), customers


def test_the_snapshot_follows_overrides_deletions_and_evaluations(
    wealth: tuple[Scheme, list[Customer]], admin_user: Any, customer_with: Any
) -> None:
    scheme, customers = wealth
    _evaluate(scheme)
    assert _snapshot(scheme) == _real(scheme) == {
        "diamond": 1, "platinum": 1, "gold": 2, "mass": 2
    }  # fmt: skip

    grade_override(
        actor=admin_user,
        customer=customers[4],
        scheme=scheme,
        tier=scheme.tiers.get(code="platinum"),
        reason="Moving assets in",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    customers[0].delete()  # the grade goes with the customer, no evaluation involved
    customer_with(monthly_average_assets=Decimal("120000"))
    _evaluate(scheme, 1)

    assert _snapshot(scheme) == _real(scheme) == {"platinum": 2, "gold": 3, "mass": 1}


@pytest.mark.skipif(not tiercounts.kept(), reason="PostgreSQL keeps the counts")
def test_missing_triggers_are_put_back_and_the_counts_made_from_scratch(
    wealth: tuple[Scheme, list[Customer]],
) -> None:
    scheme, customers = wealth
    _evaluate(scheme)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {tiercounts.PREFIX}del ON {tiercounts.GRADES}")
    customers[1].delete()  # not counted: the trigger is gone

    assert tiercounts.ensure() is False
    assert tiercounts.ensure() is True
    _evaluate(scheme, 1)

    assert _snapshot(scheme) == _real(scheme) == {"diamond": 1, "gold": 2, "mass": 2}


@pytest.mark.skipif(not tiercounts.kept(), reason="PostgreSQL keeps the counts")
def test_emptying_the_grades_empties_the_counts(wealth: tuple[Scheme, list[Customer]]) -> None:
    scheme, _customers = wealth
    _evaluate(scheme)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no checks
        cursor.execute("TRUNCATE grading_customergrade")
        cursor.execute("SELECT COUNT(*) FROM grading_tiercount")
        assert cursor.fetchone()[0] == 0

    _evaluate(scheme, 1)

    assert _snapshot(scheme) == _real(scheme) == {
        "diamond": 1, "platinum": 1, "gold": 2, "mass": 2
    }  # fmt: skip
