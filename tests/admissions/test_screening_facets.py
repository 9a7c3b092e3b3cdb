"""The filters of the list of applications: each count is what choosing that value would
show, each link replaces its own filter, each filter can be removed alone."""

from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.intake_pages import four_applicants
from tests.admissions.open_intake import form_data
from tremplin.admissions.models import Application

APPLY = "/schools/smara/calls/promo-2026/apply/"


@pytest.fixture
def intake(world):
    """Fatima and Salma (women, eligible), Omar (man, too old), Karim (man, eligible)."""
    return four_applicants(world)


def list_url(intake) -> str:
    return reverse(
        "admissions:application_list", kwargs={"school_slug": "smara", "intake_slug": intake.slug}
    )


def facet(response, name):
    return next(f for f in response.context["facets"] if f.name == name)


def counts(response, name) -> dict:
    return {value: n for value, _label, n in facet(response, name).options}


@pytest.mark.django_db
def test_each_count_comes_from_the_other_filters(world, intake):
    client = world.client("admissions")
    women = client.get(list_url(intake), {"sex": "F"})
    assert women.context["page"].paginator.count == 2
    # Choosing "women" does not hide how many men there are...
    assert counts(women, "sex") == {"F": 2, "M": 2}
    # ...and the other filters count among the women only.
    assert counts(women, "eligibility")["eligible"] == 2
    assert counts(women, "eligibility")["ineligible"] == 0

    eligible_men = client.get(list_url(intake), {"sex": "M", "eligibility": "eligible"})
    assert [a.first_name for a in eligible_men.context["page"]] == ["Karim"]
    assert counts(eligible_men, "sex") == {"F": 2, "M": 1}  # among the eligible
    assert counts(eligible_men, "eligibility") == {"pending": 0, "eligible": 1, "ineligible": 1}
    assert counts(eligible_men, "age") == {"-17": 0, "18-24": 0, "25-29": 0, "30-35": 1, "36-": 0}


@pytest.mark.django_db
def test_a_link_replaces_its_own_filter_and_each_filter_can_be_removed_alone(world, intake):
    client = world.client("admissions")
    response = client.get(list_url(intake), {"sex": "F", "eligibility": "eligible", "page": "1"})
    sex = facet(response, "sex")
    assert parse_qs(sex.links["M"]) == {"sex": ["M"], "eligibility": ["eligible"]}
    assert parse_qs(sex.clear) == {"eligibility": ["eligible"]}
    assert parse_qs(facet(response, "eligibility").clear) == {"sex": ["F"]}
    html = response.content.decode()
    assert f'href="?{sex.clear}"' in html  # the "women ×" chip, and the chosen value itself
    assert "sex=F&amp;sex=M" not in html and "sex=F&sex=M" not in html
    removed = client.get(list_url(intake), parse_qs(sex.clear))
    assert removed.context["page"].paginator.count == 3


@pytest.mark.django_db
def test_the_list_runs_as_many_queries_with_every_filter_set_and_more_applications(
    world, intake, django_assert_num_queries
):
    client = world.client("admissions")
    with CaptureQueriesContext(connection) as plain:
        client.get(list_url(intake))
    expected = len(plain.captured_queries)  # read now: the next request resets the log
    Client().post(APPLY, form_data(cin="IJ444444", first_name="Nora", phone="0612345671"))
    with scopes_disabled():
        nora = Application.objects.get(cin="IJ444444")
        wish = nora.wishes.get()
    every_filter = {
        "status": "submitted", "eligibility": "eligible", "sex": "F", "age": "18-24",
        "commune": nora.commune_id, "education": "bac", "employment": "neet",
        "wish": wish.track_id, "q": "Nora",
    }  # fmt: skip
    with django_assert_num_queries(expected):
        response = client.get(list_url(intake), every_filter)
    assert [a.first_name for a in response.context["page"]] == ["Nora"]


@pytest.mark.django_db
def test_a_chosen_value_that_shows_nothing_still_names_itself(world, intake):
    """Haouza with "women": no application, but the chip says Haouza (not its id) and keeps
    its count, 0, so staff see why the list is empty and can remove it."""
    from tremplin.schools.models import Commune

    haouza = Commune.objects.get(name="Haouza")
    client = world.client("admissions")
    response = client.get(
        list_url(intake), {"sex": "F", "commune": haouza.pk, "employment": "student"}
    )
    assert response.context["page"].paginator.count == 0
    commune = facet(response, "commune")
    assert commune.selected_label == "Haouza"
    assert counts(response, "commune")[str(haouza.pk)] == 0
    assert str(facet(response, "employment").selected_label) == "en études"  # staff read French
    html = response.content.decode()
    assert 'href="?{}"'.format(commune.clear.replace("&", "&amp;")) in html


@pytest.mark.django_db
def test_the_track_filter_reads_the_wishes_of_the_applications_listed_only(world, intake):
    """The scoped manager joined each wish to its school inside the filter's subquery:
    PostgreSQL then read every application of every school for each of the page's nine
    queries (a list 4-9 times slower at 6,000 applications). The list is the school's call
    already; the subquery needs only the wishes."""
    client = world.client("admissions")
    with scopes_disabled():
        track = Application.objects.get(first_name="Fatima").wishes.get().track_id
    with CaptureQueriesContext(connection) as queries:
        listed = client.get(list_url(intake), {"wish": track})
    assert listed.context["page"].paginator.count == 4
    subqueries = [
        q["sql"].split('FROM "admissions_wish"', 1)[1].split("LIMIT 1", 1)[0]
        for q in queries.captured_queries
        if 'EXISTS(SELECT 1 AS "a" FROM "admissions_wish"' in q["sql"]
    ]
    assert len(subqueries) >= 8  # the list and the facets of the other filters
    assert not any("admissions_intake" in sql or "schools_school" in sql for sql in subqueries)
