"""Once a ranking of the call is published, staff can no longer decide eligibility: the
ranking was made on it, and the applicant would read an outcome and an eligibility that
contradict each other."""

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.selection.letters_world import applications, publish_run, selection_intake
from tremplin.admissions.models import Application


@pytest.fixture
def intake(world):
    return selection_intake(world.smara)


def staff(world):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    return client


def decide(world, application, decision: str):
    return staff(world).post(
        reverse(
            "admissions:application_eligibility",
            args=["smara", application.intake.slug, application.reference],
        ),
        {"decision": decision, "reason": "Pièce justificative reçue"},
    )


def detail(world, application) -> str:
    url = reverse(
        "admissions:application_detail",
        args=["smara", application.intake.slug, application.reference],
    )
    return staff(world).get(url).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("which", "decision"),
    [
        (-1, "eligible"),  # turned away by the rules
        (3, "rules"),  # the rules let her in, staff did not
    ],
)
def test_no_one_becomes_eligible_once_the_ranking_is_published(world, intake, which, decision):
    application = applications(intake)[which]
    assert decide(world, application, "ineligible").status_code == 302
    publish_run(intake, world.users["admissions"])
    with scopes_disabled():
        before = Application.objects.values().get(pk=application.pk)

    response = decide(world, application, decision)  # a page left open before

    assert response.status_code == 400
    assert "Run #1 is published" in response.content.decode()
    with scopes_disabled():
        assert Application.objects.values().get(pk=application.pk) == before
    page = detail(world, application)
    assert 'data-testid="eligibility-frozen"' in page
    # "Not eligible" only: its reason, which she reads, can still be written again.
    assert re.findall(r'name="decision" value="([a-z]+)"', page) == ["ineligible"]
    assert decide(world, application, "ineligible").status_code == 302


@pytest.mark.django_db
def test_once_published_someone_on_the_waiting_list_can_still_be_marked_not_eligible(world, intake):
    """False information found after the publication."""
    waiting = applications(intake)[3]
    publish_run(intake, world.users["admissions"])
    assert 'data-testid="eligibility-frozen"' not in detail(world, waiting)

    assert decide(world, waiting, "ineligible").status_code == 302
    with scopes_disabled():
        waiting.refresh_from_db()
    assert waiting.eligibility == Application.Eligibility.INELIGIBLE
    page = detail(world, waiting)
    assert 'data-testid="eligibility-frozen"' in page
    assert re.findall(r'name="decision" value="([a-z]+)"', page) == ["ineligible"]


@pytest.mark.django_db
def test_a_refused_reason_shows_no_choice_to_give_back_what_the_rules_decide(world, intake):
    application = applications(intake)[0]
    response = staff(world).post(
        reverse(
            "admissions:application_eligibility",
            args=["smara", intake.slug, application.reference],
        ),
        {"decision": "ineligible", "reason": "  "},
    )
    assert response.status_code == 400
    assert 'value="ineligible"' in response.content.decode()
    assert 'value="rules"' not in response.content.decode()
