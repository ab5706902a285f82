"""On PostgreSQL, a trigram index serves name substring search of three or more characters.

The index matches the expression Django's icontains produces (UPPER(name::text)); SQLite
needs nothing here. Creating pg_trgm needs a role allowed to create extensions; without one
the index is skipped with a notice and search still works, only slower.
"""

from django.db import migrations

INDEX = "customer_name_upper_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON customers_customer '
            "USING gin (UPPER(name::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_seed_industries")]

    operations = [migrations.RunPython(create, drop)]
