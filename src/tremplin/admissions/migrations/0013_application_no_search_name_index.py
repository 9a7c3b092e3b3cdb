"""A partial index of the applications that have no search key and are not erased: the
query of ``search_names_backfill``, which ``tremplin resume_stalled`` runs every two
minutes. Without it, each run reads the whole table (a million applications, most of them
with a key) to find none or a few; with it, the index holds only the rows still to fill,
and so is empty nearly always and costs the writes nothing but the test of its condition.
Erased applications (no names, no key, on purpose) stay out of it: the retention schedule
erases every old call, and they would otherwise fill it over the years.

Declared in ``Application.Meta.indexes`` (the state), built here in SQL (the database), on
PostgreSQL ``CONCURRENTLY`` (Django's ``AddIndexConcurrently`` refuses SQLite): writes go on
while it scans the table (hence not atomic). A build interrupted there leaves an invalid index that ``IF NOT EXISTS`` would
keep: drop it and migrate again.
"""

from django.db import migrations, models

INDEX = "application_no_search_name"


def create(apps, schema_editor):
    Application = apps.get_model("admissions", "Application")
    quote = schema_editor.quote_name
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {quote(INDEX)} "
        f"ON {quote(Application._meta.db_table)} ({quote(Application._meta.pk.column)}) "
        f"WHERE {quote('search_name')} = '' AND {quote('erased_at')} IS NULL"
    )


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("admissions", "0012_access_request"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="application",
                    index=models.Index(
                        fields=["id"],
                        condition=models.Q(search_name="", erased_at__isnull=True),
                        name=INDEX,
                    ),
                )
            ],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
