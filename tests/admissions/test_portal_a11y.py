"""What a screen reader, a keyboard or a phone's keypad needs of the forms and pages (an
accessibility review, WCAG 2.2): a form sent back says so first, names in Arabic are read in
Arabic, optional fields say so, hints fit the keypad."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import applied_through_the_portal, make_open_intake
from tremplin.admissions.models import Application

pytestmark = pytest.mark.django_db

APPLY = "/schools/smara/calls/promo-2026/apply/"


def english() -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    return client


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def summary(page: str) -> str:
    """The error summary: focused on load, so read first."""
    found = re.search(r'<div id="error-summary"[^>]*autofocus[^>]*>(.*?)</div>', page, re.S)
    assert found, "no error summary"
    return found.group(1)


def test_a_wrong_code_or_a_door_form_sent_back_says_so_first(world):
    """The door and the code form came back with focus on the page's body and its title
    unchanged: nothing said a screen reader's user that the code was refused."""
    applied_through_the_portal(world.smara)
    client = english()
    door = client.post(reverse("portal:access"), {"reference": "", "cin": ""}).content.decode()
    assert title(door) == "Error: Follow my application · Tremplin"
    assert 'href="#id_reference"' in summary(door)
    with scopes_disabled():
        application = Application.objects.get()
    client.post(reverse("portal:access"), {"reference": application.reference, "cin": "AB123456"})
    wrong = client.post(reverse("portal:code"), {"code": "000000"}).content.decode()
    assert title(wrong) == "Error: Your code · Tremplin"
    assert 'href="#id_code"' in summary(wrong) and "This code is not valid" in summary(wrong)
    assert not title(client.get(reverse("portal:access")).content.decode()).startswith("Error")


def test_a_wrong_password_says_so_first(world):
    page = english().post(reverse("core:login"), {"username": "x", "password": "y"})
    assert title(page.content.decode()).startswith("Error: Staff login")
    assert "<li>" in summary(page.content.decode())


def test_a_staff_form_sent_back_on_an_application_says_so_first(world):
    application = applied_through_the_portal(world.smara)
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    url = reverse(
        "admissions:application_contact",
        args=["smara", application.intake.slug, application.reference],
    )
    page = client.post(url, {"phone": "12", "email": "", "reason": ""}).content.decode()
    assert title(page) == f"Error: {application.reference} · Tremplin"
    assert 'href="#contact_phone"' in summary(page)


def test_arabic_names_and_texts_are_marked_arabic_on_a_french_page(world):
    """A French voice cannot read Arabic: the names and a motivation typed in Arabic were read
    as French, letter by letter or not at all."""
    from tests.admissions.open_intake import form_data

    intake = make_open_intake(world.smara)
    with scopes_disabled():
        data = form_data(motivation="أريد أن أتعلم البرمجة لأعمل في مدينتي.")
    Client().post(APPLY, data)
    with scopes_disabled():
        application = Application.objects.get()
    detail = world.client("admissions").get(
        reverse("admissions:application_detail", args=["smara", intake.slug, application.reference])
    )
    page = detail.content.decode()
    assert f'<bdi lang="ar">{application.full_name_ar}</bdi>' in page
    assert '<dd dir="auto" lang="ar">أريد أن أتعلم' in page
    listing = world.client("admissions").get(
        reverse("admissions:application_list", args=["smara", intake.slug])
    )
    assert f'lang="ar">{application.full_name_ar}</bdi>' in listing.content.decode()


def test_lang_of_names_the_other_script_only():
    from django.utils import translation

    from tremplin.core.templatetags.tremplin import lang_of

    with translation.override("fr"):
        assert lang_of("أريد أن أتعلم") == ' lang="ar"'
        assert lang_of("Je veux apprendre") == ""
        assert lang_of("") == ""
    with translation.override("ar"):
        assert lang_of("Je veux apprendre, إن شاء الله") == ' lang="fr"'
        assert lang_of("أريد أن أتعلم") == ""


def test_the_optional_track_choices_say_so_and_the_date_hint_fits_a_keypad(world):
    """« Choice 2 » and « Choice 3 » looked required, all other optional fields being marked;
    the date's hint asked for slashes a phone's number pad does not have."""
    make_open_intake(world.smara, tracks=("dev-web", "data", "cyber"))
    page = english().get(APPLY).content.decode()
    assert '<label for="id_wish_1">Choice 1:</label>' in page
    assert '<label for="id_wish_2">Choice 2 (optional):</label>' in page
    assert '<label for="id_wish_3">Choice 3 (optional):</label>' in page
    assert "or the digits alone: 21032003." in page


def test_the_call_form_names_the_call_in_its_title(world):
    intake = make_open_intake(world.smara)
    client = world.client("director")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admissions:intake_edit", args=["smara", intake.slug]))
    assert title(page.content.decode()) == f"Edit the call — {intake} · Tremplin"
