"""``Application.reference_unsent``: an imported application whose applicant was sent no
message with her reference yet (``imported_references``). With a default in the table too,
on PostgreSQL a change of the catalogue only (no rewrite of a national table, a lock of an
instant), and a row written meanwhile by the release before is not marked. The index is
built by the next migration, concurrently; the rows of before are marked by the one after.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("admissions", "0024_importjob_ineligible_count"),
        ("schools", "0003_school_address_ar"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="reference_unsent",
            field=models.BooleanField(
                db_default=False, default=False, verbose_name="reference not sent since the import"
            ),
        ),
    ]
