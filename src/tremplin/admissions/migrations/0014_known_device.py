"""The browsers that opened an applicant's space (``KnownDevice``), and what the codes are
counted by: the known browser or the connection a code was sent for. Codes sent before it
count against no connection and no browser (the shared cap still counts them): their hour
is over soon after the deploy."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("admissions", "0013_application_no_search_name_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="KnownDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=64, unique=True)),
                (
                    "opened_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
            ],
            options={
                "verbose_name": "known browser",
                "verbose_name_plural": "known browsers",
            },
        ),
        migrations.AddField(
            model_name="accessrequest",
            name="device_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name="accessrequest",
            index=models.Index(fields=["device_hash", "created_at"], name="accessrequest_device"),
        ),
        migrations.AddField(
            model_name="applicantcode",
            name="connection",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="applicantcode",
            name="device",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
