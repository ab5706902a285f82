"""Demo service desk: a Shanghai business calendar with the 2026 National Day holidays, SLA
policies per tier class and priority, categories, an agent group with a round-robin rule,
and a few dozen tickets in every state for the demo customers."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from guanxi.accounts.models import User
from guanxi.customers.models import Contact, Customer, CustomerStatus
from guanxi.service import services
from guanxi.service.models import (
    AgentGroup,
    AgentMembership,
    AssignmentRule,
    BusinessCalendar,
    CalendarDay,
    SlaPolicy,
    Ticket,
    TicketCategory,
)

SEED = 20261127
# (sla class, priority) -> (first response, resolution) in business minutes
TARGETS = {
    "": {"low": (480, 4800), "normal": (240, 2400), "high": (120, 960), "urgent": (60, 480)},
    "gold": {"low": (240, 2400), "normal": (120, 960), "high": (60, 480), "urgent": (30, 240)},
}
# Days that differ from Monday to Friday; an administrator adjusts them to the State
# Council's notice each year on the settings page.
SPECIAL_DAYS = [
    ("2026-10-01", "holiday", "国庆节"),
    ("2026-10-02", "holiday", "国庆节"),
    ("2026-10-05", "holiday", "国庆节"),
    ("2026-10-06", "holiday", "国庆节"),
    ("2026-10-07", "holiday", "国庆节"),
    ("2026-10-10", "workday", "国庆调休"),
]
SUBJECTS = [
    ("打印机无法连接 Printer offline", "fault"),
    ("发票抬头错误 Wrong invoice title", "request"),
    ("送货延迟 Late delivery", "complaint"),
    ("如何导出报表 How to export a report", "inquiry"),
    ("希望增加微信支付 Add WeChat Pay", "suggestion"),
]


def _setup(agents: list[User]) -> None:
    calendar, _created = BusinessCalendar.objects.get_or_create(
        name="上海办公室 Shanghai office",
        defaults={
            "time_zone": "Asia/Shanghai",
            "hours": {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(1, 6)},
            "is_default": True,
        },
    )
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(calendar=calendar, date=dt.date.fromisoformat(d), kind=k, name=n)
            for d, k, n in SPECIAL_DAYS
        ],
        ignore_conflicts=True,
    )
    group, _created = AgentGroup.objects.get_or_create(
        name="一线支持 First line", defaults={"team": agents[0].team, "manager": agents[0]}
    )
    for agent in agents:
        AgentMembership.objects.get_or_create(group=group, user=agent)
    AssignmentRule.objects.get_or_create(
        name="全部轮流 Everyone in turn", defaults={"group": group}
    )
    for sla_class, targets in TARGETS.items():
        for priority, (response, resolution) in targets.items():
            SlaPolicy.objects.get_or_create(
                sla_class=sla_class,
                priority=priority,
                defaults={
                    "name": f"{sla_class or 'standard'} {priority}",
                    "first_response_minutes": response,
                    "resolution_minutes": resolution,
                    "calendar": calendar,
                    "escalate_to_group": group,
                },
            )
    for name in ("账单 Billing", "物流 Delivery", "产品 Product", "账户 Account"):
        TicketCategory.objects.get_or_create(parent=None, name=name)


def load(*, force: bool = False) -> list[str]:
    """Add the settings and, when there are no tickets yet, demo tickets; idempotent."""
    agents = list(User.objects.filter(role__code="service-agent", is_active=True).order_by("pk"))
    if not agents:
        return ["Demo service: no service agents."]
    with transaction.atomic():
        _setup(agents)
    if Ticket.objects.exists():
        return ["Demo service: tickets exist."]
    customers = list(Customer.objects.exclude(status=CustomerStatus.MERGED).order_by("pk")[:30])
    contacts = {c.customer_id: c for c in Contact.objects.filter(customer__in=customers)}
    rng = random.Random(SEED)  # noqa: S311  # demo data, not a secret
    categories = list(TicketCategory.objects.all())
    made = 0
    for index, customer in enumerate(customers):
        subject, kind = SUBJECTS[index % len(SUBJECTS)]
        with transaction.atomic():
            ticket = services.ticket_open(
                actor=None,
                customer=customer,
                contact=contacts.get(customer.pk),
                subject=subject,
                description=subject,
                type=kind,
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                channel=rng.choice(["phone", "email", "web", "chat"]),
                category=rng.choice(categories),
            )
            agent = ticket.assignee or agents[0]
            step = index % 4
            if step >= 1:
                services.ticket_reply(actor=agent, ticket=ticket, body="您好，我们正在处理。")
            if step == 2:
                services.ticket_transition(actor=agent, ticket=ticket, status="waiting_customer")
            if step == 3:
                services.ticket_transition(actor=agent, ticket=ticket, status="resolved")
        made += 1
    return [f"Demo service: {made} tickets."]
