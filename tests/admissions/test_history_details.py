"""What a line of an application's history says besides its action: which answers the
applicant corrected (their names, never their values), which mark changed and how."""

import datetime
import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.test_screening_changed_after_decision import edit, omar
from tests.admissions.test_screening_changed_after_decision import intake as intake
from tests.selection.letters_world import applications, selection_intake
from tremplin.selection.assessment_marks import audit_mark_change
from tremplin.selection.models import Component


def history(world, application, language: str = "en") -> str:
    client = world.client("admissions")
    client.cookies["django_language"] = language
    url = reverse(
        "admissions:application_detail",
        args=["smara", application.intake.slug, application.reference],
    )
    page = client.get(url).content.decode()
    lines = re.findall(r'<li class="list-group-item small text-break">(.*?)</li>', page, re.S)
    return "\n".join(" ".join(line.split()) for line in lines)


@pytest.mark.django_db
def test_a_correction_by_the_applicant_names_the_answers_she_changed(world, intake):
    edit(birth_date=datetime.date(1999, 5, 5), motivation="Apprendre le web")
    page = history(world, omar())
    assert "Corrected from the applicant space · Date of birth and Motivation" in page, page
    assert "1999" not in page and "Apprendre le web" not in page  # names, not values


@pytest.mark.django_db
def test_a_changed_mark_says_which_part_and_from_what_to_what(world):
    intake = selection_intake(world.smara)
    first = applications(intake)[0]
    with scopes_disabled():
        interview = Component.objects.get(scheme__intake=intake, code="interview")
    for before, after in [(None, "12.50"), ("12.50", "absent")]:
        audit_mark_change(
            component=interview, application=first, before=before, after=after,
            source="jury", actor=world.users["admissions"],
        )  # fmt: skip
    page = history(world, first)
    assert "Mark changed · Entretien: 12.5 (before: —)" in page
    assert "Mark changed · Entretien: absent (before: 12.5)" in page
    # Each reader writes the mark as she writes numbers, as in the jury's pages.
    french = history(world, first, "fr")  # its spaces made plain
    assert "Entretien : 12,5 (avant : —)" in french, french
    arabic = history(world, first, "ar")
    assert "المقابلة" in arabic and "12,5" in arabic  # its Arabic name


@pytest.mark.django_db
def test_a_correction_or_a_document_that_moves_eligibility_says_so(world, intake):
    """Let in by the rules, then her own correction made her not eligible: the history said
    "Corrected from the applicant space · Date of birth", its last word on eligibility
    "eligible"."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.admissions.open_intake import form_data, make_open_intake
    from tremplin.admissions import documents

    edit(birth_date=datetime.date(1999, 5, 5))
    edit(motivation="Apprendre le web")
    edit(birth_date=datetime.date(1980, 5, 5))
    lines = history(world, omar()).splitlines()
    corrections = [line.split(" · ", 3)[3] for line in lines if "Corrected" in line]
    assert corrections == [
        "Date of birth · now eligible",
        "Motivation",
        "Date of birth · now not eligible",
    ]
    assert "الآن غير مؤهل" in history(world, omar(), "ar")

    call = make_open_intake(world.smara, slug="docs", required_documents=["cin"])
    Client().post(call.get_absolute_url() + "apply/", form_data(cin="ZZ111111"))
    with scopes_disabled():
        fatima = call.applications.select_related("intake__school", "commune").get()
        documents.application_document_give(
            application=fatima, kind="cin", content_type="application/pdf",
            upload=SimpleUploadedFile("cin.pdf", b"%PDF-1.4\n%%EOF\n"),
        )  # fmt: skip
    assert (
        "Document sent from the applicant space · copy of the national identity card · now eligible"
    ) in history(world, fatima)


@pytest.mark.django_db
def test_an_imported_application_does_not_pass_for_a_consent_given_here(world, intake):
    """The import records the call's notice on each application: its page said "privacy
    notice v1", as for an applicant who ticked the box on the form."""
    from tremplin.admissions.models import Application

    def consents(application) -> str:
        client = world.client("admissions")
        client.cookies["django_language"] = "en"
        url = reverse(
            "admissions:application_detail",
            args=["smara", application.intake.slug, application.reference],
        )
        page = client.get(url).content.decode()
        return " ".join(re.search(r"<dt>Consents</dt><dd>(.*?)</dd>", page, re.S)[1].split())

    applicant = omar()
    assert consents(applicant) == "privacy notice v1"
    with scopes_disabled():
        Application.objects.filter(pk=applicant.pk).update(source=Application.Source.IMPORT)
    assert consents(applicant) == (
        "privacy notice v1, recorded by the import: not accepted on this platform"
    )


@pytest.mark.django_db
def test_staff_read_each_version_of_the_notice_applicants_accepted(world, intake):
    """The versions were listed by number only: what those who accepted v1 agreed to could
    be read nowhere once v2 was published."""
    from tremplin.admissions.models import PrivacyNotice

    with scopes_disabled():
        first = PrivacyNotice.objects.get(school=world.smara, version=1)
        PrivacyNotice.objects.create(
            school=world.smara, version=2, cndp_authorisation="D-W-0999/2026",
            text="Nouvelle notice.", text_ar="إشعار جديد.",
        )  # fmt: skip
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    listing = client.get(reverse("admissions:intake_list", args=["smara"])).content.decode()
    url = reverse("admissions:notice_detail", args=["smara", 1])
    assert f'href="{url}"' in listing
    page = client.get(url).content.decode()
    assert first.cndp_authorisation in page
    assert " ".join(first.text.split()[:5]) in " ".join(page.split())
    assert 'lang="ar" dir="rtl"' in page
    assert "A newer version, v2, has been published since" in page
    assert "1 application made on the form accepted this version." in page  # Omar's
    assert "Promotion 2026" in page  # the call that asks for it
    assert client.get(reverse("admissions:notice_detail", args=["smara", 9])).status_code == 404
