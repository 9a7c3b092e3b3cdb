"""Documents given later, or replaced, from the applicant space, until the closing date."""

import datetime
import hashlib
import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake, space_client
from tremplin.admissions.choices import DocumentKind
from tremplin.admissions.models import Application, Document, Intake
from tremplin.core.models import AuditEvent

APPLY = "/schools/smara/calls/promo-2026/apply/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(content: bytes = PDF, name: str = "diplome.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def intake(world):
    return make_open_intake(world.smara, required_documents=["cin", "diploma"])


@pytest.fixture
def application(intake):
    """Applied with her CIN only, as if the diploma had been left out (an import, say)."""
    Client().post(
        APPLY,
        {**form_data(), "document_cin": upload(name="cin.pdf"), "document_diploma": upload()},
    )
    with scopes_disabled():
        application = Application.objects.get()
        Document.objects.filter(application=application, kind="diploma").delete()
        application.eligibility = Application.Eligibility.INELIGIBLE
        application.eligibility_reasons = [
            {"rule": "documents", "params": {"missing": ["diploma"]}}
        ]
        application.save()
    return application


def send(client: Client, kind: str, file: SimpleUploadedFile):
    return client.post(reverse("portal:document", args=[kind]), {"document_file": file})


def documents(application: Application) -> dict[str, Document]:
    with scopes_disabled():
        return {d.kind: d for d in Document.objects.filter(application=application)}


@pytest.mark.django_db
def test_the_space_lists_the_calls_documents_and_which_are_missing(application):
    page = space_client(application).get(reverse("portal:space")).content.decode()
    assert 'Copy of the national identity card: <span class="text-success">received on' in page
    assert 'Last diploma or school certificate: <span class="text-danger fw-semibold">missing' in (
        page
    )
    assert reverse("portal:document", args=["diploma"]) in page


@pytest.mark.django_db
def test_a_document_received_while_another_is_missing_is_not_said_in_green(application):
    client = space_client(application)
    send(client, "cin", upload(name="cin-recto-verso.pdf"))  # the diploma is still missing
    page = client.get(reverse("portal:space")).content.decode()
    assert "Your document is received, but your application does not meet" in page
    assert "alert-success" not in page


