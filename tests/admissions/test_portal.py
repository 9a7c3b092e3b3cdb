import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import Application, Document
from tremplin.notify.models import Message

APPLY = "/schools/smara/calls/promo-2026/apply/"


@pytest.fixture
def intake(world):
    return make_open_intake(world.smara)


def apply(client: Client, **changes):
    return client.post(APPLY, form_data(**changes))


def applications():
    with scopes_disabled():
        return list(Application.objects.all())


def messages_for(template: str):
    with scopes_disabled():
        return list(Message.objects.filter(template=template).order_by("pk"))


@pytest.mark.django_db
def test_an_applicant_applies_and_gets_a_reference_and_a_confirmation(intake):
    client = Client()
    response = apply(client)
    assert response.status_code == 302
    (application,) = applications()
    assert application.reference == "SMA-25-0001" or application.reference.startswith("SMA-")
    assert application.cin == "AB123456"
    assert application.phone == "+212661234567"
    assert application.eligibility == Application.Eligibility.ELIGIBLE
    assert application.privacy_notice.version == 1
    page = client.get(response["Location"]).content.decode()
    assert application.reference in page
    (sms,) = messages_for("application_submitted")
    assert sms.channel == "sms"
    assert sms.recipient == "+212661234567"
    assert application.reference in sms.body


@pytest.mark.django_db
def test_the_consent_is_recorded_with_the_notice_version_the_applicant_read(world, intake):
    """Staff replace the call's notice while she fills in the form: her consent was given to
    the one she read. She is shown the new one, the box unticked, and her consent to it is
    what the application records."""
    from tremplin.admissions.models import Intake, PrivacyNotice

    client = Client()
    client.cookies["django_language"] = "en"
    page = client.get(APPLY).content.decode()
    assert "Privacy notice (version 1)" in page
    assert re.search(r'<input type="hidden" name="notice_version" value="1"', page)
    with scopes_disabled():
        second = PrivacyNotice.objects.create(
            school=world.smara, version=2, cndp_authorisation="D-W-999/2026",
            text="Nouveau texte", text_ar="نص جديد",
        )  # fmt: skip
        Intake.objects.filter(pk=intake.pk).update(privacy_notice=second)
    sent_back = apply(client)
    assert sent_back.status_code == 400 and applications() == []
    page = sent_back.content.decode()
    assert (
        "The privacy notice has changed since the form was opened: read it again (version 2)"
        in page
    )
    assert "Privacy notice (version 2)" in page and "Nouveau texte" in page
    assert re.search(r'<input type="hidden" name="notice_version" value="2"', page)
    assert not re.search(r'name="privacy_consent"[^>]*checked', page)
    # Her answers are still there; she ticks the box again and sends.
    assert 'value="El Idrissi"' in page
    assert list(apply(client, notice_version="1").context["form"].errors) == ["privacy_consent"]
    assert apply(client, notice_version="2").status_code == 302
    (application,) = applications()
    assert application.privacy_notice.version == 2


@pytest.mark.django_db
@pytest.mark.parametrize("sent", [None, "", "v2"], ids=["missing", "empty", "not a number"])
def test_a_page_opened_before_the_version_was_sent_still_applies(intake, sent):
    """Open before a deployment during an open call: no version comes back with the consent.
    The call's notice is recorded, as it was then; nobody is asked to consent again."""
    data = form_data()
    if sent is None:
        del data["notice_version"]
    else:
        data["notice_version"] = sent
    assert Client().post(APPLY, data).status_code == 302
    (application,) = applications()
    assert application.privacy_notice.version == 1


@pytest.mark.django_db
def test_the_reference_counts_per_intake_with_the_school_code_and_year(intake):
    apply(Client())
    apply(Client(), cin="CD654321", phone="0661234568")
    numbers = sorted(a.reference for a in applications())
    year = intake.opens_at.year % 100
    assert numbers == [f"SMA-{year:02d}-0001", f"SMA-{year:02d}-0002"]


@pytest.mark.django_db
def test_submitting_twice_shows_the_existing_reference_instead_of_a_duplicate(intake):
    first = Client()
    received = apply(first)
    second = Client()
    response = apply(second, cin="AB-123456", first_name="Autre")
    assert response.status_code == 302
    assert len(applications()) == 1
    page = second.get(response["Location"]).content.decode()
    assert applications()[0].reference in page
    # Said as what it is: the first one stands, this form changed nothing, how to correct.
    assert "Votre candidature était déjà enregistrée" in page
    assert (
        "ce formulaire ne l&#x27;a pas modifiée" in page
        or "ce formulaire ne l'a pas modifiée" in page
    )
    assert "Corriger ma candidature" in page and "La suite" not in page
    assert applications()[0].first_name == "Fatima"
    assert len(messages_for("application_submitted")) == 1
    first_page = first.get(received["Location"]).content.decode().replace("&#x27;", "'")
    assert "La suite" in first_page and "Jusqu'au" in first_page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("06 61 23 45 67", "+212661234567"),
        ("0661234567", "+212661234567"),
        ("+212 661-234567", "+212661234567"),
        ("00212661234567", "+212661234567"),
        ("07.12.34.56.78", "+212712345678"),
        # The national 0 kept after the country code.
        ("+212 06 61 23 45 67", "+212661234567"),
        ("2120661234567", "+212661234567"),
        ("00212 0661234567", "+212661234567"),
    ],
)
def test_phones_are_accepted_the_ways_people_type_them(intake, raw, stored):
    apply(Client(), phone=raw)
    assert applications()[0].phone == stored


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_bad_cin_is_explained_in_the_applicants_language_and_nothing_is_saved(intake, language):
    from django.utils import translation
    from django.utils.html import escape

    english = "This is not a CIN number: one or two letters then digits, like AB123456."
    with translation.override(language):
        expected = translation.gettext(english)
    assert expected != english
    client = Client()
    client.cookies["django_language"] = language
    response = apply(client, cin="12345")
    assert response.status_code == 400
    assert escape(expected) in response.content.decode()
    assert applications() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Si vous n'intégrez pas l'école, vos données personnelles seront effacées le"),
        ("ar", "إذا لم تلتحقوا بالمدرسة، ستُمحى معطياتكم الشخصية يوم"),
    ],
)
def test_the_form_says_when_the_data_of_those_who_do_not_join_is_erased(intake, language, expected):
    from tremplin.admissions.retention import erasure_date
    from tremplin.core.formatting import format_date

    client = Client()
    client.cookies["django_language"] = language
    page = client.get(APPLY).content.decode()
    assert expected in page
    assert format_date(erasure_date(intake), "long", language) in page
    assert erasure_date(intake) > intake.closes_at.date()


