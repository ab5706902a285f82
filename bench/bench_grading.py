"""Time customer grading at scale: full evaluations of presets beside the bare aggregate SQL.

    .venv/bin/python bench/bench_grading.py [--database-url URL] [--runs 3]
        [--out bench/results/grading-<vendor>.json] [--explain] [--same-day]
        [--daily-orders 5700] [--steady-only | --follow-ups-only] [--first-day N]

Fill the database first with bench/generate.py (customers, interactions) and
bench/generate_commerce.py (orders, invoices, payments, holdings). For each preset (RFM,
value tier, credit rating) it installs the preset and grades everyone once (the first
evaluation writes a history row and a notification per customer, timed on its own). Then
run N is the night N days after today (--same-day: today again): it writes that day's new
orders (--daily-orders, deleted at the end), times per preset the refresh `evaluation_run`
does for it (`metrics_refresh` of the kinds of figure the scheme reads, alone from the night's
starting state, rolled back), then the night's refresh of every kind once (kept, timed for
the record), and per preset the bare aggregate over the same tables and `evaluation_run`
without the refresh (stage + apply) on an EvaluationRun it creates; a preset's evaluation is
its own refresh plus its stage + apply. Then it times
`follow_ups_plan` with the value tier as the primary scheme, and a preview of the value tier
(`evaluation_start(preview=True)`, then the run the task would carry out).

Prints one JSON document on stdout (and writes it to --out); --explain prints each slow
statement's plan on stderr (EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, replayed in a
transaction that is rolled back; EXPLAIN QUERY PLAN on SQLite).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from common import ROOT, setup_django, summary_ms

PRESETS = ("rfm", "value-tier", "credit-rating")
CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")
EXPLAINABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- statements -------------------------------------------------------------------------------


class Recorder:
    """Django execute wrapper: every statement with its parameters and duration."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any, float]] = []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, time.perf_counter() - started))

    def trace(self, title: str, at_least_ms: float) -> None:
        """Print the statements that took at least that long, in order, on stderr."""
        for sql, _params, seconds in self.statements:
            if seconds * 1000 >= at_least_ms:
                log(f"  {title} {seconds * 1000:8.1f} ms  {' '.join(sql.split())[:150]}")

    def slowest(self, count: int = 5) -> list[dict[str, Any]]:
        ranked = sorted(self.statements, key=lambda entry: -entry[2])[:count]
        return [
            {"ms": round(seconds * 1000, 1), "sql": " ".join(sql.split())[:140]}
            for sql, _params, seconds in ranked
        ]


@contextlib.contextmanager
def recording() -> Iterator[Recorder]:
    from django.db import connection

    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        yield recorder


def timed(func: Callable[[], Any]) -> tuple[float, Any, Recorder]:
    with recording() as recorder:
        started = time.perf_counter()
        result = func()
        seconds = time.perf_counter() - started
    return seconds, result, recorder


def explain(recorder: Recorder, over: float, title: str) -> None:
    """Replay the recorded statements in one rolled-back transaction, with the plan of each
    that took longer than `over` seconds printed on stderr."""
    from django.db import connection, transaction

    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params, seconds in recorder.statements:
            if sql.lstrip().upper().startswith(CONTROL):
                continue
            if seconds < over or not sql.lstrip().upper().startswith(EXPLAINABLE):
                cursor.execute(sql, params)
                continue
            log(f"\n=== {title}: {seconds * 1000:.0f} ms\n{' '.join(sql.split())[:400]}")
            if postgres:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                log("\n".join(row[0] for row in cursor.fetchall()))
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                log("\n".join(str(row[-1]) for row in cursor.fetchall()))
                cursor.execute(sql, params)
        transaction.set_rollback(True)


# --- bare aggregates --------------------------------------------------------------------------


def windows(as_of: dt.date) -> dict[str, Any]:
    """The same bounds metrics_refresh computes."""
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return {
        "end": end,
        "t12": end - dt.timedelta(days=365),
        "t24": as_of - dt.timedelta(days=730),
        "as_of": as_of,
    }


