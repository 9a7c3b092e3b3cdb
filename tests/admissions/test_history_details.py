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
    assert "Corrected by the applicant · Date of birth and Motivation" in page, page
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
    assert "Mark changed · Entretien: 12.50 (before: —)" in page
    assert "Mark changed · Entretien: absent (before: 12.50)" in page
    assert "المقابلة" in history(world, first, "ar")  # its Arabic name


@pytest.mark.django_db
def test_a_correction_or_a_document_that_moves_eligibility_says_so(world, intake):
    """Let in by the rules, then her own correction made her not eligible: the history said
    "Corrected by the applicant · Date of birth", its last word on eligibility "eligible"."""
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
    assert "Document sent by the applicant · copy of the national identity card · now eligible" in (
        history(world, fatima)
    )