@pytest.mark.django_db
def test_an_applicant_too_old_on_the_reference_date_is_ineligible_with_the_reason(intake):
    apply(Client(), birth_date="1980-01-01")
    (application,) = applications()
    assert application.eligibility == Application.Eligibility.INELIGIBLE
    assert application.eligibility_reasons[0]["rule"] == "age"


@pytest.mark.django_db
def test_the_form_refuses_applications_once_the_call_is_closed(world):
    import datetime

    from django.utils import timezone

    make_open_intake(
        world.smara,
        opens_at=timezone.now() - datetime.timedelta(days=10),
        closes_at=timezone.now() - datetime.timedelta(days=1),
    )
    response = apply(Client())
    assert response.status_code == 410
    assert applications() == []


def _pdf_upload(content: bytes, name: str = "cin.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        b"MZ\x90\x00 an executable",
    ],
    ids=["html", "svg", "exe"],
)
def test_a_file_that_is_not_really_a_pdf_or_image_is_refused_whatever_its_name(world, content):
    make_open_intake(world.smara, required_documents=["cin"])
    response = Client().post(APPLY, {**form_data(), "document_cin": _pdf_upload(content)})
    assert response.status_code == 400
    assert applications() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "Envoyez les pièces manquantes depuis votre espace candidat avant le"),
        ("ar", "أرسلوا الوثائق الناقصة من فضاء المترشح قبل"),
    ],
)
def test_an_applicant_without_her_documents_at_hand_applies_and_is_told_to_send_them(
    world, language, said
):
    make_open_intake(world.smara, required_documents=["cin", "diploma"])
    client = Client()
    client.cookies["django_language"] = language
    form = client.get(APPLY).context["form"]
    assert not form.fields["document_cin"].required
    if language == "fr":  # a label, not the words « une copie de la CIN » mid-sentence
        assert form["document_cin"].label == "Copie de la CIN"
    response = client.post(
        APPLY, {**form_data(), "document_cin": _pdf_upload(b"%PDF-1.4\n")}, follow=True
    )
    assert response.status_code == 200
    (application,) = applications()
    assert application.eligibility == Application.Eligibility.INELIGIBLE
    assert application.eligibility_reasons == [
        {"rule": "documents", "params": {"missing": ["diploma"]}}
    ]
    page = response.content.decode()
    assert application.reference in page
    assert said in page
    # Once she has sent it from her space, the hint is gone with the reason.
    with scopes_disabled():
        Application.objects.filter(pk=application.pk).update(eligibility="eligible")
    again = client.get(response.redirect_chain[-1][0]).content.decode()
    assert said not in again


@pytest.mark.django_db
def test_her_space_leads_to_where_a_missing_document_is_sent(world):
    """It said "not eligible: missing documents" and "correct your application", whose page
    takes no document: the way is the "Send it" link under Documents."""
    from tests.admissions.open_intake import space_client

    make_open_intake(world.smara, required_documents=["cin"])
    Client().post(APPLY, form_data())
    (application,) = applications()
    page = space_client(application).get(reverse("portal:space")).content.decode()
    hint = re.search(r'data-testid="send-documents"><a href="#documents">([^<]+)</a>', page)
    assert hint and hint.group(1).startswith("Send the missing documents before")
    assert 'id="documents"' in page
    assert reverse("portal:document", args=["cin"]) in page


@pytest.mark.django_db
def test_a_withdrawn_application_does_not_alarm_her_about_a_missing_document(world):
    """Red and bold, "missing" asked for a document nobody needs any more."""
    from tests.admissions.open_intake import space_client

    make_open_intake(world.smara, required_documents=["cin"])
    Client().post(APPLY, form_data())
    (application,) = applications()
    client = space_client(application)
    page = client.get(reverse("portal:space")).content.decode()
    assert '<span class="text-danger fw-semibold">missing</span>' in page
    client.post(reverse("portal:withdraw"), {"confirm": "yes"})
    page = client.get(reverse("portal:space")).content.decode()
    assert 'text-danger fw-semibold">missing' not in page
    assert 'data-testid="missing-withdrawn">not sent</span>' in page
    assert reverse("portal:document", args=["cin"]) not in page  # nothing to send


@pytest.fixture
def own_media(settings, tmp_path):
    """A storage of the test's own: other tests of this process leave files in theirs."""
    settings.MEDIA_ROOT = tmp_path


def _held_files() -> list[str]:
    from django.core.files.storage import default_storage

    from tremplin.admissions.held_uploads import HELD_DIR

    try:
        holders = default_storage.listdir(HELD_DIR)[0]
    except FileNotFoundError:
        return []
    return [name for h in holders for name in default_storage.listdir(f"{HELD_DIR}/{h}")[1]]


@pytest.mark.django_db
def test_a_file_received_with_a_form_sent_back_is_kept_until_the_form_goes_through(
    world, own_media
):
    """Browsers do not fill a file field again: she corrected only the phone, sent, and was
    found lacking the document she had sent (4 MB over a mobile connection)."""
    make_open_intake(world.smara, required_documents=["cin", "photo"])
    client = Client()
    client.cookies["django_language"] = "en"
    scan = b"%PDF-1.4\n scan of the card"
    response = client.post(
        APPLY, {**form_data(phone="0522123456"), "document_cin": _pdf_upload(scan, "ma cin.pdf")}
    )
    assert response.status_code == 400 and applications() == []
    form = response.context["form"]
    assert set(form.errors) == {"phone"}  # the file is no error
    assert str(form["document_cin"].help_text) == (
        "Received and kept: \u2068ma cin.pdf\u2069. No need to choose it again; choose another "
        "file only to replace it."
    )
    token = form["held_cin"].value()
    assert token and f'value="{token}"' in response.content.decode()
    assert not form["held_photo"].value()  # none was chosen
    assert len(_held_files()) == 1

    # She corrects the phone only: the file received before is her document.
    sent = client.post(APPLY, {**form_data(), "held_cin": token})
    assert sent.status_code == 302
    (application,) = applications()
    with scopes_disabled():
        (document,) = application.documents.all()
        assert (document.kind, document.original_name) == ("cin", "ma cin.pdf")
        assert document.content_type == "application/pdf"
        assert document.file.read() == scan
    assert _held_files() == []  # stored with the application, no longer held


