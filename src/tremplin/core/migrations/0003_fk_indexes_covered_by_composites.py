"""Drop the single-column indexes of foreign keys that a composite index or constraint
already starts with: every submission wrote them for nothing. Only the index goes; the
foreign keys stay as they are (an AlterField would drop and validate them again, a long
lock on a national table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_selection_audit_codes"),
        ("schools", "0002_load_geography"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="school",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="audit_events",
                        to="schools.school",
                        verbose_name="school",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "core_auditevent_school_id_28e029ca"',
                    reverse_sql='CREATE INDEX "core_auditevent_school_id_28e029ca" ON "core_auditevent" ("school_id")',
                ),
            ],
        ),
    ]
