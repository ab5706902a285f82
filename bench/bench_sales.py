"""Time the sales board, the deal list and the weighted forecast through the whole HTTP stack,
each beside its bare SQL, on a pipeline with 200,000 open opportunities and two years of deals.

    .venv/bin/python bench/bench_sales.py [--database-url URL] [--open 200000] [--runs 30]
        [--out bench/results/sales-<vendor>.json]

Without --database-url it uses its own SQLite file (var/bench-sales.sqlite3), never the
working database. It migrates, then (once) generates a sales team of 20 reps under a manager,
2,000 customers, the open deals spread over the default pipeline's stages with expected close
dates over the next 24 months, and a quarter as many won and lost deals closed over the past
24 months. Pages are requested with Django's test Client signed in as the administrator (all
deals) and as the manager (team and sub-teams). The bare query is the SQL the selector builds,
run through connection.cursor(). Prints one JSON document (p50/p95 in ms).
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
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import ROOT, setup_django, timing

BATCH = 5_000
PASSWORD = "correct-horse-42"  # noqa: S105  # the bench users' password, as in the tests


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(open_deals: int) -> None:
    """Fill the bench database once: people, customers and deals, in batches."""
    from django.db import transaction
    from django.utils import timezone

    from guanxi.accounts.models import Role
    from guanxi.accounts.services import team_create, user_create
    from guanxi.customers.models import Customer
    from guanxi.sales.models import CloseReason, Opportunity
    from guanxi.sales.services import defaults_ensure

    pipeline = defaults_ensure()
    existing = Opportunity.objects.filter(pipeline=pipeline, status="open").count()
    if existing >= open_deals:
        log(f"data: {existing} open deals already there")
        return
    rng = random.Random(42)  # bench data, not a secret
    hq = team_create(actor=None, name="Bench HQ")
    sales = team_create(actor=None, name="Bench Sales", parent=hq)
    squads = [team_create(actor=None, name=f"Bench squad {i}", parent=sales) for i in range(4)]
    user_create(
        actor=None,
        username="bench.admin",
        password=PASSWORD,
        role=Role.objects.get(code="administrator"),
        team=hq,
    )
    user_create(
        actor=None,
        username="bench.manager",
        password=PASSWORD,
        role=Role.objects.get(code="sales-manager"),
        team=sales,
    )
    reps = [
        user_create(
            actor=None,
            username=f"bench.rep{i}",
            password=PASSWORD,
            role=Role.objects.get(code="sales-rep"),
            team=squads[i % 4],
        )
        for i in range(20)
    ]
    customers = Customer.objects.bulk_create(
        [
            Customer(kind="enterprise", name=f"Bench customer {i}", owner=rep, team=rep.team)
            for i, rep in ((i, reps[i % 20]) for i in range(2_000))
        ],
        batch_size=1_000,
    )
    stages = list(pipeline.stages.order_by("order"))
    reasons = {kind: list(CloseReason.objects.filter(kind=kind)) for kind in ("won", "lost")}
    now = timezone.now()
    today = timezone.localdate()
    closed = open_deals // 4
    total = open_deals - existing + closed
    made = 0
    while made < total:
        rows = []
        for _ in range(min(BATCH, total - made)):
            customer = customers[rng.randrange(len(customers))]
            is_open = made + len(rows) < open_deals - existing
            status = "open" if is_open else rng.choice(("won", "lost"))
            rows.append(
                Opportunity(
                    name=f"Deal {made + len(rows)}",
                    customer=customer,
                    owner_id=customer.owner_id,
                    team_id=customer.team_id,
                    pipeline=pipeline,
                    stage=stages[rng.randrange(len(stages))],
                    amount=Decimal(rng.randrange(1_000, 900_000, 100)),
                    expected_close=today + dt.timedelta(days=rng.randint(-30, 730)),
                    forecast_category=rng.choice(("pipeline", "best_case", "commit")),
                    status=status,
                    close_reason=None if is_open else rng.choice(reasons[status]),
                    closed_at=None if is_open else now - dt.timedelta(days=rng.randint(0, 730)),
                    stage_entered_at=now - dt.timedelta(days=rng.randint(0, 120)),
                )
            )
        with transaction.atomic():
            Opportunity.objects.bulk_create(rows, batch_size=1_000)
        made += len(rows)
        log(f"data: {made}/{total} deals")


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
    parser.add_argument("--open", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ["DEBUG"] = "0"
    os.environ["GUANXI_TASK_MODE"] = "eager"
    url = args.database_url or f"sqlite:///{ROOT / 'var' / 'bench-sales.sqlite3'}"
    setup_django(
        url,
        GUANXI_ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
        GUANXI_PLAIN_STATIC="1",  # no collectstatic manifest needed
    )

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Sum
    from django.test import Client
    from django.utils import timezone

    from guanxi.accounts.models import User
    from guanxi.sales import selectors
    from guanxi.sales.models import Opportunity

    call_command("migrate", verbosity=0)
    generate(args.open)
    with connection.cursor() as cursor:  # fresh statistics and visibility map, as autovacuum
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    pipeline = selectors.pipeline_get()
    today = timezone.localdate()
    window = (today, today + dt.timedelta(days=730))
    cases: dict[str, Any] = {}
    for username in ("bench.admin", "bench.manager"):
        actor = User.objects.select_related("role", "team").get(username=username)
        client = Client()
        client.force_login(actor)

        def page(path: str, client: Client = client) -> Callable[[], Any]:
            def run() -> Any:
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
                return response

            return run

        base = selectors.opportunity_list(
            actor=actor,
            filters=selectors.OpportunityFilters(pipeline_id=pipeline.pk, status="open"),
        )
        board_counts = base.order_by().values("stage_id")
        first_stage = selectors.stage_list(pipeline=pipeline)[0]
        forecast_open = selectors.forecast_open_rows(
            deals=Opportunity.objects.visible_to(actor),
            date_from=window[0],
            date_to=window[1],
            group_field="owner_id",
        )

        measurements = {
            "board": (
                page(f"/sales/pipelines/{pipeline.pk}/board/"),
                bare(board_counts.annotate(n=Count("pk"), total=Sum("amount"))),
                "grouped count/sum per stage (+ 5 card queries over HTTP)",
            ),
            "board_cards_one_stage": (
                page(f"/sales/pipelines/{pipeline.pk}/board/"),
                bare(base.filter(stage_id=first_stage.pk)[: selectors.BOARD_CARDS]),
                "HTTP: the whole board; bare: one column's cards",
            ),
            "list_first_page": (
                page(f"/sales/opportunities/?pipeline={pipeline.pk}&status=open"),
                bare(base[:51]),
                "newest first, keyset",
            ),
            "list_by_amount": (
                page(f"/sales/opportunities/?pipeline={pipeline.pk}&status=open&sort=-amount"),
                bare(base.order_by("-amount", "-pk")[:51]),
                "largest first, keyset",
            ),
            "forecast_2y_by_rep_month": (
                page(
                    f"/api/v1/sales/forecast?date_from={window[0]}&date_to={window[1]}"
                    "&period=month&group=owner"
                ),
                bare(forecast_open),
                "open deals over 24 months grouped by rep and month (SQLite: by expected-close"
                " day, folded into months in Python), with weighted/commit/best-case sums"
                " (+ won rows over HTTP)",
            ),
        }
        for name, (http, raw, note) in measurements.items():
            log(f"{username}: {name}")
            cases[f"{username}:{name}"] = {
                "http_ms": timing(http, args.runs),
                "bare_ms": timing(raw, args.runs),
                "note": note,
            }
    document = {
        "benchmark": "sales",
        "database": connection.vendor,
        "open_deals": Opportunity.objects.filter(status="open").count(),
        "all_deals": Opportunity.objects.count(),
        "runs": args.runs,
        "python": platform.python_version(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cases": cases,
    }
    text = json.dumps(document, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
