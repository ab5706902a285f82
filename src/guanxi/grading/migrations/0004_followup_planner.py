"""The follow-up planner inserts up to one row per customer in one statement, so each index
and database-checked key of grading_followup is paid once per row: drop the single-column
indexes on customer and owner (follow_up_customer and follow_up_owner start with them) and
the tier's constraint and index (Django's on_delete sets it to NULL; nothing looks it up).
The customer and owner constraints stay."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def drop_covered_index(column: str, name: str) -> migrations.RunSQL:
    """Only the index: AlterField would also drop and re-add (re-check) the constraint."""
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{name}"',
        f'CREATE INDEX "{name}" ON "grading_followup" ("{column}")',
    )


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0011_alter_importjob_target"),
        ("grading", "0003_incremental_metrics"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_covered_index("customer_id", "grading_followup_customer_id_df780c5b"),
                drop_covered_index("owner_id", "grading_followup_owner_id_2c28fac9"),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="followup",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="follow_ups",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="followup",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="follow_ups",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="followup",
            name="tier",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="grading.tier",
            ),
        ),
    ]
