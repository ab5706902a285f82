"""On SQLite, an FTS5 trigram index over customer names and legal names, kept in step by
triggers, so that a name substring of three characters or more is an index lookup (SQLite's
LIKE '%…%' never uses an index). PostgreSQL has trigram indexes for this (0003, 0007).

External content: the index stores no copy of the names, only the trigrams; the triggers
feed it old and new values. Built from the existing rows ('rebuild', ~15 s at 1M rows).
"""

from django.db import migrations

TABLE = "customers_customer_name_fts"

CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "name, legal_name, content='customers_customer', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON customers_customer BEGIN "
    f"INSERT INTO {TABLE}(rowid, name, legal_name) VALUES (new.id, new.name, new.legal_name); "
    "END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON customers_customer BEGIN "
    f"INSERT INTO {TABLE}({TABLE}, rowid, name, legal_name) "
    "VALUES ('delete', old.id, old.name, old.legal_name); "
    "END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE OF name, legal_name "
    "ON customers_customer BEGIN "
    f"INSERT INTO {TABLE}({TABLE}, rowid, name, legal_name) "
    "VALUES ('delete', old.id, old.name, old.legal_name); "
    f"INSERT INTO {TABLE}(rowid, name, legal_name) VALUES (new.id, new.name, new.legal_name); "
    "END",
    f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')",
]

DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_update",
    f"DROP TABLE IF EXISTS {TABLE}",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in CREATE:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_postgres_legal_name_trigram_index")]

    operations = [migrations.RunPython(create, drop)]
