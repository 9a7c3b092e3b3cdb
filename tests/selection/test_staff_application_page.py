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
