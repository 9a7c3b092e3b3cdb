from django.db import migrations


def load(apps, schema_editor):
    from tremplin.schools.geography import geography_load

    geography_load(
        apps.get_model("schools", "Region"),
        apps.get_model("schools", "Province"),
        apps.get_model("schools", "Commune"),
    )


class Migration(migrations.Migration):
    dependencies = [("schools", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
