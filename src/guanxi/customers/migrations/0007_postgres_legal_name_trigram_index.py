"""On PostgreSQL, a trigram index for legal-name substring search (as 0003 does for names),
so that a search ORs only indexed conditions."""

from django.db import migrations

INDEX = "customer_legal_name_upper_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON customers_customer "
            "USING gin (UPPER(legal_name::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_duplicate_scan_indexes")]

    operations = [migrations.RunPython(create, drop)]