@pytest.mark.django_db
def test_a_held_file_is_only_ever_the_one_this_call_and_field_received(world):
    """A token is signed: forged, of another field, or of another call, it names nothing."""
    from tremplin.admissions.held_uploads import hold

    intake = make_open_intake(world.smara, required_documents=["cin", "photo"])
    pdf = _pdf_upload(b"%PDF-1.4\n")
    pdf_type = {"content_type": "application/pdf", "holder": "test"}
    other_call = hold(pdf, intake_id=intake.pk + 1, kind="cin", **pdf_type)
    photo = hold(pdf, intake_id=intake.pk, kind="photo", **pdf_type)
    for token in (other_call, photo, photo[:-2] + "xx", "../../secret.pdf"):
        response = Client().post(APPLY, {**form_data(phone="0522123456"), "held_cin": token})
        assert response.status_code == 400
        form = response.context["form"]
        assert "cin" not in form.kept and not form["held_cin"].value()
    assert Client().post(APPLY, {**form_data(), "held_cin": photo}).status_code == 302
    (application,) = applications()
    with scopes_disabled():
        assert not application.documents.exists()


@pytest.mark.django_db
def test_a_file_that_cannot_be_held_is_asked_for_again_not_lost_in_silence(world, monkeypatch):
    from django.core.files.storage import default_storage

    make_open_intake(world.smara, required_documents=["cin"])

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(default_storage, "save", full_disk)
    client = Client()
    client.cookies["django_language"] = "en"
    response = client.post(
        APPLY, {**form_data(phone="0522123456"), "document_cin": _pdf_upload(b"%PDF-1.4\n")}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["document_cin"] == [
        "Choose this file again (cin.pdf): a form sent back to correct cannot keep the files "
        "chosen."
    ]
    summary = response.content.decode().split('id="error-summary"')[1].split("</ul>")[0]
    assert 'href="#id_document_cin"' in summary


@pytest.mark.django_db
def test_changing_the_language_keeps_the_files_received_and_says_the_others_are_not(world):
    make_open_intake(world.smara, required_documents=["cin", "photo"])
    client = Client()
    client.cookies["django_language"] = "fr"
    response = client.post(
        APPLY,
        {**form_data(), "language": "en", "document_photo": _pdf_upload(b"%PDF-1.4\n", "me.pdf")},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert str(form["document_cin"].help_text).startswith(
        "If you had chosen this file, choose it again: changing the language does not keep files."
    )
    assert str(form["document_photo"].help_text).startswith(
        "Received and kept: \u2068me.pdf\u2069."
    )
    assert not form.errors
    token = form["held_photo"].value()
    assert client.post(APPLY, {**form_data(), "held_photo": token}).status_code == 302
    (application,) = applications()
    with scopes_disabled():
        assert [d.kind for d in application.documents.all()] == ["photo"]


@pytest.mark.django_db
def test_a_file_over_five_megabytes_is_refused(world):
    make_open_intake(world.smara, required_documents=["cin"])
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)
    response = Client().post(APPLY, {**form_data(), "document_cin": _pdf_upload(big)})
    assert response.status_code == 400
    assert applications() == []


def written_to_disk(monkeypatch) -> list[int]:
    """The sizes of the chunks that reach a temporary file, as uploads arrive."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    written = []
    keep = TemporaryFileUploadHandler.receive_data_chunk

    def counted(self, raw_data, start):
        written.append(len(raw_data))
        return keep(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counted)
    return written


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["document_cin", "smuggled"])
def test_a_fifty_megabyte_file_is_refused_without_being_written_to_disk(world, monkeypatch, field):
    written = written_to_disk(monkeypatch)
    make_open_intake(world.smara, required_documents=["cin"])
    huge = b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024)
    client = Client()
    client.cookies["django_language"] = "en"
    response = client.post(APPLY, {**form_data(), field: _pdf_upload(huge)})
    if field == "document_cin":
        assert response.status_code == 400
        assert "This file is too large (at most 5 MB)." in response.content.decode()
        assert applications() == []
    # What reached the temporary file stopped at the limit, not 50 MB, whatever the field
    # (a hand-made request names the fields it likes).
    assert sum(written) <= 5 * 1024 * 1024


@pytest.mark.django_db
def test_staff_send_files_up_to_their_own_limit(world, monkeypatch):
    """An import may be larger than an applicant's document: 20 MB."""
    written = written_to_disk(monkeypatch)
    intake = make_open_intake(world.smara)
    client = world.client("admissions")
    url = reverse("admissions:import_form", args=["smara", intake.slug])
    big = SimpleUploadedFile("dossiers.csv", b"cin;nom\r\n" + b"x" * (8 * 1024 * 1024))
    client.post(url, {"file": big, "mode": "all", "dry_run": "on"})
    assert sum(written) >= 8 * 1024 * 1024


@pytest.mark.django_db
def test_a_real_pdf_is_stored_privately_under_a_random_name(world):
    make_open_intake(world.smara, required_documents=["cin"])
    upload = _pdf_upload(b"%PDF-1.4\n%fake but well-formed header\n", "../../etc/passwd.pdf")
    response = Client().post(APPLY, {**form_data(), "document_cin": upload})
    assert response.status_code == 302
    with scopes_disabled():
        (document,) = Document.objects.all()
    assert document.original_name == "passwd.pdf"
    assert ".." not in document.file.name
    assert "passwd" not in document.file.name
    assert document.file.name.startswith("private/")
    # The required document counts for eligibility, evaluated before the row is written.
    assert applications()[0].eligibility == Application.Eligibility.ELIGIBLE


def _code_from_outbox() -> str:
    body = messages_for("applicant_code")[-1].body
    return re.search(r"\b(\d{6})\b", body).group(1)


@pytest.mark.django_db
def test_the_applicant_comes_back_with_reference_cin_and_a_one_time_code(intake):
    apply(Client())
    (application,) = applications()
    client = Client()
    response = client.post(
        reverse("portal:access"), {"reference": application.reference.lower(), "cin": "ab123456"}
    )
    assert response["Location"] == reverse("portal:code")
    assert client.post(reverse("portal:code"), {"code": "000000"}).status_code == 400
    code = _code_from_outbox()
    response = client.post(reverse("portal:code"), {"code": code})
    assert response["Location"] == reverse("portal:space")
    page = client.get(reverse("portal:space")).content.decode()
    assert application.reference in page
    # The code works once.
    other = Client()
    other.post(reverse("portal:access"), {"reference": application.reference, "cin": "AB123456"})
    assert other.post(reverse("portal:code"), {"code": code}).status_code == 400


@pytest.mark.django_db
def test_a_wrong_cin_gets_the_same_answer_and_no_code(intake):
    apply(Client())
    (application,) = applications()
    response = Client().post(
        reverse("portal:access"), {"reference": application.reference, "cin": "ZZ999999"}
    )
    assert response["Location"] == reverse("portal:code")
    assert messages_for("applicant_code") == []


@pytest.mark.django_db
def test_codes_are_rate_limited(intake):
    apply(Client())
    (application,) = applications()
    for _ in range(5):
        Client().post(
            reverse("portal:access"), {"reference": application.reference, "cin": "AB123456"}
        )
    assert len([m for m in messages_for("applicant_code") if m.channel == "sms"]) == 3


def _space_client(application) -> Client:
    client = Client()
    client.post(
        reverse("portal:access"), {"reference": application.reference, "cin": application.cin}
    )
    client.post(reverse("portal:code"), {"code": _code_from_outbox()})
    return client


@pytest.mark.django_db
def test_the_applicant_corrects_withdraws_downloads_and_asks_for_deletion(intake):
    apply(Client())
    (application,) = applications()
    client = _space_client(application)
    data = form_data(first_name="Fatiha")
    del data["cin"], data["privacy_consent"]
    assert client.post(reverse("portal:edit"), data).status_code == 302
    assert applications()[0].first_name == "Fatiha"

    download = client.get(reverse("portal:data"))
    payload = json.loads(
        b"".join(download.streaming_content) if download.streaming else download.content
    )
    assert payload["cin"] == "AB123456"
    assert payload["first_name"] == "Fatiha"
    # The messages sent to her: the confirmation, then the code that opened her space.
    texts = [m["text"] for m in payload["messages"] if m["channel"] == "sms"]
    assert len(texts) == 2 and all(application.reference in text for text in texts)

    client.post(reverse("portal:withdraw"), {"confirm": "yes"})
    assert applications()[0].status == Application.Status.WITHDRAWN
    client.post(reverse("portal:delete"), {"confirm": "yes"})
    assert applications()[0].deletion_requested_at is not None
    # Once withdrawn, nothing can be changed any more.
    assert client.post(reverse("portal:edit"), data).status_code == 302
    assert applications()[0].first_name == "Fatiha"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_new_phone_or_email_is_told_to_the_former_ones_in_the_applicants_language(
    intake, language
):
    """Her space left open on a shared computer, someone could send her messages, and her
    codes, elsewhere: the former phone and address hear of the change."""
    client = Client()
    client.cookies["django_language"] = language
    client.post(APPLY, form_data(email="fatima@example.ma"))
    (application,) = applications()
    client = _space_client(application)
    data = form_data(email="fatima@example.ma", motivation="Apprendre")
    del data["cin"], data["privacy_consent"]
    assert client.post(reverse("portal:edit"), data).status_code == 302
    assert messages_for("contact_changed") == []  # nothing changed in her contact details

    data.update(phone="0699999999", email="autre@example.ma")
    assert client.post(reverse("portal:edit"), data).status_code == 302
    told = {(m.channel, m.recipient): m for m in messages_for("contact_changed")}
    assert set(told) == {("sms", "+212661234567"), ("email", "fatima@example.ma")}
    sms = told["sms", "+212661234567"]
    assert sms.language == language
    assert application.reference in sms.body
    assert ("اتصلوا بالمدرسة" if language == "ar" else "Contactez l'école") in sms.body
    # The new number hears nothing of it: the messages from now on go there.
    assert applications()[0].phone == "+212699999999"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_withdrawal_and_a_deletion_request_are_told_to_the_applicant_once(intake, language):
    """Both can be done from a space left open on a shared computer: she hears of them, on
    every channel she gave, in her language; a request sent again (a page reloaded, a
    retry) tells her nothing more."""
    client = Client()
    client.cookies["django_language"] = language
    client.post(APPLY, form_data(email="fatima@example.ma"))
    (application,) = applications()
    client = _space_client(application)
    for _twice in range(2):
        client.post(reverse("portal:withdraw"), {"confirm": "yes"})
        client.post(reverse("portal:delete"), {"confirm": "yes"})

    for template, words in [
        ("application_withdrawn", {"fr": "retirée", "ar": "سحب"}),
        ("deletion_requested", {"fr": "suppression", "ar": "حذف"}),
    ]:
        told = {(m.channel, m.recipient): m for m in messages_for(template)}
        assert len(messages_for(template)) == 2, template
        assert set(told) == {("sms", "+212661234567"), ("email", "fatima@example.ma")}
        sms = told["sms", "+212661234567"]
        assert sms.language == language and application.reference in sms.body
        assert words[language] in sms.body


@pytest.mark.django_db
def test_changing_the_phone_back_and_forth_does_not_flood_the_former_numbers(intake):
    apply(Client())
    (application,) = applications()
    client = _space_client(application)
    data = form_data()
    del data["cin"], data["privacy_consent"]
    for phone in ("0611111111", "0622222222", "0633333333", "0644444444", "0655555555"):
        assert client.post(reverse("portal:edit"), {**data, "phone": phone}).status_code == 302
    assert applications()[0].phone == "+212655555555"  # every change is made
    told = [m.recipient for m in messages_for("contact_changed")]
    assert told == ["+212661234567", "+212611111111", "+212622222222"]  # three a day


@pytest.mark.django_db
def test_once_deletion_is_asked_the_application_can_no_longer_be_corrected(intake):
    """What she would add now is about to be erased: the space offers no correction, and
    neither the edit page nor a document is taken."""
    apply(Client())
    (application,) = applications()
    client = _space_client(application)
    client.cookies["django_language"] = "en"
    client.post(reverse("portal:delete"), {"confirm": "yes"})
    space = client.get(reverse("portal:space")).content.decode()
    assert reverse("portal:edit") not in space
    assert "after that, this space no longer opens" in space
    data = form_data(first_name="Fatiha")
    del data["cin"], data["privacy_consent"]
    assert client.post(reverse("portal:edit"), data)["Location"] == reverse("portal:space")
    assert applications()[0].first_name == "Fatima"
    assert applications()[0].status == Application.Status.SUBMITTED  # until staff erase


def _followed_messages(client: Client, response) -> list[str]:
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:space")
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


@pytest.mark.django_db
def test_the_edit_page_of_a_withdrawn_application_sends_back_to_the_space(intake):
    from django.utils import translation

    apply(Client())
    (application,) = applications()
    client = _space_client(application)
    client.post(reverse("portal:withdraw"), {"confirm": "yes"})
    list(client.get(reverse("portal:space")).context["messages"])  # read "withdrawn"
    response = client.get(reverse("portal:edit"))
    with translation.override("fr"):
        expected = translation.gettext("Your application is withdrawn: it can no longer change.")
    assert _followed_messages(client, response) == [expected]


@pytest.mark.django_db
def test_the_edit_page_after_the_call_closed_sends_back_to_the_space(intake):
    import datetime

    from django.utils import timezone, translation

    apply(Client())
    (application,) = applications()
    client = _space_client(application)
    make_open_intake(intake.school, closes_at=timezone.now() - datetime.timedelta(minutes=1))
    response = client.get(reverse("portal:edit"))
    with translation.override("fr"):
        expected = translation.gettext("The call is closed: your application can no longer change.")
    assert _followed_messages(client, response) == [expected]


@pytest.mark.django_db
def test_the_space_shows_the_ineligibility_reason_in_arabic(intake):
    apply(Client(), birth_date="1980-01-01")
    (application,) = applications()
    client = _space_client(application)
    client.cookies["django_language"] = "ar"
    page = client.get(reverse("portal:space")).content.decode()
    assert 'dir="rtl"' in page
    assert "2026" in page


@pytest.mark.django_db
def test_the_public_school_page_lists_the_open_call(intake):
    page = Client().get(reverse("public:school", kwargs={"school_slug": "smara"})).content.decode()
    assert "Promotion 2026" in page
    assert APPLY in page


@pytest.mark.django_db
def test_the_first_visit_of_the_form_is_light(intake):
    response = Client().get(APPLY)
    assert response.status_code == 200
    assert len(response.content) < 60_000
    assert io.BytesIO(response.content)


@pytest.mark.django_db
def test_two_calls_of_one_school_in_one_year_never_share_a_reference(world):
    first = make_open_intake(world.smara, slug="promo-2026")
    make_open_intake(world.smara, slug="promo-2026-bis", opens_at=first.opens_at)
    apply(Client())
    response = Client().post("/schools/smara/calls/promo-2026-bis/apply/", form_data())
    assert response.status_code == 302
    references = [a.reference for a in applications()]
    assert len(references) == 2
    assert len(set(references)) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "tracks", "places"),
    [
        ("fr", "Cloud, Data et Secu", "Es-Semara ou Laâyoune"),
        ("ar", "cloud وdata وsecu", "السمارة أو العيون"),
    ],
)
def test_the_call_page_lists_tracks_and_places_in_the_languages_own_words(
    world, language, tracks, places
):
    from tremplin.schools.models import Province

    intake = make_open_intake(world.smara, tracks=("data", "secu", "cloud"))
    intake.provinces.set(Province.objects.filter(code__in=["221", "321"]))
    client = Client()
    client.cookies["django_language"] = language
    page = client.get(APPLY.removesuffix("apply/")).content.decode()
    assert tracks in page
    assert places in page
    # No Latin comma between Arabic words.
    assert ", العيون" not in page and ", data" not in page


