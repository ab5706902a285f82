"""Evaluation, history, overrides, previews and the follow-through of service policies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from guanxi.core import events
from guanxi.core.errors import DomainError
from guanxi.grading import engine
from guanxi.grading.models import (
    CustomerGrade,
    CustomerMetrics,
    EvaluationRun,
    FollowUp,
    GradeChange,
    Notification,
    RunStatus,
    Scheme,
    TierSnapshot,
)
from guanxi.grading.services import (
    evaluation_run,
    evaluation_start,
    follow_ups_plan,
    grade_override,
    preset_install,
    scheme_save,
)


def _evaluate(scheme: Scheme, *, preview: bool = False) -> EvaluationRun:
    run = EvaluationRun.objects.create(scheme=scheme, is_preview=preview)
    return evaluation_run(run_id=run.pk, refresh=False)


def _assets(customer: Any, amount: str) -> None:
    CustomerMetrics.objects.filter(customer=customer).update(monthly_average_assets=Decimal(amount))


def test_history_rows_are_written_only_when_the_tier_changes(customer_with: Any) -> None:
    rich = customer_with(monthly_average_assets=Decimal("6000000"))
    steady = customer_with(monthly_average_assets=Decimal("200000"))
    scheme = preset_install(actor=None, code="wealth-tier")
    _evaluate(scheme)
    _assets(rich, "2000000")

    run = _evaluate(scheme)

    changes = list(
        GradeChange.objects.filter(run=run).values_list(
            "customer_id", "from_tier__code", "to_tier__code"
        )
    )
    assert changes == [(rich.pk, "diamond", "platinum")]
    assert GradeChange.objects.filter(customer=steady).count() == 1
    assert run.changed == 1


def test_each_grade_keeps_the_values_it_read(customer_with: Any) -> None:
    import json

    customer = customer_with(payment_recovery_24m=Decimal("92.5"), max_days_to_pay_24m=30)
    _evaluate(preset_install(actor=None, code="credit-rating"))

    grade = CustomerGrade.objects.get(customer=customer)

    assert grade.rule_tier.condition == "payment_recovery_24m >= 90 and max_days_to_pay_24m <= 45"
    assert {k: float(v) for k, v in json.loads(grade.explanation).items()} == {
        "payment_recovery_24m": 92.5,
        "max_days_to_pay_24m": 30.0,
    }


def test_a_grade_whose_tier_stays_keeps_the_explanation_of_the_run_that_set_it(
    customer_with: Any,
) -> None:
    import json

    customer = customer_with(monthly_average_assets=Decimal("6000000"))
    scheme = preset_install(actor=None, code="wealth-tier")
    _evaluate(scheme)
    _assets(customer, "7000000")

    _evaluate(scheme)

    grade = CustomerGrade.objects.get(customer=customer)
    assert grade.tier.code == "diamond"
    assert float(json.loads(grade.explanation)["monthly_average_assets"]) == 6000000.0


def test_an_expired_override_of_the_rule_tier_itself_is_cleared(
    customer_with: Any, admin_user: Any
) -> None:
    customer = customer_with(monthly_average_assets=Decimal("200000"))
    scheme = preset_install(actor=None, code="wealth-tier")
    _evaluate(scheme)
    grade_override(
        actor=admin_user,
        customer=customer,
        scheme=scheme,
        tier=scheme.tiers.get(code="gold"),
        reason="Confirmed by the branch",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )

    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        _evaluate(scheme)

    grade = CustomerGrade.objects.get(customer=customer)
    assert (grade.tier.code, grade.override_tier) == ("gold", None)
    assert GradeChange.objects.filter(customer=customer).count() == 1


def test_an_expert_override_wins_until_it_expires(customer_with: Any, admin_user: Any) -> None:
    customer = customer_with(monthly_average_assets=Decimal("200000"))
    scheme = preset_install(actor=None, code="wealth-tier")
    _evaluate(scheme)
    diamond = scheme.tiers.get(code="diamond")
    grade_override(
        actor=admin_user,
        customer=customer,
        scheme=scheme,
        tier=diamond,
        reason="Family office moving assets in",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )

    _evaluate(scheme)
    during = CustomerGrade.objects.get(customer=customer).tier.code
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        _evaluate(scheme)
    after = CustomerGrade.objects.get(customer=customer)

    assert during == "diamond"
    assert (after.tier.code, after.override_tier) == ("gold", None)
    reasons = list(
        GradeChange.objects.filter(customer=customer)
        .order_by("pk")
        .values_list("reason", flat=True)
    )
    assert reasons == ["evaluation", "override", "override_ended"]


def test_an_override_needs_a_reason_and_the_permission(customer_with: Any, make_user: Any) -> None:
    from django.core.exceptions import PermissionDenied

    customer = customer_with()
    scheme = preset_install(actor=None, code="wealth-tier")
    tier = scheme.tiers.get(code="gold")

    with pytest.raises(PermissionDenied):
        grade_override(
            actor=make_user("sales-rep"), customer=customer, scheme=scheme, tier=tier, reason="x"
        )
    with pytest.raises(DomainError):
        grade_override(
            actor=make_user("administrator"),
            customer=customer,
            scheme=scheme,
            tier=tier,
            reason=" ",
        )

    assert not CustomerGrade.objects.exists()


def test_the_override_is_written_to_the_access_log(customer_with: Any, admin_user: Any) -> None:
    from guanxi.audit.models import AccessLog

    customer = customer_with()
    scheme = preset_install(actor=None, code="wealth-tier")

    grade_override(
        actor=admin_user,
        customer=customer,
        scheme=scheme,
        tier=scheme.tiers.get(code="gold"),
        reason="Known to the branch",
    )

    log = AccessLog.objects.get()
    assert (log.action, log.target_pk, log.field, log.detail["tier"]) == (
        "override",
        str(customer.pk),
        "wealth-tier",
        "gold",
    )


def test_a_preview_counts_moves_and_changes_no_grade(customer_with: Any) -> None:
    first = customer_with(monthly_average_assets=Decimal("6000000"))
    customer_with(monthly_average_assets=Decimal("6000000"))
    customer_with(monthly_average_assets=Decimal("50"))
    scheme = preset_install(actor=None, code="wealth-tier")
    _evaluate(scheme)
    _assets(first, "150000")
    before = list(CustomerGrade.objects.order_by("pk").values_list("customer_id", "tier_id"))

    run = _evaluate(scheme, preview=True)

    tiers = {tier.pk: tier.code for tier in scheme.tiers.all()}
    moves = {(tiers[m["from"]], tiers[m["to"]]): m["customers"] for m in run.result["moves"]}
    assert moves == {("diamond", "gold"): 1, ("diamond", "diamond"): 1, ("mass", "mass"): 1}
    assert [
        e["id"]
        for e in run.result["examples"][
            f"{scheme.tiers.get(code='diamond').pk}->{scheme.tiers.get(code='gold').pk}"
        ]
    ] == [first.pk]
    assert (
        list(CustomerGrade.objects.order_by("pk").values_list("customer_id", "tier_id")) == before
    )


def test_an_interrupted_evaluation_leaves_the_previous_grades(
    customer_with: Any, monkeypatch: Any
) -> None:
    customer = customer_with(monthly_average_assets=Decimal("6000000"))
    scheme = preset_install(actor=None, code="wealth-tier")
    _evaluate(scheme)
    _assets(customer, "10")
    real_apply = engine.apply

    def crash_mid_apply(run_id: int, scheme_id: int) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("UPDATE grading_customergrade SET tier_id = NULL")
        raise RuntimeError("power cut")

    monkeypatch.setattr(
        engine, "apply", lambda run_id, scheme_id: _atomic(crash_mid_apply, run_id, scheme_id)
    )
    with pytest.raises(RuntimeError):
        _evaluate(scheme)
    monkeypatch.setattr(engine, "apply", real_apply)

    grade = CustomerGrade.objects.get(customer=customer)
    assert grade.tier.code == "diamond"
    assert EvaluationRun.objects.order_by("-pk").first().status == RunStatus.FAILED
    assert not GradeChange.objects.filter(to_tier__code="mass").exists()


def _atomic(function: Any, *args: Any) -> Any:
    from django.db import transaction

    with transaction.atomic():
        return function(*args)


def test_a_bad_scheme_is_refused_with_a_clear_message(admin_user: Any) -> None:
    cases = [
        (
            [{"code": "x", "name_zh": "甲", "name_en": "X", "condition": "turnover > 5"}],
            "X: Unknown metric “turnover”.",
        ),
        ([{"code": "x", "name_zh": "甲", "name_en": "X", "condition": "revenue_12m >>= 5"}], None),
        ([], "The scheme has no tiers."),
    ]
    messages = []
    for tiers, _expected in cases:
        with pytest.raises(DomainError) as caught:
            scheme_save(
                actor=admin_user,
                values={"code": "bad", "name_zh": "坏", "name_en": "Bad", "method": "thresholds"},
                tiers=tiers,
            )
        messages.append(caught.value.message)

    assert messages[0] == cases[0][1]
    assert "X" in messages[1]
    assert messages[2] == cases[2][1]
    assert not Scheme.objects.filter(code="bad").exists()


def test_overlapping_quantile_dimensions_are_refused(admin_user: Any) -> None:
    config = {
        "dimensions": [
            {"name": "r", "metric": "recency_days"},
            {"name": "f", "metric": "recency_days"},
        ]
    }

    with pytest.raises(DomainError) as caught:
        scheme_save(
            actor=admin_user,
            values={
                "code": "q",
                "name_zh": "量",
                "name_en": "Q",
                "method": "quantiles",
                "config": config,
            },
            tiers=[{"code": "a", "name_zh": "甲", "name_en": "A", "condition": "r_score >= 3"}],
        )

    assert caught.value.message == "Two dimensions read the same metric “recency_days”."


def test_evaluation_publishes_an_event_and_snapshots_the_distribution(
    customer_with: Any, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[dict[str, Any]] = []

    def listener(**payload: Any) -> None:
        received.append(payload)

    customer_with(monthly_average_assets=Decimal("6000000"))
    customer_with(monthly_average_assets=Decimal("10"))
    scheme = preset_install(actor=None, code="wealth-tier")
    events.subscribe("grading.evaluated", listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = _evaluate(scheme)
    finally:
        events.unsubscribe("grading.evaluated", listener)

    assert received == [{"scheme_id": scheme.pk, "run_id": run.pk, "changed": 2}]
    assert sorted(TierSnapshot.objects.values_list("tier__code", "customers")) == [
        ("diamond", 1),
        ("mass", 1),
    ]


def test_owners_are_notified_and_a_falling_key_customer_gets_a_retention_task(
    customer_with: Any,
) -> None:
    customer = customer_with(monthly_average_assets=Decimal("6000000"))
    scheme = preset_install(actor=None, code="wealth-tier")
    _evaluate(scheme)
    assert not Notification.objects.exists()  # switching the scheme on notifies no one
    _assets(customer, "500000")

    _evaluate(scheme)

    notified = Notification.objects.get(user=customer.owner, customer=customer)
    assert (notified.change.from_tier.code, notified.change.to_tier.code) == ("diamond", "gold")
    retention = FollowUp.objects.get(customer=customer, kind="retention")
    assert (retention.owner, retention.tier.code) == (customer.owner, "gold")


def test_the_planner_opens_follow_ups_by_the_tiers_interval(customer_with: Any) -> None:
    vip = customer_with(
        revenue_12m=Decimal("200000"), order_count_12m=8, order_count=8, tenure_days=800
    )
    ordinary = customer_with(order_count=1)
    scheme = preset_install(actor=None, code="value-tier")
    _evaluate(scheme)
    today = timezone.localdate()

    opened_now = follow_ups_plan(as_of=today)
    opened_later = follow_ups_plan(as_of=today + dt.timedelta(days=8))
    opened_again = follow_ups_plan(as_of=today + dt.timedelta(days=31))

    assert (opened_now, opened_later, opened_again) == (0, 1, 1)
    assert list(FollowUp.objects.order_by("pk").values_list("customer_id", flat=True)) == [
        vip.pk,
        ordinary.pk,
    ]


def test_a_queued_evaluation_runs_as_a_background_job(
    customer_with: Any, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = customer_with(monthly_average_assets=Decimal("6000000"))
    scheme = preset_install(actor=None, code="wealth-tier")

    with django_capture_on_commit_callbacks(execute=True):
        run = evaluation_start(actor=admin_user, scheme=scheme)

    run.refresh_from_db()
    assert (run.status, run.progress) == (RunStatus.COMPLETED, 100)
    # The job refreshed the metrics from the facts first: this customer holds no assets.
    assert CustomerGrade.objects.get(customer=customer).tier.code == "mass"


def test_the_scheduler_starts_daily_schemes(customer_with: Any) -> None:
    from guanxi.grading.tasks import scheduled_evaluations_task

    customer_with(monthly_average_assets=Decimal("6000000"))
    scheme = preset_install(actor=None, code="wealth-tier")
    Scheme.objects.filter(pk=scheme.pk).update(schedule="daily")
    other = preset_install(actor=None, code="abc")
    Scheme.objects.filter(pk=other.pk).update(schedule="monthly")

    with time_machine.travel(dt.datetime(2026, 11, 26, 3, tzinfo=dt.UTC)):
        scheduled_evaluations_task.run()

    assert list(EvaluationRun.objects.values_list("scheme__code", flat=True)) == ["wealth-tier"]


def test_a_run_over_unchanged_facts_rewrites_no_grade(customer_with: Any) -> None:
    customers = [customer_with(monthly_average_assets=Decimal(v)) for v in ("6000000", "50")]
    scheme = preset_install(actor=None, code="wealth-tier")
    _evaluate(scheme)
    stamped = dict(CustomerGrade.objects.values_list("customer_id", "evaluated_at"))

    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        run = _evaluate(scheme)

    assert (run.evaluated, run.changed) == (2, 0)
    assert dict(CustomerGrade.objects.values_list("customer_id", "evaluated_at")) == stamped
    assert {c.pk for c in customers} == set(stamped)


def test_a_customer_no_longer_eligible_loses_the_grade_with_a_history_row(
    customer_with: Any,
) -> None:
    company = customer_with(
        kind="enterprise", custom={"annual_profit": 5_000_000, "profit_growth": 30}
    )
    scheme = preset_install(actor=None, code="operating-condition")
    _evaluate(scheme)
    assert CustomerGrade.objects.filter(customer=company, scheme=scheme).exists()
    type(company).objects.filter(pk=company.pk).update(kind="person")

    run = _evaluate(scheme)

    assert not CustomerGrade.objects.filter(customer=company, scheme=scheme).exists()
    assert list(GradeChange.objects.filter(run=run).values_list("customer_id", "to_tier")) == [
        (company.pk, None)
    ]
    assert (run.evaluated, run.changed) == (0, 1)


def test_days_since_the_last_order_are_counted_to_the_evaluation_date(
    customer_with: Any,
) -> None:
    import json

    # Refreshed when the last order was 300 days old; graded 100 days later without a
    # refresh in between, it is 400 days old: past the 365 days of "churned".
    customer = customer_with(order_count=3, recency_days=300, tenure_days=900)
    scheme = preset_install(actor=None, code="lifecycle")
    run = EvaluationRun.objects.create(scheme=scheme)

    evaluation_run(
        run_id=run.pk, refresh=False, as_of=timezone.localdate() + dt.timedelta(days=100)
    )

    grade = CustomerGrade.objects.get(customer=customer)
    assert grade.tier.code == "churned"
    assert json.loads(grade.explanation)["recency_days"] == 400
    assert json.loads(grade.explanation)["tenure_days"] == 1000


def test_an_override_holds_a_customer_whom_no_tier_takes_until_it_expires(
    customer_with: Any, admin_user: Any
) -> None:
    customer = customer_with(monthly_average_assets=Decimal("50"))
    scheme = preset_install(actor=None, code="wealth-tier")
    scheme.tiers.filter(is_fallback=True).delete()  # no tier takes the mass any more
    assert _evaluate(scheme).status == RunStatus.COMPLETED
    assert not CustomerGrade.objects.filter(customer=customer).exists()
    grade_override(
        actor=admin_user,
        customer=customer,
        scheme=scheme,
        tier=scheme.tiers.get(code="gold"),
        reason="Pilot of the private-banking offer",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )

    first, second = _evaluate(scheme), _evaluate(scheme)
    held = CustomerGrade.objects.get(customer=customer)
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        ended = _evaluate(scheme)

    assert (held.tier.code, held.rule_tier) == ("gold", None)
    assert [run.status for run in (first, second, ended)] == [RunStatus.COMPLETED] * 3
    assert (first.changed, second.changed, ended.changed) == (0, 0, 1)
    assert not CustomerGrade.objects.filter(customer=customer).exists()
    assert list(
        GradeChange.objects.filter(run=ended).values_list("from_tier__code", "to_tier")
    ) == [("gold", None)]