def bare_statement(preset: str, as_of: dt.date) -> tuple[str, list[Any]]:
    """One grouped aggregate over the table the preset's metrics come from, consumed in
    the database (rows are counted, not fetched, as the evaluation never fetches them)."""
    from guanxi.grading import sql
    from guanxi.grading.metrics import VALID_ORDER_STATUSES

    bounds = windows(as_of)
    statuses = ", ".join(["%s"] * len(VALID_ORDER_STATUSES))
    if preset == "rfm":
        inner = (
            "SELECT customer_id, MAX(ordered_at) AS last_at, COUNT(*) AS n, "
            "SUM(total_amount) AS revenue FROM commerce_order "
            f"WHERE status IN ({statuses}) AND ordered_at < %s GROUP BY customer_id"
        )
        params = [*VALID_ORDER_STATUSES, bounds["end"]]
        outer = "COUNT(*), MAX(last_at), SUM(n), SUM(revenue)"
    elif preset == "value-tier":
        inner = (
            "SELECT customer_id, MIN(ordered_at) AS first_at, COUNT(*) AS n, "
            "SUM(CASE WHEN ordered_at >= %s THEN total_amount ELSE 0 END) AS revenue_12m, "
            "SUM(CASE WHEN ordered_at >= %s THEN 1 ELSE 0 END) AS n_12m FROM commerce_order "
            f"WHERE status IN ({statuses}) AND ordered_at < %s GROUP BY customer_id"
        )
        params = [bounds["t12"], bounds["t12"], *VALID_ORDER_STATUSES, bounds["end"]]
        outer = "COUNT(*), MIN(first_at), SUM(n), SUM(revenue_12m), SUM(n_12m)"
    elif preset == "credit-rating":
        days = sql.days_between("COALESCE(paid_on, %s)", "issued_on")
        inner = (
            "SELECT customer_id, SUM(paid_amount) AS paid, SUM(amount) AS owed, "
            f"MAX({days}) AS max_days FROM commerce_invoice "
            "WHERE status <> 'cancelled' AND due_on >= %s AND due_on <= %s GROUP BY customer_id"
        )
        params = [bounds["as_of"], bounds["t24"], bounds["as_of"]]
        outer = "COUNT(*), SUM(paid), SUM(owed), MAX(max_days)"
    else:
        raise KeyError(preset)
    return f"SELECT {outer} FROM ({inner}) per_customer", params


def bare_run(statement: str, params: list[Any]) -> Any:
    from django.db import connection, transaction

    from guanxi.grading import sql

    with transaction.atomic():
        sql.tune_for_aggregation()  # the SET LOCAL metrics_refresh uses, if any
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchone()


# --- grading ----------------------------------------------------------------------------------


def counts() -> dict[str, int]:
    from django.db import connection

    tables = {
        "customers": "customers_customer",
        "orders": "commerce_order",
        "invoices": "commerce_invoice",
        "payments": "commerce_payment",
        "holding_snapshots": "commerce_holdingsnapshot",
        "interactions": "interactions_interaction",
    }
    found = {}
    with connection.cursor() as cursor:
        for key, table in tables.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            found[key] = int(cursor.fetchone()[0])
    return found


GRADING_TABLES = (
    "grading_notification",
    "grading_followup",
    "grading_gradechange",
    "grading_gradestage",
    "grading_customergrade",
    "grading_tiersnapshot",
    "grading_evaluationrun",
    "grading_customermetrics",
    "grading_metricschange",
    "grading_metricspending",
    "grading_metricsstate",
)


def grading_reset() -> None:
    """Start from no grades (so that the first evaluation is the initial grading) and no
    follow-ups or notifications. Run it on a database of its own."""
    from django.db import connection

    from guanxi.grading.models import Scheme

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(GRADING_TABLES)}")
        else:
            for table in GRADING_TABLES:
                cursor.execute(f"DELETE FROM {table}")
    Scheme.objects.filter(code__in=PRESETS).delete()


