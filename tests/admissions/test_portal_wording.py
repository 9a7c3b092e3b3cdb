"""What the portal says where it used to be vague or wrong: a call closed early, a date of
birth out of range, the documents of the applicant space."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import Application, Intake

APPLY = "/schools/smara/calls/promo-2026/apply/"


def client_in(language: str) -> Client:
    client = Client()
    client.cookies["django_language"] = language
    return client


@pytest.mark.django_db
def test_a_call_closed_early_by_staff_says_it_is_closed_not_that_it_may_reopen(world):
    intake = make_open_intake(world.smara, closes_at=timezone.now() + datetime.timedelta(days=5))
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(status=Intake.Status.CLOSED)
    page = client_in("en").get(APPLY)
    assert page.status_code == 403  # not 410 Gone: staff may open it again
    text = page.content.decode()
    assert "This call is closed: it no longer takes applications." in text
    assert "at the moment" not in text
    assert "Applications closed since" not in text  # its closing date has not come
    french = client_in("fr").get(APPLY).content.decode()
    assert "Cet appel est clos\u00a0: il ne reçoit plus de candidatures." in french


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("born", "said"),
    [
        ("21/03/2030", "The date of birth is in the future: check the year."),
        ("21/03/1880", "The date of birth is before 1900: check the year."),
    ],
)
def test_a_date_of_birth_out_of_range_says_what_is_wrong(world, born, said):
    make_open_intake(world.smara)
    response = client_in("en").post(APPLY, form_data(birth_date=born))
    assert response.status_code == 400
    assert response.context["form"].errors["birth_date"] == [said]
    with scopes_disabled():
        assert not Application.objects.exists()


@pytest.mark.django_db
def test_a_date_of_birth_in_the_future_is_explained_in_arabic(world):
    make_open_intake(world.smara)
    response = client_in("ar").post(APPLY, form_data(birth_date="21/03/2030"))
    assert response.context["form"].errors["birth_date"] == [
        "تاريخ الازدياد في المستقبل: تحققوا من السنة."
    ]


@pytest.mark.django_db
def test_the_motivation_question_is_not_followed_by_a_colon(world):
    make_open_intake(world.smara)
    page = client_in("fr").get(APPLY).content.decode()
    label = re.search(r'<label[^>]*for="id_motivation"[^>]*>(.*?)</label>', page, re.S)[1]
    assert "rejoindre\u00a0?" in label
    assert " ".join(label.split()) == "Pourquoi voulez-vous nous rejoindre ? (facultatif)"
