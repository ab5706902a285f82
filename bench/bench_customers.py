"""Time the customer pages through the whole HTTP stack, and the same core query on the bare
database beside them, so that the overhead of Django (middleware, sessions, templates,
encryption) shows as a ratio.

    .venv/bin/python bench/bench_customers.py [--database-url URL] [--runs 30]
        [--out bench/results/<name>.json] [--explain]

Each case is a real URL (/customers/?q=…, /customers/<id>/) requested with Django's test
Client, signed in (force_login) as the generator's administrator and as its sales manager of
华东区 East (data scope: team and sub-teams). DEBUG is off and tasks run eagerly. The raw
query is the SQL the selector builds for that request, run through connection.cursor().
Prints one JSON document; fill the database with bench/generate.py first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import ROOT, setup_django, summary_ms
from vocabulary import ADMIN_USERNAME, MANAGER_USERNAME

# p95 targets on PostgreSQL (ms); SQLite may take twice as long.
LIST_TARGET_MS = 50.0
SEARCH_TARGET_MS = 100.0
SQLITE_FACTOR = 2.0
ROW_MARK = re.compile(rb'data-customer="\d+"')


@dataclass
class Case:
    """One page to time: a list query string, or customer ids for the 360 page."""

    name: str
    target_ms: float
    query: str = ""
    detail: bool = False
    timeline: bool = False
    note: str = ""
    ids: dict[str, list[int]] = field(default_factory=dict)


# --- choosing inputs from the data -----------------------------------------------------------


def pick_inputs(actors: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Search terms and filters that match generated data; customer ids per actor."""
    from django.db import connection

    from guanxi.customers import selectors
    from guanxi.customers.models import Customer, Tag

    bounds = Customer.objects.order_by("pk").values_list("pk", flat=True)
    low, high = bounds.first(), bounds.last()
    if low is None or high is None:
        raise SystemExit("bench_customers.py: no customers; run bench/generate.py first")
    tag = Tag.objects.filter(name="VIP").first() or Tag.objects.order_by("pk").first()
    with connection.cursor() as cursor:
        # A last-four that exists: the one of a customer in the middle of the table.
        cursor.execute(
            "SELECT phone_last4 FROM customers_customer WHERE id >= %s AND phone_last4 <> '' "
            "ORDER BY id LIMIT 1",
            [(low + high) // 2],
        )
        last4 = cursor.fetchone()[0]
    ids: dict[str, list[int]] = {}
    for label, actor in actors.items():
        sample = sorted(rng.sample(range(low, high + 1), min(4000, high - low + 1)))
        visible = list(
            selectors.customer_base(actor=actor)
            .filter(pk__in=sample)
            .values_list("pk", flat=True)
            .order_by("pk")
        )
        rng.shuffle(visible)
        ids[label] = visible[:40]
    return {"tag_id": tag.pk if tag else None, "last4": last4, "ids": ids}


def build_cases(inputs: dict[str, Any], timeline: bool) -> list[Case]:
    from urllib.parse import urlencode

    def search(term: str) -> str:
        return urlencode({"q": term})

    cases = [
        Case("list_default", LIST_TARGET_MS, "", note="newest first, no filter"),
        Case(
            "list_city_tag",
            LIST_TARGET_MS,
            urlencode({"city": "上海市", "tag": inputs["tag_id"]}),
            note="city 上海市 and the most used tag (VIP)",
        ),
        Case("search_latin", SEARCH_TARGET_MS, search("son"), note="Latin substring 'son'"),
        Case("search_zh_2", SEARCH_TARGET_MS, search("张伟"), note="two-character name 张伟"),
        Case("search_zh_1", SEARCH_TARGET_MS, search("王"), note="one-character surname 王"),
        Case("search_pinyin", SEARCH_TARGET_MS, search("zhangwei"), note="full pinyin"),
        Case("search_initials", SEARCH_TARGET_MS, search("zw"), note="pinyin initials"),
        Case(
            "search_last4",
            SEARCH_TARGET_MS,
            search(inputs["last4"]),
            note=f"phone last four {inputs['last4']}",
        ),
        Case("detail_360", LIST_TARGET_MS, detail=True, ids=inputs["ids"], note="360 page"),
    ]
    if timeline:
        cases.append(
            Case(
                "timeline_360",
                LIST_TARGET_MS,
                timeline=True,
                ids=inputs["ids"],
                note="the 360 page's timeline fragment (htmx)",
            )
        )
    return cases


# --- the raw query of each case --------------------------------------------------------------


def list_sql(actor: Any, query: str) -> tuple[str, list[Any]]:
    """The SQL of the list page's one page of rows: the selector, sorted, limit 51.

    On SQLite a name term of 3+ characters is first read from the FTS5 trigram table into an
    id list, which this SQL then holds: that lookup is in the HTTP time, not in the raw one.
    """
    from django.http import QueryDict

    from guanxi.customers import selectors
    from guanxi.customers.views import filters_from_query

    filters = filters_from_query(QueryDict(query))
    queryset = selectors.customer_list_page(actor=actor, filters=filters)
    page = queryset.order_by(*filters.ordering)[:51]  # what keyset_page runs, limit 50 + 1
    sql, params = page.query.get_compiler(using=page.db).as_sql()
    return sql, list(params)


def detail_sql(actor: Any, pk: int) -> tuple[str, list[Any]]:
    """The SQL of `customer_get`, the 360 page's one query on the customers table."""
    from guanxi.customers import selectors

    found = (
        selectors.customer_list(actor=actor, filters=selectors.CustomerFilters(include_merged=True))
        .filter(pk=pk)
        .order_by("-pk")[:1]
    )
    sql, params = found.query.get_compiler(using=found.db).as_sql()
    return sql, list(params)


def timeline_sql(client: Any, url: str) -> tuple[str, list[Any]]:
    """The page query of the timeline, taken from what the view ran (no private API)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    for query in captured.captured_queries:
        sql = query["sql"]
        if 'FROM "interactions_interaction"' in sql and "LIMIT" in sql:
            return sql, []
    raise LookupError("the timeline ran no query on interactions_interaction")


def run_raw(sql: str, params: list[Any]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or None)
        return len(cursor.fetchall())


def explain(sql: str, params: list[Any]) -> str:
    from django.db import connection

    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS)" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params or None)
        return "\n".join(" | ".join(str(part) for part in row) for row in cursor.fetchall())


# --- timing ----------------------------------------------------------------------------------


def measure(
    case: Case, label: str, actor: Any, client: Any, runs: int, warmup: int, show_plan: bool
) -> dict[str, Any]:
    """Warm up, then alternate one HTTP request and one raw query `runs` times."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    targets: list[tuple[str, tuple[str, list[Any]]]] = []
    if case.detail or case.timeline:
        for pk in case.ids[label]:
            if case.detail:
                targets.append((f"/customers/{pk}/", detail_sql(actor, pk)))
            else:
                url = f"/interactions/customers/{pk}/timeline/"
                targets.append((url, timeline_sql(client, url)))
    else:
        url = "/customers/" + (f"?{case.query}" if case.query else "")
        targets.append((url, list_sql(actor, case.query)))

    http_times: list[float] = []
    http_cpu: list[float] = []
    raw_times: list[float] = []
    rows_http = rows_raw = 0
    headers = {"HTTP_HX_REQUEST": "true"} if case.timeline else {}
    for index in range(warmup + runs):
        url, (sql, params) = targets[index % len(targets)]
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        middle, cpu_used = time.perf_counter(), time.process_time() - cpu_started
        rows_raw = run_raw(sql, params)
        ended = time.perf_counter()
        if response.status_code != 200:
            raise RuntimeError(f"{url} as {label}: HTTP {response.status_code}")
        if not case.detail and not case.timeline:
            rows_http = len(ROW_MARK.findall(response.content))
        if index >= warmup:
            http_times.append(middle - started)
            http_cpu.append(cpu_used)
            raw_times.append(ended - middle)
    url, (sql, params) = targets[0]
    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    http, raw = summary_ms(http_times), summary_ms(raw_times)
    result: dict[str, Any] = {
        "url": url,
        "http": http,
        # CPU seconds this process spent on the request: on a shared machine the wall time
        # above also counts waiting for a core, this does not.
        "http_cpu": summary_ms(http_cpu),
        "raw": raw,
        "ratio": round(http["p95"] / raw["p95"], 1) if raw["p95"] else None,
        "rows": rows_http if not (case.detail or case.timeline) else 1,
        "raw_rows": rows_raw,
        "queries": len(captured.captured_queries),
        "target_ms": case.target_ms,
        "ok": http["p95"] <= case.target_ms,
    }
    if show_plan:
        print(
            f"\n### {case.name} as {label}: {url}\n{sql}\n{explain(sql, params)}", file=sys.stderr
        )
    return result


# --- main ------------------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, with "+dirty" when src/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607  (git from PATH)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def database_facts() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        counts = {}
        for table in ("customers_customer", "customers_contact", "interactions_interaction"):
            try:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                counts[table.split("_", 1)[1]] = cursor.fetchone()[0]
            except Exception:  # noqa: BLE001  (the interactions app may be absent)
                counts[table.split("_", 1)[1]] = None
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            version = cursor.fetchone()[0]
    return {"vendor": connection.vendor, "version": version, **counts}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from guanxi.accounts.models import User

    load_before = os.getloadavg()
    facts = database_facts()
    factor = SQLITE_FACTOR if facts["vendor"] == "sqlite" else 1.0
    actors = {
        "admin": User.objects.get(username=ADMIN_USERNAME),
        "manager": User.objects.select_related("team", "role").get(username=MANAGER_USERNAME),
    }
    clients = {}
    for label, actor in actors.items():
        clients[label] = Client()
        clients[label].force_login(actor)
    inputs = pick_inputs(actors, random.Random(args.seed))
    try:
        reverse("interactions:timeline", args=[1])
        timeline = True
    except NoReverseMatch:
        timeline = False
    cases = build_cases(inputs, timeline)
    results: dict[str, Any] = {}
    for case in cases:
        case.target_ms *= factor
        results[case.name] = {"note": case.note}
        for label, actor in actors.items():
            measured = measure(
                case, label, actor, clients[label], args.runs, args.warmup, args.explain
            )
            results[case.name][label] = measured
            print(
                f"{case.name:16} {label:8} http p50 {measured['http']['p50']:8.2f} "
                f"p95 {measured['http']['p95']:8.2f}  raw p50 {measured['raw']['p50']:8.2f} "
                f"p95 {measured['raw']['p95']:8.2f}  x{measured['ratio']}  "
                f"rows {measured['rows']:3}  queries {measured['queries']:2}"
                f"{'' if measured['ok'] else '  MISSES TARGET'}",
                file=sys.stderr,
                flush=True,
            )
    return {
        "benchmark": "customers",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_version(),
        "database": facts,
        "runs": args.runs,
        "warmup": args.warmup,
        "settings": {"DEBUG": False, "TASK_MODE": "eager", "static": "plain"},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": [round(value, 2) for value in load_before],
            "loadavg_after": [round(value, 2) for value in os.getloadavg()],
        },
        "database_name": str(connection.settings_dict["NAME"]),
        "cases": results,
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else var/guanxi.sqlite3")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case and actor")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print each raw query's plan")
    parser.add_argument(
        "--import-rows", type=int, default=0, help="ignored: the import is bench/bench_import.py"
    )
    return parser.parse_args()


def main() -> None:
    args = parse()
    os.environ["DEBUG"] = "0"
    os.environ["GUANXI_TASK_MODE"] = "eager"
    setup_django(
        args.database_url,
        GUANXI_PLAIN_STATIC="1",  # no collectstatic manifest needed
        GUANXI_ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
    )
    document = run(args)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