@pytest.mark.django_db
def test_an_arabic_confirmation_greets_the_applicant_by_her_name_in_arabic_letters(intake):
    """The email in Arabic said "مرحبًا Fatima"; in French it keeps the Latin name."""
    arabic = Client()
    arabic.cookies["django_language"] = "ar"
    apply(arabic, email="fatima@example.ma")
    apply(Client(), cin="CD654321", phone="0661234568", email="f2@example.ma", first_name_ar="")
    first, second = (m for m in messages_for("application_submitted") if m.channel == "email")
    assert first.language == "ar" and "فاطمة" in first.body and "Fatima" not in first.body
    assert second.language == "fr" and "Fatima" in second.body


@pytest.mark.django_db
def test_the_space_names_the_track_of_a_call_with_one_track(intake):
    apply(Client())
    (application,) = applications()
    with scopes_disabled():
        track = application.wishes.get().track
    page = _space_client(application).get(reverse("portal:space")).content.decode()
    assert f"<dd>{track}</dd>" in page


def _commune_options(html: str) -> list[str]:
    select = re.search(r'<select name="commune".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="(\d+)"', select)


def _first_group(html: str) -> tuple[str, list[str]]:
    select = re.search(r'<select name="commune".*?</select>', html, re.S).group(0)
    label, group = re.search(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S).groups()
    return label, re.findall(r'<option value="(\d+)"', group)


