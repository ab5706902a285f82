"""Every preset, switched on against the demo data, gives a sensible distribution."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from guanxi.accounts import demo as accounts_demo
from guanxi.commerce import demo as commerce_demo
from guanxi.customers import demo as customers_demo
from guanxi.customers.models import Customer
from guanxi.grading import demo as grading_demo
from guanxi.grading.models import EvaluationRun, Scheme
from guanxi.grading.presets import PRESETS
from guanxi.grading.services import evaluation_run, preset_install
from guanxi.interactions import demo as interactions_demo

# The tiers each preset must fill on the demo data (at least one customer each).
POPULATED = {
    "value-tier": {"vip", "ordinary", "potential"},
    "value-growth": {"high-value", "potential", "general", "low-value"},
    "wealth-tier": {"diamond", "platinum", "gold", "mass"},
    "wealth-tier-loans": {"diamond", "platinum", "gold", "mass"},
    "credit-rating": {"a", "b", "c", "d"},
    "rfm": {"champions", "at-risk", "lost"},
    "abc": {"a", "b", "c"},
    "lifecycle": {"prospect", "introduction", "churned", "growth", "decline"},
    "customer-type": {"key", "new", "regular", "small", "potential"},
    "operating-condition": {"premium", "first", "third"},
}
# The tiers that hold exactly the customers who have never bought.
NEVER_BOUGHT = {"value-tier": "potential", "lifecycle": "prospect", "customer-type": "potential"}


@pytest.fixture
def demo(db: Any) -> None:
    for module in (accounts_demo, customers_demo, interactions_demo, commerce_demo):
        module.load()
    grading_demo.enterprise_figures()


def _grades(code: str) -> dict[int, str]:
    scheme = preset_install(actor=None, code=code)
    run = evaluation_run(run_id=EvaluationRun.objects.create(scheme=scheme).pk)
    assert (run.status, run.message) == ("completed", "")
    grades = Scheme.objects.get(pk=scheme.pk).grades.select_related("tier")
    return {grade.customer_id: grade.tier.code for grade in grades if grade.tier}


def test_every_preset_has_its_expectations() -> None:
    assert set(POPULATED) == set(PRESETS)


def test_each_preset_spreads_the_demo_customers_over_its_tiers(demo: Any) -> None:
    distributions = {code: Counter(_grades(code).values()) for code in sorted(PRESETS)}

    empty = {code: POPULATED[code] - set(found) for code, found in distributions.items()}
    crowded = {
        code: dict(found)
        for code, found in distributions.items()
        if max(found.values()) * 3 > 2 * sum(found.values())  # no tier holds two thirds
    }
    assert {code: tiers for code, tiers in empty.items() if tiers} == {}, distributions
    assert crowded == {}


def test_customers_without_a_purchase_and_only_they_are_potential(demo: Any) -> None:
    never_bought = set(Customer.objects.filter(orders__isnull=True).values_list("pk", flat=True))

    graded = {code: _grades(code) for code in NEVER_BOUGHT}

    assert len(never_bought) == 1
    assert {
        code: {pk for pk, tier in grades.items() if tier == NEVER_BOUGHT[code]}
        for code, grades in graded.items()
    } == dict.fromkeys(NEVER_BOUGHT, never_bought)


def test_presets_for_one_kind_grade_only_that_kind(demo: Any) -> None:
    graded = {code: _grades(code) for code in ("wealth-tier", "operating-condition")}

    kinds = {
        code: set(Customer.objects.filter(pk__in=grades).values_list("kind", flat=True))
        for code, grades in graded.items()
    }
    assert kinds == {"wealth-tier": {"person"}, "operating-condition": {"enterprise"}}
