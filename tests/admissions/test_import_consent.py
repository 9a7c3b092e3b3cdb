"""Law 09-08: the applicants of a file accepted no privacy notice on this platform. A real
import from the staff pages needs whoever imports to attest that the school collected their
consent to the call's notice; the import's event records it, and each imported application's
page says which it was. A dry run writes nothing, and needs no attestation."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.admissions.builders import CONSENT, applicant, canonical_csv, make_import_intake
from tremplin.admissions.models import Application, ImportJob
from tremplin.core.models import AuditEvent


@pytest.fixture
def intake(world):
    return make_import_intake(world.smara)


def url(name: str, *args) -> str:
    return reverse(f"admissions:{name}", args=["smara", "promo-2026", *args])


def upload(**fields) -> dict:
    rows = canonical_csv([applicant(0), applicant(1)])
    return {"file": SimpleUploadedFile("candidats.csv", rows), "mode": "all", **fields}


def applications() -> int:
    with scopes_disabled():
        return Application.objects.count()


def attested() -> list[bool]:
    with scopes_disabled():
        events = AuditEvent.objects.filter(action="tremplin.applications.imported")
        return [event.data["consent_attested"] for event in events.order_by("pk")]


def page_of_an_imported_application(client) -> str:
    with scopes_disabled():
        reference = Application.objects.order_by("number").first().reference
    return client.get(url("application_detail", reference)).content.decode()


@pytest.mark.django_db
def test_a_real_import_needs_the_attestation_a_dry_run_does_not(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    form = client.get(url("import_form")).content.decode()
    assert (
        "The school collected the consent of each applicant of this file to the privacy notice "
        'v1 of this call (CNDP authorisation <bdi dir="ltr" class="text-nowrap">D-W-123/2025'
        "</bdi>), and keeps it."
    ) in form

    refused = client.post(url("import_form"), upload())
    assert refused.status_code == 400
    said = refused.content.decode()
    assert "Nothing was imported: tick the box that attests the applicants&#x27; consent" in said
    # Said first, above the form (the box is far below on a phone), and the file is to
    # choose again.
    summary = said.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#id_consent_collected"' in summary and "tick the box" in summary
    assert said.index('id="error-summary"') < said.index('name="file"')
    assert "Choose the file again: a page sent back for a correction does not keep it." in said
    with scopes_disabled():
        assert not ImportJob.objects.exists()
    assert applications() == 0

    with django_capture_on_commit_callbacks(execute=True):
        checked = client.post(url("import_form"), upload(dry_run="on"))
        assert checked.status_code == 302
        created = client.post(url("import_form"), upload(**CONSENT))
    assert created.status_code == 302 and applications() == 2
    with scopes_disabled():
        assert list(
            ImportJob.objects.order_by("pk").values_list("consent_attested", flat=True)
        ) == [
            False,  # the dry run
            True,
        ]
    assert attested() == [True]
    page = page_of_an_imported_application(client)
    assert (
        "privacy notice v1: consent collected by the school, as attested at the import (not given "
        "on this platform)"
    ) in page
    assert "consent to the privacy notice attested" in page  # the history's first line


@pytest.mark.django_db
def test_the_import_after_a_dry_run_asks_for_the_attestation(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        dry = client.post(url("import_form"), upload(dry_run="on"))
    page = client.get(dry["Location"]).content.decode()
    assert 'name="consent_collected"' in page and "D-W-123/2025</bdi>), and keeps it." in page

    with django_capture_on_commit_callbacks(execute=True):
        unticked = client.post(dry["Location"], follow=True)
    assert "tick the box that attests the applicants&#x27; consent" in unticked.content.decode()
    assert applications() == 0
    with scopes_disabled():
        assert ImportJob.objects.count() == 1  # no import asked for

    with django_capture_on_commit_callbacks(execute=True):
        client.post(dry["Location"], CONSENT)
    assert applications() == 2 and attested() == [True]


@pytest.mark.django_db
def test_the_command_records_whether_consent_was_attested(world, intake, tmp_path):
    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv([applicant(0)]))
    out = io.StringIO()
    call_command("import_applications", str(path), "--intake", "promo-2026", stdout=out)
    assert "Not attested (--consent-collected)" in out.getvalue()
    path.write_bytes(canonical_csv([applicant(1)]))
    out = io.StringIO()
    call_command(
        "import_applications", str(path), "--intake", "promo-2026", "--consent-collected",
        stdout=out,
    )  # fmt: skip
    assert "Not attested" not in out.getvalue()
    assert attested() == [False, True]
    # Not attested: the page does not take the recorded notice for a consent.
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    assert "recorded by the import: not accepted on this platform" in (
        page_of_an_imported_application(client)
    )


@pytest.mark.django_db
def test_each_application_says_whether_its_own_import_was_attested(world, intake):
    """An import of the valid rows that died after its first batch wrote no event: read
    from the call's next import, its applications said their consent was attested."""
    from tremplin.admissions.importing import import_applications

    class Died(Exception):
        pass

    def dies(done, total):
        raise Died

    with scope(school=world.smara), pytest.raises(Died):
        import_applications(
            intake=intake, fileobj=io.BytesIO(canonical_csv([applicant(0), applicant(1)])),
            filename="a.csv", mode="valid", dry_run=False, progress=dies, batch_size=1,
        )  # fmt: skip
    assert applications() == 1 and attested() == []
    with scope(school=world.smara):
        import_applications(
            intake=intake, fileobj=io.BytesIO(canonical_csv([applicant(2)])), filename="b.csv",
            mode="all", dry_run=False, consent_attested=True,
        )  # fmt: skip
    assert attested() == [True]
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    first, second = (
        client.get(url("application_detail", a.reference)).content.decode()
        for a in sorted_applications()
    )
    assert "recorded by the import: not accepted on this platform" in first
    assert "consent to the privacy notice attested" not in first
    assert "as attested at the import" in second


