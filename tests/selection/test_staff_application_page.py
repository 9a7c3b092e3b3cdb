"""An application's staff page says where the selection left it: offer, answer, waiting
list, training."""

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.selection.offers_world import app, offer_of
from tremplin.selection.decisions import decision_for
from tremplin.selection.offers import offer_accept


def selection_of(client, application, language: str = "en") -> str:
    client.cookies["django_language"] = language
    url = reverse(
        "admissions:application_detail",
        args=["smara", application.intake.slug, application.reference],
    )
    html = client.get(url).content.decode()
    return html.split('data-testid="selection">')[1].split("</section>")[0]


def test_the_page_says_the_offer_the_answer_and_the_training(world, intake):
    client = world.client("admissions")
    offered = app(intake, 1)
    assert "Seat offered: the answer is awaited until" in selection_of(client, offered)
    assert re.search(r"Merit rank \d+ of 10\.", selection_of(client, offered))

    offer_accept(offer=offer_of(offered), channel="applicant")
    text = selection_of(client, offered)
    assert "Seat accepted." in text and "in training" in text


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_waiting_list_position_is_the_current_one(world, intake, language):
    with scopes_disabled():
        waiting = next(
            a
            for a in (app(intake, n) for n in range(1, 11))
            if (d := decision_for(a)) is not None and d.current_position == 1
        )
    client = world.client("director")
    text = selection_of(client, waiting)
    translated = selection_of(client, waiting, language)
    assert "On the waiting list: position 1 now." in text
    expected = {"fr": "liste d'attente", "ar": "لائحة الانتظار"}[language]
    assert expected in translated.replace("&#x27;", "'")


def test_no_selection_before_a_ranking_is_published(world):
    from django.test import Client

    from tests.admissions.open_intake import form_data, make_open_intake

    intake = make_open_intake(world.smara)
    Client().post("/schools/smara/calls/promo-2026/apply/", form_data())
    with scopes_disabled():
        (application,) = intake.applications.all()
    url = reverse(
        "admissions:application_detail", args=["smara", intake.slug, application.reference]
    )
    html = world.client("admissions").get(url).content.decode()
    assert 'data-testid="selection"' not in html


def history_of(client, application, language: str = "en") -> list[str]:
    """The history's lines, each without its date."""
    client.cookies["django_language"] = language
    url = reverse(
        "admissions:application_detail",
        args=["smara", application.intake.slug, application.reference],
    )
    html = client.get(url).content.decode()
    items = html.split('data-testid="history"')[1].split("</ul>")[0]
    lines = re.findall(r"<li[^>]*>(.*?)</li>", items, re.S)
    return [" · ".join(line.split(" · ")[1:]).strip() for line in lines]


def test_the_history_tells_the_outcome_published_the_letter_and_the_enrolment(world, intake):
    """The ranking's publication, the batches of letters and the enrolment were recorded
    for the call or not at all: an application's history went from its marks to an offer
    made, with no word of the decision that led to it or of the training that followed."""
    from django.utils import timezone

    from tremplin.selection.models import Letter, LetterBatch

    client = world.client("admissions")
    director = world.users["director"]
    offered = app(intake, 1)
    with scopes_disabled():
        waiting = next(
            a
            for a in (app(intake, n) for n in range(1, 11))
            if (d := decision_for(a)) is not None and d.current_position == 2
        )
        batch = LetterBatch.objects.create(
            intake=intake, kind="decision", notify=True, created_by=director,
            finished_at=timezone.now(), status="done",
        )  # fmt: skip
        Letter.objects.create(application=offered, kind="decision", batch=batch, language="fr")
    offer_accept(offer=offer_of(offered), channel="applicant")

    lines = history_of(client, offered)
    published = f"{director} · Ranking published · Admitted"
    # Its email went too only where she gave an address.
    assert not offered.email
    letter = f"{director} · Letter prepared · Decision, with its SMS"
    accepted = "applicant or system · Seat accepted"
    assert lines.index(published) < lines.index(letter) < lines.index(accepted)
    assert re.fullmatch(r"applicant or system · Enrolled in the cohort · .+", lines[-1])

    assert f"{director} · Ranking published · On the waiting list, position 2" in (
        history_of(client, waiting)
    )
    arabic = history_of(client, waiting, "ar")
    assert any("لائحة الانتظار" in line for line in arabic), arabic


def test_the_history_tells_where_and_when_the_applicant_was_convened_and_by_whom(
    world, monkeypatch
):
    """The convocations are audited for the test or the interview as a whole."""
    from tests.selection.assessment_builders import stub_letters
    from tests.selection.letters_world import (
        applications,
        convene_to_interview,
        convene_to_test,
        selection_intake,
    )
    from tremplin.selection.assessment import test_convocations_send
    from tremplin.selection.interviews import interview_convocations_send
    from tremplin.selection.models import Component

    stub_letters(monkeypatch)
    call = selection_intake(world.smara, n=2, slug="promo-conv")
    convene_to_test(call)
    convene_to_interview(call)
    officer = world.users["admissions"]
    with scopes_disabled():
        components = {c.code: c for c in Component.objects.filter(scheme__intake=call)}
        test_convocations_send(component=components["test"], actor=officer)
        interview_convocations_send(component=components["interview"], actor=officer)
    first = applications(call)[0]

    lines = history_of(world.client("director"), first)
    assert f"{officer} · Convened to the test · Salle polyvalente, 9/12/25, 9:00\u202fAM" in lines
    interview = f"{officer} · Convened to the interview · 9/20/25"
    assert any(line.startswith(interview) for line in lines)
    arabic = history_of(world.client("director"), first, "ar")
    # The place, then the time, with an Arabic comma.
    assert any("القاعة متعددة الاختصاصات، " in line for line in arabic), arabic

    # Marked convened by no convocation the audit log holds (a script): the school's staff.
    from django.utils import timezone

    from tremplin.selection.models import InterviewSlot

    with scopes_disabled():
        InterviewSlot.objects.filter(application=first).update(convened_at=timezone.now())
    lines = history_of(world.client("director"), first)
    assert any(line.startswith("school staff · Convened to the interview") for line in lines)
