"""Index the audit log by the object it is about: an application's history, its erasure and
the one-time codes sent to it in the last hour each read the events of one object, in a log
that grows by millions of rows a year. The new index starts with the content type, so the
content type's own index goes (only the index: the foreign key stays as it is).

On PostgreSQL both are built and dropped CONCURRENTLY, outside a transaction: every
submission writes an audit event, and a plain CREATE INDEX on a national log would hold
those writes for as long as it takes to build."""

import django.db.models.deletion
from django.db import migrations, models

from tremplin.core.index_swap import index_swap


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_fk_indexes_covered_by_composites"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(fields=["content_type", "object_id"], name="audit_object"),
                ),
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
                index_swap(
                    "core_auditevent",
                    new=("audit_object", '("content_type_id", "object_id")'),
                    old=("core_auditevent_content_type_id_1d8b5390", '("content_type_id")'),
                )
            ],
        ),
    ]
