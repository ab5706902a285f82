"""The public pool: claims with a quota and a holding limit, cooling-off, the periodic
return of neglected customers (with a frozen clock), warnings, tiers, scope and history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from guanxi.activities.models import Notification
from guanxi.core.errors import Conflict, DomainError
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_assign
from guanxi.grading.models import CustomerGrade, Scheme, Tier
from guanxi.interactions.services import interaction_log
from guanxi.leads import pool, selectors
from guanxi.leads.models import Lead, PoolMove, PoolMoveKind, PoolPolicy, PoolRule
from guanxi.leads.pool import PoolLimit
from guanxi.leads.tasks import pool_sweep_task

MakeCustomer = Callable[..., Any]


@pytest.fixture
def frozen() -> Iterator[Any]:
    """A clock stopped at a known moment; `frozen.shift(days=…)` moves it on."""
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def _in_pool(owner: Any, make_customer: MakeCustomer, name: str = "王芳", **values: Any) -> Any:
    """A customer of the owner's team with no owner: in the pool."""
    customer = make_customer(owner, name, **values)
    customer_assign(actor=None, customers=Customer.objects.filter(pk=customer.pk), owner=None)
    return Customer.objects.get(pk=customer.pk)


def _owner(customer: Any) -> Any:
    return Customer.objects.get(pk=customer.pk).owner


# --- browsing and claiming -----------------------------------------------------------------------


def test_the_pool_shows_unowned_customers_with_their_phones_masked(
    rep: Any, make_customer: MakeCustomer
) -> None:
    customer = _in_pool(rep, make_customer, phone="13812345678")

    rows = [selectors.masked_row(c) for c in selectors.pool_customer_list(actor=rep)]

    assert [(row["id"], row["phone"]) for row in rows] == [(customer.pk, "138****5678")]


