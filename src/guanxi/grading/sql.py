"""The few SQL snippets that differ between SQLite and PostgreSQL, one function per need."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def days_between(later: str, earlier: str) -> str:
    """Whole days from `earlier` to `later` (dates or timestamps), NULL if either is NULL."""
    if is_postgres():
        return f"(CAST({later} AS date) - CAST({earlier} AS date))"
    # The day numbers of the two UTC dates: a Julian day starts at noon, so the date's day is
    # that of half a day earlier (a third of the time of julianday(date(…)) at 1M rows).
    return (
        f"(CAST(julianday({later}) - 0.5 AS INTEGER) - CAST(julianday({earlier}) - 0.5 AS INTEGER))"
    )


def json_object(pairs: list[tuple[str, str]]) -> str:
    """A JSON object text built from (key, SQL expression) pairs."""
    if not pairs:
        return "'{}'"
    items = ", ".join(f"'{key}', {expression}" for key, expression in pairs)
    if is_postgres():
        return f"CAST(json_build_object({items}) AS text)"
    return f"json_object({items})"


def custom_number(column: str, key: str) -> str:
    """A numeric custom field out of the JSON column (key already checked to be a slug)."""
    if is_postgres():
        return f"CAST(NULLIF({column} ->> '{key}', '') AS numeric)"
    return f"CAST(json_extract({column}, '$.{key}') AS REAL)"


def distinct(left: str, right: str) -> str:
    """Null-safe inequality."""
    if is_postgres():
        return f"({left} IS DISTINCT FROM {right})"
    return f"({left} IS NOT {right})"


def cast(expression: str, db_type: str | None) -> str:
    """An expression in a column's type (PostgreSQL; SQLite applies the column's affinity
    itself and compares the stored and computed values alike)."""
    if is_postgres() and db_type:
        return f"CAST({expression} AS {db_type})"
    return expression


def date_literal(value: dt.date) -> str:
    """A date as an SQL literal (from a date object only, never from input text)."""
    return f"'{dt.date.fromordinal(value.toordinal()).isoformat()}'"


def fence() -> str:
    """Ends a sub-query that PostgreSQL must not fold into the outer query (so its computed
    columns are computed once per row, not once per reference)."""
    return "OFFSET 0" if is_postgres() else ""


def text(expression: str) -> str:
    return f"CAST({expression} AS VARCHAR(20))"


def timestamp(value: dt.datetime) -> Any:
    """A datetime as a raw-SQL parameter in the form the ORM stores and compares it.

    On SQLite the ORM stores naive UTC text; a bound aware datetime would carry "+00:00" and
    compare unequal to the same moment written by the ORM.
    """
    return connection.ops.adapt_datetimefield_value(value)


def _set_local(*settings: str) -> None:
    """On PostgreSQL, each `name = value` for the rest of the transaction."""
    if is_postgres():
        with connection.cursor() as cursor:
            for setting in settings:
                cursor.execute(f"SET LOCAL {setting}")


def tune_for_aggregation() -> None:
    """On PostgreSQL, steer the planner to the sorted index scan for one-per-customer
    aggregates (FIELD-NOTES: 12 s with a hash aggregate, ~2.3 s without), and no JIT: these
    statements are estimated costly enough to compile, which took 1–1.3 s of each at 1M
    customers and saved nothing. Transaction-local."""
    _set_local("enable_hashagg = off", "jit = off")


def prefer_merge_joins() -> None:
    """On PostgreSQL, join the metrics table to the per-customer aggregates in customer order
    (index scans, merge joins) rather than hashing ~1M rows in batches: the aggregates'
    group counts are estimated at a tenth of the real ones. Transaction-local."""
    _set_local("enable_hashjoin = off")


def tune_for_staging() -> None:
    """On PostgreSQL, memory for the sorts of quantile cut-offs (`percentile_disc` over each
    dimension) and cumulative schemes (a window over every eligible customer), which at 1M
    customers spilled to disk at 64 MB: the statement (one per evaluation, not per
    connection) gets 256 MB; no JIT (1.3 s of compiling for one staging statement, for
    nothing). Transaction-local."""
    _set_local("work_mem = '256MB'", "jit = off")


def tune_for_lookups() -> None:
    """On PostgreSQL, statements over a few thousand customers look each one up by index:
    no hash joins (they chose to scan all 1M customers to hash against 30k touched ones,
    1 s of a 4 s statement) and no JIT (costs estimated from whole-table statistics).
    Transaction-local."""
    _set_local("jit = off", "enable_hashjoin = off")


def relaxed_commit() -> None:
    """On PostgreSQL, commit without waiting for the transaction's WAL to reach the disk
    (`synchronous_commit = off`): for transactions that write only what can be recomputed
    from the facts — metrics, grades and what an evaluation writes with them. A crash in the
    next fraction of a second (three times `wal_writer_delay`) can lose the whole
    transaction, never part of it, and the next refresh or evaluation does it again; a night's
    RFM apply at 1M waited 0.4 s for its commit. Transaction-local."""
    _set_local("synchronous_commit = off")


def no_nested_loops() -> None:
    """On PostgreSQL, only hash and merge joins: each table is read once, whatever the
    statistics say. The follow-up planner needs it: with an empty follow-up table (a first
    run, or after vacuum truncated it) its open-follow-up check was planned as a nested loop
    over a sequential scan of grading_followup, rescanned for every row the statement had
    already inserted — 141k rows in 5.5 min at 1M customers, quadratic. Transaction-local."""
    _set_local("enable_nestloop = off")


def lock(name: str) -> None:
    """Serialise a job with others of its name until the transaction ends (PostgreSQL; a
    SQLite transaction here takes the database's write lock when it begins)."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def insert_ignoring(table: str) -> tuple[str, str]:
    """The start and end of an INSERT … SELECT that skips rows whose key is already there
    (the SELECT needs a WHERE clause: SQLite reads ON CONFLICT after a bare join as part
    of it)."""
    if is_postgres():
        return (f"INSERT INTO {table}", " ON CONFLICT DO NOTHING")
    return (f"INSERT OR IGNORE INTO {table}", "")


def row_count(table: str) -> int:
    """A table's rows: PostgreSQL's estimate from the last ANALYZE (counting 1M rows took
    0.3–0.4 s), SQLite's count (from its smallest index)."""
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
            row = cursor.fetchone()
            if row is not None and row[0] is not None and row[0] >= 0:
                return int(row[0])
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return int(cursor.fetchone()[0])


def analyze(table: str) -> None:
    """Refresh the planner's statistics of a table just filled in bulk (PostgreSQL only:
    SQLite's planner does without)."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