@pytest.mark.django_db
def test_the_commune_list_starts_with_the_communes_of_the_province_already_chosen(intake):
    """The edit page and a form sent back with an error list the communes of the province
    shown above them first, under its name; the others follow, grouped by province, so that
    without JavaScript a person who changes province still finds hers."""
    from tremplin.schools.models import Commune

    with scopes_disabled():
        semara = Commune.objects.get(code="221.01.01")
        own = Commune.objects.filter(province_id=semara.province_id)
        own = {str(pk) for pk in own.values_list("pk", flat=True)}
        every = Commune.objects.count()
    assert len(own) < every
    first_visit = Client().get(APPLY).content.decode()
    assert len(_commune_options(first_visit)) == every and "<optgroup" not in first_visit
    refused = apply(Client(), phone="not a phone")
    assert refused.status_code == 400
    html = refused.content.decode()
    assert _first_group(html) == (
        semara.province.name,
        sorted(own, key=_commune_options(html).index),
    )
    assert len(_commune_options(html)) == every
    apply(Client())
    (application,) = applications()
    page = _space_client(application).get(reverse("portal:edit")).content.decode()
    assert set(_first_group(page)[1]) == own and len(_commune_options(page)) == every
    assert f'<option value="{semara.pk}" selected>{semara.name}</option>' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        "21/03/2003",
        "21032003",
        "21-03-2003",
        "21 / 03 / 2003",
        "21 03 2003",
        "٢١/٠٣/٢٠٠٣",
        "2003-03-21",
    ],
)
def test_the_date_of_birth_is_read_day_first_as_people_type_it(intake, typed):
    assert apply(Client(), birth_date=typed).status_code == 302
    (application,) = applications()
    assert application.birth_date.isoformat() == "2003-03-21"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["1112003", "2132003", "211203", "210320030"])
