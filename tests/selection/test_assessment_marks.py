"""Marks of the written test: what people type, the keyboard grid (anonymous or not), the
audit trail, and the query count of the grid."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.selection.assessment_builders import make_selection, make_session
from tremplin.core.models import AuditEvent
from tremplin.selection import assessment
from tremplin.selection import models as sm
from tremplin.selection.assessment_marks import ABSENT, marks_record, parse_mark
from tremplin.selection.models import Mark


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("12,5", Decimal("12.50")),
        ("12.5", Decimal("12.50")),
        (" 20 ", Decimal("20.00")),
        ("0", Decimal("0.00")),
        ("١٢٫٥", Decimal("12.50")),
        ("", None),
    ],
)
def test_a_mark_is_read_as_people_type_it(typed, value):
    assert parse_mark(typed) == value


@pytest.mark.parametrize("typed", ["21", "-1", "20,01", "douze", "1e1", "12,555", "nan"])
def test_a_mark_outside_0_to_20_or_not_a_number_is_refused(typed):
    with pytest.raises(ValidationError):
        parse_mark(typed)


def test_absent_is_read_only_where_it_is_allowed():
    assert parse_mark("abs", allow_absent=True) == ABSENT
    assert parse_mark("غائب", allow_absent=True) == ABSENT
    with pytest.raises(ValidationError):
        parse_mark("abs")


def _seat(world, selection, capacity=20):
    session = make_session(selection.test, capacity=capacity)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
        sittings = list(
            sm.TestSitting.objects.filter(session=session)
            .select_related("application")
            .order_by("candidate_number")
        )
    return session, sittings


def _grid_url(selection, session) -> str:
    return reverse("selection:test_grid", args=[*selection.urls["test"], session.pk])


def _marks(component) -> dict:
    with scopes_disabled():
        return {m.application_id: m for m in Mark.objects.filter(component=component)}


def test_the_grid_shows_candidate_numbers_only_under_anonymous_marking(world):
    selection = make_selection(world.smara, n=6, anonymous=True)
    session, sittings = _seat(world, selection)
    content = world.client("admissions").get(_grid_url(selection, session)).content.decode()
    for sitting in sittings:
        assert f">{sitting.candidate_number}<" in content
        assert sitting.application.last_name not in content
        assert sitting.application.reference not in content


def test_the_grid_shows_names_without_anonymous_marking(world):
    selection = make_selection(world.smara, n=6)
    session, sittings = _seat(world, selection)
    content = world.client("admissions").get(_grid_url(selection, session)).content.decode()
    assert all(s.application.full_name in content for s in sittings)


def test_the_grid_records_every_line_at_once_without_javascript(world):
    selection = make_selection(world.smara, n=3)
    session, sittings = _seat(world, selection)
    data = {f"m{sittings[0].pk}": "12,5", f"m{sittings[1].pk}": "14.25", f"m{sittings[2].pk}": ""}
    response = world.client("admissions").post(_grid_url(selection, session), data)
    assert response.status_code == 302
    marks = _marks(selection.test)
    assert marks[sittings[0].application_id].value == Decimal("12.5")
    assert marks[sittings[1].application_id].value == Decimal("14.25")
    assert sittings[2].application_id not in marks
    with scopes_disabled():
        assert set(
            sm.TestSitting.objects.filter(session=session).values_list("present", flat=True)
        ) == {True, None}


def test_one_mark_outside_0_to_20_refuses_the_whole_grid_with_a_message(world):
    selection = make_selection(world.smara, n=3)
    session, sittings = _seat(world, selection)
    data = {f"m{sittings[0].pk}": "12", f"m{sittings[1].pk}": "21", f"m{sittings[2].pk}": "9"}
    client = world.client("admissions")
    response = client.post(_grid_url(selection, session), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    content = response.content.decode()
    assert "A mark lies between 0 and 20." in content
    assert 'aria-invalid="true"' in content
    assert 'value="21"' in content  # what was typed stays, to be corrected
    assert _marks(selection.test) == {}


def test_a_line_saved_with_htmx_answers_with_that_line_only(world):
    selection = make_selection(world.smara, n=3)
    session, sittings = _seat(world, selection)
    client = world.client("admissions")
    response = client.post(
        _grid_url(selection, session), {f"m{sittings[1].pk}": "15,75"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.strip().startswith(f'<tr id="row-{sittings[1].pk}"')
    assert "15,75" in content and "<html" not in content
    assert _marks(selection.test)[sittings[1].application_id].value == Decimal("15.75")


def test_an_invalid_line_saved_with_htmx_shows_the_error_in_the_users_language(world):
    selection = make_selection(world.smara, n=2)
    session, sittings = _seat(world, selection)
    response = world.client("admissions").post(
        _grid_url(selection, session),
        {f"m{sittings[0].pk}": "-3"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "A mark lies between 0 and 20." in response.content.decode()
    assert _marks(selection.test) == {}


def test_an_absent_applicants_line_is_disabled_and_takes_no_mark(world):
    selection = make_selection(world.smara, n=2)
    session, sittings = _seat(world, selection)
    with scope(school=world.smara):
        assessment.sittings_attendance_set(
            session=session, presence={sittings[0].pk: False}, actor=world.users["admissions"]
        )
    client = world.client("admissions")
    content = client.get(_grid_url(selection, session)).content.decode()
    field = f'id="m{sittings[0].pk}" class="form-control tp-mark w-auto" size="6" value=""'
    assert f"{field} disabled" in content
    client.post(_grid_url(selection, session), {f"m{sittings[0].pk}": "15"})
    mark = _marks(selection.test)[sittings[0].application_id]
    assert (mark.absent, mark.value) == (True, None)


def test_the_service_refuses_a_mark_for_an_applicant_recorded_absent(world):
    selection = make_selection(world.smara, n=2)
    session, sittings = _seat(world, selection)
    actor = world.users["admissions"]
    with scope(school=world.smara):
        assessment.sittings_attendance_set(
            session=session, presence={sittings[0].pk: False}, actor=actor
        )
        with pytest.raises(ValidationError, match=str(sittings[0].candidate_number)):
            marks_record(
                component=selection.test,
                values={sittings[0].application_id: Decimal(10), sittings[1].application_id: 9},
                actor=actor,
            )
    assert sittings[1].application_id not in _marks(selection.test)


def test_every_mark_change_is_audited_with_who_and_old_and_new(world):
    selection = make_selection(world.smara, n=2)
    session, sittings = _seat(world, selection)
    client = world.client("admissions")
    field = f"m{sittings[0].pk}"
    client.post(_grid_url(selection, session), {field: "12"})
    client.post(_grid_url(selection, session), {field: "13,5"})
    client.post(_grid_url(selection, session), {field: "13.50"})  # unchanged: no event
    client.post(_grid_url(selection, session), {field: ""})
    with scopes_disabled():
        events = list(
            AuditEvent.objects.filter(action="tremplin.selection.mark.changed").order_by("id")
        )
    assert [(e.data["old"], e.data["new"]) for e in events] == [
        (None, "12.00"),
        ("12.00", "13.50"),
        ("13.50", None),
    ]
    assert {e.actor_id for e in events} == {world.users["admissions"].pk}
    assert {e.object_id for e in events} == {str(sittings[0].application_id)}


def test_the_audit_log_filter_on_the_selection_finds_the_mark_changes(world):
    selection = make_selection(world.smara, n=1)
    session, sittings = _seat(world, selection)
    world.client("admissions").post(_grid_url(selection, session), {f"m{sittings[0].pk}": "12"})
    log = reverse("schools:audit_log", kwargs={"school_slug": "smara"})
    page = world.client("director").get(log, {"action": "tremplin.selection"}).content.decode()
    assert "tremplin.selection.mark.changed" in page


def test_the_grid_runs_the_same_few_queries_for_3_or_12_applicants(
    world, django_assert_num_queries
):
    selection = make_selection(world.smara, n=15)
    small = make_session(selection.test, capacity=3, hour=8)
    large = make_session(selection.test, capacity=12, hour=14)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
        marks_record(
            component=selection.test,
            values={a.pk: Decimal(10) for a in selection.applications},
            actor=world.users["admissions"],
        )
    client = world.client("admissions")
    client.get(_grid_url(selection, small))  # warm the session and the content types
    with django_assert_num_queries(GRID_QUERIES):
        assert client.get(_grid_url(selection, small)).status_code == 200
    with django_assert_num_queries(GRID_QUERIES):
        response = client.get(_grid_url(selection, large))
    assert response.content.decode().count("form-control tp-mark") == 12


# 8 to know who asks (session, user, two OTP devices, school, roles, coordinator scopes x2),
# then the intake, the component with its scheme, the session, its sittings, their marks.
GRID_QUERIES = 13
