# The date indexes of orders, invoices and holdings carry the customer, so that "which
# customers ordered (have invoices falling due, new snapshots) in these days" is answered
# from the index alone; the RFM order index keys on the date too.

import guanxi.commerce.indexes
from django.db import migrations, models

SINGLE = (("commerce_order", "ordered_at"), ("commerce_invoice", "due_on"))


def _single_column_index(schema_editor, table, column):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        if info["index"] and not info["unique"] and not info["primary_key"]:
            if info["columns"] == [column]:
                return name
    return None


def _rfm_index(fields, covering):
    return guanxi.commerce.indexes.CoveringIndex(
        fields=fields, covering=covering, name="order_customer_rfm"
    )


OLD_RFM = _rfm_index(["customer"], ("ordered_at", "total_amount", "total_cost", "status"))
NEW_RFM = _rfm_index(["customer", "ordered_at"], ("total_amount", "total_cost", "status"))


def _swap_rfm(apps, schema_editor, old, new):
    # SQLite appends the covered columns to the key: both shapes are one index there.
    if schema_editor.connection.features.supports_covering_indexes:
        order = apps.get_model("commerce", "Order")
        schema_editor.remove_index(order, old)
        schema_editor.add_index(order, new)


def rfm_with_date(apps, schema_editor):
    _swap_rfm(apps, schema_editor, OLD_RFM, NEW_RFM)


def rfm_without_date(apps, schema_editor):
    _swap_rfm(apps, schema_editor, NEW_RFM, OLD_RFM)


def drop_single_indexes(apps, schema_editor):
    # A database operation of its own: AlterField would rebuild the whole table on SQLite.
    for table, column in SINGLE:
        name = _single_column_index(schema_editor, table, column)
        if name:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_single_indexes(apps, schema_editor):
    for table, column in SINGLE:
        if not _single_column_index(schema_editor, table, column):
            name = schema_editor.quote_name(f"{table}_{column}_single")
            schema_editor.execute(f"CREATE INDEX {name} ON {table} ({column})")


class Migration(migrations.Migration):

    dependencies = [
        ("commerce", "0002_invoice_customer_credit_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="invoice",
            index=guanxi.commerce.indexes.CoveringIndex(
                covering=("customer", "status"), fields=["due_on"], name="invoice_due_customer"
            ),
        ),
        migrations.AddIndex(
            model_name="holdingsnapshot",
            index=guanxi.commerce.indexes.CoveringIndex(
                covering=("customer",), fields=["as_of"], name="holding_day_customer"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=guanxi.commerce.indexes.CoveringIndex(
                covering=("customer",), fields=["ordered_at"], name="order_day_customer"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="invoice",
                    name="due_on",
                    field=models.DateField(verbose_name="due on"),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="ordered_at",
                    field=models.DateTimeField(verbose_name="ordered at"),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_single_indexes, restore_single_indexes),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="order", name="order_customer_rfm"),
                migrations.AddIndex(model_name="order", index=NEW_RFM),
            ],
            database_operations=[migrations.RunPython(rfm_with_date, rfm_without_date)],
        ),
    ]