@pytest.mark.django_db
def test_a_missing_document_sent_from_the_space_makes_the_application_eligible(application):
    client = space_client(application)
    before = application.updated_at
    response = send(client, "diploma", upload(PNG, "photo-diplome.png"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:space")
    diploma = documents(application)["diploma"]
    assert diploma.content_type == "image/png" and diploma.original_name == "photo-diplome.png"
    with scopes_disabled():
        application.refresh_from_db()
        event = AuditEvent.objects.get(action="tremplin.applications.document_given")
    assert application.eligibility == Application.Eligibility.ELIGIBLE
    assert application.eligibility_reasons == []
    assert application.updated_at > before
    assert event.data == {
        "kind": "diploma",
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "replaced": False,
        "eligibility": {"from": "ineligible", "to": "eligible"},
    }
    assert "Your document is received." in client.get(reverse("portal:space")).content.decode()


@pytest.mark.django_db
def test_a_document_sent_again_takes_the_place_of_the_first_and_its_file_goes(
    application, django_capture_on_commit_callbacks
):
    first = documents(application)["cin"]
    first_file = first.file.name
    assert default_storage.exists(first_file)
    with django_capture_on_commit_callbacks(execute=True):
        send(space_client(application), "cin", upload(PNG, "cin-recto.png"))
    cin = documents(application)["cin"]
    assert cin.pk != first.pk and cin.original_name == "cin-recto.png"
    assert len(documents(application)) == 1  # the diploma is still missing
    assert not default_storage.exists(first_file)
    assert default_storage.exists(cin.file.name)


@pytest.mark.django_db
def test_a_file_that_is_not_a_pdf_or_an_image_is_refused_and_changes_nothing(application):
    before = documents(application)["cin"]
    for language, message in (
        ("en", "Only PDF, JPEG or PNG files are accepted."),
        ("fr", "Seuls les fichiers PDF, JPEG ou PNG sont acceptés."),
    ):
        client = space_client(application, language)
        response = send(client, "cin", upload(b"<svg onload=alert(1)>", "cin.pdf"))
        assert response.status_code == 400
        assert message in response.content.decode()
    assert documents(application)["cin"].pk == before.pk
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="tremplin.applications.document_given")


@pytest.mark.django_db
def test_only_the_documents_the_call_asks_for_have_a_page(application):
    assert space_client(application).get(
        reverse("portal:document", args=["photo"])
    ).status_code == (404)
    # And only in an applicant's own space.
    response = Client().get(reverse("portal:document", args=["cin"]))
    assert response.status_code == 302 and response["Location"] == reverse("portal:access")


@pytest.mark.django_db
def test_after_the_closing_date_documents_can_no_longer_be_sent(application, intake):
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(
            closes_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    client = space_client(application)
    response = send(client, "diploma", upload())
    assert response.status_code == 302 and response["Location"] == reverse("portal:space")
    assert "diploma" not in documents(application)
    page = client.get(reverse("portal:space")).content.decode()
    assert reverse("portal:document", args=["diploma"]) not in page


@pytest.mark.django_db
def test_a_staff_decision_stands_when_a_document_is_sent(application):
    with scopes_disabled():
        Application.objects.filter(pk=application.pk).update(
            eligibility_overridden=True, override_reason="Dossier incomplet"
        )
    client = space_client(application)
    client.cookies["django_language"] = "en"
    send(client, "diploma", upload())
    with scopes_disabled():
        application.refresh_from_db()
    assert application.eligibility == Application.Eligibility.INELIGIBLE
    assert "diploma" in documents(application)
    # ...and goes back to the staff's review queue: the diploma missing was perhaps its reason.
    assert application.changed_since_decision_at is not None
    # She is told so, not that her application fails the rules (which it may now meet)
    # with the staff's reason for a reason of the rules, and to correct it.
    page = client.get(reverse("portal:space")).content.decode().replace("&#x27;", "'")
    assert "Your document is received. The school decided itself whether" in page
    assert "The school decided that your application does not meet" in page
    assert "Dossier incomplet" in page
    assert "after this decision: the school will look at it again." in page
    assert "You do not meet the conditions" not in page and "yet:" not in page


@pytest.mark.django_db
def test_a_replaced_document_is_described_in_the_audit_log_before_its_file_goes(
    application, django_capture_on_commit_callbacks
):
    first = documents(application)["cin"]
    with django_capture_on_commit_callbacks(execute=True):
        send(space_client(application), "cin", upload(PNG, "CIN Fatima El Idrissi AB123456.png"))
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.applications.document_given")
    assert event.data == {
        "kind": "cin",
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "replaced": True,
        "previous": [
            {
                "content_type": "application/pdf",
                "size": len(PDF),
                "uploaded_at": first.uploaded_at.isoformat(),
                "sha256": hashlib.sha256(PDF).hexdigest(),
            }
        ],
    }
    # Neither the old nor the new file's name: applicants name files after themselves.
    recorded = json.dumps(event.data)
    assert "cin.pdf" not in recorded and "AB123456" not in recorded
    assert first.file.name not in recorded
    assert not default_storage.exists(first.file.name)


@pytest.mark.django_db
def test_a_document_whose_file_is_already_gone_is_still_replaced_and_described(application):
    first = documents(application)["cin"]
    default_storage.delete(first.file.name)
    response = send(space_client(application), "cin", upload(PNG, "cin-recto.png"))
    assert response.status_code == 302
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.applications.document_given")
    (previous,) = event.data["previous"]
    assert previous["sha256"] is None and previous["size"] == len(PDF)
    assert documents(application)["cin"].original_name == "cin-recto.png"


def test_the_hash_of_a_file_is_read_in_chunks_and_is_the_hash_of_all_of_it():
    import io

    from django.core.files import File

    from tremplin.admissions.uploads import sha256_of

    reads = []

    class Stored(io.BytesIO):
        def read(self, size=-1):
            reads.append(size)
            return super().read(size)

    content = bytes(range(256)) * 1024  # 256 KiB: four of Django's 64 KiB chunks
    assert sha256_of(File(Stored(content))) == hashlib.sha256(content).hexdigest()
    assert reads and all(0 < size <= 64 * 1024 for size in reads)


@pytest.mark.django_db
def test_an_erased_application_keeps_that_a_document_was_replaced_not_its_fingerprints(
    world, application, django_capture_on_commit_callbacks
):
    from tremplin.admissions.personal_data import application_erase

    first = documents(application)["cin"]
    with django_capture_on_commit_callbacks(execute=True):
        send(space_client(application), "cin", upload(PNG))
    with scopes_disabled():
        application_erase(
            application=Application.objects.get(pk=application.pk),
            actor=world.users["director"],
            reason="Asked by the applicant",
        )
        event = AuditEvent.objects.get(action="tremplin.applications.document_given")
    assert event.data == {
        "kind": "cin",
        "replaced": True,
        "previous": [
            {
                "content_type": "application/pdf",
                "size": len(PDF),
                "uploaded_at": first.uploaded_at.isoformat(),
            }
        ],
    }


@pytest.mark.django_db
def test_the_staff_history_says_which_document_was_sent_and_that_it_replaced_one(
    world, application, intake
):
    send(space_client(application), "diploma", upload())
    send(space_client(application), "cin", upload(PNG))
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    page = client.get(
        reverse(
            "admissions:application_detail",
            args=[intake.school.slug, intake.slug, application.reference],
        )
    ).content.decode()
    # The diploma was the one missing: it made the application eligible.
    diploma = DocumentKind.DIPLOMA.label
    assert f"Document sent from the applicant space · {diploma} · now eligible<" in page
    assert (
        "Document sent from the applicant space · copy of the national identity card, "
        "in place of the one sent before<" in page
    )
