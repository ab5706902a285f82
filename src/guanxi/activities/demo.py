"""Demo tasks and notifications: for each demo user, a few overdue, today's, upcoming and done
tasks on their own customers (some with reminders), and a welcome notification."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.activities.models import PRIORITY_RANK, Notification, Status, Task
from guanxi.customers.models import Customer

# (title, days from today, hour or None for all day, priority, done)
PLAN: list[tuple[str, int, int | None, str, bool]] = [
    ("回访上月下单客户 Call back last month's buyers", -3, 10, "high", False),
    ("发送报价单 Send the quotation", -1, None, "urgent", False),
    ("电话确认交货时间 Confirm the delivery date", 0, 15, "normal", False),
    ("准备季度拜访资料 Prepare the quarterly visit", 0, None, "normal", False),
    ("上门拜访 On-site visit", 2, 14, "high", False),
    ("续约提醒 Contract renewal reminder", 7, 9, "normal", False),
    ("整理客户需求 Write up the customer's needs", -5, 11, "low", True),
]
WELCOME = (
    "欢迎使用关系 CRM：任务和提醒会显示在这里。 Welcome: your tasks and reminders show up here."
)


@transaction.atomic
def load(*, force: bool = False) -> list[str]:
    """Add the plan's tasks for every active user who has customers and no tasks yet;
    idempotent (bulk inserts, one per table)."""
    with_tasks = set(Task.objects.values_list("owner_id", flat=True).distinct())
    users = [
        user
        for user in User.objects.filter(is_active=True).order_by("pk")
        if user.pk not in with_tasks
    ]
    customers: dict[int, list[Customer]] = {}
    for customer in Customer.objects.filter(owner__in=users).order_by("pk")[:5000]:
        if customer.owner_id is not None:
            customers.setdefault(customer.owner_id, []).append(customer)
    today = timezone.localdate()
    now = timezone.now()
    tasks: list[Task] = []
    for user in users:
        own = customers.get(user.pk, [])
        if not own:
            continue
        for index, (title, days, hour, priority, done) in enumerate(PLAN):
            day = today + dt.timedelta(days=days)
            due = timezone.make_aware(dt.datetime.combine(day, dt.time(hour or 0)))
            remind = due - dt.timedelta(minutes=30) if hour is not None and days >= 0 else None
            tasks.append(
                Task(
                    title=title,
                    owner=user,
                    created_by=user,
                    team_id=user.team_id,
                    due_at=due,
                    due_sort=due,
                    all_day=hour is None,
                    priority=priority,
                    priority_rank=PRIORITY_RANK[priority],
                    status=Status.DONE if done else Status.OPEN,
                    completed_at=now if done else None,
                    remind_at=remind,
                    customer=own[index % len(own)],
                    source="manual",
                )
            )
    if not tasks:
        return ["Demo tasks: nothing to add."]
    Task.objects.bulk_create(tasks, batch_size=1000)
    owners = {task.owner_id for task in tasks}
    Notification.objects.bulk_create(
        [Notification(user_id=pk, title=WELCOME, url="/activities/") for pk in sorted(owners)]
    )
    return [f"Demo tasks: {len(tasks)} tasks for {len(owners)} users."]
