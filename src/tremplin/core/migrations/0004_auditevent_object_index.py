"""Index the audit log by the object it is about: an application's history, its erasure and
the one-time codes sent to it in the last hour each read the events of one object, in a log
that grows by millions of rows a year. The new index starts with the content type, so the
content type's own index goes (only the index: the foreign key stays as it is).

On PostgreSQL both are built and dropped CONCURRENTLY, outside a transaction: every
submission writes an audit event, and a plain CREATE INDEX on a national log would hold
those writes for as long as it takes to build."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "core_auditevent"
NEW = ("audit_object", '("content_type_id", "object_id")')
OLD = ("core_auditevent_content_type_id_1d8b5390", '("content_type_id")')


def _create(schema_editor, index):
    name, columns = index
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX {concurrently}IF NOT EXISTS "{name}" ON "{TABLE}" {columns}'
    )


def _drop(schema_editor, index):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f'DROP INDEX {concurrently}IF EXISTS "{index[0]}"')


def forward(apps, schema_editor):
    _create(schema_editor, NEW)
    _drop(schema_editor, OLD)


def backward(apps, schema_editor):
    _create(schema_editor, OLD)
    _drop(schema_editor, NEW)


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
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
