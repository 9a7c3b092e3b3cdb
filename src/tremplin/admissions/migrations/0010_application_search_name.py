"""The four names of each application folded into one column for the staff's search
(``Application.search_name``). Filled for the applications already there by the next
migration, batch by batch: here, the column alone, so that this migration's lock on the
table lasts only as long as adding a column with a constant default (no rewrite on
PostgreSQL)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("admissions", "0009_applicantcode_requester"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="search_name",
            field=models.TextField(
                blank=True, editable=False, verbose_name="names, folded for search"
            ),
        ),
    ]
