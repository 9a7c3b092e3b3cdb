"""Interviews: panels, slots from time windows, who is called, automatic and manual
assignment that respect conflicts of interest, convocations, attendance, the rubric."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tests.selection.assessment_builders import (
    DAY,
    make_juror,
    make_panel,
    make_selection,
    stub_letters,
)
from tests.selection.builders import give_marks
from tremplin.core.models import AuditEvent
from tremplin.selection import interviews, interviews_rubric
from tremplin.selection.models import (
    ConflictOfInterest,
    Criterion,
    InterviewSlot,
    Letter,
    Mark,
    ScoreSheet,
)


@pytest.fixture
def selection(world):
    return make_selection(world.smara, n=8)


def _slots(panel) -> list[InterviewSlot]:
    with scopes_disabled():
        return list(InterviewSlot.objects.filter(panel=panel).order_by("starts_at"))


def _conflict(juror, application, reason="Cousin"):
    with scopes_disabled():
        return ConflictOfInterest.objects.create(
            juror=juror, application=application, reason=reason
        )


# --- Panels and slots -------------------------------------------------------------------------


def test_slots_are_cut_from_a_window_in_moroccan_time_around_the_break(world, selection):
    panel = make_panel(selection.interview, [world.users["juror"]])
    with scope(school=world.smara):
        made = interviews.slots_generate(
            panel=panel,
            day=DAY,
            start=datetime.time(9),
            end=datetime.time(12),
            minutes=20,
            break_start=datetime.time(10, 20),
            break_end=datetime.time(10, 40),
            actor=world.users["admissions"],
        )
    starts = [timezone.localtime(s.starts_at).strftime("%H:%M") for s in _slots(panel)]
    assert made == 8
    assert starts == ["09:00", "09:20", "09:40", "10:00", "10:40", "11:00", "11:20", "11:40"]
    assert str(timezone.localtime(_slots(panel)[0].starts_at).tzinfo) == "Africa/Casablanca"


def test_generating_again_leaves_out_the_times_the_panel_already_has(world, selection):
    panel = make_panel(selection.interview, [world.users["juror"]], slots=3)  # 09:00-10:00
    with scope(school=world.smara):
        made = interviews.slots_generate(
            panel=panel,
            day=DAY,
            start=datetime.time(9, 30),
            end=datetime.time(11),
            minutes=30,
            actor=world.users["admissions"],
        )
    assert made == 2  # 09:30 overlaps; 10:00 and 10:30 are free
    assert len(_slots(panel)) == 5


@pytest.mark.parametrize(
    ("start", "end", "minutes", "brk"),
    [(12, 9, 20, None), (9, 12, 2, None), (9, 12, 20, (13, 14))],
)
def test_an_impossible_window_makes_no_slot(world, selection, start, end, minutes, brk):
    panel = make_panel(selection.interview, [world.users["juror"]])
    with scope(school=world.smara), pytest.raises(ValidationError):
        interviews.slots_generate(
            panel=panel,
            day=DAY,
            start=datetime.time(start),
            end=datetime.time(end),
            minutes=minutes,
            break_start=datetime.time(brk[0]) if brk else None,
            break_end=datetime.time(brk[1]) if brk else None,
            actor=world.users["admissions"],
        )
    assert _slots(panel) == []


def test_only_empty_slots_are_deleted(world, selection):
    panel = make_panel(selection.interview, [world.users["juror"]], slots=3)
    taken = _slots(panel)[0]
    with scopes_disabled():
        InterviewSlot.objects.filter(pk=taken.pk).update(application=selection.applications[0])
    with scope(school=world.smara):
        with pytest.raises(ValidationError):
            interviews.slots_delete_empty(panel=panel, slot=taken, actor=world.users["admissions"])
        assert interviews.slots_delete_empty(panel=panel, actor=world.users["admissions"]) == 2
    assert [s.pk for s in _slots(panel)] == [taken.pk]


def test_a_panel_takes_only_the_schools_jurors_directors_and_officers(world, selection):
    from tremplin.selection.models import Panel

    with scope(school=world.smara):
        with pytest.raises(ValidationError):
            interviews.panel_save(
                panel=Panel(component=selection.interview, name="Jury X"),
                jurors=[world.users["learner"]],
                actor=world.users["admissions"],
            )
        with pytest.raises(ValidationError):
            interviews.panel_save(
                panel=Panel(component=selection.interview, name="Jury Y"),
                jurors=[world.users["other_director"]],
                actor=world.users["admissions"],
            )
        panel = interviews.panel_save(
            panel=Panel(component=selection.interview, name="Jury Z"),
            jurors=[world.users["juror"], world.users["director"], world.users["admissions"]],
            actor=world.users["admissions"],
        )
        assert panel.jurors.count() == 3


# --- Who is called ----------------------------------------------------------------------------


def test_the_written_test_eliminates_the_absent_the_unmarked_and_those_below_its_threshold(world):
    selection = make_selection(world.smara, n=5, test_threshold=Decimal(8))
    give_marks(selection.intake, {"test": [12, "absent", None, "7.99", 8]})
    with scope(school=world.smara):
        called, left_out = interviews.interview_candidates(selection.interview)
    apps = selection.applications
    assert {a.pk for a in called} == {apps[0].pk, apps[4].pk}
    assert left_out == {
        apps[1].pk: "test_absent",
        apps[2].pk: "test_missing",
        apps[3].pk: "test_below",
    }


# --- Assignment -------------------------------------------------------------------------------


def _assign(world, selection):
    with scope(school=world.smara):
        return interviews.interviews_assign(
            component=selection.interview, actor=world.users["admissions"]
        )


def _placed(selection) -> dict[int, InterviewSlot]:
    with scopes_disabled():
        return {
            s.application_id: s
            for s in InterviewSlot.objects.filter(
                component=selection.interview, application__isnull=False
            ).select_related("panel")
        }


def _no_conflict_placed(selection) -> bool:
    with scopes_disabled():
        for application_id, slot in _placed(selection).items():
            jurors = set(slot.panel.jurors.values_list("pk", flat=True))
            declared = set(
                ConflictOfInterest.objects.filter(application_id=application_id).values_list(
                    "juror_id", flat=True
                )
            )
            if jurors & declared:
                return False
    return True


def test_automatic_assignment_places_everyone_it_can_and_never_against_a_conflict(world):
    selection = make_selection(world.smara, n=10)
    give_marks(selection.intake, {"test": [12] * 10})
    amina, driss = make_juror("amina", world.smara), make_juror("driss", world.smara)
    make_panel(selection.interview, [world.users["juror"], amina], name="Jury A", slots=6)
    make_panel(selection.interview, [driss], name="Jury B", slots=6, hour=14)
    apps = selection.applications
    for application in apps[:4]:
        _conflict(amina, application)  # only panel B for them
    _conflict(driss, apps[0])  # apps[0]: both panels conflicted
    result = _assign(world, selection)
    placed = _placed(selection)
    assert result.placed == 9 == len(placed)
    assert [(a.pk, reason) for a, reason in result.unplaced] == [(apps[0].pk, "conflict")]
    assert _no_conflict_placed(selection)
    assert {placed[a.pk].panel.name for a in apps[1:4]} == {"Jury B"}


def test_assignment_reroutes_to_place_an_applicant_that_a_greedy_choice_would_leave_out(world):
    selection = make_selection(world.smara, n=2)
    give_marks(selection.intake, {"test": [12, 12]})
    amina = make_juror("amina", world.smara)
    # Jury A has the earliest slot; the first applicant by name could take either.
    make_panel(selection.interview, [world.users["juror"]], name="Jury A", slots=1, hour=9)
    make_panel(selection.interview, [amina], name="Jury B", slots=1, hour=10)
    first, second = sorted(selection.applications, key=lambda a: (a.last_name, a.first_name))
    _conflict(amina, second)  # the second can only go to Jury A
    result = _assign(world, selection)
    placed = _placed(selection)
    assert result.placed == 2 and result.unplaced == []
    assert placed[second.pk].panel.name == "Jury A"
    assert placed[first.pk].panel.name == "Jury B"


def test_assignment_reports_those_left_without_a_slot(world):
    selection = make_selection(world.smara, n=5)
    give_marks(selection.intake, {"test": [12] * 5})
    make_panel(selection.interview, [world.users["juror"]], slots=3)
    result = _assign(world, selection)
    assert result.placed == 3
    assert [reason for _a, reason in result.unplaced] == ["no_slot", "no_slot"]
    # Running it again with more slots places the rest and moves nobody.
    before = _placed(selection)
    make_panel(selection.interview, [world.users["juror"]], name="Jury B", slots=2, hour=14)
    again = _assign(world, selection)
    after = _placed(selection)
    assert again.placed == 2 and again.already == 3
    assert all(after[a].pk == s.pk for a, s in before.items())


def test_a_panel_without_jurors_gets_nobody(world):
    selection = make_selection(world.smara, n=2)
    give_marks(selection.intake, {"test": [12, 12]})
    make_panel(selection.interview, [], slots=5)
    result = _assign(world, selection)
    assert result.placed == 0


def test_manual_assignment_refuses_a_conflict_and_moves_otherwise(world):
    selection = make_selection(world.smara, n=2)
    give_marks(selection.intake, {"test": [12, 12]})
    amina = make_juror("amina", world.smara)
    panel_a = make_panel(selection.interview, [world.users["juror"]], name="Jury A", slots=2)
    panel_b = make_panel(selection.interview, [amina], name="Jury B", slots=2, hour=14)
    application = selection.applications[0]
    _conflict(amina, application)
    slot_a, slot_b = _slots(panel_a)[0], _slots(panel_b)[0]
    actor = world.users["admissions"]
    with scope(school=world.smara):
        interviews.slot_assign(slot=slot_a, application=application, actor=actor)
        with pytest.raises(ValidationError, match="Conflict of interest"):
            interviews.slot_assign(slot=slot_b, application=application, actor=actor)
        other = _slots(panel_a)[1]
        interviews.slot_assign(slot=other, application=application, actor=actor)
    placed = _placed(selection)
    assert list(placed) == [application.pk] and placed[application.pk].pk == other.pk


def test_manual_assignment_refuses_an_applicant_eliminated_by_the_test(world):
    selection = make_selection(world.smara, n=1, test_threshold=Decimal(10))
    give_marks(selection.intake, {"test": [9]})
    panel = make_panel(selection.interview, [world.users["juror"]], slots=1)
    with scope(school=world.smara), pytest.raises(ValidationError, match="threshold"):
        interviews.slot_assign(
            slot=_slots(panel)[0],
            application=selection.applications[0],
            actor=world.users["admissions"],
        )


def test_the_slot_page_refuses_a_conflicting_reassignment_with_a_message(world):
    selection = make_selection(world.smara, n=1)
    give_marks(selection.intake, {"test": [12]})
    panel = make_panel(selection.interview, [world.users["juror"]], slots=1)
    application = selection.applications[0]
    _conflict(world.users["juror"], application)
    slot = _slots(panel)[0]
    url = reverse("selection:interview_slot_assign", args=[*selection.urls["interview"], slot.pk])
    response = world.client("admissions").post(
        url, {"reference": application.reference}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert "Conflict of interest" in response.content.decode()
    assert _placed(selection) == {}


def test_the_assignment_page_lists_who_could_not_be_placed_and_why(world):
    selection = make_selection(world.smara, n=2)
    give_marks(selection.intake, {"test": [12, 12]})
    make_panel(selection.interview, [world.users["juror"]], slots=1)
    url = reverse("selection:interview_assign", args=selection.urls["interview"])
    response = world.client("admissions").post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "not enough free slots" in response.content.decode().lower()


# --- Convocations and attendance ---------------------------------------------------------------


def test_interview_convocations_start_a_letter_batch_for_the_placed(world, monkeypatch):
    calls = stub_letters(monkeypatch)
    selection = make_selection(world.smara, n=3)
    give_marks(selection.intake, {"test": [12, 12, 12]})
    make_panel(selection.interview, [world.users["juror"]], slots=2)
    _assign(world, selection)
    with scope(school=world.smara):
        count = interviews.interview_convocations_send(
            component=selection.interview, actor=world.users["admissions"]
        )
    assert count == 2
    assert calls[0]["kind"] == Letter.Kind.INTERVIEW_CONVOCATION
    assert sorted(calls[0]["application_ids"]) == sorted(_placed(selection))
    assert all(s.convened_at for s in _placed(selection).values())


def test_an_interview_absence_is_the_applicants_mark_until_corrected(world):
    selection = make_selection(world.smara, n=1)
    give_marks(selection.intake, {"test": [12]})
    panel = make_panel(selection.interview, [world.users["juror"]], slots=1)
    _assign(world, selection)
    slot = _slots(panel)[0]
    with scope(school=world.smara):
        interviews.slot_attendance_set(slot=slot, present=False, actor=world.users["admissions"])
        mark = Mark.objects.get(component=selection.interview)
        assert mark.absent
        interviews.slot_attendance_set(slot=slot, present=True, actor=world.users["admissions"])
        mark.refresh_from_db()
        assert not mark.absent


# --- Conflicts ---------------------------------------------------------------------------------


def test_staff_record_and_remove_a_conflict_with_a_reason(world, selection):
    application = selection.applications[0]
    url = reverse("selection:interview_conflicts", args=selection.urls["interview"])
    client = world.client("admissions")
    response = client.post(
        url,
        {"juror": world.users["juror"].pk, "reference": application.reference, "reason": "Frère"},
    )
    assert response.status_code == 302
    with scopes_disabled():
        conflict = ConflictOfInterest.objects.get(juror=world.users["juror"])
    delete = reverse(
        "selection:interview_conflict_delete", args=[*selection.urls["interview"], conflict.pk]
    )
    client.post(delete, {"reason": ""})
    with scopes_disabled():
        assert ConflictOfInterest.objects.filter(pk=conflict.pk).exists()
    client.post(delete, {"reason": "Erreur de saisie"})
    with scopes_disabled():
        assert not ConflictOfInterest.objects.filter(pk=conflict.pk).exists()
        removed = AuditEvent.objects.get(action="tremplin.selection.conflict.removed")
    assert removed.reason == "Erreur de saisie"


# --- Rubric ------------------------------------------------------------------------------------


def test_levels_are_read_one_per_line_and_sorted_from_the_best():
    levels = interviews_rubric.parse_levels(
        "8 | Peu clair | غير واضح\n\n16 | Très clair | واضح جدا\n20|Excellent"
    )
    assert levels == [
        {"mark": "20", "text": "Excellent", "text_ar": ""},
        {"mark": "16", "text": "Très clair", "text_ar": "واضح جدا"},
        {"mark": "8", "text": "Peu clair", "text_ar": "غير واضح"},
    ]


@pytest.mark.parametrize("text", ["25 | Trop", "x | Rien", "12", "12 | A\n12 | B"])
def test_bad_levels_are_refused(text):
    with pytest.raises(ValidationError):
        interviews_rubric.parse_levels(text)


def test_the_rubric_page_saves_criteria_with_levels(world, selection):
    url = reverse("selection:interview_rubric", args=selection.urls["interview"])
    data = {
        "criteria-TOTAL_FORMS": "2",
        "criteria-INITIAL_FORMS": "0",
        "criteria-0-label": "Motivation",
        "criteria-0-label_ar": "الحافز",
        "criteria-0-weight": "2",
        "criteria-0-levels": "16 | Claire | واضح\n8 | Vague | غامض",
        "criteria-1-label": "",
        "criteria-1-label_ar": "",
        "criteria-1-weight": "",
        "criteria-1-levels": "",
    }
    response = world.client("admissions").post(url, data)
    assert response.status_code == 302
    with scopes_disabled():
        criterion = Criterion.objects.get(component=selection.interview)
    assert criterion.weight == Decimal(2)
    assert [level["mark"] for level in criterion.levels] == ["16", "8"]


def test_the_rubric_cannot_change_once_a_juror_has_started(world, selection):
    with scopes_disabled():
        Criterion.objects.create(component=selection.interview, label="A", label_ar="أ")
        ScoreSheet.objects.create(
            component=selection.interview,
            application=selection.applications[0],
            juror=world.users["juror"],
        )
    with scope(school=world.smara), pytest.raises(ValidationError):
        interviews_rubric.criteria_save(
            component=selection.interview,
            criteria=[Criterion(label="B", label_ar="ب")],
            actor=world.users["admissions"],
        )
    with scopes_disabled():
        assert list(Criterion.objects.values_list("label", flat=True)) == ["A"]


def test_an_absence_from_the_test_counting_as_zero_does_not_keep_anyone_from_the_interview(
    world,
):
    from tests.selection.assessment_builders import make_selection
    from tests.selection.builders import give_marks
    from tremplin.selection import interviews as services

    selection = make_selection(world.smara, n=3)
    give_marks(selection.intake, {"test": [12, "absent", 9]})
    with scopes_disabled():
        selection.test.absence = "zero"
        selection.test.threshold = None
        selection.test.save()
    with scope(school=world.smara):
        kept, left_out = services.interview_candidates(selection.interview)
    assert len(kept) == 3 and not left_out
    with scopes_disabled():
        selection.test.absence = "eliminates"
        selection.test.save()
    with scope(school=world.smara):
        kept, left_out = services.interview_candidates(selection.interview)
    assert len(kept) == 2 and list(left_out.values()) == ["test_absent"]
