"""Time a customer import of a large CSV end to end, beside the bare database loading the same
rows in the same run, so that the importer's overhead shows as a ratio.

    .venv/bin/python bench/bench_import.py [--database-url URL] [--rows 100000]
        [--out bench/results/import-<vendor>.json] [--profile DIR] [--no-revert]

Writes a CSV as users export it from elsewhere (Chinese headers, 60% Chinese names, phones,
emails, provinces and cities, tags; all new customers), then:

1. bare load: the rows the import will write (customers, their history rows and search
   tokens, computed beforehand by the importer's own code), straight into the tables in one
   transaction (PostgreSQL COPY, SQLite executemany), foreign keys checked, rolled back;
2. create: upload the file as an import job (hash, sniffing, automatic mapping);
3. dry run: `import_job_analyse`, every row validated and matched, nothing written;
4. run: `import_job_start` → `import_job_run` (eager), every row validated, encrypted,
   matched and written with its history, tags, search tokens and row log;
5. revert: `import_job_revert`, which deletes every customer the run created.

Prints one JSON document (rows/s of each phase, and run ÷ bare load). Fill the database
with bench/generate.py first: it creates the administrator the import runs as.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import ROOT, setup_django
from vocabulary import ADMIN_USERNAME

HEADER = ["客户名称", "类型", "手机", "邮箱", "省份", "城市", "来源", "标签"]
TAGS = ["VIP", "展会线索", "Newsletter", "待回访", ""]
TARGET_ROWS_PER_S = 20_000  # issue 3, PostgreSQL; SQLite may take twice as long


def write_csv(path: Path, rows: int, seed: int) -> None:
    """A customer spreadsheet of `rows` new people and companies, drawn like generate.py's."""
    from generate import Pools, Reference, RowMaker

    pools = Pools(seed)
    maker = RowMaker(pools, Reference([(None, None)], [1.0], [0], [1.0], [0], [0]), seed, True)
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for _ in range(rows):
            chinese = rng.random() < 0.6
            person = rng.random() < 0.8
            kind = "person" if person else "enterprise"
            name = rng.choice(pools.by_kind(kind, chinese))
            city = rng.choice(maker.cn_cities[0] if chinese else maker.en_cities[0])
            phone = maker.cn_mobile() if chinese else maker.en_phone(city)
            email = maker.email(name, chinese, person) if rng.random() < 0.6 else ""
            out.writerow(
                [name.text, kind, phone, email, city[0], city[1], "import", rng.choice(TAGS)]
            )