def value_tier_graded(as_of: dt.date) -> Any:
    """The value tier with everyone graded: a previous full run's grades, else those of one
    first evaluation made here (untimed: it also writes a history row and a notification per
    customer)."""
    from guanxi.grading.models import CustomerGrade, Scheme
    from guanxi.grading.services import preset_install

    scheme = Scheme.objects.filter(code="value-tier").first()
    if scheme is None or not CustomerGrade.objects.filter(scheme=scheme).exists():
        log("value-tier: no grades yet, grading everyone once (untimed)")
        scheme = preset_install(actor=None, code="value-tier")
        first = evaluate(scheme, as_of)
        log(f"value-tier: refresh {first['refresh']:.1f}s, stage+apply {first['stage_apply']:.1f}s")
    return scheme


def follow_ups_clear() -> None:
    """No follow-ups, as at the planner's first run; on PostgreSQL the deleted rows are also
    vacuumed away, as autovacuum would have done between two daily runs (untimed)."""
    from django.db import connection

    from guanxi.grading.models import FollowUp

    FollowUp.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) grading_followup")


def new_run(scheme: Any, *, preview: bool = False) -> int:
    from guanxi.grading.models import EvaluationRun

    return int(EvaluationRun.objects.create(scheme=scheme, is_preview=preview).pk)


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages (2 cores, shared with others)."""
    return [round(value, 2) for value in os.getloadavg()]


def evaluate(scheme: Any, as_of: dt.date, *, refresh: bool = True) -> dict[str, Any]:
    """One evaluation as of a date: the metrics refresh `evaluation_run(refresh=True)` does
    (unless `refresh` is False: the day's refresh was timed on its own), then stage + apply,
    each timed."""
    from guanxi.grading.metrics import metrics_refresh
    from guanxi.grading.services import evaluation_run

    refresh_s, rows, refresh_rec = (
        timed(lambda: metrics_refresh(as_of=as_of)) if refresh else (0.0, 0, Recorder())
    )
    run_id = new_run(scheme)
    apply_s, run, apply_rec = timed(
        lambda: evaluation_run(run_id=run_id, refresh=False, as_of=as_of)
    )
    if run.status != "completed":
        raise SystemExit(f"evaluation of {scheme.code} ended {run.status}: {run.message}")
    return {
        "refresh": refresh_s,
        "stage_apply": apply_s,
        "evaluated": run.evaluated,
        "changed": run.changed,
        "candidates": run.result.get("candidates"),
        "metrics_rows_written": rows,
        "recorders": (refresh_rec, apply_rec),
    }


DAY_ORDER_PREFIX = "BENCH-DAY-"


def add_days_orders(day: dt.date, count: int, seed: int) -> int:
    """The day's new orders, as a business of this size takes them (10.4M orders over five
    years is ~5,700 a day): `count` completed orders dated `day` for random customers,
    written in SQL (the capture triggers record them as they would any order)."""
    import random

    from django.db import connection, transaction
    from django.utils import timezone

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM customers_customer")
        low, high = cursor.fetchone()
    zone = timezone.get_current_timezone()
    now = timezone.now()
    rows = []
    for number in range(count):
        moment = dt.datetime.combine(day, dt.time(8), tzinfo=zone) + dt.timedelta(
            seconds=rng.randrange(12 * 3600)
        )
        amount = round(rng.paretovariate(1.2) * 200, 2)
        rows.append(
            (
                rng.randint(low, high),
                f"{DAY_ORDER_PREFIX}{day.isoformat()}-{number}",
                moment,
                amount,
                round(amount * 0.6, 2),
                now,
                now,
            )
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO commerce_order (customer_id, number, ordered_at, status, channel, "
            "currency, total_amount, total_cost, notes, created_at, updated_at, version) "
            "SELECT id, %s, %s, 'completed', 'online', 'CNY', %s, %s, '', %s, %s, 1 "
            "FROM customers_customer WHERE id >= %s ORDER BY id LIMIT 1",
            [(n, at, amount, cost, c, u, customer) for customer, n, at, amount, cost, c, u in rows],
        )
    return count


def remove_days_orders() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM commerce_order WHERE number LIKE %s", [f"{DAY_ORDER_PREFIX}%"])
        return int(cursor.rowcount)


def refresh_for(day: dt.date) -> int:
    from guanxi.grading.metrics import metrics_refresh

    return metrics_refresh(as_of=day)


def new_case() -> dict[str, Any]:
    """A preset's samples, filled night by night."""
    return {
        "samples": {"bare": [], "refresh": [], "stage_apply": [], "total": []},
        "load_average_per_run": [],
        "refresh_of_every_kind": [],
    }