def test_a_date_of_birth_in_digits_alone_is_read_only_as_eight(intake, typed):
    """1112003 may be 11 January or 1 November: refused, not guessed."""
    response = apply(Client(), birth_date=typed)
    assert response.status_code == 400 and applications() == []
    assert "Écrivez la date de naissance sous la forme jour/mois/année" in (
        response.content.decode()
    )


NO_SUCH_DAY = "This date does not exist: check the day and the month."
ORDER = "Write the date of birth as day/month/year, for example 21/03/2003."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "said"),
    [
        # Written day/month/year, as asked: repeating the order would not help her.
        ("31/02/2003", NO_SUCH_DAY),
        ("30022003", NO_SUCH_DAY),
        ("31-04-2003", NO_SUCH_DAY),
        ("29/02/2003", NO_SUCH_DAY),
        # A date that exists, or one not written day/month/year: the order to use.
        ("21/03-2003", ORDER),
        ("21.03/2003", ORDER),
        ("21/03/0000", ORDER),
        ("29/02/2004x", ORDER),
    ],
)
def test_a_day_the_month_lacks_is_pointed_out_and_any_other_slip_gets_the_order(
    intake, typed, said
):
    client = Client()
    client.cookies["django_language"] = "en"
    response = client.post(APPLY, form_data(birth_date=typed))
    assert response.status_code == 400 and applications() == []
    assert list(response.context["form"].errors["birth_date"]) == [said]


@pytest.mark.django_db
def test_a_date_of_birth_month_first_is_refused_with_the_order_to_use(intake):
    """A browser's date field on an English phone shows month first: the field is typed
    now, and a month-first date is refused with the order the form asks for."""
    response = apply(Client(), birth_date="03/21/2003")
    assert response.status_code == 400 and applications() == []
    html = response.content.decode()
    assert "Écrivez la date de naissance sous la forme jour/mois/année" in html
    assert 'type="date"' not in html and 'inputmode="numeric"' in html


@pytest.mark.django_db
def test_the_edit_page_shows_the_date_of_birth_day_first(intake):
    apply(Client())
    (application,) = applications()
    page = _space_client(application).get(reverse("portal:edit")).content.decode()
    assert 'value="21/03/2003"' in page


@pytest.mark.django_db
def test_a_correction_that_loses_the_conditions_is_not_said_with_a_green_updated(intake):
    from tremplin.schools.models import Commune

    apply(Client())
    (application,) = applications()
    client = _space_client(application)
    with scopes_disabled():
        elsewhere = Commune.objects.exclude(province__code="221").first()
    data = form_data(province=str(elsewhere.province_id), commune=str(elsewhere.pk))
    for name in ("cin", "privacy_consent"):
        data.pop(name)
    page = client.post(reverse("portal:edit"), data, follow=True).content.decode()
    assert "alert-warning" in page and "ne remplit pas les conditions" in page
    assert "alert-success" not in page
    # Corrected again, still outside the call's places: still a warning, not a green note.
    data["motivation"] = "Je veux apprendre."
    page = client.post(reverse("portal:edit"), data, follow=True).content.decode()
    assert "alert-warning" in page and "alert-success" not in page
    back = form_data()
    for name in ("cin", "privacy_consent"):
        back.pop(name)
    page = client.post(reverse("portal:edit"), back, follow=True).content.decode()
    assert "alert-success" in page and "remplit désormais les conditions" in page


@pytest.mark.django_db
def test_a_closed_calls_form_leads_to_the_calls_open_now(world):
    make_open_intake(world.smara, slug="promo-2025", status="closed")
    make_open_intake(world.smara)
    response = Client().get("/schools/smara/calls/promo-2025/apply/")
    assert response.status_code in (403, 410)
    assert f'href="{reverse("public:school", args=["smara"])}"' in response.content.decode()


@pytest.mark.django_db
def test_a_withdrawn_application_no_longer_shows_its_eligibility(intake):
    apply(Client(), birth_date="1980-01-01")
    (application,) = applications()
    client = _space_client(application)
    assert "Éligibilité" in client.get(reverse("portal:space")).content.decode()
    client.post(reverse("portal:withdraw"), {"confirm": "yes"})
    page = client.get(reverse("portal:space")).content.decode()
    assert 'data-testid="withdrawn"' in page
    assert "Éligibilité" not in page


@pytest.mark.django_db
def test_the_arabic_phone_example_keeps_its_digits_in_order(intake):
    """Between Arabic words, "06 61 23 45 67" showed as "67 45 23 61 06": the example is
    isolated left to right, and does not break across lines (a phone's second line, outside
    the isolate, showed "67 45 23 61" again)."""
    client = Client()
    client.cookies["django_language"] = "ar"
    page = apply(client, phone="12").content.decode()
    assert "\u206606\u00a061\u00a023\u00a045\u00a067\u2069" in page


@pytest.mark.django_db
def test_a_call_for_one_place_names_it_without_a_list(intake):
    from tremplin.admissions.eligibility import describe

    with translation.override("fr"):
        text = describe({"rule": "residence", "params": {"provinces": [intake.provinces.get().pk]}})
    assert text == "Cet appel est réservé aux habitants de ce lieu\u00a0: Es-Semara (province)."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("picks", "repeated"),
    [
        (("web", "", "web"), "wish_3"),
        (("web", "data", "web"), "wish_3"),
        (("web", "web", ""), "wish_2"),
    ],
    ids=["second left empty", "third repeats the first", "second repeats the first"],
)
def test_a_track_chosen_twice_is_pointed_out_on_the_choice_that_repeats_it(world, picks, repeated):
    """The error always went under the second choice, empty or not."""
    intake = make_open_intake(world.smara, tracks=("dev-web", "data", "design"))
    with scopes_disabled():
        ids = {it.track.code: it.track_id for it in intake.intake_tracks.select_related("track")}
    ids["web"] = ids["dev-web"]
    wishes = {f"wish_{rank}": str(ids[pick]) if pick else "" for rank, pick in enumerate(picks, 1)}
    response = apply(Client(), **wishes)
    assert response.status_code == 400 and applications() == []
    assert response.context["form"].errors == {
        repeated: ["Choisissez chaque filière une seule fois."]
    }


