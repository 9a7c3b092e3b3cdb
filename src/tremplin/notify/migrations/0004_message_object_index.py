"""Index the outbox by the object a message is about: an erasure empties the messages of one
application (the retention sweep erases thousands in a run), the applicant's download lists
them, the outbox finds them by reference. The content type's own index, which the new one
starts with, goes (only the index: the foreign key stays as it is).

On PostgreSQL both are built and dropped CONCURRENTLY, outside a transaction: the outbox is
written by every submission, and a plain CREATE INDEX would hold those writes."""

import django.db.models.deletion
from django.db import migrations, models

from tremplin.core.index_swap import index_swap


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("notify", "0003_fk_indexes_covered_by_composites"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="message",
                    index=models.Index(fields=["content_type", "object_id"], name="notify_object"),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="content_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="object type",
                    ),
                ),
            ],
            database_operations=[
                index_swap(
                    "notify_message",
                    new=("notify_object", '("content_type_id", "object_id")'),
                    old=("notify_message_content_type_id_a0e0b721", '("content_type_id")'),
                )
            ],
        ),
    ]