def bare_load(path: Path, admin: Any) -> dict[str, float]:
    """Seconds the bare database takes to load the rows the import of this file writes.

    The rows are computed first, untimed, by the importer's own validation and row builders
    (the same values, blind indexes and encrypted tokens): every customer, its "+" history
    row and its search tokens. Then, timed: COPY (PostgreSQL) or executemany (SQLite) into
    the tables in one transaction, including the deferred foreign-key checks (SET
    CONSTRAINTS ALL IMMEDIATE on PostgreSQL), then rolled back. No matching, no tags, no
    row log. Also the customer table alone.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.customers.imports import mapping, service, writes
    from guanxi.customers.models import Customer, ImportJob
    from guanxi.customers.services import custom_field_definitions

    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        records = list(enumerate(reader, start=2))
    automatic = mapping.auto_map(header, custom_field_definitions())[0]
    ctx = service._context(ImportJob(created_by=admin, mapping=automatic), dry_run=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM customers_customer")
        start = (cursor.fetchone()[0] or 0) + 1_000_000
    tables: list[tuple[Any, list[Any]]] = []
    count = 0
    for first in range(0, len(records), 10_000):  # only the rows are kept, not the customers
        prepared = service._prepare(ctx, records[first : first + 10_000])
        created = [row.customer for row in prepared if not row.errors]
        chunk = service.created_rows(
            created,
            list(range(start + count, start + count + len(created))),
            when=timezone.now(),
            user_id=admin.pk,
            reason="bare load",
        )
        count += len(created)
        if not tables:
            tables = [(columns, []) for columns, _rows in chunk]
        for (_columns, rows), (_same, more) in zip(tables, chunk, strict=True):
            rows.extend(more)
    seconds: dict[str, float] = {}
    for name, selected in (("customers", tables[:1]), ("all", tables)):
        started = time.perf_counter()
        with writes.large_cache(), transaction.atomic():  # as the import itself (SQLite)
            for columns, rows in selected:
                writes.insert(columns, rows)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds[name] = time.perf_counter() - started
            transaction.set_rollback(True)
    seconds["rows"] = count
    assert not Customer.objects.filter(pk__gte=start).exists()
    return seconds


class Phases:
    """Wall and CPU seconds of each phase, each optionally under cProfile."""

    def __init__(self, profile: Path | None) -> None:
        self.profile = profile
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def run(self, name: str, action: Any) -> Any:
        profiler = cProfile.Profile() if self.profile else None
        print(f"{name} …", file=sys.stderr, flush=True)
        cpu, started = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            return action()
        finally:
            self.seconds[name] = time.perf_counter() - started
            self.cpu[name] = time.process_time() - cpu
            if profiler and self.profile:
                profiler.disable()
                self.profile.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(str(self.profile / f"{name}.prof"))


def measure(admin: Any, path: Path, *, revert: bool, profile: Path | None) -> dict[str, Any]:
    from django.core.files import File

    from guanxi.customers.imports import service
    from guanxi.customers.models import ImportJob

    rows = sum(1 for _ in path.open(encoding="utf-8-sig")) - 1
    phases = Phases(profile)
    bare = bare_load(path, admin)
    with path.open("rb") as handle:
        job = phases.run(
            "create",
            lambda: service.import_job_create(
                actor=admin, upload=File(handle, name=path.name), allow_reimport=True
            ),
        )
    job = phases.run("dry_run", lambda: service.import_job_analyse(actor=admin, job=job))

    def start() -> Any:
        service.import_job_start(actor=admin, job=job)  # eager: may run the job right here
        done = ImportJob.objects.get(pk=job.pk)
        if done.status != "completed":
            service.import_job_run(job.pk)
            done = ImportJob.objects.get(pk=job.pk)
        return done

    job = phases.run("run", start)
    result: dict[str, Any] = {
        "rows": rows,
        "status": job.status,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "errors": job.error_count,
        "batch_size": service._batch_size(),
    }
    if revert and job.status == "completed":
        outcome = phases.run("revert", lambda: service.import_job_revert(actor=admin, job=job))
        result["reverted"] = outcome["deleted"]
    seconds = {
        **phases.seconds,
        "bare_load_customers": bare["customers"],
        "bare_load_all": bare["all"],
    }
    result["seconds"] = {name: round(value, 2) for name, value in seconds.items()}
    result["importer_cpu_seconds"] = {name: round(value, 2) for name, value in phases.cpu.items()}
    result["rows_per_s"] = {
        name: round((bare["rows"] if name.startswith("bare") else rows) / value)
        for name, value in seconds.items()
        if name != "create"
    }
    # Per row, against the bare load of all the rows the import writes (scaled to the file's
    # rows: the bare load skips rows the import skipped as duplicates).
    per_row_bare = bare["all"] / bare["rows"]
    result["ratio_to_bare_load"] = {
        name: round(seconds[name] / rows / per_row_bare, 2)
        for name in ("dry_run", "run", "revert")
        if name in seconds
    }
    return result


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
            ["git", "status", "--porcelain", "src/guanxi/customers", "src/guanxi/core"],  # noqa: S607
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
        cursor.execute("SELECT COUNT(*) FROM customers_customer")
        customers = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    return {"vendor": connection.vendor, "version": version, "customers": customers}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.conf import settings

    from guanxi.accounts.models import User

    if args.batch_size:
        settings.IMPORT_BATCH_SIZE = args.batch_size
    admin = User.objects.get(username=ADMIN_USERNAME)
    facts = database_facts()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"bench-import-{args.rows}.csv"
        print(f"writing {args.rows:,} rows …", file=sys.stderr, flush=True)
        write_csv(path, args.rows, args.seed)
        result = measure(admin, path, revert=not args.no_revert, profile=args.profile)
    target = TARGET_ROWS_PER_S / (1 if facts["vendor"] == "postgresql" else 2)
    return {
        "benchmark": "customer import",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_version(),
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "database": facts,
        "target_rows_per_s": target,
        "import": result,
        "meets_target": result["rows_per_s"]["run"] >= target,
    }


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else var/guanxi.sqlite3")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the CSV")
    parser.add_argument("--seed", type=int, default=20251126)
    parser.add_argument("--batch-size", type=int, help="IMPORT_BATCH_SIZE for this run")
    parser.add_argument("--out", type=Path, help="also write the JSON to this file")
    parser.add_argument("--profile", type=Path, help="cProfile each phase into DIR/<phase>.prof")
    parser.add_argument("--no-revert", action="store_true", help="keep the imported customers")
    return parser.parse_args()


def main() -> None:
    args = parse()
    os.environ["DEBUG"] = "0"
    os.environ["GUANXI_TASK_MODE"] = "eager"
    setup_django(args.database_url)
    text = json.dumps(run(args), indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
