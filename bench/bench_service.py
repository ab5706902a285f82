"""Time an agent's ticket queue through the whole HTTP stack and the SLA sweep, each beside its
bare SQL, with 1,000,000 tickets.

    .venv/bin/python bench/bench_service.py [--database-url URL] [--tickets 1000000]
        [--runs 30] [--sweep-due 5000] [--out bench/results/service-<vendor>.json]

Without --database-url it uses its own SQLite file (var/bench-service.sqlite3), never the
working database. It migrates, then (once) generates a service team of 40 agents, 5,000
customers, SLA policies on a 24-hour calendar and the tickets: 15% still active (spread over
the agents, a quarter unassigned), the rest resolved or closed, with due times spread around
now. Queue pages are requested with Django's test Client signed in as one agent (data scope:
own team). The SLA sweep is timed with `--sweep-due` tickets overdue and not yet breached
(their breach stamps are cleared before each run, outside the timing); its bare query is the
SELECT of the due ids the sweep starts from. Prints one JSON document (p50/p95 in ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import ROOT, setup_django, timing

BATCH = 10_000
AGENTS = 40
CUSTOMERS = 5_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(total: int) -> None:
    """Fill the bench database once: people, customers, policies and tickets, in batches."""
    from django.utils import timezone

    from guanxi.accounts.models import Role
    from guanxi.accounts.services import team_create, user_create
    from guanxi.customers.models import Customer
    from guanxi.service.models import BusinessCalendar, SlaPolicy, Ticket

    existing = Ticket.objects.count()
    if existing >= total:
        log(f"data: {existing} tickets already there")
        _number_and_analyse()
        return
    rng = random.Random(42)  # bench data, not a secret
    team = team_create(actor=None, name="Bench Service")
    agents = [
        user_create(
            actor=None,
            username=f"bench.agent{i}",
            password="correct-horse-42",  # noqa: S106 - a bench user
            role=Role.objects.get(code="service-agent"),
            team=team,
        )
        for i in range(AGENTS)
    ]
    customers = Customer.objects.bulk_create(
        [
            Customer(kind="enterprise", name=f"Bench customer {i}", owner=agents[0], team=team)
            for i in range(CUSTOMERS)
        ],
        batch_size=1_000,
    )
    calendar = BusinessCalendar.objects.create(
        name="Bench 24x7",
        time_zone="Asia/Shanghai",
        hours={str(d): [["00:00", "24:00"]] for d in range(1, 8)},
    )
    policies = {
        priority: SlaPolicy.objects.create(
            name=f"Bench {priority}",
            priority=priority,
            first_response_minutes=60,
            resolution_minutes=480,
            calendar=calendar,
        )
        for priority in ("low", "normal", "high", "urgent")
    }
    now = timezone.now()
    columns = (
        "created_at",
        "updated_at",
        "version",
        "customer_id",
        "type",
        "priority",
        "channel",
        "subject",
        "description",
        "status",
        "assignee_id",
        "team_id",
        "sla_class",
        "sla_policy_id",
        "first_response_due_at",
        "resolution_due_at",
        "first_responded_at",
        "response_breached_at",
        "resolution_breached_at",
        "resolved_at",
    )
    customer_ids = [c.pk for c in customers]
    agent_ids = [a.pk for a in agents]
    made = existing
    while made < total:
        rows = []
        for _ in range(min(BATCH, total - made)):
            active = rng.random() < 0.15
            minutes = rng.randint(0, 60 * 24 * 3) if active else rng.randint(0, 60 * 24 * 365)
            opened = now - dt.timedelta(minutes=minutes)
            priority = rng.choice(("low", "normal", "normal", "high", "urgent"))
            assignee = None if active and rng.random() < 0.25 else rng.choice(agent_ids)
            response_due = opened + dt.timedelta(minutes=60)
            resolution_due = opened + dt.timedelta(minutes=480)
            responded = opened + dt.timedelta(minutes=rng.randint(5, 90))
            status = (
                rng.choice(("new", "open", "waiting_third_party"))
                if active
                else rng.choice(("resolved", "closed"))
            )
            rows.append(
                (
                    opened,
                    opened,
                    1,
                    rng.choice(customer_ids),
                    rng.choice(("inquiry", "fault", "complaint", "request")),
                    priority,
                    rng.choice(("phone", "email", "web", "chat")),
                    f"Bench ticket {made + len(rows)}",
                    "",
                    status,
                    assignee,
                    team.pk,
                    "",
                    policies[priority].pk,
                    response_due,
                    resolution_due,
                    responded if responded < now else None,
                    responded if responded > response_due else None,
                    None if active or rng.random() < 0.9 else resolution_due,
                    None if active else opened + dt.timedelta(hours=6),
                )
            )
        _insert(columns, rows)
        made += len(rows)
        if made % 100_000 < BATCH:
            log(f"data: {made}/{total} tickets")
    _number_and_analyse()


def _number_and_analyse() -> None:
    """Number the tickets set-based (as the service does one by one) and refresh statistics;
    resumes after an interrupted run."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE service_ticket SET number = 'T-' || CASE WHEN id < 1000000 "
                "THEN lpad(id::text, 6, '0') ELSE id::text END WHERE number IS NULL"
            )
            cursor.execute("ANALYZE service_ticket")
        else:
            cursor.execute(
                "UPDATE service_ticket SET number = printf('T-%06d', id) WHERE number IS NULL"
            )
            cursor.execute("ANALYZE")


