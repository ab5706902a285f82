# Credit grading reads every customer's invoices: cover the aggregate with one index, built
# concurrently on PostgreSQL (invoices are a big table), and drop the now redundant
# foreign-key index on customer_id after it.

import django.db.models.deletion
from django.db import migrations, models

import guanxi.commerce.indexes


def _index():
    return guanxi.commerce.indexes.CoveringIndex(
        covering=("due_on", "issued_on", "paid_on", "amount", "paid_amount", "status"),
        fields=["customer"],
        name="invoice_customer_credit",
    )


def create_index(apps, schema_editor):
    model = apps.get_model("commerce", "Invoice")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP INDEX CONCURRENTLY IF EXISTS invoice_customer_credit"  # a failed earlier try
        )
        schema_editor.execute(_index().create_sql(model, schema_editor, concurrently=True))
    else:
        schema_editor.add_index(model, _index())


def drop_index(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("commerce", "Invoice"), _index())


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("commerce", "0001_initial"),
        ("customers", "0007_postgres_legal_name_trigram_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="invoice", index=_index())],
            database_operations=[migrations.RunPython(create_index, drop_index)],
        ),
        migrations.AlterField(
            model_name="invoice",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="invoices",
                to="customers.customer",
                verbose_name="customer",
            ),
        ),
    ]
