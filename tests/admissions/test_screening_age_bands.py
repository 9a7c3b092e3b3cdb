import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import Application

APPLY = "/schools/smara/calls/promo-2026/apply/"


def url(name, intake):
    return reverse(
        f"admissions:{name}", kwargs={"school_slug": "smara", "intake_slug": intake.slug}
    )


@pytest.fixture
def intake(world):
    intake = make_open_intake(world.smara)
    Client().post(APPLY, form_data())
    Client().post(APPLY, form_data(cin="CD111111", first_name="Omar", sex="M", phone="0612345678"))
    return intake


def born(cin, day):
    with scopes_disabled():
        Application.objects.filter(cin=cin).update(birth_date=day)


@pytest.mark.django_db
def test_a_birth_date_after_the_reference_date_counts_among_the_youngest(world, intake):
    # The reference date is 1 September 2026: a birth date typed as 2027 is a slip.
    born("CD111111", datetime.date(2027, 1, 5))
    client = world.client("admissions")

    detail = client.get(url("intake_detail", intake))
    assert detail.status_code == 200
    by_age = [row["applied"] for _label, row in detail.context["funnel"]["by_age"]]
    assert by_age == [1, 1, 0, 0, 0]

    listing = client.get(url("application_list", intake))
    assert listing.status_code == 200
    ages = next(f for f in listing.context["facets"] if f.name == "age")
    assert ages.options[0][0::2] == ("-17", 1)
    youngest = client.get(url("application_list", intake), {"age": "-17"})
    assert [a.cin for a in youngest.context["page"]] == ["CD111111"]


@pytest.mark.django_db
def test_a_very_old_birth_date_counts_in_the_oldest_band(world, intake):
    born("CD111111", datetime.date(1850, 1, 1))
    client = world.client("admissions")
    by_age = client.get(url("intake_detail", intake)).context["funnel"]["by_age"]
    assert [row["applied"] for _label, row in by_age] == [0, 1, 0, 0, 1]
    oldest = client.get(url("application_list", intake), {"age": "36-"})
    assert [a.cin for a in oldest.context["page"]] == ["CD111111"]