@pytest.mark.django_db
def test_a_missing_first_wish_says_what_to_choose(world):
    make_open_intake(world.smara, tracks=("dev-web", "data"))
    response = apply(Client(), wish_1="")
    assert response.status_code == 400
    assert "Choisissez la filière que vous préférez." in response.content.decode()


@pytest.mark.django_db
def test_pages_that_say_contact_the_school_say_how(world, intake):
    """The school's phone, email and address where applicants are told to contact it: its
    public page, the eligibility refusal, the CIN already used."""
    with scopes_disabled():
        world.smara.phone, world.smara.email = "0528 00 11 22", "contact@smara.example.ma"
        world.smara.address = "Avenue Mohammed V, Es-Semara"
        world.smara.save()
    contact = 'data-testid="school-contact"'
    public = Client().get(reverse("public:school", args=["smara"])).content.decode()
    assert contact in public and 'href="tel:0528001122"' in public
    assert "mailto:contact@smara.example.ma" in public
    refused = Client()
    page = refused.get(apply(refused, birth_date="1980-01-01")["Location"]).content.decode()
    assert contact in page and "Avenue Mohammed V" in page
    other = Client()
    page = other.get(apply(other, phone="0700000001")["Location"]).content.decode()
    assert 'data-testid="cin-taken"' in page and contact in page
    # In Arabic, the address the school wrote in Arabic.
    with scopes_disabled():
        world.smara.address_ar = "شارع محمد الخامس، السمارة"
        world.smara.save()
    arabic = Client()
    arabic.cookies["django_language"] = "ar"
    public = arabic.get(reverse("public:school", args=["smara"])).content.decode()
    assert "<bdi>شارع محمد الخامس، السمارة</bdi>" in public and "Avenue Mohammed V" not in public


@pytest.mark.django_db
def test_a_province_the_process_has_not_seen_yet_still_gets_its_communes(intake):
    """The geography is read once per process; a province added since (or the ids of a new
    test database) reloads it instead of leaving its communes out."""
    from tremplin.admissions.forms import ApplicationForm
    from tremplin.admissions.portal_reads import Geography
    from tremplin.schools.models import Commune, Province

    Geography.provinces()  # the copy, before the new province
    with scopes_disabled():
        region = Province.objects.get(code="221").region
        province = Province.objects.create(
            code="999", name="Nouvelle", name_ar="جديدة", region=region
        )
        commune = Commune.objects.create(
            code="999.01.01", name="Ville", name_ar="مدينة", province=province
        )
    form = ApplicationForm(initial={"province": province.pk}, intake=intake)
    assert form.fields["commune"].choices[1] == ("Nouvelle", [(str(commune.pk), "Ville")])
    htmx = Client().get(reverse("portal:communes"), {"province": province.pk}).content.decode()
    assert f'value="{commune.pk}"' in htmx


@pytest.mark.django_db
def test_after_asking_for_deletion_a_page_left_open_says_why_nothing_changes(intake):
    Client().post(APPLY, form_data())
    (application,) = applications()
    client = _space_client(application)
    client.cookies["django_language"] = "en"
    client.post(reverse("portal:delete"), {"confirm": "yes"})
    page = client.get(reverse("portal:edit"), follow=True).content.decode()
    assert "You asked for your data to be deleted: your application can no longer change." in (page)
    assert "The call is closed" not in page


@pytest.mark.django_db
def test_a_call_opened_ahead_of_its_date_says_when_instead_of_a_button_that_refuses(world):
    import datetime

    from django.utils import timezone

    opens = timezone.now() + datetime.timedelta(days=3)
    make_open_intake(world.smara, opens_at=opens)
    client = Client()
    client.cookies["django_language"] = "en"
    school = client.get(reverse("public:school", args=["smara"])).content.decode()
    assert "Applications open on" in school and APPLY not in school
    refused = client.get(APPLY)
    assert refused.status_code == 403
    assert "Applications open on" in refused.content.decode()
    # Past its closing date, since when.
    make_open_intake(world.smara, closes_at=timezone.now() - datetime.timedelta(hours=1))
    late = client.get(APPLY)
    assert late.status_code == 410 and "Applications closed since" in late.content.decode()


@pytest.mark.django_db
def test_the_confirmation_page_says_nothing_of_what_the_phone_received_before(intake):
    """Its SMS may be held back (``notify.services.CONFIRMATIONS_PER_RECIPIENT``), but the
    page reads the same for any phone typed: a stranger learns nothing of a number's day."""
    from tremplin.notify.services import outbox_flush

    client = Client()
    client.cookies["django_language"] = "en"
    for n in range(5):  # a family, or a cyber café's number, five times today
        client.post(APPLY, form_data(cin=f"AB12345{n}"))
    outbox_flush()

    def page(cin: str, phone: str) -> str:
        html = client.post(APPLY, form_data(cin=cin, phone=phone), follow=True).content.decode()
        with scopes_disabled():
            reference = Application.objects.get(cin=cin).reference
        html = html.replace(reference, "REF")
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        return re.sub(r"\?t=[^\"&]+", "", html)  # the page's own signed address

    flooded, fresh = page("AB123459", "0661234567"), page("AB123458", "0699999999")
    assert flooded == fresh
    assert "If none arrives within a few minutes, write down your reference now" in fresh
    assert outbox_flush()["failed"] == 1  # the flooded number's, held back


@pytest.mark.django_db
def test_the_public_pages_answer_head_as_link_checkers_ask(intake):
    """A shared link is often checked with HEAD first (link checkers, previews): it got 405."""
    client = Client()
    for url in ["/", "/schools/smara/", intake.get_absolute_url()]:
        assert client.head(url).status_code == 200, url


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ar", "fr"])
def test_the_places_are_listed_in_the_order_of_the_readers_alphabet(world, language):
    """An Arabic page lists بوجدور after السمارة, not in the order of the French names, and
    أزيلال before آسفي (the forms of alef as one letter); a French page lists "Laâyoune"
    before "Larache"."""
    from tremplin.core.text import fold

    make_open_intake(world.smara)
    client = Client()
    client.cookies["django_language"] = language
    page = client.get(APPLY).content.decode()
    select = page.split('name="province"')[1].split("</select>")[0]
    provinces = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select)
    assert len(provinces) > 3

    def key(name: str) -> str:
        return fold(name)

    assert key("أزيلال") < key("آسفي") and key("Laâyoune") < key("Larache")
    assert provinces == sorted(provinces, key=key)
    # The communes of a province, as htmx narrows the list.
    province = re.search(r'<option value="(\d+)"', select).group(1)
    options = client.get(reverse("portal:communes"), {"province": province}).content.decode()
    communes = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', options)
    assert len(communes) > 1 and communes == sorted(communes, key=key)


