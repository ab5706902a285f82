"""Time a lead import of 20,000 generated rows through the import job (dry run, run, revert),
and the old one-lead-at-a-time write path against the batch path on the same first rows.

    .venv/bin/python bench/bench_leads_import.py [--database-url URL] [--rows 20000]
        [--compare 2000] [--out bench/results/leads-import-<vendor>.json]

Without --database-url it uses its own SQLite file, var/bench-leads.sqlite3. The database is
migrated first and given, once, a sales team of 8 reps with a region, a workload and a
round-robin rule, the default scoring rules and 2,000 customers; the generated file has
Chinese headers, 70% Chinese names, phones, emails, provinces, job titles, and repeats: 5%
of rows carry a customer's phone, 3% repeat an earlier row of the file. The job is reverted
at the end, so the bench can run again on the same database. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from common import ROOT, setup_django

HEADER = ["姓名", "公司", "职位", "手机", "邮箱", "地区", "来源"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
COMPANY = ["科技", "贸易", "茶业", "物流", "建材", "文化", "餐饮", "医药", "电子", "机械"]
TITLES = ["采购经理", "总经理", "总监", "工程师", "销售", "Manager", "Director", ""]
REGIONS = ["浙江", "上海", "江苏", "广东", "北京", "四川", ""]
SOURCES = ["展会", "官网", "转介绍", ""]
PREFIXES = ["135", "138", "139", "158", "186", "177"]
ADMIN = "bench.leads.manager"
CUSTOMERS = 2_000


def _phone(rng: random.Random) -> str:
    return f"{rng.choice(PREFIXES)}{rng.randrange(10**8):08d}"


def seed() -> Any:
    """The importing manager, the reps, the rules and the customers (once per database)."""
    from django.db import transaction

    with transaction.atomic():
        return _seed()


def _seed() -> Any:
    from guanxi.accounts.models import Role, Team, User
    from guanxi.accounts.services import team_create, user_create
    from guanxi.customers.models import Customer
    from guanxi.customers.services import customer_create
    from guanxi.leads.models import AssignmentMethod, AssignmentRule
    from guanxi.leads.scoring import lead_settings, scoring_rules_seed

    found = User.objects.filter(username=ADMIN).first()
    if found is not None:
        return found
    sales = Team.objects.filter(name="Bench Sales", parent=None).first() or team_create(
        actor=None, name="Bench Sales"
    )
    east = team_create(actor=None, name="Bench East", parent=sales)
    manager = user_create(
        actor=None,
        username=ADMIN,
        password="correct-horse-42",  # noqa: S106  (a bench user on a throwaway database)
        team=sales,
        role=Role.objects.get(code="sales-manager"),
    )
    reps = [
        user_create(
            actor=None,
            username=f"bench.leads.rep{n}",
            password="correct-horse-42",  # noqa: S106
            team=east,
            role=Role.objects.get(code="sales-rep"),
        )
        for n in range(8)
    ]
    rules = [
        ("浙江", AssignmentMethod.REGION, reps[:2], "浙江"),
        ("workload", AssignmentMethod.WORKLOAD, reps[2:5], ""),
        ("round robin", AssignmentMethod.ROUND_ROBIN, reps, ""),
    ]
    for position, (name, method, members, region) in enumerate(rules):
        rule = AssignmentRule.objects.create(
            name=name, team=east, method=method, region=region, position=position
        )
        rule.members.set(members)
    scoring_rules_seed()
    lead_settings()
    rng = random.Random(7)
    if Customer.objects.count() < CUSTOMERS:
        for n in range(CUSTOMERS):
            customer_create(
                actor=manager,
                values={"kind": "person", "name": f"客户{n}", "phone": _phone(rng)},
            )
    return manager


def write_csv(path: Path, rows: int, customer_phones: list[str]) -> None:
    rng = random.Random(11)
    written: list[list[str]] = []
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for n in range(rows):
            draw = rng.random()
            if written and draw < 0.03:
                row = list(rng.choice(written))
                row[0] = row[0] + "二"
            else:
                chinese = rng.random() < 0.7
                name = (
                    rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                    if chinese
                    else f"Person {n}"
                )
                company = (
                    f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(COMPANY)}有限公司"
                    if rng.random() < 0.8
                    else ""
                )
                phone = rng.choice(customer_phones) if draw < 0.08 else _phone(rng)
                email = f"lead{n}@example.cn" if rng.random() < 0.6 else ""
                row = [
                    name,
                    company,
                    rng.choice(TITLES),
                    phone,
                    email,
                    rng.choice(REGIONS),
                    rng.choice(SOURCES),
                ]
            written.append(row)
            out.writerow(row)


def timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def import_job(manager: Any, path: Path) -> dict[str, Any]:
    from django.core.files import File

    from guanxi.customers.imports import service
    from guanxi.customers.models import ImportJob

    with path.open("rb") as handle:
        job = service.import_job_create(
            actor=manager, upload=File(handle, name=path.name), target="leads", allow_reimport=True
        )
    job, dry = timed(lambda: service.import_job_analyse(actor=manager, job=job))

    def start() -> Any:
        service.import_job_start(actor=manager, job=job)  # eager: may run the job right here
        done = ImportJob.objects.get(pk=job.pk)
        if done.status != "completed":
            service.import_job_run(job.pk)
            done = ImportJob.objects.get(pk=job.pk)
        return done

    job, run = timed(start)
    status = job.status
    _outcome, revert = timed(lambda: service.import_job_revert(actor=manager, job=job))
    return {
        "status": status,
        "created": job.created_count,
        "skipped": job.skipped_count,
        "errors": job.error_count,
        "batch_size": service._batch_size(),
        "seconds": {"dry_run": round(dry, 2), "run": round(run, 2), "revert": round(revert, 2)},
    }


def compare(manager: Any, path: Path, rows: int) -> dict[str, Any]:
    """The write step alone on the file's first `rows` valid rows, rolled back: one lead at a
    time (`_create_lead`, the old import path) against `leads_bulk_create` per batch."""
    from django.core.files import File
    from django.db import transaction

    from guanxi.customers.imports import service
    from guanxi.customers.imports.readers import data_rows
    from guanxi.customers.models import ImportJob
    from guanxi.leads import imports
    from guanxi.leads.models import LeadSource
    from guanxi.leads.services import _create_lead, leads_bulk_create

    with path.open("rb") as handle:
        job = service.import_job_create(
            actor=manager, upload=File(handle, name=path.name), target="leads", allow_reimport=True
        )
    raw = list(islice(data_rows(service._opener(job), service._shape(job)), rows))
    values = [parsed.values for parsed, _none in imports.plan_batch(job, raw).created]
    batch = service._batch_size()
    seconds: dict[str, float] = {}
    with transaction.atomic():
        started = time.perf_counter()
        for item in values:
            _create_lead(
                actor=manager,
                values={**item, "source": LeadSource.IMPORT},
                source=LeadSource.IMPORT,
                team=manager.team,
            )
        seconds["one_by_one"] = time.perf_counter() - started
        transaction.set_rollback(True)
    with transaction.atomic():
        started = time.perf_counter()
        for start in range(0, len(values), batch):
            leads_bulk_create(actor=manager, rows=values[start : start + batch])
        seconds["bulk"] = time.perf_counter() - started
        transaction.set_rollback(True)
    ImportJob.objects.filter(pk=job.pk).delete()
    return {
        "rows": len(values),
        "seconds": {name: round(value, 2) for name, value in seconds.items()},
        "rows_per_s": {name: round(len(values) / value) for name, value in seconds.items()},
        "speed_up": round(seconds["one_by_one"] / seconds["bulk"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--compare", type=int, default=2_000)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{ROOT / 'var' / 'bench-leads.sqlite3'}"
    setup_django(url, GUANXI_TASK_MODE="eager")
    from django.core.management import call_command
    from django.db import connection

    from guanxi.customers.models import Customer

    call_command("migrate", verbosity=0)
    from django.urls import reverse

    reverse("leads:list")  # load every URLconf and view once, as a running server has
    started = time.perf_counter()
    manager = seed()
    seeded = time.perf_counter() - started
    phones = [customer.phone for customer in Customer.objects.only("phone")[:CUSTOMERS]]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        write_csv(path, args.rows, phones)
        result = import_job(manager, path)
        comparison = compare(manager, path, args.compare) if args.compare else None
    seconds = result["seconds"]
    report = {
        "bench": "leads-import",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "vendor": connection.vendor,
        "python": platform.python_version(),
        "rows": args.rows,
        "seed_seconds": round(seeded, 1),
        **result,
        "rows_per_s": {name: round(args.rows / value) for name, value in seconds.items() if value},
        "write_path_comparison": comparison,
    }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    out = Path(args.out or ROOT / "bench" / "results" / f"leads-import-{connection.vendor}.json")
    out.write_text(text + "\n", encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
