"""A partial index of the imported applicants still waiting for their reference (marked,
still submitted, not erased nor asked to be): the call's page counts them by it, instead of
reading the call's messages. Empty nearly always, it costs the writes the test of its
condition.

Declared in ``Application.Meta.indexes`` (the state), built here in SQL (the database), on
PostgreSQL ``CONCURRENTLY`` as ``0013`` does: writes go on while it scans the table (hence not
atomic). A build interrupted there leaves an invalid index that ``IF NOT EXISTS`` would keep:
drop it and migrate again.
"""

from django.db import migrations, models

INDEX = "application_reference_unsent"


def create(apps, schema_editor):
    Application = apps.get_model("admissions", "Application")
    quote = schema_editor.quote_name
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    true = "true" if schema_editor.connection.vendor == "postgresql" else "1"
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {quote(INDEX)} "
        f"ON {quote(Application._meta.db_table)} ({quote('intake_id')}) "
        f"WHERE {quote('reference_unsent')} = {true} AND {quote('status')} = 'submitted' "
        f"AND {quote('erased_at')} IS NULL AND {quote('deletion_requested_at')} IS NULL"
    )


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("admissions", "0025_application_reference_unsent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="application",
                    index=models.Index(
                        fields=["intake"],
                        condition=models.Q(
                            reference_unsent=True,
                            status="submitted",
                            erased_at__isnull=True,
                            deletion_requested_at__isnull=True,
                        ),
                        name=INDEX,
                    ),
                )
            ],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
