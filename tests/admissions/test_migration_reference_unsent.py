"""Migrations 0025 to 0027 mark the imported applicants of before still waiting for their
reference, as the call's page found them until then (by reading the school's messages)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("admissions", "0024_importjob_ineligible_count")]
AFTER = [("admissions", "0027_application_reference_unsent_fill")]
OUTBOX = [
    ("notify", "0007_message_limit_confirmations"),
    ("contenttypes", "0002_remove_content_type_name"),
]


@pytest.mark.django_db(transaction=True)
def test_the_imported_applicants_never_sent_their_reference_are_marked(world):
    from tests.admissions.builders import make_import_intake

    intake = make_import_intake(world.smara)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state([*BEFORE, *OUTBOX]).apps
    Application = apps.get_model("admissions", "Application")
    Message = apps.get_model("notify", "Message")
    ContentType = apps.get_model("contenttypes", "ContentType")
    kind, _created = ContentType.objects.get_or_create(app_label="admissions", model="application")
    now = timezone.now()

    def application(number: int, source: str, **fields):
        return Application.objects.create(
            intake_id=intake.pk, number=number, reference=f"SMA-26-{number:04d}",
            cin=f"JA{number:06d}", first_name="Fatima", last_name="El Idrissi",
            birth_date="2003-03-21", sex="F", phone="+212661000000",
            commune_id=intake.school.commune_id, education_level="bac", employment="neet",
            privacy_notice_id=intake.privacy_notice_id, privacy_consent_at=now, language="fr",
            source=source, created_at=now, **fields,
        )  # fmt: skip

    def message(to, template: str, status: str):
        Message.objects.create(
            school_id=intake.school_id, channel="sms", recipient="+212661000000",
            language="fr", template=template, subject="", body="…", status=status,
            content_type=kind, object_id=str(to.pk),
        )  # fmt: skip

    never_told = application(1, "import")
    failed = application(2, "import")
    message(failed, "application_imported", "failed")
    told = application(3, "import")
    message(told, "application_imported", "sent")
    told_otherwise = application(4, "import")
    message(told_otherwise, "eligibility_changed", "sent")
    on_its_way = application(5, "import")  # marked: the outbox unmarks it once sent
    message(on_its_way, "application_imported", "pending")
    portal = application(6, "portal")
    withdrawn = application(8, "import", status="withdrawn")  # no longer counted
    erased = application(9, "import", erased_at=now)
    elsewhere = application(7, "import")
    message(elsewhere, "contact_changed", "sent")  # no reference in it

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    marked = set(
        apps.get_model("admissions", "Application")
        .objects.filter(reference_unsent=True)
        .values_list("number", flat=True)
    )
    assert marked == {never_told.number, failed.number, on_its_way.number, elsewhere.number}
    assert not {portal.number, withdrawn.number, erased.number} & marked
