"""How many customers each scheme holds in each tier, kept up to date by PostgreSQL itself.

Every evaluation records a snapshot of its scheme's tier distribution. Counting the scheme's
grades for it read all of them (1M rows, 0.25–0.35 s on PostgreSQL, a third of a night's
threshold evaluation); SQLite counts them from the covering index grade_scheme_tier in ~40
ms and needs none of this. On PostgreSQL, statement triggers on grading_customergrade add
each statement's rows to grading_tiercount, whatever wrote them: an evaluation, an expert's
override, a deleted customer's cascade, raw SQL (a TRUNCATE empties the counts). `ensure`
puts back a missing table or trigger and then counts from scratch once.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from guanxi.grading import sql

TABLE = "grading_tiercount"
GRADES = "grading_customergrade"
PREFIX = "grading_tiercount_v1_"
# A grade without a tier counts under 0 (a key column cannot be NULL).
NO_TIER = 0

# Each statement's changes, netted per (scheme, tier) and applied in key order, so that two
# transactions changing the same counts wait for each other rather than deadlock.
_CHANGES = {
    "ins": "SELECT scheme_id, COALESCE(tier_id, 0) AS tier, 1 AS n FROM tiercount_new",
    "del": "SELECT scheme_id, COALESCE(tier_id, 0) AS tier, -1 AS n FROM tiercount_old",
    "upd": """SELECT scheme_id, COALESCE(tier_id, 0) AS tier, 1 AS n FROM tiercount_new
        UNION ALL SELECT scheme_id, COALESCE(tier_id, 0), -1 FROM tiercount_old""",
}
_REFERENCING = {
    "ins": ("INSERT", "REFERENCING NEW TABLE AS tiercount_new"),
    "del": ("DELETE", "REFERENCING OLD TABLE AS tiercount_old"),
    "upd": ("UPDATE", "REFERENCING OLD TABLE AS tiercount_old NEW TABLE AS tiercount_new"),
}


def _statements() -> list[str]:
    statements = [
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            scheme_id BIGINT NOT NULL, tier_id BIGINT NOT NULL, customers BIGINT NOT NULL,
            PRIMARY KEY (scheme_id, tier_id))"""
    ]
    for kind, changes in _CHANGES.items():
        event, referencing = _REFERENCING[kind]
        statements += [
            f"""CREATE OR REPLACE FUNCTION {PREFIX}{kind}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {TABLE} AS t (scheme_id, tier_id, customers)
                SELECT scheme_id, tier, SUM(n) FROM ({changes}) changes
                GROUP BY scheme_id, tier HAVING SUM(n) <> 0 ORDER BY scheme_id, tier
                ON CONFLICT (scheme_id, tier_id)
                DO UPDATE SET customers = t.customers + EXCLUDED.customers;
                RETURN NULL;
            END $$""",
            f"DROP TRIGGER IF EXISTS {PREFIX}{kind} ON {GRADES}",
            f"""CREATE TRIGGER {PREFIX}{kind} AFTER {event} ON {GRADES} {referencing}
            FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}{kind}()""",
        ]
    statements += [
        f"""CREATE OR REPLACE FUNCTION {PREFIX}truncate() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN DELETE FROM {TABLE}; RETURN NULL; END $$""",
        f"DROP TRIGGER IF EXISTS {PREFIX}truncate ON {GRADES}",
        f"""CREATE TRIGGER {PREFIX}truncate AFTER TRUNCATE ON {GRADES}
        FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}truncate()""",
    ]
    return statements


TRIGGERS = (*(f"{PREFIX}{kind}" for kind in _CHANGES), f"{PREFIX}truncate")


def kept() -> bool:
    """Whether the database keeps the counts (PostgreSQL)."""
    return sql.is_postgres()


def ensure() -> bool:
    """Make sure the counts are kept; False when a table or trigger was missing and the counts
    were just made from scratch. Call inside a transaction that may write the grades."""
    if not kept():
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COUNT(*) FROM pg_trigger
            WHERE tgrelid = to_regclass(%s) AND tgname = ANY(%s) AND NOT tgisinternal""",
            [GRADES, list(TRIGGERS)],
        )
        present = int(cursor.fetchone()[0]) == len(TRIGGERS)
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
        if present and cursor.fetchone()[0]:
            return True
        # Nothing may change the grades between counting and the triggers taking over.
        cursor.execute(f"LOCK TABLE {GRADES} IN SHARE ROW EXCLUSIVE MODE")
        for statement in _statements():
            cursor.execute(statement)
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(
            f"""INSERT INTO {TABLE} (scheme_id, tier_id, customers)
            SELECT scheme_id, COALESCE(tier_id, 0), COUNT(*) FROM {GRADES}
            GROUP BY scheme_id, COALESCE(tier_id, 0)"""
        )
        return False


def snapshot_sql(scheme_id: int) -> tuple[str, list[Any]]:
    """A SELECT of (tier_id, customers) for the scheme's tier snapshot, and its parameters:
    the kept counts on PostgreSQL (call `ensure` first, before the grades change), else a
    count of the grades."""
    if kept():
        return (
            f"SELECT NULLIF(tier_id, {NO_TIER}) AS tier_id, customers FROM {TABLE} "
            "WHERE scheme_id = %s AND customers <> 0",
            [scheme_id],
        )
    return (
        f"SELECT tier_id, COUNT(*) AS customers FROM {GRADES} "
        "WHERE scheme_id = %s GROUP BY tier_id",
        [scheme_id],
    )
