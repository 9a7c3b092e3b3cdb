"""Fill ``Application.search_name`` for the applications written before it existed.

Not atomic: each batch commits on its own, so a national table is never locked as a whole
and a migration stopped half-way keeps what it did (run again, it does the rest). Folded with
today's ``core.text.search_key``: the search folds what is typed with the same function, and
a change to the folding rules comes with a migration of its own that fills the column again.
Backwards, nothing to undo: the previous migration drops the column.
"""

from django.db import migrations, transaction

from tremplin.core.text import search_key

BATCH = 2000


def fill(apps, schema_editor):
    Application = apps.get_model("admissions", "Application")
    connection = schema_editor.connection
    rows = Application.objects.using(connection.alias).order_by("pk")
    names = ("first_name", "last_name", "first_name_ar", "last_name_ar")
    quote = connection.ops.quote_name
    # One statement per batch, its rows as parameters: bulk_update's CASE took minutes of
    # Python on a million applications.
    update = "UPDATE {} SET {} = %s WHERE {} = %s".format(  # noqa: S608
        quote(Application._meta.db_table),
        quote(Application._meta.get_field("search_name").column),
        quote(Application._meta.pk.column),
    )
    last = 0
    while batch := list(rows.filter(pk__gt=last).values_list("pk", "search_name", *names)[:BATCH]):
        last = batch[-1][0]
        changed = [
            (key, pk) for pk, stored, *texts in batch if (key := search_key(*texts)) != stored
        ]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.executemany(update, changed)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("admissions", "0010_application_search_name"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
