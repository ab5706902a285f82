"""The pool rules, part two: owned leads left alone return to the pool (warned first, with
cooling-off and history), sub-teams follow their nearest ancestor's rules, and rules and
limits can be deleted from the settings page and the API. The clock is frozen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.models import Notification
from guanxi.customers.models import Customer
from guanxi.leads import pool
from guanxi.leads.models import (
    Lead,
    LeadEvent,
    LeadEventKind,
    PoolMove,
    PoolMoveKind,
    PoolPolicy,
    PoolRule,
)
from guanxi.leads.pool import PoolLimit
from guanxi.leads.services import event_add
from guanxi.leads.tasks import pool_sweep_task

ClientFor = Callable[[Any], Client]


@pytest.fixture
def frozen() -> Iterator[Any]:
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def _lead_owner(lead: Any) -> Any:
    return Lead.objects.get(pk=lead.pk).owner


def _customer_owner(customer: Any) -> Any:
    return Customer.objects.get(pk=customer.pk).owner


# --- leads return to the pool --------------------------------------------------------------------


def test_an_owned_lead_without_activity_for_n_days_returns_to_the_pool(
    rep: Any,
    make_lead: Any,
    teams: dict[str, Any],
    frozen: Any,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    lead = make_lead(rep, "张伟")
    assert _lead_owner(lead) == rep

    frozen.shift(timedelta(days=13))
    assert pool_sweep_task.run()["returned"] == 0
    assert _lead_owner(lead) == rep
    frozen.shift(timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        result = pool_sweep_task.run()

    assert result["returned"] == 1
    assert _lead_owner(lead) is None
    move = PoolMove.objects.get(kind=PoolMoveKind.RETURNED)
    assert (move.lead_id, move.customer_id, move.user_id) == (lead.pk, None, rep.pk)
    assert move.reason == "no follow-up for 14 days"
    assert ("pool.returned", {"lead_ids": [lead.pk], "reason": "rule"}) in published
    assert Notification.objects.filter(
        user=rep, title__contains="leads went back to the public pool"
    ).exists()
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEventKind.POOL).exists()
    assert pool.pool_leads(rep).filter(pk=lead.pk).exists()


def test_activity_on_a_lead_restarts_its_clock(
    rep: Any, make_lead: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    lead = make_lead(rep, "张伟")
    frozen.shift(timedelta(days=10))
    event_add(lead, LeadEventKind.CALLED, actor=rep, detail="回访")

    frozen.shift(timedelta(days=10))
    pool.pool_sweep()

    assert _lead_owner(lead) == rep
    frozen.shift(timedelta(days=5))
    pool.pool_sweep()
    assert _lead_owner(lead) is None


def test_a_status_change_counts_as_activity(
    rep: Any, make_lead: Any, teams: dict[str, Any], frozen: Any
) -> None:
    from guanxi.leads.services import lead_set_status

    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    lead = make_lead(rep, "张伟")
    frozen.shift(timedelta(days=10))
    lead_set_status(actor=rep, lead=Lead.objects.get(pk=lead.pk), status="working")

    frozen.shift(timedelta(days=10))
    pool.pool_sweep()

    assert _lead_owner(lead) == rep


def test_the_lead_owner_is_warned_before_the_return_and_only_once(
    rep: Any,
    make_lead: Any,
    teams: dict[str, Any],
    frozen: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    PoolPolicy.objects.create(team=teams["east"], warn_days=3)
    lead = make_lead(rep, "张伟")

    frozen.shift(timedelta(days=12))
    with django_capture_on_commit_callbacks(execute=True):
        first = pool.pool_sweep()
    frozen.shift(timedelta(hours=12))
    with django_capture_on_commit_callbacks(execute=True):
        second = pool.pool_sweep()

    assert (first, second) == ({"returned": 0, "warned": 1}, {"returned": 0, "warned": 0})
    assert _lead_owner(lead) == rep
    warned = PoolMove.objects.get(kind=PoolMoveKind.WARNED)
    assert (warned.lead_id, warned.user_id) == (lead.pk, rep.pk)
    assert (
        Notification.objects.filter(
            user=rep, title__contains="leads will go back to the public pool within 3 days"
        ).count()
        == 1
    )


def test_a_returned_lead_cannot_be_reclaimed_by_the_same_rep_during_cooling_off(
    rep: Any, teammate: Any, make_lead: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    PoolPolicy.objects.create(team=teams["east"], cooling_off_days=10)
    lead = make_lead(rep, "张伟")
    frozen.shift(timedelta(days=15))
    pool.pool_sweep()
    assert _lead_owner(lead) is None

    frozen.shift(timedelta(days=5))
    with pytest.raises(PoolLimit) as refused:
        pool.pool_claim_lead(actor=rep, lead_id=lead.pk)
    assert refused.value.field == "cooling_off"
    assert _lead_owner(lead) is None

    frozen.shift(timedelta(days=6))
    assert pool.pool_claim_lead(actor=rep, lead_id=lead.pk).owner == rep
    assert list(PoolMove.objects.order_by("pk").values_list("kind", flat=True)) == [
        PoolMoveKind.RETURNED,
        PoolMoveKind.CLAIMED,
    ]


def test_a_closed_lead_never_returns(
    rep: Any, make_lead: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    lead = make_lead(rep, "张伟")
    Lead.objects.filter(pk=lead.pk).update(status="disqualified")

    frozen.shift(timedelta(days=30))
    pool.pool_sweep()

    assert _lead_owner(lead) == rep


# --- sub-teams inherit their ancestors' rules ----------------------------------------------------


def test_a_sub_team_without_rules_follows_its_parents_rule(
    rep: Any, make_customer: Any, make_lead: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=None, no_follow_up_days=90)
    PoolRule.objects.create(team=teams["sales"], no_follow_up_days=30)
    customer = make_customer(rep, "王芳")
    lead = make_lead(rep, "张伟")

    frozen.shift(timedelta(days=31))
    assert pool.pool_sweep()["returned"] == 2

    assert _customer_owner(customer) is None
    assert _lead_owner(lead) is None


def test_a_sub_teams_own_rule_beats_its_parents(
    rep: Any, make_customer: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["sales"], no_follow_up_days=30)
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=60)
    customer = make_customer(rep, "王芳")

    frozen.shift(timedelta(days=31))
    pool.pool_sweep()
    assert _customer_owner(customer) == rep

    frozen.shift(timedelta(days=30))
    pool.pool_sweep()
    assert _customer_owner(customer) is None


def test_a_teams_rule_does_not_reach_its_parent_or_sibling(
    rep: Any, other_rep: Any, manager: Any, make_customer: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=10)
    sibling = make_customer(other_rep, "李娜")
    parents = make_customer(manager, "赵强")

    frozen.shift(timedelta(days=40))
    pool.pool_sweep()

    assert _customer_owner(sibling) == other_rep
    assert _customer_owner(parents) == manager


# --- deleting rules and limits ---------------------------------------------------------------


def test_an_admin_deletes_a_pool_rule_on_the_settings_page_and_the_team_follows_its_parent(
    admin_user: Any,
    rep: Any,
    make_customer: Any,
    teams: dict[str, Any],
    frozen: Any,
    client_for: ClientFor,
) -> None:
    PoolRule.objects.create(team=teams["sales"], no_follow_up_days=30)
    own = PoolRule.objects.create(team=teams["east"], no_follow_up_days=90)
    customer = make_customer(rep, "王芳")
    client = client_for(admin_user)

    page = client.get(reverse("leads:settings")).content.decode()
    delete_url = reverse("leads:pool-rule-delete", args=[own.pk])
    assert delete_url in page
    assert "data-confirm=" in page
    response = client.post(delete_url, follow=True)

    assert response.status_code == 200
    assert "The pool rule was deleted." in response.content.decode()
    assert not PoolRule.objects.filter(pk=own.pk).exists()
    frozen.shift(timedelta(days=31))
    pool.pool_sweep()
    assert _customer_owner(customer) is None


def test_a_rep_cannot_delete_a_pool_rule(
    rep: Any, teams: dict[str, Any], client_for: ClientFor, bearer: Any
) -> None:
    rule = PoolRule.objects.create(team=teams["east"], no_follow_up_days=30)

    page = client_for(rep).post(reverse("leads:pool-rule-delete", args=[rule.pk]))
    api = Client().delete(f"/api/v1/pool/rules/{rule.pk}", headers=bearer(rep))

    assert (page.status_code, api.status_code) == (403, 403)
    assert PoolRule.objects.filter(pk=rule.pk).exists()


def test_the_api_deletes_a_pool_rule_and_answers_404_for_a_missing_one(
    admin_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    rule = PoolRule.objects.create(team=teams["east"], no_follow_up_days=30)
    client = Client()

    gone = client.delete(f"/api/v1/pool/rules/{rule.pk}", headers=bearer(admin_user))
    again = client.delete(f"/api/v1/pool/rules/{rule.pk}", headers=bearer(admin_user))

    assert (gone.status_code, again.status_code) == (204, 404)
    listed = client.get("/api/v1/pool/rules", headers=bearer(admin_user)).json()
    assert listed == []


def test_deleting_a_teams_limits_makes_it_follow_its_parents(
    admin_user: Any, rep: Any, teams: dict[str, Any], client_for: ClientFor, bearer: Any
) -> None:
    PoolPolicy.objects.create(team=teams["sales"], daily_claim_quota=10)
    east = PoolPolicy.objects.create(team=teams["east"], daily_claim_quota=5)
    north = PoolPolicy.objects.create(team=teams["north"], daily_claim_quota=7)
    assert pool.claim_allowance(rep)["quota"] == 5

    page = client_for(admin_user).post(reverse("leads:pool-policy-delete", args=[east.pk]))
    api = Client().delete(f"/api/v1/pool/policies/{north.pk}", headers=bearer(admin_user))

    assert (page.status_code, api.status_code) == (302, 204)
    assert pool.claim_allowance(rep)["quota"] == 10
    assert list(PoolPolicy.objects.values_list("team_id", flat=True)) == [teams["sales"].pk]


# --- interactions on the lead's customer are activity on the lead --------------------------------


def _log_call(actor: Any, customer: Any) -> None:
    from guanxi.interactions.services import interaction_log

    interaction_log(
        actor=actor,
        customer=customer,
        values={"channel": "phone_call", "summary": "回访", "occurred_at": timezone.now()},
    )


def test_a_call_logged_on_the_customer_a_lead_matched_keeps_the_lead_from_the_pool(
    rep: Any, make_customer: Any, make_lead: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    customer = make_customer(rep, "王芳", phone="13812345678")
    lead = make_lead(rep, "王芳", phone="13812345678")
    assert Lead.objects.get(pk=lead.pk).matched_customer == customer
    frozen.shift(timedelta(days=10))
    _log_call(rep, customer)

    frozen.shift(timedelta(days=10))
    pool.pool_sweep()

    assert _lead_owner(lead) == rep
    frozen.shift(timedelta(days=5))
    pool.pool_sweep()
    assert _lead_owner(lead) is None


def test_a_call_logged_on_another_customer_does_not_keep_a_lead_from_the_pool(
    rep: Any, make_customer: Any, make_lead: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    make_customer(rep, "王芳", phone="13812345678")
    other = make_customer(rep, "李雷", phone="13900001111")
    lead = make_lead(rep, "王芳", phone="13812345678")
    frozen.shift(timedelta(days=10))
    _log_call(rep, other)

    frozen.shift(timedelta(days=5))
    pool.pool_sweep()

    assert _lead_owner(lead) is None


def test_a_call_logged_on_the_customer_warns_nobody_about_its_lead(
    rep: Any, make_customer: Any, make_lead: Any, teams: dict[str, Any], frozen: Any
) -> None:
    PoolRule.objects.create(team=teams["east"], no_follow_up_days=14)
    PoolPolicy.objects.create(team=teams["east"], warn_days=3)
    customer = make_customer(rep, "王芳", phone="13812345678")
    lead = make_lead(rep, "王芳", phone="13812345678")
    frozen.shift(timedelta(days=10))
    _log_call(rep, customer)

    frozen.shift(timedelta(days=2))
    pool.pool_sweep()

    assert not PoolMove.objects.filter(lead=lead).exists()
