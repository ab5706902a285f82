"""The demo loader: deals on every demo customer, once, visible on the board."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.sales import demo, selectors
from guanxi.sales.models import Opportunity, SalesTarget, StageVisit

pytestmark = pytest.mark.django_db


def test_the_demo_adds_deals_to_each_customer_once(
    rep: Any, make_customer: Callable[..., Any], pipeline: Any
) -> None:
    customers = [make_customer(rep), make_customer(rep)]

    demo.load()
    count = Opportunity.objects.count()
    demo.load(force=True)

    assert Opportunity.objects.count() == count
    assert set(Opportunity.objects.values_list("customer_id", flat=True)) == {
        c.pk for c in customers
    }
    assert StageVisit.objects.filter(left_at__isnull=True, opportunity__status="open").count() == (
        Opportunity.objects.filter(status="open").count()
    )
    assert SalesTarget.objects.filter(user=rep).count() == 1
    columns = selectors.board(actor=rep, pipeline=pipeline)
    assert sum(c.count for c in columns) == Opportunity.objects.filter(status="open").count()


def test_the_demo_skips_quietly_without_customers(pipeline: Any) -> None:
    assert demo.load() == ["Demo sales: nothing to add."]
