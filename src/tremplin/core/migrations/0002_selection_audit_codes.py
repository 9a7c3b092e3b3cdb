"""The selection's audit events were recorded as ``selection.…`` while every other event is
``tremplin.…``: a filter on ``tremplin.`` in the audit log missed them. Same codes, one prefix."""

from django.db import migrations
from django.db.models import F, Value
from django.db.models.functions import Concat


def add_prefix(apps, schema_editor):
    events = apps.get_model("core", "AuditEvent").objects.filter(action__startswith="selection.")
    events.update(action=Concat(Value("tremplin."), F("action")))


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    # Not undone: the selection's other events were tremplin.selection.… from the start.
    operations = [migrations.RunPython(add_prefix, migrations.RunPython.noop)]
