"""The status of a call: which moves staff may make, and the privacy notice an open call
keeps."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.intake_pages import detail_url, edit_url, form_post, in_english
from tests.admissions.open_intake import make_open_intake
from tremplin.admissions.models import Intake
from tremplin.core.models import AuditEvent

DRAFT, OPEN, CLOSED = Intake.Status.DRAFT, Intake.Status.OPEN, Intake.Status.CLOSED


def status_url(intake) -> str:
    return reverse(
        "admissions:intake_status", kwargs={"school_slug": "smara", "intake_slug": intake.slug}
    )


def call(world, status, closes_in_days=30) -> Intake:
    now = timezone.now()
    return make_open_intake(
        world.smara,
        status=status,
        opens_at=now - datetime.timedelta(days=60),
        closes_at=now + datetime.timedelta(days=closes_in_days),
    )


def move(world, intake, status):
    """Post the move; the status after it and the page staff land on."""
    response = in_english(world.client("director")).post(
        status_url(intake), {"status": status}, follow=True
    )
    with scopes_disabled():
        return Intake.objects.get(pk=intake.pk).status, response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "after"), [(DRAFT, OPEN), (OPEN, CLOSED), (CLOSED, OPEN)], ids=str
)
def test_staff_open_close_and_reopen_a_call(world, before, after):
    intake = call(world, before)
    status, _page = move(world, intake, after)
    assert status == after
    with scopes_disabled():
        (event,) = AuditEvent.objects.filter(action="tremplin.intakes.status_changed")
    assert event.data == {"from": before, "to": after}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "after", "says"),
    [
        (OPEN, DRAFT, "cannot go from"),
        (CLOSED, DRAFT, "cannot go from"),
        (DRAFT, CLOSED, "cannot go from"),
        (OPEN, OPEN, "already"),
    ],
    ids=str,
)
def test_other_moves_are_refused_with_a_reason(world, before, after, says):
    intake = call(world, before)
    status, page = move(world, intake, after)
    assert status == before
    assert says in page
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="tremplin.intakes.status_changed").exists()


@pytest.mark.django_db
def test_a_closed_call_whose_closing_date_has_passed_does_not_reopen(world):
    intake = call(world, CLOSED, closes_in_days=-1)
    detail = in_english(world.client("director")).get(detail_url(intake)).content.decode()
    assert 'value="open"' not in detail
    assert "set a later closing date before opening it" in detail
    status, page = move(world, intake, OPEN)
    assert status == CLOSED
    assert "The closing date of this call has passed" in page


@pytest.mark.django_db
def test_an_open_call_keeps_its_privacy_notice_with_a_readable_reason(world):
    intake = call(world, OPEN)
    response = in_english(world.client("director")).post(
        edit_url(intake), form_post(intake, privacy_notice="")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["privacy_notice"] == [
        "An open call needs its privacy notice: close the call before removing it."
    ]
    assert "intake_open_needs_notice" not in response.content.decode()
    with scopes_disabled():
        assert Intake.objects.get(pk=intake.pk).privacy_notice_id is not None


@pytest.mark.django_db
def test_a_call_whose_ranking_is_published_cannot_reopen(world):
    from tremplin.selection.models import RankingRun

    intake = call(world, CLOSED, closes_in_days=3)
    with scopes_disabled():
        RankingRun.objects.create(
            intake=intake, number=1, status=RankingRun.Status.DONE,
            created_by=world.users["director"], published_at=timezone.now(),
        )  # fmt: skip
    detail = in_english(world.client("director")).get(detail_url(intake)).content.decode()
    assert 'value="open"' not in detail
    assert "it cannot reopen" in detail  # not "set a later closing date": that would not do
    status, page = move(world, intake, OPEN)
    assert status == CLOSED
    assert "it cannot reopen" in page


@pytest.mark.django_db
def test_saving_a_call_loaded_before_someone_closed_it_does_not_reopen_it(world):
    from tremplin.admissions.intakes import TrackPlaces, intake_save, intake_set_status

    intake = call(world, OPEN)
    with scopes_disabled():
        stale = Intake.objects.get(pk=intake.pk)  # the edit form's instance, loaded first
        intake_set_status(intake=intake, actor=world.users["director"], status=CLOSED)
        stale.title = "Promotion 2026 (corrected)"
        tracks = {it.track: TrackPlaces(it.seats, it.waitlist) for it in stale.intake_tracks.all()}
        intake_save(
            school=world.smara, actor=world.users["admissions"], intake=stale,
            provinces=stale.provinces.all(), communes=stale.communes.all(), tracks=tracks,
        )  # fmt: skip
        saved = Intake.objects.get(pk=intake.pk)
    assert (saved.title, saved.status) == ("Promotion 2026 (corrected)", CLOSED)


@pytest.mark.django_db
def test_once_applications_have_references_the_opening_stays_in_their_year(world):
    """References carry the opening's year (SMA-26-0001): moving the opening to another year
    would give the next applicants numbers the call has already given (a server error on
    the form)."""
    from django.test import Client

    from tests.admissions.intake_pages import four_applicants
    from tests.admissions.open_intake import form_data

    intake = four_applicants(world)
    year = timezone.localtime(intake.opens_at).year
    client = in_english(world.client("director"))

    # (Earlier: an open call's opening cannot move ahead, whatever the year.)
    response = client.post(edit_url(intake), form_post(intake, opens_at=f"{year - 1}-12-01T09:00"))
    assert response.status_code == 400
    assert f"already have references of {year}: its opening can move within {year} only" in (
        response.content.decode()
    )
    with scopes_disabled():
        assert Intake.objects.get(pk=intake.pk).opens_at == intake.opens_at
    # Within the year, it moves.
    earlier = f"{year}-01-05T09:00"
    assert client.post(edit_url(intake), form_post(intake, opens_at=earlier)).status_code == 302
    # And the form goes on numbering.
    Client().post(
        "/schools/smara/calls/promo-2026/apply/", form_data(cin="KL444444", phone="0612345671")
    )
    with scopes_disabled():
        assert sorted(intake.applications.values_list("reference", flat=True)) == [
            f"SMA-{year % 100}-000{n}" for n in range(1, 6)
        ]


@pytest.mark.django_db
def test_before_anyone_applies_the_opening_may_move_to_another_year(world):
    intake = make_open_intake(world.smara)
    year = timezone.localtime(intake.opens_at).year
    response = world.client("director").post(
        edit_url(intake), form_post(intake, opens_at=f"{year - 1}-12-01T09:00")
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert timezone.localtime(Intake.objects.get(pk=intake.pk).opens_at).year == year - 1
