"""The written test: sessions, seating within capacity, candidate numbers, moves,
convocations and attendance."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.selection.assessment_builders import (
    make_selection,
    make_session,
    stub_letters,
)
from tremplin.admissions.models import Application
from tremplin.core.models import AuditEvent
from tremplin.selection import assessment
from tremplin.selection import models as sm
from tremplin.selection.models import Letter, Mark


@pytest.fixture
def selection(world):
    return make_selection(world.smara, n=12)


def _seated(component) -> list[sm.TestSitting]:
    with scopes_disabled():
        return list(
            sm.TestSitting.objects.filter(component=component).select_related(
                "application", "session"
            )
        )


def test_assignment_seats_every_candidate_in_name_order_without_exceeding_capacity(
    world, selection
):
    first = make_session(selection.test, capacity=5, hour=9)
    second = make_session(selection.test, capacity=8, hour=14)
    with scope(school=world.smara):
        result = assessment.sittings_assign(
            component=selection.test, actor=world.users["admissions"]
        )
    sittings = _seated(selection.test)
    assert result.placed == 12 == len(sittings)
    assert sum(s.session_id == first.pk for s in sittings) == 5
    assert sum(s.session_id == second.pk for s in sittings) == 7
    by_name = sorted(sittings, key=lambda s: (s.application.last_name, s.application.first_name))
    assert [s.session_id for s in by_name] == [first.pk] * 5 + [second.pk] * 7


def test_assignment_refuses_when_seats_are_short_and_seats_nobody(world, selection):
    make_session(selection.test, capacity=5)
    make_session(selection.test, capacity=6, hour=14)
    with scope(school=world.smara), pytest.raises(ValidationError) as refused:
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
    assert "12 applicants to seat, 11 free seats" in refused.value.messages[0]
    assert _seated(selection.test) == []


def test_assignment_leaves_out_withdrawn_and_ineligible_applicants(world, selection):
    apps = selection.applications
    with scopes_disabled():
        Application.objects.filter(pk=apps[0].pk).update(status=Application.Status.WITHDRAWN)
        Application.objects.filter(pk=apps[1].pk).update(
            eligibility=Application.Eligibility.INELIGIBLE
        )
    make_session(selection.test, capacity=20)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
    seated = {s.application_id for s in _seated(selection.test)}
    assert len(seated) == 10
    assert apps[0].pk not in seated and apps[1].pk not in seated


def test_a_second_assignment_seats_only_the_newcomers_in_the_seats_left(world, selection):
    session = make_session(selection.test, capacity=12)
    apps = selection.applications
    with scopes_disabled():
        Application.objects.filter(pk=apps[0].pk).update(status=Application.Status.WITHDRAWN)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
    with scopes_disabled():
        Application.objects.filter(pk=apps[0].pk).update(status=Application.Status.SUBMITTED)
    with scope(school=world.smara):
        again = assessment.sittings_assign(
            component=selection.test, actor=world.users["admissions"]
        )
    assert again.placed == 1 and again.already == 11
    with scopes_disabled():
        assert sm.TestSitting.objects.filter(session=session).count() == 12


def test_candidate_numbers_are_unique_and_follow_names_without_anonymous_marking(world, selection):
    make_session(selection.test, capacity=20)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
    sittings = sorted(
        _seated(selection.test), key=lambda s: (s.application.last_name, s.application.first_name)
    )
    numbers = [s.candidate_number for s in sittings]
    assert numbers == list(range(1001, 1013))


def test_anonymous_marking_shuffles_candidate_numbers_so_they_do_not_reveal_the_name_order(world):
    selection = make_selection(world.smara, n=30, anonymous=True)
    make_session(selection.test, capacity=30)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
    sittings = sorted(
        _seated(selection.test), key=lambda s: (s.application.last_name, s.application.first_name)
    )
    numbers = [s.candidate_number for s in sittings]
    assert sorted(numbers) == list(range(1001, 1031))
    # 1 chance in 30! of being sorted by accident.
    assert numbers != sorted(numbers)


def test_moving_an_applicant_keeps_their_number_and_asks_to_convene_them_again(world, selection):
    first = make_session(selection.test, capacity=12)
    second = make_session(selection.test, capacity=1, hour=14)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
        sitting = sm.TestSitting.objects.filter(session=first).first()
        sm.TestSitting.objects.filter(pk=sitting.pk).update(convened_at="2025-09-01T10:00Z")
        sitting.refresh_from_db()
        number = sitting.candidate_number
        assessment.sitting_move(sitting=sitting, session=second, actor=world.users["admissions"])
        sitting.refresh_from_db()
        assert (sitting.session_id, sitting.candidate_number, sitting.convened_at) == (
            second.pk,
            number,
            None,
        )
        other = sm.TestSitting.objects.filter(session=first).first()
        with pytest.raises(ValidationError, match="full"):
            assessment.sitting_move(sitting=other, session=second, actor=world.users["admissions"])
    with scopes_disabled():
        assert sm.TestSitting.objects.filter(session=second).count() == 1


def test_a_session_with_applicants_cannot_be_deleted_nor_shrunk_below_them(world, selection):
    session = make_session(selection.test, capacity=12)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
        with pytest.raises(ValidationError):
            assessment.test_session_delete(session=session, actor=world.users["admissions"])
        session.capacity = 11
        with pytest.raises(ValidationError) as refused:
            assessment.test_session_save(session=session, actor=world.users["admissions"])
        assert "capacity" in refused.value.message_dict
    with scopes_disabled():
        assert sm.TestSession.objects.get(pk=session.pk).capacity == 12


def test_an_empty_session_can_be_deleted(world, selection):
    session = make_session(selection.test)
    with scope(school=world.smara):
        assessment.test_session_delete(session=session, actor=world.users["admissions"])
    with scopes_disabled():
        assert not sm.TestSession.objects.filter(pk=session.pk).exists()


def test_convocations_mark_the_seated_convened_and_start_a_letter_batch(
    world, selection, monkeypatch
):
    calls = stub_letters(monkeypatch)
    make_session(selection.test, capacity=12)
    actor = world.users["admissions"]
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=actor)
        count = assessment.test_convocations_send(component=selection.test, actor=actor)
        assert count == 12
        assert not sm.TestSitting.objects.filter(convened_at__isnull=True).exists()
        with pytest.raises(ValidationError, match="Nobody"):
            assessment.test_convocations_send(component=selection.test, actor=actor)
    assert len(calls) == 1
    call = calls[0]
    assert call["kind"] == Letter.Kind.TEST_CONVOCATION
    assert call["notify"] is True and call["actor"] == actor and call["intake"] == selection.intake
    assert sorted(call["application_ids"]) == sorted(a.pk for a in selection.applications)


def test_recording_an_absence_makes_it_the_applicants_mark(world, selection):
    session = make_session(selection.test, capacity=12)
    actor = world.users["admissions"]
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=actor)
        first, second = sm.TestSitting.objects.filter(session=session)[:2]
        assessment.sittings_attendance_set(
            session=session, presence={first.pk: False, second.pk: True}, actor=actor
        )
        mark = Mark.objects.get(component=selection.test, application_id=first.application_id)
        assert (mark.absent, mark.value) == (True, None)
        assert not Mark.objects.filter(application_id=second.application_id).exists()
        # Back to present: no longer absent.
        assessment.sittings_attendance_set(session=session, presence={first.pk: True}, actor=actor)
        mark.refresh_from_db()
        assert mark.absent is False
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="tremplin.selection.test.attendance").count() == 2


def test_an_applicant_with_a_mark_cannot_be_recorded_absent(world, selection):
    from tremplin.selection.assessment_marks import marks_record

    session = make_session(selection.test, capacity=12)
    actor = world.users["admissions"]
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=actor)
        sitting = sm.TestSitting.objects.filter(session=session).first()
        from decimal import Decimal

        marks_record(
            component=selection.test, values={sitting.application_id: Decimal(12)}, actor=actor
        )
        with pytest.raises(ValidationError):
            assessment.sittings_attendance_set(
                session=session, presence={sitting.pk: False}, actor=actor
            )
        sitting.refresh_from_db()
        assert sitting.present is True


def test_the_sessions_page_lists_sessions_and_seats(world, selection):
    make_session(selection.test, capacity=15, place="Salle polyvalente")
    url = reverse("selection:test_sessions", args=selection.urls["test"])
    response = world.client("admissions").get(url)
    assert response.status_code == 200
    assert "Salle polyvalente" in response.content.decode()


def test_the_overview_says_when_the_call_has_no_scheme_yet(world):
    from tests.selection.builders import make_closed_intake

    intake = make_closed_intake(world.smara, n=2)
    url = reverse("selection:assessment", args=[world.smara.slug, intake.slug])
    response = world.client("director").get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b"no selection scheme yet" in response.content


def test_the_overview_links_to_the_test_and_the_interview(world, selection):
    url = reverse("selection:assessment", args=[world.smara.slug, selection.intake.slug])
    content = world.client("director").get(url).content.decode()
    assert reverse("selection:test_sessions", args=selection.urls["test"]) in content
    assert reverse("selection:interview_panels", args=selection.urls["interview"]) in content


def test_the_overview_counts_each_mark_once_whatever_the_sessions(world, selection):
    """Two sessions of the written test: its marks are still counted once each."""
    make_session(selection.test, capacity=6, hour=9)
    make_session(selection.test, capacity=6, hour=14, place="Salle 2")
    actor = world.users["admissions"]
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=actor)
        absent = sm.TestSitting.objects.filter(component=selection.test)[:3]
        for sitting in absent:
            assessment.sittings_attendance_set(
                session=sitting.session, presence={sitting.pk: False}, actor=actor
            )
        assert Mark.objects.filter(component=selection.test).count() == 3
    url = reverse("selection:assessment", args=[world.smara.slug, selection.intake.slug])
    response = world.client("director").get(url)
    [test] = [c for c in response.context["components"] if c.pk == selection.test.pk]
    assert test.n_marks == 3


def test_creating_a_session_from_the_page_reads_moroccan_time(world, selection):
    url = reverse("selection:test_session_create", args=selection.urls["test"])
    response = world.client("admissions").post(
        url,
        {
            "starts_at": "2025-09-15T09:00",
            "ends_at": "2025-09-15T11:00",
            "place": "Salle 2",
            "place_ar": "القاعة 2",
            "capacity": "40",
            "instructions": "",
            "instructions_ar": "",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        session = sm.TestSession.objects.get(place="Salle 2")
    from django.utils import timezone

    assert timezone.localtime(session.starts_at).hour == 9
    assert session.starts_at.utcoffset() is not None


def test_a_session_that_ends_before_it_starts_is_refused(world, selection):
    url = reverse("selection:test_session_create", args=selection.urls["test"])
    response = world.client("admissions").post(
        url,
        {"starts_at": "2025-09-15T11:00", "ends_at": "2025-09-15T09:00", "place": "X",
         "place_ar": "س", "capacity": "40"},
    )  # fmt: skip
    assert response.status_code == 400
    with scopes_disabled():
        assert not sm.TestSession.objects.exists()


def test_the_call_page_leads_staff_to_its_tests_and_interviews(world, selection):
    url = reverse("admissions:intake_detail", args=[world.smara.slug, selection.intake.slug])
    content = world.client("admissions").get(url).content.decode()
    assert (
        reverse("selection:assessment", args=[world.smara.slug, selection.intake.slug]) in content
    )