@pytest.mark.django_db
def test_the_commune_list_stays_usable_while_it_reloads_and_says_what_it_became(world):
    """Disabled while the province's communes loaded, the list was skipped by the keyboard
    on a slow line (a commune picked meanwhile is kept by communes.js, in the browser's
    tests); the new list was replaced without a word to a screen reader."""
    from tremplin.schools.models import Province

    make_open_intake(world.smara)
    page = Client(headers={"cookie": "django_language=en"}).get(APPLY).content.decode()
    (province,) = re.findall(r'<select name="province"[^>]*>', page)
    assert "hx-disabled-elt" not in province
    assert '<span id="communes-said" class="visually-hidden" role="status"></span>' in page
    with scopes_disabled():
        semara = Province.objects.get(code="221")
    for language, said in (("en", "6 communes in Es-Semara"), ("ar", "6 جماعات في السمارة")):
        client = Client(headers={"cookie": f"django_language={language}"})
        options = client.get(reverse("portal:communes"), {"province": semara.pk}).content.decode()
        assert f'<span id="communes-said" hx-swap-oob="innerHTML">{said}</span>' in options
    # And the optional names say so, since unmarked fields are required.
    assert (
        "First name in Arabic letters (optional)"
        in Client(headers={"cookie": "django_language=en"}).get(APPLY).content.decode()
    )


@pytest.mark.django_db
def test_a_kept_files_name_is_shown_as_text_and_a_refused_replacement_keeps_it(world, own_media):
    """Help texts are drawn as HTML: "CV <Fatima> & R&D.pdf" broke the page (and could carry
    markup). A new file that is refused leaves the one kept; a new valid one replaces it,
    and the one it replaced is deleted."""
    make_open_intake(world.smara, required_documents=["cin"])
    client = Client()
    client.cookies["django_language"] = "en"
    first = client.post(
        APPLY,
        {
            **form_data(phone="0522123456"),
            "document_cin": _pdf_upload(b"%PDF-1.4\n", "CV <Fatima> & R&D.pdf"),
        },
    )
    page = first.content.decode()
    assert "<Fatima>" not in page and "CV &lt;Fatima&gt; &amp; R&amp;D.pdf" in page
    token = first.context["form"]["held_cin"].value()
    (held,) = _held_files()

    refused = client.post(
        APPLY,
        {
            **form_data(phone="0522123456"),
            "held_cin": token,
            "document_cin": _pdf_upload(b"<html>not a pdf", "page.pdf"),
        },
    )
    form = refused.context["form"]
    assert "document_cin" in form.errors and form["held_cin"].value() == token
    assert _held_files() == [held]

    replaced = client.post(
        APPLY,
        {
            **form_data(phone="0522123456"),
            "held_cin": token,
            "document_cin": _pdf_upload(b"%PDF-1.4\nnew", "new.pdf"),
        },
    )
    new_token = replaced.context["form"]["held_cin"].value()
    assert new_token != token and held not in _held_files() and len(_held_files()) == 1
    # Sent with a file chosen again in place of the one held: neither stays held.
    assert (
        client.post(
            APPLY,
            {**form_data(), "held_cin": new_token, "document_cin": _pdf_upload(b"%PDF-1.4\n3")},
        ).status_code
        == 302
    )
    assert _held_files() == []


@pytest.mark.django_db
def test_a_connection_holds_a_few_files_an_hour_not_the_disk(world, own_media, monkeypatch):
    """Nobody is signed in on the form: a script sending it back with 5 MB files again and
    again would fill the disk for a day. Past its allowance, a connection's form sent back
    asks for its files again (as before files were held); another connection still holds."""
    from tremplin.admissions import held_uploads

    monkeypatch.setattr(held_uploads, "HELD_PER_CONNECTION", 2)
    make_open_intake(world.smara, required_documents=["cin"])

    def send_back(ip: str):
        client = Client(REMOTE_ADDR=ip)
        client.cookies["django_language"] = "en"
        return client.post(
            APPLY, {**form_data(phone="0522123456"), "document_cin": _pdf_upload(b"%PDF-1.4\n")}
        ).context["form"]

    assert [bool(send_back("105.66.1.1")["held_cin"].value()) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert send_back("105.66.1.1").errors["document_cin"][0].startswith("Choose this file again")
    assert len(_held_files()) == 2
    assert send_back("196.200.1.1")["held_cin"].value()
    assert len(_held_files()) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_correction_after_a_staff_refusal_is_told_to_go_back_to_the_school(intake, language):
    """Staff found her not eligible ("over 35"); she corrects her date of birth. She was told
    that with these answers she fails the conditions, the staff's reason under it as if
    the rules still said so, and to correct her application: the rules decide nothing
    here, the school looks at its decision again."""
    apply(Client())
    (application,) = applications()
    with scopes_disabled():
        Application.objects.filter(pk=application.pk).update(
            eligibility=Application.Eligibility.INELIGIBLE,
            eligibility_overridden=True,
            override_reason="Plus de 35 ans",
        )
    client = _space_client(application)
    client.cookies["django_language"] = language
    data = form_data(birth_date="2001-02-03")
    del data["cin"], data["privacy_consent"]
    assert client.post(reverse("portal:edit"), data).status_code == 302
    page = client.get(reverse("portal:space")).content.decode().replace("&#x27;", "'")
    told = {
        "en": "Your application is updated. The school decided itself whether",
        "ar": "قررت المدرسة بنفسها",
    }[language]
    assert told in page
    assert "Plus de 35 ans" in page
    assert 'data-testid="decision-to-review"' in page
    if language == "en":
        assert "with these answers it does not meet" not in page
        assert "You do not meet the conditions" not in page
        # Her email corrected: nothing the rules read, nothing goes back to the school.
        data["email"] = "autre@example.ma"
        assert client.post(reverse("portal:edit"), data).status_code == 302
        page = client.get(reverse("portal:space")).content.decode().replace("&#x27;", "'")
        assert "Your application is updated." in page
        assert "will look at its decision again" not in page
