"""Drop the single-column indexes of foreign keys that a composite index or constraint
already starts with: every submission wrote them for nothing. Only the index goes; the
foreign keys stay as they are (an AlterField would drop and validate them again, a long
lock on a national table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("admissions", "0005_importjob_heartbeat"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="application",
                    name="intake",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="applications",
                        to="admissions.intake",
                        verbose_name="intake",
                    ),
                ),
                migrations.AlterField(
                    model_name="wish",
                    name="application",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="wishes",
                        to="admissions.application",
                        verbose_name="application",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "admissions_application_intake_id_2f18b537"',
                    reverse_sql='CREATE INDEX "admissions_application_intake_id_2f18b537" ON "admissions_application" ("intake_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "admissions_wish_application_id_6506075e"',
                    reverse_sql='CREATE INDEX "admissions_wish_application_id_6506075e" ON "admissions_wish" ("application_id")',
                ),
            ],
        ),
    ]