def _insert(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL, executemany on SQLite (FIELD-NOTES: 12× / 8× bulk_create)."""
    from django.db import connection, transaction

    names = ", ".join(columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY service_ticket ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO service_ticket ({names}) VALUES ({marks})",
                [
                    tuple(
                        connection.ops.adapt_datetimefield_value(v)
                        if isinstance(v, dt.datetime)
                        else v
                        for v in r
                    )
                    for r in rows
                ],
            )


def bare(queryset: Any) -> Callable[[], Any]:
    """Run the queryset's SQL on the bare connection and fetch every row."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sweep-due", type=int, default=5_000)
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ["DEBUG"] = "0"
    os.environ["GUANXI_TASK_MODE"] = "eager"
    url = args.database_url or f"sqlite:///{ROOT / 'var' / 'bench-service.sqlite3'}"
    setup_django(
        url,
        GUANXI_ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
        GUANXI_PLAIN_STATIC="1",  # no collectstatic manifest needed
    )

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Q
    from django.test import Client
    from django.utils import timezone

    from guanxi.accounts.models import User
    from guanxi.service import selectors
    from guanxi.service.models import ACTIVE_STATUSES, Ticket
    from guanxi.service.sla import sla_sweep

    call_command("migrate", verbosity=0)
    generate(args.tickets)
    agent = User.objects.select_related("role", "team").get(username="bench.agent1")
    client = Client()
    client.force_login(agent)

    def page(path: str) -> Callable[[], Any]:
        def run() -> Any:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            return response

        return run

    def queue(name: str) -> Any:
        filters = selectors.TicketFilters(queue=name)
        return selectors.ticket_queue_page(actor=agent, filters=filters)[:51]

    cases: dict[str, Any] = {}
    for name in ("mine", "unassigned", "team", "breach_soon"):
        log(f"queue: {name}")
        cases[f"queue_{name}"] = {
            "http_ms": timing(page(f"/service/?queue={name}"), args.runs),
            "bare_ms": timing(bare(queue(name)), args.runs),
            "note": "first page of 50, newest first, keyset",
        }

    # The sweep: `sweep_due` active tickets whose first response is overdue and not breached.
    now = timezone.now()
    due_ids = list(
        Ticket.objects.filter(status__in=ACTIVE_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)[: args.sweep_due]
    )

    def reset() -> None:
        for start in range(0, len(due_ids), 900):
            Ticket.objects.filter(pk__in=due_ids[start : start + 900]).update(
                first_response_due_at=now - dt.timedelta(minutes=5),
                first_responded_at=None,
                response_breached_at=None,
                resolution_breached_at=None,
                resolution_due_at=now + dt.timedelta(days=30),
                warned_at=now,
                paused_at=None,
            )

    due_query = (
        Ticket.objects.filter(
            Q(status__in=ACTIVE_STATUSES, paused_at__isnull=True),
            first_responded_at__isnull=True,
            response_breached_at__isnull=True,
            first_response_due_at__lte=now,
        )
        .order_by("pk")
        .values_list("pk", "number", "assignee_id")[:5_000]
    )
    log("sla sweep")
    sweep_runs = max(3, args.runs // 5)
    reset()
    result = sla_sweep(now=now)
    cases["sla_sweep"] = {
        "job_ms": timing(lambda: sla_sweep(now=now), sweep_runs, before=reset),
        "bare_ms": timing(bare(due_query), sweep_runs, before=reset),
        "breached_per_run": result.response_breached,
        "runs": sweep_runs,
        "note": "job: warn + breach + escalate + history + events, all policies; "
        "bare: the SELECT of due ids for one policy batch",
    }
    document = {
        "benchmark": "service",
        "database": connection.vendor,
        "tickets": Ticket.objects.count(),
        "active_tickets": Ticket.objects.filter(status__in=ACTIVE_STATUSES).count(),
        "runs": args.runs,
        "python": platform.python_version(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cases": cases,
    }
    text = json.dumps(document, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
