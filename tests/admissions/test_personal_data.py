"""What an applicant downloads from their space (law 09-08, right of access): everything the
platform holds about them, the selection included. On the Smara demo, whose Promotion 2025
went through its whole selection."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tremplin.admissions.models import Application
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.selection.models import Offer


def download(application: Application) -> dict:
    client = Client()
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    response = client.get(reverse("portal:data"))
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.django_db
def test_an_admitted_applicant_downloads_her_selection_too(demo):
    with scopes_disabled():
        offer = (
            Offer.objects.filter(
                status=Offer.Status.ACCEPTED, application__intake__slug="promotion-2025"
            )
            .select_related("application")
            .order_by("application__number")
            .first()
        )
        application = offer.application
    data = download(application)

    assert data["reference"] == application.reference
    selection = data["selection"]
    assert {m["component"] for m in selection["marks"]}  # the written test and the interview
    assert all(m["mark"] is not None or m["absent"] for m in selection["marks"])
    assert selection["tests"] and selection["interviews"]
    [published] = selection["published_rankings"]  # the draft run is not hers to see
    assert published["outcome"] == "admitted"
    assert [o["status"] for o in selection["offers"]] == ["accepted"]


@pytest.mark.django_db
def test_a_new_applicant_downloads_her_confirmation_and_an_empty_selection(demo):
    with scopes_disabled():
        application = Application.objects.filter(intake__slug="promotion-2026").first()
    data = download(application)
    assert data["status"] == "submitted" and data["withdrawn_at"] is None
    assert data["source"] == application.source
    assert data["selection"] == {
        "tests": [],
        "interviews": [],
        "marks": [],
        "published_rankings": [],
        "offers": [],
        "letters": [],
    }
