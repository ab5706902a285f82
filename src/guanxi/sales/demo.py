"""Demo sales: deals on the demo customers spread over the default pipeline's stages, some won
and lost with reasons and competitors, product lines, and this quarter's targets per rep."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.commerce.models import Product
from guanxi.customers.models import Customer, CustomerStatus
from guanxi.sales.models import (
    CloseReason,
    Competitor,
    ForecastCategory,
    Heat,
    Opportunity,
    OpportunityCompetitor,
    OpportunityLine,
    OpportunityStatus,
    Pipeline,
    ReasonKind,
    SalesTarget,
    StageVisit,
)

SEED = 20261126
MAX_CUSTOMERS = 60
TOPICS = [
    "年度采购 Annual purchase",
    "办公升级 Office upgrade",
    "会议室改造 Meeting rooms",
    "维保续约 Maintenance renewal",
    "员工培训 Staff training",
    "新店开业 New branch fit-out",
]
SOURCES = ["referral", "website", "exhibition", "cold_call", "existing_customer"]
COMPETITORS = [
    ("金蝶 Kingdee", "价格低 Low price", "服务慢 Slow service"),
    ("用友 Yonyou", "品牌强 Strong brand", "实施周期长 Long rollout"),
    ("本地经销商 Local dealer", "关系好 Close ties", "产品线窄 Narrow range"),
]


def _quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    first_month = (today.month - 1) // 3 * 3 + 1
    start = today.replace(month=first_month, day=1)
    following = (start + dt.timedelta(days=95)).replace(day=1)
    return start, following - dt.timedelta(days=1)


@transaction.atomic
def load(*, force: bool = False) -> list[str]:
    """Add deals for demo customers that have none yet, and the reps' quarter targets."""
    pipeline = Pipeline.objects.filter(is_default=True).first()
    customers = list(
        Customer.objects.exclude(status=CustomerStatus.MERGED)
        .filter(opportunities__isnull=True, owner__isnull=False)
        .order_by("pk")[:MAX_CUSTOMERS]
    )
    if pipeline is None or not customers:
        return ["Demo sales: nothing to add."]
    rng = random.Random(SEED)  # noqa: S311  # demo data, not a secret
    stages = list(pipeline.stages.order_by("order"))
    reasons = {kind: list(CloseReason.objects.filter(kind=kind)) for kind in ReasonKind.values}
    products = list(Product.objects.filter(is_active=True).order_by("pk")[:12])
    now = timezone.now()
    today = timezone.localdate()
    owners = {u.pk: u for u in User.objects.filter(pk__in={c.owner_id for c in customers})}
    deals = []
    for customer in customers:
        for _ in range(rng.randint(1, 3)):
            owner = owners[customer.owner_id] if customer.owner_id else None
            stage = rng.choice(stages)
            created = now - dt.timedelta(days=rng.randint(5, 200))
            status = rng.choices(
                [OpportunityStatus.OPEN, OpportunityStatus.WON, OpportunityStatus.LOST],
                weights=[6, 2, 2],
            )[0]
            closed = status != OpportunityStatus.OPEN
            deals.append(
                Opportunity(
                    name=f"{customer.name} · {rng.choice(TOPICS)}"[:200],
                    customer=customer,
                    owner=owner,
                    team_id=owner.team_id if owner else None,
                    pipeline=pipeline,
                    stage=stage,
                    amount=Decimal(rng.randrange(5_000, 500_000, 500)),
                    expected_close=today + dt.timedelta(days=rng.randint(-20, 300)),
                    source=rng.choice(SOURCES),
                    heat=rng.choice(Heat.values),
                    forecast_category=rng.choice(ForecastCategory.values[:3]),
                    next_step="安排演示 Arrange a demo" if not closed else "",
                    status=status,
                    close_reason=rng.choice(reasons[status]) if closed else None,
                    closed_at=now - dt.timedelta(days=rng.randint(0, 80)) if closed else None,
                    stage_entered_at=created + dt.timedelta(days=rng.randint(0, 4)),
                )
            )
    Opportunity.objects.bulk_create(deals, batch_size=500)
    visits = []
    lines = []
    rivals = [
        Competitor.objects.get_or_create(name=name)[0] for name, _strong, _weak in COMPETITORS
    ]
    rival_rows = []
    for deal in deals:
        for stage in stages:
            if stage.order > deal.stage.order:
                break
            current = stage.pk == deal.stage_id
            entered = deal.stage_entered_at - dt.timedelta(
                days=4 * (deal.stage.order - stage.order)
            )
            visits.append(
                StageVisit(
                    opportunity=deal,
                    stage=stage,
                    entered_at=entered,
                    left_at=deal.closed_at if current else entered + dt.timedelta(days=4),
                )
            )
        for product in rng.sample(products, k=min(len(products), rng.randint(0, 2))):
            quantity = Decimal(rng.randint(1, 10))
            lines.append(
                OpportunityLine(
                    opportunity=deal,
                    product=product,
                    quantity=quantity,
                    unit_price=product.list_price,
                    amount=quantity * product.list_price,
                )
            )
        if rng.random() < 0.4:
            index = rng.randrange(len(rivals))
            rival_rows.append(
                OpportunityCompetitor(
                    opportunity=deal,
                    competitor=rivals[index],
                    strengths=COMPETITORS[index][1],
                    weaknesses=COMPETITORS[index][2],
                )
            )
    StageVisit.objects.bulk_create(visits, batch_size=500)
    OpportunityLine.objects.bulk_create(lines, batch_size=500)
    OpportunityCompetitor.objects.bulk_create(rival_rows, batch_size=500)
    start, end = _quarter(today)
    targeted = set(
        SalesTarget.objects.filter(user__in=owners, period_start=start).values_list(
            "user_id", flat=True
        )
    )
    SalesTarget.objects.bulk_create(
        SalesTarget(user=owner, period_start=start, period_end=end, amount=Decimal(800_000))
        for owner in owners.values()
        if owner.pk not in targeted
    )
    return [f"Demo sales: {len(deals)} opportunities on {len(customers)} customers."]
