"""Index the audit log by the object it is about: an application's history, its erasure and
the one-time codes sent to it in the last hour each read the events of one object, in a log
that grows by millions of rows a year. The new index starts with the content type, so the
content type's own index goes (only the index: the foreign key stays as it is)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_fk_indexes_covered_by_composites"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["content_type", "object_id"], name="audit_object"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="content_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "core_auditevent_content_type_id_1d8b5390"',
                    reverse_sql='CREATE INDEX "core_auditevent_content_type_id_1d8b5390" '
                    'ON "core_auditevent" ("content_type_id")',
                ),
            ],
        ),
    ]
