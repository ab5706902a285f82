"""Fill a Guanxi database fast with the commerce facts grading reads, for the customers present.

    .venv/bin/python bench/generate_commerce.py [--orders-per-customer 10] [--database-url URL]
        [--seed S] [--reset] [--with-lines]

Run bench/generate.py first: this adds, for every customer already in the database, orders
over the 3 years before today (Pareto-distributed: most customers buy a little, a few buy a
lot; ~15% never buy; some stop buying), invoices for ~60% of them with 30/60/90-day terms
and prompt, late, bad and defaulting payers, a payment row for ~10% of the paid invoices,
and 12 month-end holdings snapshots for ~20% of individuals (log-normal assets, ~30% with
a loan). Order totals are the sums of 1–3 lines (quantity × unit price − discount); the
OrderLine rows themselves are only written with --with-lines (2 more rows per order).

Loading goes around the ORM: PostgreSQL COPY (psycopg `write_row`) and SQLite executemany,
one transaction per chunk of customers, with explicit ids and the sequences set afterwards.
Plain (non-unique) indexes of the commerce tables are dropped first and rebuilt at the end;
foreign-key checks and (SQLite) fsync are off during the load, in this process only. Prints
progress on stderr and one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from common import setup_django, sqlite_droppable_indexes, sqlite_fast_load

CHUNK = 20_000  # customers per transaction (~200k orders)
BASE = datetime(2020, 1, 1, tzinfo=UTC)  # bench/generate.py creates customers from here
DAY = 86_400
YEARS = 3

ORDER_STATUSES = (
    ("completed", 0.86),
    ("shipped", 0.02),
    ("confirmed", 0.02),
    ("cancelled", 0.06),
    ("returned", 0.04),
)
CHANNELS = (
    ("online", 0.45),
    ("store", 0.2),
    ("sales_rep", 0.15),
    ("distributor", 0.1),
    ("phone", 0.07),
    ("other", 0.03),
)
PAYMENT_METHODS = (
    ("bank_transfer", 0.5),
    ("alipay", 0.2),
    ("wechat_pay", 0.2),
    ("card", 0.07),
    ("cash", 0.02),
    ("cheque", 0.01),
)
Customer = tuple[int, str, int, int | None, int | None]  # id, kind, created s, owner, team
PRODUCTS = ("标准套餐 Standard kit", "配件 Accessories", "服务 Service plan", "耗材 Supplies")

# Columns in the order the rows are made, per table key.
COLUMNS: dict[str, tuple[str, ...]] = {
    "order": (
        "id",
        "created_at",
        "updated_at",
        "version",
        "number",
        "ordered_at",
        "channel",
        "status",
        "currency",
        "total_amount",
        "total_cost",
        "notes",
        "customer_id",
        "owner_id",
        "team_id",
    ),
    "orderline": (
        "id",
        "position",
        "description",
        "quantity",
        "unit_price",
        "discount",
        "unit_cost",
        "line_total",
        "order_id",
        "product_id",
    ),
    "invoice": (
        "id",
        "created_at",
        "updated_at",
        "version",
        "number",
        "issued_on",
        "due_on",
        "amount",
        "currency",
        "status",
        "paid_amount",
        "paid_on",
        "notes",
        "customer_id",
        "order_id",
    ),
    "payment": (
        "id",
        "created_at",
        "updated_at",
        "version",
        "paid_on",
        "amount",
        "currency",
        "method",
        "reference",
        "customer_id",
        "invoice_id",
        "recorded_by_id",
    ),
    "holding": (
        "id",
        "created_at",
        "updated_at",
        "version",
        "as_of",
        "assets_under_management",
        "monthly_average_assets",
        "loan_balance",
        "currency",
        "source",
        "customer_id",
    ),
}


def cumulative(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    values, weights, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        weights.append(total)
    return values, weights


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def table_models() -> dict[str, Any]:
    from guanxi.commerce import models as m

    found = {
        "order": m.Order,
        "orderline": m.OrderLine,
        "invoice": m.Invoice,
        "payment": m.Payment,
        "holding": m.HoldingSnapshot,
    }
    for key, model in found.items():
        columns = {field.column for field in model._meta.concrete_fields}
        if columns != set(COLUMNS[key]):
            raise SystemExit(
                f"bench/generate_commerce.py: {model._meta.db_table} has columns "
                f"{sorted(columns)}, the generator writes {sorted(COLUMNS[key])}"
            )
    return found


# --- rows --------------------------------------------------------------------------------------


class RowMaker:
    """Makes commerce rows for a chunk of customers; values in cents, times in seconds."""

    def __init__(self, seed: int, now: datetime, orders_per_customer: float, sqlite: bool) -> None:
        from django.utils import timezone

        today = timezone.localdate(now)
        self.rng = random.Random(seed)
        self.today = (today - BASE.date()).days  # day numbers count from BASE
        self.now = int((now - BASE).total_seconds())  # no order lies in the future
        self.window = YEARS * 365 * DAY
        # Orders per buying customer: a Pareto tail scaled so the mean over all customers is
        # `orders_per_customer` (15% never buy; the cap trims the mean by ~2%).
        self.alpha, self.buyers, self.cap = 1.6, 0.85, 1_000
        self.scale = orders_per_customer / self.buyers / (self.alpha / (self.alpha - 1)) * 1.02
        self.statuses = cumulative(ORDER_STATUSES)
        self.channels = cumulative(CHANNELS)
        self.methods = cumulative(PAYMENT_METHODS)
        self.with_lines = False
        self.next_ids: dict[str, int] = {}
        zone = "" if sqlite else "+00:00"
        days = self.today + 400
        self.dates = [(BASE.date() + timedelta(days=day)).isoformat() for day in range(days)]
        self.times = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{zone}" for s in range(DAY)]
        month_ends = []
        first = today.replace(day=1)
        for _ in range(12):
            first = (first - timedelta(days=1)).replace(day=1)
            following = (first + timedelta(days=32)).replace(day=1)
            month_ends.append((following - timedelta(days=1)).isoformat())
        self.month_ends = list(reversed(month_ends))

    def ts(self, seconds: int) -> str:
        day, second = divmod(seconds, DAY)
        return self.dates[day] + self.times[second]

    def chunk(
        self, customers: list[tuple[int, str, int, int | None, int | None]]
    ) -> dict[str, list]:
        """Rows per table for customers given as (id, kind, created seconds, owner, team)."""
        rng = self.rng
        random_ = rng.random
        rows: dict[str, list[tuple[Any, ...]]] = {key: [] for key in COLUMNS}
        orders, lines, invoices = rows["order"], rows["orderline"], rows["invoice"]
        payments, holdings = rows["payment"], rows["holding"]
        ids = self.next_ids
        ts, today, now = self.ts, self.today, self.now
        status_values, status_weights = self.statuses
        channel_values, channel_weights = self.channels
        for pk, kind, created, owner_id, team_id in customers:
            person = kind == "person"
            if person and random_() < 0.2:
                self.holdings(holdings, pk, created)
            if random_() >= self.buyers:
                continue
            start = max(created, now - self.window)
            if start >= now:
                continue
            end = now if random_() < 0.7 else start + int((now - start) * random_())
            span = end - start
            count = min(int(self.scale * rng.paretovariate(self.alpha)) + 1, self.cap)
            # Basket: log-normal around ¥600 (¥3,000 for organisations), richer buyers of
            # many orders spend more per order too.
            basket = rng.lognormvariate(10.9 if person else 12.5, 0.9) * (1 + count / 40)
            margin = 0.15 + 0.3 * random_()
            invoiced = 0.5 if person else 0.9
            term = (30, 60, 90)[int(random_() * 3)] if not person else 30
            payer = random_()  # < .70 prompt, < .90 late, < .97 bad, else defaulting
            statuses = rng.choices(status_values, cum_weights=status_weights, k=count)
            channels = rng.choices(channel_values, cum_weights=channel_weights, k=count)
            for index in range(count):
                order_id = ids["order"]
                ids["order"] = order_id + 1
                at = start + int(span * random_())
                status = statuses[index]
                if status in ("shipped", "confirmed"):
                    at = max(start, now - int(20 * DAY * random_()))  # still in flight
                n_lines = 1 if random_() < 0.5 else 2 if random_() < 0.7 else 3
                amount = cost = 0
                for position in range(n_lines):
                    price = int(basket * rng.lognormvariate(0, 0.5) / n_lines) + 100
                    quantity = 1 + int(random_() * random_() * 5)
                    discount = price * quantity // 20 if quantity >= 3 else 0
                    unit_cost = int(price * (1 - margin))
                    total = price * quantity - discount
                    amount += total
                    cost += unit_cost * quantity
                    if self.with_lines:
                        line_id = ids["orderline"]
                        ids["orderline"] = line_id + 1
                        lines.append(
                            (
                                line_id,
                                position,
                                PRODUCTS[position],
                                quantity,
                                price / 100,
                                discount / 100,
                                unit_cost / 100,
                                total / 100,
                                order_id,
                                None,
                            )
                        )
                stamp = ts(at)
                orders.append(
                    (
                        order_id,
                        stamp,
                        stamp,
                        1,
                        f"SO{order_id:08d}",
                        stamp,
                        channels[index],
                        status,
                        "CNY",
                        amount / 100,
                        cost / 100,
                        "",
                        pk,
                        owner_id,
                        team_id,
                    )
                )
                if status == "cancelled" or random_() >= invoiced:
                    continue
                issued = at // DAY
                self.invoice(invoices, payments, pk, order_id, issued, term, amount, payer, today)
        return rows

    def invoice(
        self,
        invoices: list[tuple[Any, ...]],
        payments: list[tuple[Any, ...]],
        customer_id: int,
        order_id: int,
        issued: int,
        term: int,
        amount: int,
        payer: float,
        today: int,
    ) -> None:
        random_ = self.rng.random
        due = issued + term
        paid_amount, paid_day = 0, None
        if payer < 0.70:
            pay = issued + int(term * random_())
        elif payer < 0.90:
            pay = due + 1 + int(120 * random_())
        elif payer < 0.97:
            pay = due + 30 + int(220 * random_()) if random_() < 0.6 else None
        else:
            pay = due + 60 + int(300 * random_()) if random_() < 0.25 else None
        if random_() < 0.01:
            status = "cancelled"
        elif pay is not None and pay <= today:
            status, paid_amount, paid_day = "paid", amount, pay
        elif payer >= 0.90 and due < today and random_() < 0.4:
            status, paid_amount = "partly_paid", int(amount * (0.2 + 0.6 * random_()))
        elif payer >= 0.97 and today - due > 180:
            status = "written_off"
        else:
            status = "open"
        if status == "partly_paid" and paid_amount == 0:
            status = "open"
        invoice_id = self.next_ids["invoice"]
        self.next_ids["invoice"] = invoice_id + 1
        stamp = self.ts(issued * DAY + 36_000)
        invoices.append(
            (
                invoice_id,
                stamp,
                self.ts(paid_day * DAY + 50_000) if paid_day is not None else stamp,
                1,
                f"INV{invoice_id:08d}",
                self.dates[issued],
                self.dates[due],
                amount / 100,
                "CNY",
                status,
                paid_amount / 100,
                self.dates[paid_day] if paid_day is not None else None,
                "",
                customer_id,
                order_id,
            )
        )
        if paid_amount and random_() < 0.1:
            payment_id = self.next_ids["payment"]
            self.next_ids["payment"] = payment_id + 1
            day = paid_day if paid_day is not None else min(due, today)
            stamp = self.ts(day * DAY + 50_000)
            methods, weights = self.methods
            payments.append(
                (
                    payment_id,
                    stamp,
                    stamp,
                    1,
                    self.dates[day],
                    paid_amount / 100,
                    "CNY",
                    self.rng.choices(methods, cum_weights=weights)[0],
                    f"TXN{payment_id:010d}",
                    customer_id,
                    invoice_id,
                    None,
                )
            )

    def holdings(self, rows: list[tuple[Any, ...]], customer_id: int, created: int) -> None:
        rng = self.rng
        assets = min(rng.lognormvariate(11.9, 1.6), 1e11)  # median ~¥150k, a few millionaires
        loan = rng.lognormvariate(12.9, 1.0) if rng.random() < 0.3 else 0.0
        created_on = self.dates[created // DAY]
        for as_of in self.month_ends:
            if as_of < created_on:
                continue
            assets *= rng.lognormvariate(0.005, 0.05)
            average = assets * (0.9 + 0.2 * rng.random())
            loan = max(0.0, loan * 0.99 - 1000) if loan else 0.0
            holding_id = self.next_ids["holding"]
            self.next_ids["holding"] = holding_id + 1
            stamp = as_of + self.times[7_200]
            rows.append(
                (
                    holding_id,
                    stamp,
                    stamp,
                    1,
                    as_of,
                    round(assets, 2),
                    round(average, 2),
                    round(loan, 2),
                    "CNY",
                    "core banking",
                    customer_id,
                )
            )


# --- sinks -------------------------------------------------------------------------------------


class Sink:
    """Writes rows into the commerce tables of one database."""

    def __init__(self, models: dict[str, Any]) -> None:
        from django.db import connection

        self.connection = connection
        self.models = models
        self.tables = {key: model._meta.db_table for key, model in models.items()}
        self.dropped: list[tuple[str, str]] = []

    def quote(self, name: str) -> str:
        return self.connection.ops.quote_name(name)

    def max_ids(self) -> dict[str, int]:
        with self.connection.cursor() as cursor:
            found = {}
            for key, table in self.tables.items():
                cursor.execute(f"SELECT MAX(id) FROM {self.quote(table)}")
                found[key] = cursor.fetchone()[0] or 0
            return found

    def customers(self, chunk: int) -> Iterator[list[Customer]]:
        """Customers (id, kind, created seconds since BASE, owner, team) in id order."""
        epoch = int(BASE.timestamp())
        seconds = (
            "CAST(EXTRACT(EPOCH FROM created_at) AS BIGINT)"
            if self.connection.vendor == "postgresql"
            else "CAST(strftime('%%s', created_at) AS INTEGER)"
        )
        last = 0
        while True:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, kind, {seconds}, owner_id, team_id FROM customers_customer "
                    "WHERE id > %s AND status <> 'merged' ORDER BY id LIMIT %s",
                    [last, chunk],
                )
                found = [
                    (pk, kind, max(0, created - epoch), owner, team)
                    for pk, kind, created, owner, team in cursor.fetchall()
                ]
            if not found:
                return
            last = found[-1][0]
            yield found

    def drop_indexes(self) -> None:
        with self.connection.cursor() as cursor:
            for table in self.tables.values():
                for name, sql in self.droppable_indexes(table):
                    self.dropped.append((name, sql))
                    cursor.execute(f"DROP INDEX {self.quote(name)}")

    def create_indexes(self, progress: Callable[[str], None]) -> None:
        with self.connection.cursor() as cursor:
            while self.dropped:
                name, sql = self.dropped[0]
                started = time.perf_counter()
                cursor.execute(sql)
                self.dropped.pop(0)
                progress(f"index {name}: {time.perf_counter() - started:.1f}s")

    def begin(self) -> None:
        self.connection.set_autocommit(False)

    def commit(self) -> None:
        self.connection.commit()
        self.connection.set_autocommit(True)

    def reset(self) -> None:
        raise NotImplementedError

    def droppable_indexes(self, table: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Session settings for the load."""

    def write(self, key: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def finish(self, analyze: bool) -> None:
        """Restore the session, set the sequences, refresh planner statistics."""


class PostgresSink(Sink):
    def reset(self) -> None:
        with self.connection.cursor() as cursor:
            tables = ", ".join(self.quote(table) for table in self.tables.values())
            # CASCADE: rows of other domains that point at orders or invoices (quotes,
            # tickets…) go too, as with generate.py --reset.
            cursor.execute(f"TRUNCATE {tables} CASCADE")

    def droppable_indexes(self, table: str) -> list[tuple[str, str]]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.relname, pg_get_indexdef(i.indexrelid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
                ORDER BY c.relname
                """,
                [table],
            )
            return list(cursor.fetchall())

    def prepare(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '1GB'")
            # Foreign keys are triggers; every row points at ids read or written in this
            # run, so the per-row checks are skipped (needs a superuser, as on the bench).
            cursor.execute("SET session_replication_role = replica")

    def write(self, key: str, rows: list[tuple[Any, ...]]) -> None:
        columns = ", ".join(self.quote(column) for column in COLUMNS[key])
        with (
            self.connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {self.quote(self.tables[key])} ({columns}) FROM STDIN"
            ) as copy,
        ):
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def finish(self, analyze: bool) -> None:
        from django.core.management.color import no_style

        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            for sql in self.connection.ops.sequence_reset_sql(no_style(), self.models.values()):
                cursor.execute(sql)
            if analyze:
                # VACUUM too: the visibility map is what lets the covering index answer
                # without visiting the table (index-only scans).
                for table in self.tables.values():
                    cursor.execute(f"VACUUM (ANALYZE) {self.quote(table)}")


class SqliteSink(Sink):
    def reset(self) -> None:
        with self.connection.cursor() as cursor:
            for key in ("payment", "invoice", "orderline", "order", "holding"):
                cursor.execute(f"DELETE FROM {self.quote(self.tables[key])}")

    def droppable_indexes(self, table: str) -> list[tuple[str, str]]:
        return sqlite_droppable_indexes(self.connection, table)

    def prepare(self) -> None:
        with self.connection.cursor() as cursor:
            sqlite_fast_load(cursor)

    def write(self, key: str, rows: list[tuple[Any, ...]]) -> None:
        columns = COLUMNS[key]
        names = ", ".join(self.quote(column) for column in columns)
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {self.quote(self.tables[key])} ({names}) VALUES ({marks})"
        self.connection.connection.executemany(sql, rows)

    def finish(self, analyze: bool) -> None:
        with self.connection.cursor() as cursor:
            if analyze:
                cursor.execute("ANALYZE")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")


# --- main --------------------------------------------------------------------------------------


def generate(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    started = time.perf_counter()
    models = table_models()
    sqlite = connection.vendor == "sqlite"
    sink: Sink = SqliteSink(models) if sqlite else PostgresSink(models)
    # A bulk load writes facts faster without the grading capture triggers; the next metrics
    # refresh puts them back and recomputes every customer.
    from guanxi.grading import capture

    capture.suspend()
    sink.prepare()
    if args.reset:
        sink.reset()
        log("reset: commerce tables emptied")
    maker = RowMaker(args.seed, timezone.now(), args.orders_per_customer, sqlite)
    maker.with_lines = args.with_lines
    start_ids = sink.max_ids()
    maker.next_ids = {key: value + 1 for key, value in start_ids.items()}
    if not args.keep_indexes:
        sink.drop_indexes()
        log(f"dropped {len(sink.dropped)} plain indexes; rebuilt after the load")
    counts = dict.fromkeys(COLUMNS, 0)
    customers = 0
    load_started = time.perf_counter()
    try:
        for chunk in sink.customers(args.chunk):
            rows = maker.chunk(chunk)
            sink.begin()
            for key, table_rows in rows.items():
                if table_rows:
                    sink.write(key, table_rows)
                    counts[key] += len(table_rows)
            sink.commit()
            customers += len(chunk)
            elapsed = time.perf_counter() - load_started
            log(
                f"{customers:>9,} customers  {counts['order']:>11,} orders  "
                f"{sum(counts.values()):>11,} rows  {elapsed:7.1f}s  "
                f"{sum(counts.values()) / elapsed:,.0f} rows/s"
            )
    finally:
        if sink.dropped:
            index_started = time.perf_counter()
            sink.create_indexes(log)
            log(f"indexes rebuilt: {time.perf_counter() - index_started:.1f}s")
    load_seconds = time.perf_counter() - load_started
    finish_started = time.perf_counter()
    sink.finish(analyze=not args.no_analyze)
    log(f"sequences and statistics: {time.perf_counter() - finish_started:.1f}s")
    seconds = time.perf_counter() - started
    rows_total = sum(counts.values())
    return {
        "vendor": connection.vendor,
        "customers": customers,
        "orders": counts["order"],
        "order_lines": counts["orderline"],
        "invoices": counts["invoice"],
        "payments": counts["payment"],
        "holding_snapshots": counts["holding"],
        "rows": rows_total,
        "load_seconds": round(load_seconds, 1),
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows_total / seconds),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orders-per-customer", type=float, default=10, help="average over all customers"
    )
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else var/guanxi.sqlite3")
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--reset", action="store_true", help="empty the commerce tables first")
    parser.add_argument("--with-lines", action="store_true", help="write OrderLine rows too")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="customers per transaction")
    parser.add_argument(
        "--keep-indexes", action="store_true", help="never drop and rebuild plain indexes"
    )
    parser.add_argument("--no-analyze", action="store_true", help="skip (VACUUM) ANALYZE")
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    setup_django(args.database_url)
    print(json.dumps(generate(args)), flush=True)


if __name__ == "__main__":
    main()
