"""Demo timeline: a few calls, visits and messages on the first demo customers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanxi.customers.models import Customer, CustomerStatus
from guanxi.interactions.models import Channel, Direction, Interaction

DEMO_CUSTOMERS = 12

# (channel, direction, days ago, minutes, summary, outcome, next step, days until next step)
SCRIPT: list[tuple[str, str, int, int | None, str, str, str, int | None]] = [
    (
        Channel.PHONE_CALL,
        Direction.OUTBOUND,
        21,
        12,
        "首次电话沟通需求 First call about their needs",
        "对年度采购感兴趣 Interested in the annual plan",
        "发送报价 Send a quote",
        -14,
    ),
    (
        Channel.EMAIL,
        Direction.OUTBOUND,
        14,
        None,
        "发送报价单 Quote sent",
        "",
        "电话跟进 Follow up by phone",
        -7,
    ),
    (
        Channel.WECHAT,
        Direction.INBOUND,
        9,
        None,
        "客户微信询问交期 Asked about delivery times on WeChat",
        "已答复 Answered",
        "",
        None,
    ),
    (
        Channel.VISIT,
        Direction.OUTBOUND,
        4,
        None,
        "上门拜访，演示产品 On-site visit and demo",
        "决策人参加 The decision maker attended",
        "准备合同草案 Draft the contract",
        3,
    ),
]
VISIT_PLACE = ("上海市浦东新区 Pudong, Shanghai", Decimal("31.230400"), Decimal("121.473700"))


@transaction.atomic
def load(*, force: bool = False) -> list[str]:
    """Give the first demo customers without interactions a short timeline; idempotent.

    Skips quietly when there are no customers yet (the customers demo has not run).
    """
    customers = list(
        Customer.objects.exclude(status=CustomerStatus.MERGED)
        .filter(interactions__isnull=True)
        .select_related("owner")
        .order_by("pk")[:DEMO_CUSTOMERS]
    )
    if not customers:
        return ["Demo interactions: no customers without a timeline."]
    now = timezone.now().replace(second=0, microsecond=0)
    rows = []
    for index, customer in enumerate(customers):
        for channel, direction, days_ago, minutes, summary, outcome, step, step_in in SCRIPT:
            occurred_at = now - dt.timedelta(days=days_ago + index % 5, hours=index % 7)
            is_visit = channel == Channel.VISIT
            rows.append(
                Interaction(
                    customer=customer,
                    channel=channel,
                    direction=direction,
                    occurred_at=occurred_at,
                    duration_seconds=minutes * 60 if minutes is not None else None,
                    summary=summary,
                    outcome=outcome,
                    next_step=step,
                    next_step_date=(
                        timezone.localdate(occurred_at) + dt.timedelta(days=days_ago + step_in)
                        if step_in is not None
                        else None
                    ),
                    location_name=VISIT_PLACE[0] if is_visit else "",
                    latitude=VISIT_PLACE[1] if is_visit else None,
                    longitude=VISIT_PLACE[2] if is_visit else None,
                    owner=customer.owner,
                    team_id=customer.team_id,
                )
            )
    Interaction.objects.bulk_create(rows, batch_size=500)
    return [f"Demo interactions: {len(rows)} on {len(customers)} customers."]