def own_refresh(scheme: Any, day: dt.date) -> tuple[float, int, Recorder, list[str]]:
    """The refresh `evaluation_run` does for this scheme alone — of the kinds of figure it
    reads — from the night's starting state: timed, then rolled back."""
    from django.db import transaction

    from guanxi.grading.engine import compile_scheme
    from guanxi.grading.metrics import metrics_refresh, units_for

    units = units_for(compile_scheme(scheme, day).reads)
    with transaction.atomic():
        seconds, rows, recorder = timed(lambda: metrics_refresh(as_of=day, units=units))
        transaction.set_rollback(True)
    return seconds, rows, recorder, sorted(units)


def tier_counts(scheme: Any) -> dict[str, int]:
    from django.db.models import Count

    from guanxi.grading.models import CustomerGrade

    rows = (
        CustomerGrade.objects.filter(scheme=scheme)
        .values_list("tier__code")
        .annotate(n=Count("pk"))
        .order_by("tier__rank")
    )
    return {str(code): int(n) for code, n in rows}


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from guanxi.grading.models import Scheme
    from guanxi.grading.services import (
        evaluation_run,
        evaluation_start,
        follow_ups_plan,
        preset_install,
    )

    as_of = timezone.localdate()
    started = timezone.now()
    sizes = counts()
    log(f"{connection.vendor}: {json.dumps(sizes)}")

    def document() -> dict[str, Any]:
        """What every result file starts with."""
        return {
            "vendor": connection.vendor,
            "cpu_count": os.cpu_count(),
            "load_average_at_end": load_average(),
            "started_at": started.isoformat(timespec="seconds"),
            "as_of": as_of.isoformat(),
            "runs": args.runs,
            "sizes": sizes,
        }

    cases: dict[str, Any] = {}
    if args.follow_ups_only:
        # Time only the planner, over the value tier's grades.
        schemes = {"value-tier": value_tier_graded(as_of)}
    elif args.steady_only:
        # Time only the daily runs, over the grades a previous full run left in place.
        schemes = {scheme.code: scheme for scheme in Scheme.objects.filter(code__in=PRESETS)}
        if len(schemes) < len(PRESETS):
            raise SystemExit("--steady-only needs a previous full run")
        for code in schemes:
            cases[code] = new_case()
    else:
        grading_reset()
        schemes = {code: preset_install(actor=None, code=code) for code in PRESETS}
    for code, scheme in [] if args.follow_ups_only or args.steady_only else schemes.items():
        first_load = load_average()
        first = evaluate(scheme, as_of)
        log(
            f"{code}: first evaluation refresh {first['refresh']:.1f}s, stage+apply "
            f"{first['stage_apply']:.1f}s ({first['changed']:,} changes)"
        )
        cases[code] = {
            "first_evaluation_ms": {
                "refresh": round(first["refresh"] * 1000, 1),
                "stage_apply": round(first["stage_apply"] * 1000, 1),
                "changed": first["changed"],
                "load_average": first_load,
            },
            **new_case(),
        }
    last: dict[str, dict[str, Any]] = {}
    for number in range(1, 0 if args.follow_ups_only else args.runs + 1):
        # Run N is the daily evaluation N days later (with --same-day, today again): the
        # windows move on, so customers' 12-month and 90-day figures and their tiers change
        # as they would from one night to the next, over the same facts.
        day = as_of if args.same_day else as_of + dt.timedelta(days=args.first_day + number - 1)
        # Each evaluation refreshes the kinds of figure its scheme reads: each preset's is
        # timed alone from the night's starting state (the day's new orders and the windows
        # that moved) and rolled back; then the night's refresh of every kind is done once
        # (as the night's first evaluations would between them) and each preset staged and
        # applied over it.
        added = add_days_orders(day, args.daily_orders, number) if args.daily_orders else 0
        night_load = load_average()
        own = {code: own_refresh(scheme, day) for code, scheme in schemes.items()}
        refresh_s, refresh_rows, refresh_rec = timed(lambda d=day: refresh_for(d))
        log(
            f"run {number}: {added:,} new orders, refresh of every kind {refresh_s:.2f}s "
            f"({refresh_rows:,} rows); "
            + ", ".join(f"{code} {own[code][0]:.2f}s ({', '.join(own[code][3])})" for code in own)
        )
        if args.trace is not None:
            for code in own:
                own[code][2].trace(f"refresh {code}", args.trace)
        for code, scheme in schemes.items():
            samples = cases[code]["samples"]
            cases[code]["load_average_per_run"].append(night_load)
            cases[code]["refresh_of_every_kind"].append(refresh_s)
            statement, params = bare_statement(code, day)
            bare_s, _row, bare_rec = timed(lambda s=statement, p=params: bare_run(s, p))
            result = evaluate(scheme, day, refresh=False)
            result.update(
                refresh=own[code][0],
                metrics_rows_written=own[code][1],
                recorders=(own[code][2], result["recorders"][1]),
            )
            cases[code]["refreshed_kinds"] = own[code][3]
            cases[code].setdefault("per_run", []).append(
                {
                    "as_of": day.isoformat(),
                    "new_orders": added,
                    "metrics_rows_written": result["metrics_rows_written"],
                    "changed": result["changed"],
                    # graded only the candidates (how many), or everyone (None)
                    "candidates": result["candidates"],
                }
            )
            samples["bare"].append(bare_s)
            samples["refresh"].append(result["refresh"])
            samples["stage_apply"].append(result["stage_apply"])
            samples["total"].append(result["refresh"] + result["stage_apply"])
            last[code] = {"bare": bare_rec, "evaluation": result}
            log(
                f"run {number} {code}: bare {bare_s:.2f}s, refresh {result['refresh']:.2f}s, "
                f"stage+apply {result['stage_apply']:.2f}s, load {load_average()}"
            )
            if args.trace is not None:
                result["recorders"][1].trace(code, args.trace)
    if not args.follow_ups_only and args.daily_orders:
        log(f"removed {remove_days_orders():,} orders the runs added")
    for code, scheme in [] if args.follow_ups_only else schemes.items():
        case, samples = cases[code], cases[code].pop("samples")
        refresh_rec, apply_rec = last[code]["evaluation"]["recorders"]
        case.update(
            {
                "evaluated": last[code]["evaluation"]["evaluated"],
                "changed_last_run": last[code]["evaluation"]["changed"],
                "tiers": tier_counts(scheme),
                "evaluation_ms": summary_ms(samples["total"]),
                "refresh_ms": summary_ms(samples["refresh"]),
                "refresh_of_every_kind_ms": summary_ms(case.pop("refresh_of_every_kind")),
                "stage_apply_ms": summary_ms(samples["stage_apply"]),
                "bare_sql_ms": summary_ms(samples["bare"]),
                "ratio_evaluation_to_bare_p50": round(
                    summary_ms(samples["total"])["p50"] / summary_ms(samples["bare"])["p50"], 2
                ),
                "slowest_statements": {
                    "refresh": refresh_rec.slowest(3),
                    "stage_apply": apply_rec.slowest(5),
                },
            }
        )

    if args.steady_only:
        return {**document(), "cases": cases}

    # Follow-ups: the value tier is the primary scheme; each run starts with none open.
    value = schemes["value-tier"]
    Scheme.objects.exclude(pk=value.pk).update(is_primary=False)
    Scheme.objects.filter(pk=value.pk).update(is_primary=True, is_active=True)
    follow_up_samples, follow_up_loads, created = [], [], 0
    for _number in range(args.runs):
        follow_ups_clear()
        follow_up_loads.append(load_average())
        seconds, created, _rec = timed(lambda: follow_ups_plan(as_of=as_of))
        follow_up_samples.append(seconds)
        log(f"follow_ups_plan: {seconds:.2f}s, {created:,} follow-ups")
    follow_ups = {
        "ms": summary_ms(follow_up_samples),
        "created": created,
        "load_average_per_run": follow_up_loads,
    }

    if args.follow_ups_only:
        return {**document(), "follow_ups_plan": follow_ups}

    # Preview: what the page's button does, with the task run here rather than queued.
    preview_samples, preview_loads, moves = [], [], 0
    for _number in range(args.runs):
        preview_loads.append(load_average())
        with mock.patch("guanxi.core.tasks.enqueue"):
            start_s, run, _rec = timed(
                lambda: evaluation_start(actor=None, scheme=value, preview=True)
            )
        run_s, done, preview_rec = timed(lambda run_id=run.pk: evaluation_run(run_id=run_id))
        if done.status != "completed":
            raise SystemExit(f"preview ended {done.status}: {done.message}")
        preview_samples.append(start_s + run_s)
        moves = sum(move["customers"] for move in done.result["moves"])
        log(f"preview: {start_s + run_s:.2f}s")
    preview = {
        "ms": summary_ms(preview_samples),
        "staged": moves,
        "load_average_per_run": preview_loads,
        "slowest_statements": preview_rec.slowest(4),
    }

    if args.explain:
        for code in schemes:
            explain(last[code]["bare"], 0, f"{code} bare")
            refresh_rec, apply_rec = last[code]["evaluation"]["recorders"]
            explain(refresh_rec, args.explain_over, f"{code} refresh")
            explain(apply_rec, args.explain_over, f"{code} stage+apply")
    return {
        **document(),
        "cases": cases,
        "follow_ups_plan": follow_ups,
        "preview_value_tier": preview,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else var/guanxi.sqlite3")
    parser.add_argument("--runs", type=int, default=3, help="timed evaluations per preset")
    parser.add_argument(
        "--daily-orders",
        type=int,
        default=5700,
        help="new orders written before each day's refresh (removed at the end; 0: none)",
    )
    parser.add_argument("--out", help="also write the JSON here; {vendor} is replaced")
    parser.add_argument("--explain", action="store_true", help="print slow statements' plans")
    parser.add_argument(
        "--steady-only",
        action="store_true",
        help="only the daily runs, over the grades a previous full run left (no first "
        "evaluation, planner or preview)",
    )
    parser.add_argument(
        "--first-day",
        type=int,
        default=1,
        help="run N evaluates as of today + FIRST_DAY + N - 1 (default 1)",
    )
    parser.add_argument(
        "--same-day",
        action="store_true",
        help="evaluate every run as of today (default: run N as of N days later)",
    )
    parser.add_argument(
        "--follow-ups-only",
        action="store_true",
        help="time only the follow-up planner, over the value tier's grades (a previous full "
        "run's, else one first evaluation made here, untimed)",
    )
    parser.add_argument(
        "--explain-over", type=float, default=1.0, help="seconds a statement must take to explain"
    )
    parser.add_argument(
        "--trace",
        type=float,
        metavar="MS",
        help="print every nightly statement that took at least MS milliseconds, with its time",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def connection_vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


def main() -> None:
    args = parse()
    setup_django(args.database_url)
    document = json.dumps(bench(args), ensure_ascii=False, indent=2)
    print(document, flush=True)
    if args.out:
        path = Path(args.out.replace("{vendor}", connection_vendor()))
        path = path if path.is_absolute() else ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
