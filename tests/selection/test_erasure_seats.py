"""Erasing the personal data of someone the selection gave a seat: staff are told what it
takes back, the seat goes on to the next person waiting, and a completed training is kept."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.selection.offers_world import app, offer_of, pool_of
from tremplin.selection.models import Offer
from tremplin.selection.offers import offer_accept, offers_expire
from tremplin.training.models import Enrolment


def detail_url(application) -> str:
    return reverse(
        "admissions:application_detail",
        args=["smara", application.intake.slug, application.reference],
    )


def erase_url(application) -> str:
    return reverse(
        "admissions:application_erase",
        args=["smara", application.intake.slug, application.reference],
    )


def english(client):
    client.cookies["django_language"] = "en"
    return client


ERASE = {"reason": "Written request of the person", "confirm": "on"}


def graduated(intake):
    """The second of the call, who accepted the seat and completed the training."""
    graduate = app(intake, 2)
    offer = offer_of(graduate)
    offer_accept(offer=offer, channel="applicant")
    with scopes_disabled():
        Enrolment.objects.filter(offer=offer).update(status=Enrolment.Status.COMPLETED)
    return graduate, offer


def test_the_erase_form_says_what_it_takes_back_from_a_seat_holder(world, intake):
    client = english(world.client("admissions"))
    offered = app(intake, 1)
    accepted = app(intake, 2)
    offer_accept(offer=offer_of(accepted), channel="applicant")
    nothing = app(intake, 10)

    assert "seat goes to the next person" in client.get(detail_url(offered)).content.decode()
    page = client.get(detail_url(accepted)).content.decode()
    assert "This person is in training." in page and "ends as a dropout" in page
    assert 'data-testid="seat"' not in client.get(detail_url(nothing)).content.decode()


def test_erasing_someone_in_training_ends_the_enrolment_and_gives_the_seat_on(
    world, intake, django_capture_on_commit_callbacks
):
    accepted = app(intake, 2)
    offer = offer_of(accepted)
    offer_accept(offer=offer, channel="applicant")
    client = world.client("admissions")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(erase_url(accepted), ERASE)

    assert response.status_code == 302
    with scopes_disabled():
        offer.refresh_from_db()
        enrolment = Enrolment.objects.get(offer=offer)
        accepted.refresh_from_db()
    assert accepted.erased_at is not None
    # At once, not at the next minute's sweep.
    assert offer.status == Offer.Status.CANCELLED
    assert enrolment.status == Enrolment.Status.DROPPED_OUT
    assert offer_of(app(intake, 3)).status == "live"  # the next in merit order
    assert (pool_of(intake).live, pool_of(intake).accepted) == (4, 0)


def test_a_completed_training_is_kept_and_its_seat_never_given_again(world, intake):
    graduate, offer = graduated(intake)
    client = english(world.client("director"))

    page = client.get(detail_url(graduate)).content.decode()
    assert "completed the training" in page and "Erase for good" not in page
    response = client.post(erase_url(graduate), ERASE, follow=True)
    assert "cannot be erased here" in response.content.decode()
    with scopes_disabled():
        graduate.refresh_from_db()
    assert graduate.erased_at is None and graduate.last_name

    # Withdrawn from the applicant space years later: the sweep leaves the seat as it is.
    with scopes_disabled():
        type(graduate).objects.filter(pk=graduate.pk).update(status="withdrawn")
    offers_expire()
    with scopes_disabled():
        offer.refresh_from_db()
        assert Enrolment.objects.get(offer=offer).status == Enrolment.Status.COMPLETED
    assert offer.status == Offer.Status.ACCEPTED
    assert pool_of(intake).accepted == 1
    assert offer_of(app(intake, 3)) is None  # nobody is offered a finished cohort's seat


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_seat_warnings_are_translated(world, intake, language):
    client = world.client("admissions")
    client.cookies["django_language"] = language
    page = client.get(detail_url(app(intake, 1))).content.decode()
    expected = {"fr": "liste d'attente", "ar": "لائحة الانتظار"}[language]
    seat = page.split('data-testid="seat">')[1].split("</p>")[0]
    assert expected in seat.replace("&#x27;", "'")


def test_a_graduate_is_told_why_the_data_stays_and_cannot_queue_a_request(world, intake):
    from tests.admissions.test_portal_documents import space_client

    graduate, _offer = graduated(intake)
    client = space_client(graduate)

    page = client.get(reverse("portal:space")).content.decode()
    assert "You completed the training" in page and "Ask for deletion" not in page
    answer = client.post(reverse("portal:delete"), {"confirm": "yes"}, follow=True)
    assert "cannot be deleted from here" in answer.content.decode()
    with scopes_disabled():
        graduate.refresh_from_db()
    assert graduate.deletion_requested_at is None
