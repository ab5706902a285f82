"""SLA clocks in business time: weekends, holidays, make-up days, pauses, warnings, breaches."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from guanxi.core import events
from guanxi.service import services
from guanxi.service.business import Clock
from guanxi.service.models import (
    AgentGroup,
    BusinessCalendar,
    CalendarDay,
    SlaPolicy,
    TicketChange,
)
from guanxi.service.sla import sla_sweep
from guanxi.service.tests.conftest import shanghai


def test_business_minutes_skip_the_weekend(calendar: BusinessCalendar) -> None:
    clock = Clock.of(calendar)

    due = clock.add(shanghai(2026, 11, 27, 17, 0), 120)  # a Friday

    assert due == shanghai(2026, 11, 30, 10, 0)  # Monday
    assert clock.between(shanghai(2026, 11, 27, 17, 0), due) == 120


def test_business_minutes_skip_a_holiday_and_count_a_make_up_working_day(
    calendar: BusinessCalendar,
) -> None:
    CalendarDay.objects.create(calendar=calendar, date=dt.date(2026, 10, 1), kind="holiday")
    CalendarDay.objects.create(calendar=calendar, date=dt.date(2026, 10, 2), kind="holiday")
    CalendarDay.objects.create(calendar=calendar, date=dt.date(2026, 10, 10), kind="workday")
    clock = Clock.of(calendar)

    after_holiday = clock.add(shanghai(2026, 9, 30, 17, 0), 120)  # Wednesday before 国庆
    on_make_up_day = clock.add(shanghai(2026, 10, 9, 17, 0), 120)  # Friday; Saturday is worked

    assert after_holiday == shanghai(2026, 10, 5, 10, 0)  # Thu, Fri off, then the weekend
    assert on_make_up_day == shanghai(2026, 10, 10, 10, 0)


def test_a_ticket_opened_on_friday_evening_is_due_on_monday_morning(
    agent: Any, customer: Any, policies: dict[str, SlaPolicy]
) -> None:
    with time_machine.travel(shanghai(2026, 11, 27, 17, 30), tick=False):
        ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    assert ticket.sla_policy == policies["normal"]
    assert ticket.first_response_due_at == shanghai(2026, 11, 30, 9, 30)
    assert ticket.resolution_due_at == shanghai(2026, 11, 30, 16, 30)


def test_the_tier_sla_class_picks_its_own_policy(
    agent: Any, customer: Any, policies: dict[str, SlaPolicy], monkeypatch: Any
) -> None:
    gold = SlaPolicy.objects.create(
        name="Gold",
        sla_class="gold",
        priority="normal",
        first_response_minutes=15,
        resolution_minutes=120,
        calendar=policies["normal"].calendar,
    )
    monkeypatch.setattr(services, "sla_class_of", lambda customer_id: "gold")

    with time_machine.travel(shanghai(2026, 11, 26, 10, 0), tick=False):
        ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    assert (ticket.sla_class, ticket.sla_policy) == ("gold", gold)
    assert ticket.first_response_due_at == shanghai(2026, 11, 26, 10, 15)


def test_waiting_on_the_customer_pauses_the_clocks_and_resuming_keeps_the_time_left(
    agent: Any, customer: Any, policies: dict[str, SlaPolicy]
) -> None:
    with time_machine.travel(shanghai(2026, 11, 23, 9, 0), tick=False):  # Monday
        ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
        services.ticket_reply(actor=agent, ticket=ticket, body="请提供日志")
    with time_machine.travel(shanghai(2026, 11, 23, 10, 0), tick=False):
        ticket = services.ticket_transition(actor=agent, ticket=ticket, status="waiting_customer")
    paused_at = ticket.paused_at

    with time_machine.travel(shanghai(2026, 11, 24, 10, 0), tick=False):  # a day later
        services.ticket_reply(actor=None, ticket=ticket, body="日志见附件")

    ticket.refresh_from_db()
    assert paused_at == shanghai(2026, 11, 23, 10, 0)
    assert (ticket.status, ticket.paused_at) == ("open", None)
    # 480 minutes, 60 used before the pause: 420 left from Tuesday 10:00.
    assert ticket.resolution_due_at == shanghai(2026, 11, 24, 17, 0)


def test_a_paused_ticket_is_not_breached_by_the_sweep(
    agent: Any, customer: Any, policies: dict[str, SlaPolicy]
) -> None:
    with time_machine.travel(shanghai(2026, 11, 23, 9, 0), tick=False):
        ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
        services.ticket_transition(actor=agent, ticket=ticket, status="waiting_customer")

    result = sla_sweep(now=shanghai(2026, 11, 30, 9, 0))

    ticket.refresh_from_db()
    assert (result.response_breached, result.resolution_breached) == (0, 0)
    assert ticket.response_breached_at is None


def test_the_sweep_warns_before_a_breach_once(
    agent: Any, customer: Any, policies: dict[str, SlaPolicy]
) -> None:
    with time_machine.travel(shanghai(2026, 11, 23, 9, 0), tick=False):
        ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    early = sla_sweep(now=shanghai(2026, 11, 23, 9, 20))
    warned = sla_sweep(now=shanghai(2026, 11, 23, 9, 35))
    again = sla_sweep(now=shanghai(2026, 11, 23, 9, 40))

    ticket.refresh_from_db()
    assert (early.warned, warned.warned, again.warned) == (0, 1, 0)
    assert ticket.warned_at == shanghai(2026, 11, 23, 9, 35)


def test_a_breach_is_recorded_escalated_and_published_once(
    agent: Any,
    make_user: Any,
    teams: dict[str, Any],
    customer: Any,
    policies: dict[str, SlaPolicy],
    django_capture_on_commit_callbacks: Any,
) -> None:
    lead = make_user("service-agent", teams["service"], username="lead")
    escalation = AgentGroup.objects.create(name="二线支持", team=teams["service"], manager=lead)
    SlaPolicy.objects.filter(pk=policies["normal"].pk).update(escalate_to_group=escalation)
    breached: list[dict[str, Any]] = []
    events.subscribe("ticket.breached", lambda **p: breached.append(p))
    with time_machine.travel(shanghai(2026, 11, 23, 9, 0), tick=False):
        ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")

    with (
        time_machine.travel(shanghai(2026, 11, 23, 10, 1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = sla_sweep()
        rerun = sla_sweep()

    ticket.refresh_from_db()
    assert (result.response_breached, rerun.response_breached) == (1, 0)
    assert ticket.response_breached_at == shanghai(2026, 11, 23, 10, 1)
    assert (ticket.priority, ticket.group) == ("high", escalation)
    assert ticket.resolution_breached_at is None
    assert breached == [{"ticket_id": ticket.pk, "kind": "response"}]
    assert TicketChange.objects.filter(ticket=ticket, field="sla").count() == 1
    assert result.notify == {lead.pk: [ticket.number]}


def test_a_ticket_answered_in_time_never_breaches_its_response_target(
    agent: Any, customer: Any, policies: dict[str, SlaPolicy]
) -> None:
    with time_machine.travel(shanghai(2026, 11, 23, 9, 0), tick=False):
        ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
        services.ticket_reply(actor=agent, ticket=ticket, body="收到")

    result = sla_sweep(now=shanghai(2026, 11, 23, 12, 0))

    assert result.response_breached == 0


def test_a_reopened_ticket_gets_a_fresh_resolution_target(
    agent: Any, customer: Any, policies: dict[str, SlaPolicy]
) -> None:
    with time_machine.travel(shanghai(2026, 11, 23, 9, 0), tick=False):
        ticket = services.ticket_open(actor=agent, customer=customer, subject="s", description="")
        services.ticket_transition(actor=agent, ticket=ticket, status="resolved")

    with time_machine.travel(shanghai(2026, 11, 25, 14, 0), tick=False):
        ticket = services.ticket_transition(actor=agent, ticket=ticket, status="reopened")

    assert ticket.resolution_due_at == shanghai(2026, 11, 26, 13, 0)  # 480 business minutes
