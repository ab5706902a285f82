"""Database triggers that record which customers' facts changed, for the metrics refresh.

Every insert, delete and relevant update of orders, invoices, holdings and interactions — and
every new or merged customer — adds the customer to grading_metricschange, whatever wrote it
(a service, an import, a merge, a revert, raw SQL). The nightly refresh then recomputes only
those customers plus the few whose windows moved (see `metrics.metrics_refresh`).

The triggers are (re)created by the refresh itself when any is missing — after a migration
that rebuilt a table (SQLite drops a table's triggers then), or after a bulk load that
suspended them — and the refresh then recomputes everyone once, since changes made while a
trigger was missing were not recorded. PostgreSQL records a statement's rows in one insert
(statement triggers with transition tables); SQLite, per row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import connection

PREFIX = "grading_capture_v2_"
# Every version's triggers, so that those of an earlier version are found and replaced.
ANY_VERSION = "grading_capture_v"
LOG = "grading_metricschange"


@dataclass(frozen=True)
class Source:
    """A table whose rows carry a customer, and the columns that metrics read."""

    model: str
    columns: tuple[str, ...]
    customer: str = "customer_id"


SOURCES = (
    Source("commerce.Order", ("customer_id", "status", "ordered_at", "total_amount", "total_cost")),
    Source(
        "commerce.Invoice",
        ("customer_id", "status", "amount", "paid_amount", "paid_on", "due_on", "issued_on"),
    ),
    Source(
        "commerce.HoldingSnapshot",
        (
            "customer_id",
            "as_of",
            "assets_under_management",
            "monthly_average_assets",
            "loan_balance",
        ),
    ),
    Source("interactions.Interaction", ("customer_id", "occurred_at")),
)
# New customers get a metrics row; merged ones lose it; a changed kind or custom field
# logs the customer for schemes that read them (see metrics.PENDING).
CUSTOMERS = Source("customers.Customer", ("status", "kind", "custom_fields"), customer="id")


def _tables() -> list[tuple[str, Source]]:
    found = []
    for source in (*SOURCES, CUSTOMERS):
        try:
            found.append((str(apps.get_model(source.model)._meta.db_table), source))
        except LookupError:
            continue
    return found


def _statements(table: str, source: Source) -> dict[str, list[str]]:
    """Trigger name → the statements that create it (and its function on PostgreSQL)."""
    name = f"{PREFIX}{table}"
    key = source.customer
    changed = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in source.columns)
    if connection.vendor == "postgresql":
        bodies = {
            "ins": f"SELECT {key} FROM capture_new WHERE {key} IS NOT NULL",
            "del": f"SELECT {key} FROM capture_old WHERE {key} IS NOT NULL",
            # A changed row counts for its customer before and after (a merge moves it).
            "upd": f"""SELECT moved.{key} FROM capture_old o JOIN capture_new n ON n.id = o.id
                    CROSS JOIN LATERAL (VALUES (o.{key}), (n.{key})) AS moved ({key})
                WHERE ({changed}) AND moved.{key} IS NOT NULL""",
        }
        events = {
            "ins": ("INSERT", "NEW TABLE AS capture_new"),
            "del": ("DELETE", "OLD TABLE AS capture_old"),
            "upd": ("UPDATE", "OLD TABLE AS capture_old NEW TABLE AS capture_new"),
        }
        if source is CUSTOMERS:  # customers are deleted with their metrics (cascade)
            del bodies["del"], events["del"]
        statements = {}
        for event, body in bodies.items():
            trigger = f"{name}_{event}"
            statements[trigger] = [
                f"""CREATE OR REPLACE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO {LOG} (customer_id) SELECT DISTINCT changed.{key}
                    FROM ({body}) changed;
                    RETURN NULL;
                END $$""",
                f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
                f"""CREATE TRIGGER {trigger} AFTER {events[event][0]} ON {table}
                REFERENCING {events[event][1]} FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()""",
            ]
        return statements
    columns = ", ".join(source.columns)
    log = f"INSERT INTO {LOG} (customer_id)"
    sqlite = {
        f"{name}_ins": f"""AFTER INSERT ON {table} WHEN NEW.{key} IS NOT NULL
            BEGIN {log} VALUES (NEW.{key}); END""",
        f"{name}_upd": f"""AFTER UPDATE OF {columns} ON {table}
            BEGIN {log} SELECT OLD.{key} WHERE OLD.{key} IS NOT NULL;
                  {log} SELECT NEW.{key} WHERE NEW.{key} IS NOT NULL
                      AND NEW.{key} IS NOT OLD.{key}; END""",
        f"{name}_del": f"""AFTER DELETE ON {table} WHEN OLD.{key} IS NOT NULL
            BEGIN {log} VALUES (OLD.{key}); END""",
    }
    if source is CUSTOMERS:
        del sqlite[f"{name}_del"]
    return {
        trigger: [f"DROP TRIGGER IF EXISTS {trigger}", f"CREATE TRIGGER {trigger} {definition}"]
        for trigger, definition in sqlite.items()
    }


def _existing() -> dict[str, str]:
    """Capture triggers in the database: name → table."""
    pattern = f"{ANY_VERSION.replace('_', '#_')}%"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, CAST(tgrelid::regclass AS text) FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgname LIKE %s ESCAPE '#'",
                [pattern],
            )
        else:
            cursor.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE %s ESCAPE '#'",
                [pattern],
            )
        return {str(name): str(table) for name, table in cursor.fetchall()}


def ensure() -> bool:
    """Create whichever capture triggers are missing; True when all were already there
    (changes have been recorded), False when some had to be created (they were not)."""
    wanted = {}
    for table, source in _tables():
        wanted.update(_statements(table, source))
    existing = _existing()
    missing = set(wanted) - set(existing)
    if not missing:
        return True
    with connection.cursor() as cursor:
        for trigger, table in sorted(existing.items()):
            if trigger not in wanted:  # an earlier version's
                on = f" ON {table}" if connection.vendor == "postgresql" else ""
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}{on}")
        for trigger in sorted(missing):
            for statement in wanted[trigger]:
                cursor.execute(statement)
    return False


def suspend() -> None:
    """Drop the capture triggers and forget the refresh state, before a bulk load: the next
    refresh re-creates them and recomputes every customer."""
    with connection.cursor() as cursor:
        for trigger, table in sorted(_existing().items()):
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        cursor.execute(f"DELETE FROM {LOG}")
        cursor.execute("DELETE FROM grading_metricspending")
        cursor.execute("DELETE FROM grading_metricsstate")
