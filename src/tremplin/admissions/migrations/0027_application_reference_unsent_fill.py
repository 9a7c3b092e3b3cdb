"""Mark the imported applications of before whose applicant was sent no message with her
reference: until now, the call's page found them by reading the school's messages.

Not atomic, as ``0011``: each batch of imported applications commits on its own, so a
national table is never locked as a whole, and a migration stopped half-way keeps what it
did (run again, it does the rest: marking is idempotent). Only those still waiting can be
counted (submitted, not erased nor asked to be): the others are left alone.
"""

from django.db import migrations, transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast

BATCH = 5000
# The messages that give an applicant her reference (imported_references.WITH_THE_REFERENCE
# when this was written): one of them sent, and she has it.
WITH_THE_REFERENCE = (
    "application_imported",
    "application_submitted",
    "application_reminder",
    "applicant_code",
    "eligibility_changed",
)


def mark(apps, schema_editor):
    Application = apps.get_model("admissions", "Application")
    Message = apps.get_model("notify", "Message")
    ContentType = apps.get_model("contenttypes", "ContentType")
    alias = schema_editor.connection.alias
    kind = ContentType.objects.using(alias).filter(app_label="admissions", model="application")
    kind = kind.first()
    if kind is None:  # a new database: nothing imported yet
        return
    given = Message.objects.using(alias).filter(
        template__in=WITH_THE_REFERENCE,
        status="sent",
        content_type=kind,
        object_id=Cast(OuterRef("pk"), CharField()),
    )
    waiting = Application.objects.using(alias).filter(
        source="import",
        status="submitted",
        erased_at__isnull=True,
        deletion_requested_at__isnull=True,
    )
    last = 0
    while ids := list(
        waiting.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH]
    ):
        last = ids[-1]
        with transaction.atomic(using=alias):
            Application.objects.using(alias).filter(pk__in=ids).exclude(Exists(given)).update(
                reference_unsent=True
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("admissions", "0026_application_reference_unsent_index"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("notify", "0007_message_limit_confirmations"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
