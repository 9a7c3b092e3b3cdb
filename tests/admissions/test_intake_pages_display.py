"""What the pages of a call say about it: its conditions on the public page and on the staff
page, why a move of its status is not offered, an open call past its closing date, and its
dates written in words in every language."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django_scopes import scopes_disabled

from tests.admissions.intake_pages import detail_url, in_english
from tests.admissions.open_intake import make_open_intake
from tremplin.admissions.choices import DocumentKind, EducationLevel, Employment
from tremplin.admissions.models import Intake
from tremplin.core.formatting import format_date, format_datetime

RULES = {
    "education_levels": ["bac", "bac2"],
    "employment_situations": ["neet"],
    "required_documents": ["cin", "diploma"],
}


def with_rules(world, **overrides) -> Intake:
    return make_open_intake(world.smara, **RULES, **overrides)


def list_url() -> str:
    return reverse("admissions:intake_list", kwargs={"school_slug": "smara"})


def in_language(client, language: str):
    client.cookies["django_language"] = language
    return client


def marked(page: str, name: str) -> str:
    """The text of the element marked ``data-testid=name``, its tags and line breaks left
    out (the no-break spaces the languages put in dates stay)."""
    found = re.search(rf'<(\w+)[^>]*data-testid="{name}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no {name} on the page"
    return re.sub(r"[ \n]+", " ", re.sub(r"<[^>]+>", " ", found.group(2))).strip()


# 1. The public page says who can apply: levels, situations and documents too.


@pytest.mark.django_db
def test_the_public_page_lists_the_accepted_levels_and_situations_and_the_documents(world):
    intake = with_rules(world)
    page = in_english(Client()).get(intake.get_absolute_url()).content.decode()
    conditions = marked(page, "conditions")
    assert "Education level: baccalaureate or baccalaureate + 2 (DTS, DUT, BTS)." in conditions
    assert "Situation: neither working nor studying." in conditions
    documents = marked(page, "documents")
    assert documents == "copy of the national identity card and last diploma or school certificate."


@pytest.mark.django_db
def test_the_application_form_links_to_the_conditions(world):
    intake = with_rules(world)
    apply = reverse("portal:apply", args=["smara", intake.slug])
    page = in_english(Client()).get(apply).content.decode()
    assert f'<a href="{intake.get_absolute_url()}#conditions">Who can apply</a>' in page


@pytest.mark.django_db
def test_a_salaried_applicant_reads_in_french_that_the_call_is_for_neets(world):
    intake = with_rules(world)
    page = Client().get(intake.get_absolute_url()).content.decode()
    assert "ni en emploi ni en études" in marked(page, "conditions")


@pytest.mark.django_db
def test_the_public_page_reads_the_conditions_in_arabic(world):
    intake = with_rules(world)
    page = in_language(Client(), "ar").get(intake.get_absolute_url()).content.decode()
    with translation.override("ar"):
        situation = str(Employment.NEET.label)
        level = str(EducationLevel.BAC.label)
        document = str(DocumentKind.CIN.label)
    assert situation in marked(page, "conditions") and level in marked(page, "conditions")
    assert document in marked(page, "documents")


@pytest.mark.django_db
def test_a_call_without_such_rules_states_only_the_age_and_residence(world):
    intake = make_open_intake(world.smara)
    page = in_english(Client()).get(intake.get_absolute_url()).content.decode()
    assert "Education level" not in page and "Situation" not in page
    assert 'data-testid="documents"' not in page
    assert "Young people aged 18 to 35" in marked(page, "conditions")


# 2. The staff page of a call shows its conditions and its privacy notice.


@pytest.mark.django_db
def test_the_staff_page_of_a_call_shows_its_conditions_and_privacy_notice(world):
    intake = with_rules(world)
    page = in_english(world.client("admissions")).get(detail_url(intake)).content.decode()
    conditions = marked(page, "conditions")
    assert "Young people aged 18 to 35 on September 1, 2026" in conditions
    assert "Provinces: Es-Semara" in conditions
    assert "baccalaureate or baccalaureate + 2 (DTS, DUT, BTS)" in conditions
    assert "neither working nor studying" in conditions
    assert "copy of the national identity card and last diploma or school certificate" in (
        conditions
    )
    assert "Version 1 · CNDP authorisation: D-W-123/2025" in conditions


@pytest.mark.django_db
def test_the_staff_page_says_when_a_call_sets_no_rule_and_has_no_notice(world):
    intake = make_open_intake(world.smara, status=Intake.Status.DRAFT, privacy_notice=None)
    with scopes_disabled():
        intake.provinces.clear()
    page = in_english(world.client("admissions")).get(detail_url(intake)).content.decode()
    conditions = marked(page, "conditions")
    assert conditions.count("No restriction") == 3  # residence, levels, situations
    assert "Required documents None" in conditions
    assert "No privacy notice yet: a call cannot open without one." in conditions


# 3. A move that is not offered says why.


def draft_closing(days: int) -> dict:
    now = timezone.now()
    return {
        "status": Intake.Status.DRAFT,
        "opens_at": now - datetime.timedelta(days=60),
        "closes_at": now + datetime.timedelta(days=days),
    }


@pytest.mark.django_db
def test_a_draft_whose_closing_date_has_passed_says_why_it_cannot_open(world):
    intake = make_open_intake(world.smara, **draft_closing(-1))
    page = in_english(world.client("director")).get(detail_url(intake)).content.decode()
    assert 'value="open"' not in page
    assert marked(page, "refusal") == (
        "The closing date of this call has passed: set a later closing date before opening it."
    )


@pytest.mark.django_db
def test_a_draft_that_can_open_gives_no_reason(world):
    intake = make_open_intake(world.smara, **draft_closing(30))
    page = in_english(world.client("director")).get(detail_url(intake)).content.decode()
    assert 'value="open"' in page
    assert 'data-testid="refusal"' not in page


# 4. An open call past its closing date takes no more applications, and the pages say so.


@pytest.mark.django_db
def test_an_open_call_past_its_closing_date_shows_since_when_applications_are_closed(world):
    now = timezone.now()
    closes_at = now - datetime.timedelta(days=2)
    intake = make_open_intake(
        world.smara, opens_at=now - datetime.timedelta(days=40), closes_at=closes_at
    )
    client = in_english(world.client("admissions"))
    listed = client.get(list_url()).content.decode()
    assert marked(listed, "closed-since") == (
        f"Applications closed since {format_date(closes_at, language='en')}"
    )
    detail = client.get(detail_url(intake)).content.decode()
    assert marked(detail, "closed-since") == (
        f"Applications closed since {format_datetime(closes_at, 'short', language='en')}"
    )
    # The status stays open until staff close the call.
    assert '<span class="badge text-bg-secondary">open</span>' in detail
    assert 'value="closed"' in detail
    assert 'data-testid="close-early"' not in detail  # its date passed: one click


@pytest.mark.django_db
def test_closing_a_call_before_its_closing_date_says_what_it_does_first(world):
    """One click closed the form to every applicant, mid-call."""
    intake = make_open_intake(world.smara)
    detail = in_english(world.client("admissions")).get(detail_url(intake)).content.decode()
    early = detail.split('data-testid="close-early"', 1)[1].split("</details>", 1)[0]
    assert "Closed now, the call takes no more applications" in early
    assert 'name="status" value="closed">Close the call now</button>' in early
    assert detail.count('value="closed"') == 1  # only behind the explanation


@pytest.mark.django_db
def test_an_open_call_before_its_closing_date_shows_no_such_badge(world):
    make_open_intake(world.smara)
    listed = in_english(world.client("admissions")).get(list_url()).content.decode()
    assert 'data-testid="closed-since"' not in listed


# 5. The dates read in words, in the reader's direction.


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_list_and_the_detail_write_the_dates_from_and_to_in_words(world, language):
    intake = make_open_intake(world.smara)
    client = in_language(world.client("admissions"), language)
    listed = client.get(list_url()).content.decode()
    detail = client.get(detail_url(intake)).content.decode()
    with translation.override(language):
        in_list = translation.gettext("from %(start)s to %(end)s") % {
            "start": format_date(intake.opens_at),
            "end": format_date(intake.closes_at),
        }
        in_detail = translation.gettext("from %(start)s to %(end)s (Moroccan time)") % {
            "start": format_datetime(intake.opens_at, "short"),
            "end": format_datetime(intake.closes_at, "short"),
        }
    assert escape(in_list) in listed
    assert escape(in_detail) in detail
    assert "→" not in listed and "→" not in detail


@pytest.mark.django_db
def test_the_detail_in_arabic_says_from_and_to(world):
    intake = make_open_intake(world.smara)
    detail = in_language(world.client("admissions"), "ar").get(detail_url(intake))
    with translation.override("ar"):
        start = format_datetime(intake.opens_at, "short")
        end = format_datetime(intake.closes_at, "short")
    assert f"من {start} إلى {end}" in detail.content.decode()
