# Evaluations write grades and history rows in bulk: the foreign keys that only cascades read
# lose their own indexes (the override ones keep a partial index of the few rows that have
# one), and on PostgreSQL the grades and metrics leave room in each page so that rewriting a
# row without touching an indexed column stays on its page (a HOT update: no index writes).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = {
    "grading_customergrade": ("tier_id", "rule_tier_id", "override_tier_id", "override_by_id"),
    "grading_gradechange": (
        "customer_id",
        "scheme_id",
        "from_tier_id",
        "to_tier_id",
        "changed_at",
        "actor_id",
    ),
}
ROOMY = {"grading_customergrade": 80, "grading_customermetrics": 90}


def _single_column_indexes(schema_editor, table, columns):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        plain = info["index"] and not info["unique"] and not info["primary_key"]
        if plain and len(info["columns"]) == 1 and info["columns"][0] in columns:
            yield name


def drop_indexes(apps, schema_editor):
    # Database operations of their own: AlterField would rebuild the tables on SQLite.
    for table, columns in DROPPED.items():
        for name in list(_single_column_indexes(schema_editor, table, columns)):
            if not name.startswith("grade_"):  # not the partial indexes added below
                schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_indexes(apps, schema_editor):
    for table, columns in DROPPED.items():
        present = set(_single_column_indexes(schema_editor, table, columns))
        for column in columns:
            name = f"{table}_{column}_single"
            if name not in present:
                quoted = schema_editor.quote_name(name)
                schema_editor.execute(f"CREATE INDEX {quoted} ON {table} ({column})")


def leave_room(apps, schema_editor, factors=ROOMY):
    if schema_editor.connection.vendor == "postgresql":
        for table, factor in factors.items():
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {factor})")


def fill_pages(apps, schema_editor):
    leave_room(apps, schema_editor, dict.fromkeys(ROOMY, 100))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0012_merged_index"),
        ("grading", "0007_change_stamps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="customergrade",
                    name="override_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="customergrade",
                    name="override_tier",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="grading.tier",
                    ),
                ),
                migrations.AlterField(
                    model_name="customergrade",
                    name="rule_tier",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="grading.tier",
                    ),
                ),
                migrations.AlterField(
                    model_name="customergrade",
                    name="tier",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="grading.tier",
                    ),
                ),
                migrations.AlterField(
                    model_name="gradechange",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="gradechange",
                    name="changed_at",
                    field=models.DateTimeField(),
                ),
                migrations.AlterField(
                    model_name="gradechange",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="grade_changes",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="gradechange",
                    name="from_tier",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="grading.tier",
                    ),
                ),
                migrations.AlterField(
                    model_name="gradechange",
                    name="scheme",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="changes",
                        to="grading.scheme",
                    ),
                ),
                migrations.AlterField(
                    model_name="gradechange",
                    name="to_tier",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="grading.tier",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, restore_indexes)],
        ),
        migrations.AddIndex(
            model_name="customergrade",
            index=models.Index(
                condition=models.Q(("override_tier_id__isnull", False)),
                fields=["override_tier"],
                name="grade_override_tier",
            ),
        ),
        migrations.AddIndex(
            model_name="customergrade",
            index=models.Index(
                condition=models.Q(("override_by_id__isnull", False)),
                fields=["override_by"],
                name="grade_override_by",
            ),
        ),
        migrations.AddIndex(
            model_name="gradechange",
            index=models.Index(
                condition=models.Q(("actor_id__isnull", False)),
                fields=["actor"],
                name="grade_change_actor",
            ),
        ),
        migrations.RunPython(leave_room, fill_pages),
    ]