@pytest.mark.django_db
def test_an_attestation_of_a_notice_replaced_meanwhile_imports_nothing(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        dry = client.post(url("import_form"), upload(dry_run="on"))
    notice_v2_published(world, intake)  # while the page was open
    with django_capture_on_commit_callbacks(execute=True):
        stale = client.post(dry["Location"], CONSENT, follow=True)
        form = client.post(url("import_form"), upload(**CONSENT))
    said = "the privacy notice of this call changed since this page was shown"
    assert said in stale.content.decode() and said in form.content.decode()
    assert form.status_code == 400 and applications() == 0
    # Shown again for v2, its box not ticked: it named v1.
    shown = form.content.decode()
    assert '<input type="hidden" name="notice_version" value="2"' in shown
    assert "D-W-999/2026" in shown
    (box,) = re.findall(r'<input[^>]*name="consent_collected"[^>]*>', shown)
    assert "checked" not in box
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import_form"), upload(consent_collected="on", notice_version="2"))
    assert applications() == 2
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.applications.imported")
    assert (event.data["consent_attested"], event.data["notice_version"]) == (True, 2)


def notice_v2_published(world, intake) -> None:
    """The call's notice becomes a version 2, with its own CNDP number."""
    from tremplin.admissions.models import PrivacyNotice

    with scopes_disabled():
        newer = PrivacyNotice.objects.create(
            school=world.smara, version=2, cndp_authorisation="D-W-999/2026", text="v2",
            text_ar="v2",
        )  # fmt: skip
        type(intake).objects.filter(pk=intake.pk).update(privacy_notice=newer)


def sorted_applications() -> list[Application]:
    with scopes_disabled():
        return list(Application.objects.order_by("number"))


@pytest.mark.django_db
def test_a_notice_replaced_while_the_import_waits_for_its_worker_imports_nothing(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks() as queued:
        client.post(url("import_form"), upload(**CONSENT))
    notice_v2_published(world, intake)
    queued[0]()  # the worker
    assert applications() == 0 and attested() == []
    with scopes_disabled():
        job = ImportJob.objects.get()
    page = client.get(url("import_detail", job.pk)).content.decode()
    assert "The privacy notice of this call changed after the import was asked for" in page
