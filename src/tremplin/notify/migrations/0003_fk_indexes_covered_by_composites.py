"""Drop the single-column indexes of foreign keys that a composite index or constraint
already starts with: every submission wrote them for nothing. Only the index goes; the
foreign keys stay as they are (an AlterField would drop and validate them again, a long
lock on a national table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0002_message_attachments"),
        ("schools", "0002_load_geography"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="school",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="outbox_messages",
                        to="schools.school",
                        verbose_name="school",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "notify_message_school_id_cc3aeaaa"',
                    reverse_sql='CREATE INDEX "notify_message_school_id_cc3aeaaa" ON "notify_message" ("school_id")',
                ),
            ],
        ),
    ]
