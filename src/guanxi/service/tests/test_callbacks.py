"""Callbacks from the tier's schedule, and a tier's SLA class choosing the ticket's policy."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.activities.models import Task
from guanxi.grading.models import CustomerGrade, Scheme, Tier
from guanxi.service import callbacks, services
from guanxi.service.models import AgentGroup, AgentMembership, Callback, CallbackSchedule, SlaPolicy


@pytest.fixture
def gold(db: Any) -> Tier:
    scheme = Scheme.objects.create(
        code="value",
        name_zh="价值",
        name_en="Value",
        method="thresholds",
        is_active=True,
        is_primary=True,
    )
    return Tier.objects.create(
        scheme=scheme, code="gold", name_zh="金卡", name_en="Gold", rank=1, sla_class="gold"
    )


def test_the_schedule_calls_each_gold_customer_once_in_turn_with_a_task(
    agent: Any, agent2: Any, make_customer: Any, gold: Tier, teams: dict[str, Any]
) -> None:
    customers = [make_customer(f"金卡客户 {i}") for i in range(3)]
    make_customer("普通客户")
    CustomerGrade.objects.bulk_create(
        CustomerGrade(customer=c, scheme=gold.scheme, tier=gold) for c in customers
    )
    group = AgentGroup.objects.create(name="回访组", team=teams["service"])
    AgentMembership.objects.create(group=group, user=agent)
    AgentMembership.objects.create(group=group, user=agent2)
    CallbackSchedule.objects.create(sla_class="gold", every_days=90, group=group)

    made = callbacks.callbacks_schedule()
    again = callbacks.callbacks_schedule()

    assert (made, again) == (3, 0)
    assert list(Callback.objects.order_by("customer_id").values_list("customer_id", "agent")) == [
        (customers[0].pk, agent.pk),
        (customers[1].pk, agent2.pk),
        (customers[2].pk, agent.pk),
    ]
    assert Task.objects.filter(source="ticket").count() == 3


def test_a_gold_customers_ticket_gets_the_gold_policy(
    agent: Any, customer: Any, gold: Tier, policies: dict[str, SlaPolicy]
) -> None:
    CustomerGrade.objects.create(customer=customer, scheme=gold.scheme, tier=gold)
    gold_policy = SlaPolicy.objects.create(
        name="Gold",
        sla_class="gold",
        priority="normal",
        first_response_minutes=15,
        resolution_minutes=120,
    )

    ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    assert (ticket.sla_class, ticket.sla_policy) == ("gold", gold_policy)
