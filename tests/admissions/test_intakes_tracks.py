"""The tracks of a call on its staff form: seats and waiting list per track, the call's
totals, which tracks may leave the call, and the freeze once a ranking is published."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tests.admissions.intake_pages import detail_url, edit_url, form_post, in_english, track
from tests.admissions.open_intake import make_open_intake
from tremplin.admissions.models import Application, Intake, IntakeTrack, Wish
from tremplin.core.models import AuditEvent
from tremplin.schools.models import Track
from tremplin.selection.models import Quota, RankingRun


@pytest.fixture
def intake(world):
    """Two tracks of 35 seats, nobody applied yet."""
    return make_open_intake(world.smara, tracks=("dev-web", "data"))


def places(intake) -> dict:
    with scopes_disabled():
        return {
            it.track.code: (it.seats, it.waitlist)
            for it in IntakeTrack.objects.filter(intake=intake).select_related("track")
        }


def totals(intake) -> tuple[int, int]:
    with scopes_disabled():
        fresh = Intake.objects.get(pk=intake.pk)
    return fresh.seats, fresh.waitlist


def wish(intake, code, cin="JA100001"):
    with scopes_disabled():
        application = Application.objects.create(
            intake=intake, number=1, reference="SMA-26-0001", cin=cin, first_name="Fatima",
            last_name="El Idrissi", birth_date="2003-03-21", sex="F", phone="+212661234567",
            commune=world_commune(), education_level="bac", employment="neet",
            privacy_notice=intake.privacy_notice, privacy_consent_at=timezone.now(), language="fr",
        )  # fmt: skip
        Wish.objects.create(application=application, track=track(code), rank=1)


def world_commune():
    from tremplin.schools.models import Commune

    return Commune.objects.get(code="221.01.01")


@pytest.mark.django_db
def test_a_track_that_applications_wish_cannot_leave_the_call(world, intake):
    wish(intake, "data")
    response = in_english(world.client("director")).post(
        edit_url(intake), form_post(intake, {"data": (0, 0)}, title="Autre titre")
    )
    assert response.status_code == 400
    assert "must stay in the call" in response.content.decode()
    assert "1 application lists it" in response.content.decode()
    assert places(intake) == {"dev-web": (35, 0), "data": (35, 0)}
    with scopes_disabled():
        assert Intake.objects.get(pk=intake.pk).title == "Promotion 2026"
        assert Wish.objects.count() == 1


@pytest.mark.django_db
def test_a_track_the_selection_uses_cannot_leave_the_call(world, intake):
    with scopes_disabled():
        from tests.selection.builders import make_scheme

        scheme = make_scheme(intake)
        Quota.objects.create(
            scheme=scheme, group="women", share=40, track=IntakeTrack.objects.get(
                intake=intake, track__code="data")
        )  # fmt: skip
    response = in_english(world.client("director")).post(
        edit_url(intake), form_post(intake, {"data": (0, 0)})
    )
    assert response.status_code == 400
    assert "the selection already uses it" in response.content.decode()
    assert set(places(intake)) == {"dev-web", "data"}


@pytest.mark.django_db
def test_a_track_nobody_wishes_leaves_the_call_and_the_totals_follow(world, intake):
    wish(intake, "dev-web")
    response = in_english(world.client("director")).post(
        edit_url(intake), form_post(intake, {"data": (0, 0), "dev-web": (40, 10)})
    )
    assert response.status_code == 302, response.context["form"].errors
    assert places(intake) == {"dev-web": (40, 10)}
    assert totals(intake) == (40, 10)
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.intakes.changed")
    assert event.data["removed_tracks"] == ["data"]
    assert event.actor == world.users["director"]


@pytest.mark.django_db
def test_seats_and_tracks_are_frozen_once_a_ranking_is_published(world, intake):
    with scopes_disabled():
        RankingRun.objects.create(
            intake=intake, number=3, status=RankingRun.Status.DONE,
            created_by=world.users["director"], published_at=timezone.now(),
        )  # fmt: skip
    client = in_english(world.client("director"))
    for change in ({"dev-web": (36, 0)}, {"data": (35, 5)}, {"data": (0, 0)}):
        response = client.post(edit_url(intake), form_post(intake, change))
        assert response.status_code == 400
        assert "Run #3 is published" in response.content.decode()
    assert places(intake) == {"dev-web": (35, 0), "data": (35, 0)}
    # The rest of the call may still be edited.
    response = client.post(edit_url(intake), form_post(intake, title="Promotion 2026 bis"))
    assert response.status_code == 302
    with scopes_disabled():
        assert Intake.objects.get(pk=intake.pk).title == "Promotion 2026 bis"
    assert places(intake) == {"dev-web": (35, 0), "data": (35, 0)}


@pytest.mark.django_db
def test_an_inactive_track_stays_on_the_form_and_in_the_call_total(world, intake):
    with scopes_disabled():
        Track.objects.filter(code="data").update(is_active=False)
        Track.objects.create(school=world.smara, code="old", name="Ancienne", name_ar="قديمة",
                             is_active=False)  # fmt: skip
    client = in_english(world.client("director"))
    page = client.get(edit_url(intake))
    form = page.context["form"]
    assert {t.code for t in form.tracks} == {"dev-web", "data"}  # not the unattached "old"
    assert f'name="track_{track("data").pk}" id="id_track_{track("data").pk}" value="35"' in (
        page.content.decode()
    )
    assert "inactive track" in page.content.decode()

    response = client.post(edit_url(intake), form_post(intake, {"dev-web": (30, 0)}))
    assert response.status_code == 302, response.context["form"].errors
    assert totals(intake) == (65, 0)  # 30 + the inactive track's 35
    assert places(intake) == {"dev-web": (30, 0), "data": (35, 0)}
    assert "inactive track" in client.get(detail_url(intake)).content.decode()


@pytest.mark.django_db
def test_a_call_of_two_tracks_created_on_the_staff_page_gives_each_its_waiting_list(world):
    from tests.selection.builders import make_scheme
    from tremplin.selection.ranking_inputs import snapshot_inputs

    make_open_intake(world.smara, slug="other")  # notice v1 and the dev-web track
    with scopes_disabled():
        Track.objects.create(school=world.smara, code="data", name="Data", name_ar="بيانات")
        notice = world.smara.privacy_notices.get()
    data = {
        "title": "Promotion 2027", "title_ar": "فوج 2027", "slug": "promo-2027",
        "opens_at": "2027-05-01T09:00", "closes_at": "2027-06-01T18:00",
        "reference_date": "2027-09-01", "min_age": "18", "max_age": "35",
        "privacy_notice": str(notice.pk),
        f"track_{track('dev-web').pk}": "30", f"waitlist_{track('dev-web').pk}": "12",
        f"track_{track('data').pk}": "20", f"waitlist_{track('data').pk}": "8",
    }  # fmt: skip
    response = in_english(world.client("director")).post(
        reverse("admissions:intake_create", kwargs={"school_slug": "smara"}), data
    )
    assert response.status_code == 302, response.context["form"].errors
    with scopes_disabled():
        created = Intake.objects.get(slug="promo-2027")
    assert places(created) == {"dev-web": (30, 12), "data": (20, 8)}
    assert totals(created) == (50, 20)
    make_scheme(created)
    with scope(school=world.smara):
        inputs = snapshot_inputs(created)
    assert sorted((t.seats, t.waitlist) for t in inputs.tracks) == [(20, 8), (30, 12)]


@pytest.mark.django_db
def test_a_waiting_list_needs_seats_on_its_track(world, intake):
    response = in_english(world.client("director")).post(
        edit_url(intake), form_post(intake, {"data": (0, 5)})
    )
    assert response.status_code == 400
    assert response.context["form"].errors[f"waitlist_{track('data').pk}"]
    assert places(intake) == {"dev-web": (35, 0), "data": (35, 0)}


@pytest.mark.django_db
def test_a_call_of_one_track_keeps_the_waiting_list_it_held_before_tracks_had_one(world):
    # Saved by the earlier form: the waiting list on the call only, as the ranking of a
    # single track reads it.
    intake = make_open_intake(world.smara, seats=35, waitlist=30)
    client = in_english(world.client("director"))
    form = client.get(edit_url(intake)).context["form"]
    assert form[f"waitlist_{track('dev-web').pk}"].value() == 30
    with scopes_disabled():
        RankingRun.objects.create(
            intake=intake, number=1, status=RankingRun.Status.DONE,
            created_by=world.users["director"], published_at=timezone.now(),
        )  # fmt: skip
    response = client.post(edit_url(intake), form_post(intake, {"dev-web": (35, 30)}))
    assert response.status_code == 302, response.context["form"].errors
    assert totals(intake) == (35, 30)


@pytest.mark.django_db
def test_a_call_without_seats_says_so_next_to_the_tracks_table(world, intake):
    """It was only in the summary at the top, screens above the table on a phone."""
    client = in_english(world.client("director"))
    response = client.post(edit_url(intake), form_post(intake, {"dev-web": (0, 0), "data": (0, 0)}))
    assert response.status_code == 400
    form = response.context["form"]
    first = f"track_{form.tracks[0].pk}"  # the table's first row
    assert form.errors[first] == ["Give seats to at least one track."]
    page = response.content.decode()
    assert f'id="id_{first}_error"' in page and f'href="#id_{first}"' in page


@pytest.mark.django_db
def test_a_refused_privacy_notice_lists_its_errors_at_the_top(world):
    client = in_english(world.client("director"))
    response = client.post(
        reverse("admissions:notice_create", args=["smara"]), {"cndp_authorisation": "à venir"}
    )
    assert response.status_code == 400
    summary = response.content.decode().split('id="error-summary"')[1].split("</ul>")[0]
    assert 'href="#id_cndp_authorisation"' in summary


@pytest.mark.django_db
def test_a_waiting_list_without_seats_is_still_pointed_out_when_no_track_has_seats(world):
    intake = make_open_intake(world.smara, tracks=("dev-web", "data"))
    client = in_english(world.client("director"))
    first = client.get(edit_url(intake)).context["form"].tracks[0]  # the table's first row
    places = {"dev-web": (0, 0), "data": (0, 0)} | {first.code: (0, 10)}
    response = client.post(edit_url(intake), form_post(intake, places))
    assert response.status_code == 400
    assert response.context["form"].errors[f"waitlist_{first.pk}"] == [
        "A track outside the call has no waiting list: give it seats first."
    ]
