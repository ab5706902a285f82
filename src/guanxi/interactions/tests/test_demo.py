from __future__ import annotations

from collections.abc import Callable
from typing import Any

from guanxi.interactions import demo
from guanxi.interactions.models import Interaction


def test_the_demo_gives_each_customer_a_short_timeline_once(
    rep: Any, make_customer: Callable[..., Any]
) -> None:
    customers = [make_customer(rep), make_customer(rep)]

    demo.load()
    demo.load(force=True)

    timelines = {
        customer.pk: list(
            customer.interactions.order_by("occurred_at").values_list("channel", flat=True)
        )
        for customer in customers
    }
    assert timelines == {
        customer.pk: ["phone_call", "email", "wechat", "visit"] for customer in customers
    }
    assert Interaction.objects.count() == 8
    assert set(Interaction.objects.values_list("owner", flat=True)) == {rep.pk}


def test_the_demo_skips_quietly_without_customers(db: Any) -> None:
    lines = demo.load()

    assert lines == ["Demo interactions: no customers without a timeline."]
    assert not Interaction.objects.exists()