def test_claiming_a_pool_customer_makes_the_rep_its_owner_and_records_the_move(
    rep: Any,
    make_customer: MakeCustomer,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    customer = _in_pool(rep, make_customer)

    with django_capture_on_commit_callbacks(execute=True):
        pool.pool_claim_customer(actor=rep, customer_id=customer.pk)

    assert _owner(customer) == rep
    assert list(PoolMove.objects.values_list("kind", "customer_id", "user_id")) == [
        (PoolMoveKind.CLAIMED, customer.pk, rep.pk)
    ]
    assert ("pool.claimed", {"customer_id": customer.pk, "user_id": rep.pk}) in published


def test_a_customer_someone_else_claimed_first_cannot_be_claimed(
    rep: Any, teammate: Any, make_customer: MakeCustomer
) -> None:
    customer = _in_pool(rep, make_customer)
    pool.pool_claim_customer(actor=teammate, customer_id=customer.pk)

    with pytest.raises(Conflict):
        pool.pool_claim_customer(actor=rep, customer_id=customer.pk)

    assert _owner(customer) == teammate


def test_the_daily_quota_refuses_the_claim_beyond_it_until_the_next_day(
    rep: Any, make_customer: MakeCustomer, teams: dict[str, Any], frozen: Any
) -> None:
    PoolPolicy.objects.create(team=teams["east"], daily_claim_quota=2)
    customers = [_in_pool(rep, make_customer, f"客户{i}") for i in range(3)]
    pool.pool_claim_customer(actor=rep, customer_id=customers[0].pk)
    pool.pool_claim_customer(actor=rep, customer_id=customers[1].pk)

    with pytest.raises(PoolLimit) as refused:
        pool.pool_claim_customer(actor=rep, customer_id=customers[2].pk)

    assert refused.value.field == "quota"
    assert _owner(customers[2]) is None
    frozen.shift(timedelta(days=1))
    pool.pool_claim_customer(actor=rep, customer_id=customers[2].pk)
    assert _owner(customers[2]) == rep


def test_a_rep_holding_the_maximum_cannot_claim_more(
    rep: Any, make_customer: MakeCustomer, make_lead: Any, teams: dict[str, Any]
) -> None:
    PoolPolicy.objects.create(team=teams["sales"], max_held=2)
    make_customer(rep, "已有客户")
    make_lead(rep)
    customer = _in_pool(rep, make_customer)

    with pytest.raises(PoolLimit) as refused:
        pool.pool_claim_customer(actor=rep, customer_id=customer.pk)

    assert refused.value.field == "max_held"
    assert _owner(customer) is None
    assert pool.claim_allowance(rep)["left"] == 0


def test_the_policy_of_the_nearest_team_applies(rep: Any, teams: dict[str, Any]) -> None:
    PoolPolicy.objects.create(team=None, daily_claim_quota=50)
    PoolPolicy.objects.create(team=teams["sales"], daily_claim_quota=10)
    PoolPolicy.objects.create(team=teams["east"], daily_claim_quota=5)

    assert pool.claim_allowance(rep)["quota"] == 5


def test_a_rep_cannot_claim_from_another_branchs_pool(
    rep: Any, outsider: Any, make_customer: MakeCustomer
) -> None:
    foreign = _in_pool(outsider, make_customer)

    with pytest.raises(DomainError):
        pool.pool_claim_customer(actor=rep, customer_id=foreign.pk)

    assert _owner(foreign) is None
    assert not selectors.pool_customer_list(actor=rep).filter(pk=foreign.pk).exists()


def test_an_unowned_lead_can_be_claimed_and_given_back(
    rep: Any, manager: Any, django_capture_on_commit_callbacks: Any, published: list[Any]
) -> None:
    from guanxi.leads.services import lead_create

    lead = lead_create(actor=manager, values={"name": "A"}, auto_assign=True)

    claimed = pool.pool_claim_lead(actor=rep, lead_id=lead.pk)
    assert claimed.owner == rep
    with django_capture_on_commit_callbacks(execute=True):
        pool.pool_release_lead(actor=rep, lead=claimed)

    assert Lead.objects.get(pk=lead.pk).owner is None
    assert list(PoolMove.objects.order_by("pk").values_list("kind", flat=True)) == [
        PoolMoveKind.CLAIMED,
        PoolMoveKind.RELEASED,
    ]
    assert ("pool.returned", {"lead_id": lead.pk, "user_id": rep.pk}) in published


# --- the periodic return -------------------------------------------------------------------------


def test_a_customer_without_follow_up_for_n_days_returns_to_the_pool(
    rep: Any,
    make_customer: MakeCustomer,
    teams: dict[str, Any],
    frozen: Any,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=30)
    customer = make_customer(rep, "王芳")

    frozen.shift(timedelta(days=29))
    assert pool_sweep_task.run()["returned"] == 0
    assert _owner(customer) == rep
    frozen.shift(timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        result = pool_sweep_task.run()

    assert result["returned"] == 1
    assert _owner(customer) is None
    move = PoolMove.objects.get(kind=PoolMoveKind.RETURNED)
    assert (move.customer_id, move.user_id) == (customer.pk, rep.pk)
    assert move.reason == "no follow-up for 30 days"
    assert ("pool.returned", {"customer_ids": [customer.pk], "reason": "rule"}) in published
    assert Notification.objects.filter(user=rep, title__contains="public pool").exists()


def test_a_follow_up_restarts_the_clock(
    rep: Any, make_customer: MakeCustomer, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=30)
    customer = make_customer(rep, "王芳")
    frozen.shift(timedelta(days=20))
    interaction_log(
        actor=rep,
        customer=customer,
        values={"channel": "phone_call", "summary": "回访", "occurred_at": timezone.now()},
    )

    frozen.shift(timedelta(days=15))
    pool.pool_sweep()

    assert _owner(customer) == rep


def test_a_customer_without_a_deal_for_m_days_returns_even_when_followed_up(
    rep: Any, make_customer: MakeCustomer, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=30, no_deal_days=60)
    customer = make_customer(rep, "王芳")
    for _ in range(3):
        frozen.shift(timedelta(days=20))
        interaction_log(
            actor=rep,
            customer=customer,
            values={"channel": "visit", "summary": "拜访", "occurred_at": timezone.now()},
        )

    frozen.shift(timedelta(days=1))
    pool.pool_sweep()

    assert _owner(customer) is None
    assert PoolMove.objects.get(kind=PoolMoveKind.RETURNED).reason == (
        "no follow-up for 30 days or no deal for 60 days"
    )


def test_the_owner_is_warned_a_few_days_before_the_return_and_only_once(
    rep: Any,
    make_customer: MakeCustomer,
    teams: dict[str, Any],
    frozen: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=30)
    PoolPolicy.objects.create(team=teams["east"], warn_days=3)
    customer = make_customer(rep, "王芳")

    frozen.shift(timedelta(days=28))
    with django_capture_on_commit_callbacks(execute=True):
        first = pool.pool_sweep()
    frozen.shift(timedelta(hours=12))
    with django_capture_on_commit_callbacks(execute=True):
        second = pool.pool_sweep()

    assert (first, second) == ({"returned": 0, "warned": 1}, {"returned": 0, "warned": 0})
    assert _owner(customer) == rep
    assert Notification.objects.filter(user=rep, title__contains="within 3 days").count() == 1


def test_a_tiers_own_rule_gives_its_customers_longer(
    rep: Any, make_customer: MakeCustomer, teams: dict[str, Any], frozen: Any
) -> None:
    scheme = Scheme.objects.create(
        code="value", name_zh="价值", name_en="Value", method="threshold", is_primary=True
    )
    gold = Tier.objects.create(scheme=scheme, code="gold", name_zh="金", name_en="Gold", rank=1)
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=30)
    PoolRule.objects.create(team=teams["east"], tier=gold, no_follow_up_days=90)
    ordinary = make_customer(rep, "普通客户")
    valued = make_customer(rep, "重要客户")
    CustomerGrade.objects.create(customer=valued, scheme=scheme, tier=gold)

    frozen.shift(timedelta(days=31))
    pool.pool_sweep()

    assert (_owner(ordinary), _owner(valued)) == (None, rep)
    frozen.shift(timedelta(days=60))
    pool.pool_sweep()
    assert _owner(valued) is None


def test_another_teams_rule_does_not_touch_this_teams_customers(
    rep: Any, make_customer: MakeCustomer, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["north"], no_follow_up_days=10)
    customer = make_customer(rep, "王芳")

    frozen.shift(timedelta(days=40))
    pool.pool_sweep()

    assert _owner(customer) == rep


# --- cooling-off ---------------------------------------------------------------------------------


def test_a_returned_customer_cannot_be_reclaimed_by_the_same_rep_during_cooling_off(
    rep: Any, teammate: Any, make_customer: MakeCustomer, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=30)
    PoolPolicy.objects.create(team=teams["east"], cooling_off_days=15)
    customer = make_customer(rep, "王芳")
    frozen.shift(timedelta(days=31))
    pool.pool_sweep()

    with pytest.raises(PoolLimit) as refused:
        pool.pool_claim_customer(actor=rep, customer_id=customer.pk)

    assert refused.value.field == "cooling_off"
    assert _owner(customer) is None
    frozen.shift(timedelta(days=16))
    pool.pool_claim_customer(actor=rep, customer_id=customer.pk)
    assert _owner(customer) == rep


def test_another_rep_may_claim_a_returned_customer_at_once(
    rep: Any, teammate: Any, make_customer: MakeCustomer, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=30)
    customer = make_customer(rep, "王芳")
    frozen.shift(timedelta(days=31))
    pool.pool_sweep()

    pool.pool_claim_customer(actor=teammate, customer_id=customer.pk)

    assert _owner(customer) == teammate


def test_a_customer_given_back_by_hand_is_also_cooling_off_for_that_rep(
    rep: Any, make_customer: MakeCustomer
) -> None:
    customer = make_customer(rep, "王芳")
    pool.pool_release_customer(actor=rep, customer=customer, reason="不合适")

    with pytest.raises(PoolLimit):
        pool.pool_claim_customer(actor=rep, customer_id=customer.pk)

    assert _owner(customer) is None
    assert list(PoolMove.objects.values_list("kind", "reason")) == [
        (PoolMoveKind.RELEASED, "不合适")
    ]


def test_only_the_owner_can_give_a_customer_back(
    rep: Any, teammate: Any, make_customer: MakeCustomer
) -> None:
    customer = make_customer(rep, "王芳")

    with pytest.raises(DomainError):
        pool.pool_release_customer(actor=teammate, customer=customer)

    assert _owner(customer) == rep
