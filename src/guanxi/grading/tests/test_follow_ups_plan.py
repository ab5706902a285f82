"""The follow-up planner: who is due a routine follow-up, and what happens to follow-ups when
the customer, owner or tier they point at goes away."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.grading.models import (
    CustomerGrade,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Method,
    Scheme,
    Tier,
)
from guanxi.grading.services import follow_ups_plan, scheme_save
from guanxi.grading.tests.conftest import noon_days_ago
from guanxi.interactions.models import Interaction

INTERVAL = 7


@pytest.fixture
def scheme(db: Any) -> Scheme:
    """The primary scheme: tier `weekly` asks for a contact every 7 days, `never` for none."""
    scheme = Scheme.objects.create(
        code="service",
        name_zh="服务等级",
        name_en="Service",
        method=Method.THRESHOLDS,
        is_active=True,
        is_primary=True,
    )
    Tier.objects.create(
        scheme=scheme, code="weekly", name_zh="每周", name_en="Weekly", rank=1,
        follow_up_days=INTERVAL,
    )  # fmt: skip
    Tier.objects.create(
        scheme=scheme, code="never", name_zh="不跟进", name_en="Never", rank=2,
        is_fallback=True,
    )  # fmt: skip
    return scheme


@pytest.fixture
def owner(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


@pytest.fixture
def graded(scheme: Scheme, owner: Any) -> Callable[..., Customer]:
    """A customer created `created` days ago (noon), with interactions the given numbers of
    days ago, graded in the given tier of the primary scheme."""
    counter = {"n": 0}

    def make(
        *,
        created: int,
        contacts: tuple[int, ...] = (),
        tier: str = "weekly",
        in_scheme: Scheme | None = None,
        **fields: Any,
    ) -> Customer:
        counter["n"] += 1
        fields.setdefault("owner", owner)
        customer = Customer.objects.create(
            kind="person", name=f"客户{counter['n']}", team=owner.team, **fields
        )
        Customer.objects.filter(pk=customer.pk).update(created_at=noon_days_ago(created))
        for days in contacts:
            Interaction.objects.create(
                customer=customer, channel="phone", summary="回访", occurred_at=noon_days_ago(days)
            )
        chosen = Tier.objects.get(scheme=in_scheme or scheme, code=tier)
        CustomerGrade.objects.create(
            customer=customer, scheme=chosen.scheme, tier=chosen, rule_tier=chosen
        )
        return customer

    return make


def _planned() -> list[int]:
    return list(FollowUp.objects.order_by("customer_id").values_list("customer_id", flat=True))


def test_a_customer_idle_for_the_tiers_interval_gets_an_open_routine_follow_up_due_today(
    graded: Callable[..., Customer], owner: Any
) -> None:
    customer = graded(created=INTERVAL)
    today = timezone.localdate()

    opened = follow_ups_plan(as_of=today)

    follow_up = FollowUp.objects.get()
    assert opened == 1
    assert (
        follow_up.customer_id,
        follow_up.owner_id,
        follow_up.tier.code if follow_up.tier else None,
        follow_up.kind,
        follow_up.status,
        follow_up.due_on,
        follow_up.reason,
    ) == (customer.pk, owner.pk, "weekly", "routine", "open", today, "interval")


def test_a_customer_idle_for_a_day_less_than_the_interval_gets_none(
    graded: Callable[..., Customer],
) -> None:
    graded(created=INTERVAL - 1)

    opened = follow_ups_plan(as_of=timezone.localdate())

    assert (opened, _planned()) == (0, [])


def test_the_last_interaction_decides_not_the_earlier_ones_nor_the_creation_date(
    graded: Callable[..., Customer],
) -> None:
    recently_called = graded(created=400, contacts=(300, INTERVAL - 1, 60))
    long_ago_called = graded(created=400, contacts=(300, INTERVAL, 60))

    opened = follow_ups_plan(as_of=timezone.localdate())

    assert (opened, _planned()) == (1, [long_ago_called.pk])
    assert recently_called.pk not in _planned()


def test_without_interactions_the_creation_date_counts(graded: Callable[..., Customer]) -> None:
    new = graded(created=INTERVAL - 1)
    old = graded(created=INTERVAL + 30)

    follow_ups_plan(as_of=timezone.localdate())

    assert _planned() == [old.pk]
    assert new.pk not in _planned()


def test_the_planning_day_moves_the_deadline(graded: Callable[..., Customer]) -> None:
    customer = graded(created=400, contacts=(2,))
    today = timezone.localdate()

    early = follow_ups_plan(as_of=today + dt.timedelta(days=INTERVAL - 3))
    due = follow_ups_plan(as_of=today + dt.timedelta(days=INTERVAL - 2))

    assert (early, due, _planned()) == (0, 1, [customer.pk])


def test_no_second_follow_up_while_one_is_open_and_a_new_one_once_it_is_closed(
    graded: Callable[..., Customer],
) -> None:
    customer = graded(created=30)
    today = timezone.localdate()
    first = follow_ups_plan(as_of=today)
    again = follow_ups_plan(as_of=today + dt.timedelta(days=1))
    FollowUp.objects.update(status=FollowUpStatus.DONE)

    after_closing = follow_ups_plan(as_of=today + dt.timedelta(days=2))

    assert (first, again, after_closing) == (1, 0, 1)
    assert list(FollowUp.objects.order_by("pk").values_list("customer_id", "status")) == [
        (customer.pk, "done"),
        (customer.pk, "open"),
    ]


def test_an_open_retention_task_also_counts_as_an_open_follow_up(
    graded: Callable[..., Customer], owner: Any
) -> None:
    customer = graded(created=30)
    FollowUp.objects.create(
        customer=customer, owner=owner, kind=FollowUpKind.RETENTION, due_on=timezone.localdate()
    )

    opened = follow_ups_plan(as_of=timezone.localdate())

    assert opened == 0
    assert FollowUp.objects.get().kind == "retention"


@pytest.mark.parametrize("status", ["dormant", "closed", "merged"])
def test_customers_who_are_not_active_are_skipped(
    graded: Callable[..., Customer], status: str
) -> None:
    graded(created=30, status=status)

    opened = follow_ups_plan(as_of=timezone.localdate())

    assert (opened, _planned()) == (0, [])


def test_customers_without_an_owner_are_skipped(graded: Callable[..., Customer]) -> None:
    graded(created=30, owner=None)

    opened = follow_ups_plan(as_of=timezone.localdate())

    assert (opened, _planned()) == (0, [])


def test_a_tier_without_an_interval_asks_for_no_follow_up(
    graded: Callable[..., Customer],
) -> None:
    graded(created=400, tier="never")

    opened = follow_ups_plan(as_of=timezone.localdate())

    assert (opened, _planned()) == (0, [])


def test_only_the_primary_schemes_tiers_count(graded: Callable[..., Customer]) -> None:
    other = Scheme.objects.create(
        code="other", name_zh="其他", name_en="Other", method=Method.THRESHOLDS, is_active=True
    )
    Tier.objects.create(
        scheme=other, code="daily", name_zh="每天", name_en="Daily", rank=1, follow_up_days=1
    )
    graded(created=3, tier="daily", in_scheme=other)

    opened = follow_ups_plan(as_of=timezone.localdate())

    assert (opened, _planned()) == (0, [])


def test_without_an_active_primary_scheme_nothing_is_planned(
    graded: Callable[..., Customer], scheme: Scheme
) -> None:
    graded(created=30)
    Scheme.objects.filter(pk=scheme.pk).update(is_active=False)

    opened = follow_ups_plan(as_of=timezone.localdate())

    assert (opened, _planned()) == (0, [])


def test_deleting_a_customer_deletes_its_follow_ups(graded: Callable[..., Customer]) -> None:
    gone = graded(created=30)
    kept = graded(created=30)
    follow_ups_plan(as_of=timezone.localdate())

    gone.delete()

    assert _planned() == [kept.pk]


def test_removing_a_tier_from_the_scheme_keeps_its_follow_ups_without_a_tier(
    graded: Callable[..., Customer], scheme: Scheme, admin_user: Any
) -> None:
    customer = graded(created=30)
    follow_ups_plan(as_of=timezone.localdate())
    never = Tier.objects.get(scheme=scheme, code="never")

    scheme_save(
        actor=admin_user,
        scheme=scheme,
        values={},
        version=scheme.version,
        tiers=[{"id": never.pk, "code": "never", "name_zh": "不跟进", "name_en": "Never",
                "rank": 1, "is_fallback": True}],
    )  # fmt: skip

    assert list(FollowUp.objects.values_list("customer_id", "tier_id", "status")) == [
        (customer.pk, None, "open")
    ]
    assert list(Tier.objects.filter(scheme=scheme).values_list("code", flat=True)) == ["never"]


def test_deleting_a_scheme_keeps_its_follow_ups_without_a_tier(
    graded: Callable[..., Customer], scheme: Scheme
) -> None:
    customer = graded(created=30)
    follow_ups_plan(as_of=timezone.localdate())

    scheme.delete()

    assert list(FollowUp.objects.values_list("customer_id", "tier_id")) == [(customer.pk, None)]


@pytest.mark.parametrize("key", ["customer_id", "owner_id"])
def test_the_database_refuses_a_follow_up_whose_customer_or_owner_does_not_exist(
    graded: Callable[..., Customer], owner: Any, key: str
) -> None:
    customer = graded(created=30)
    values = {"customer_id": customer.pk, "owner_id": owner.pk, key: 999_999_999}

    with transaction.atomic():
        FollowUp.objects.create(due_on=timezone.localdate(), **values)
        with pytest.raises(IntegrityError):
            connection.check_constraints(table_names=["grading_followup"])
        transaction.set_rollback(True)

    assert _planned() == []
