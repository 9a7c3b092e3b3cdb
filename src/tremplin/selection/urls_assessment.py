from django.urls import path

from tremplin.selection import views_assessment as tests
from tremplin.selection import views_interviews as interviews
from tremplin.selection import views_jury as jury

# Prefixes shared with the admissions staff pages.
S = "staff/<slug:school_slug>/"
I = S + "intakes/<slug:intake_slug>/"  # noqa: E741
T = I + "tests/<slug:test_code>/"
V = I + "interviews/<slug:interview_code>/"

urlpatterns: list = [
    path(I + "assessment/", tests.assessment_home, name="assessment"),
    # The written test.
    path(T, tests.test_sessions, name="test_sessions"),
    path(T + "sessions/new/", tests.test_session_create, name="test_session_create"),
    path(T + "sessions/<int:session_id>/", tests.test_session, name="test_session"),
    path(T + "sessions/<int:session_id>/edit/", tests.test_session_edit, name="test_session_edit"),
    path(
        T + "sessions/<int:session_id>/delete/",
        tests.test_session_delete,
        name="test_session_delete",
    ),
    path(
        T + "sessions/<int:session_id>/attendance/",
        tests.test_attendance,
        name="test_attendance",
    ),
    path(T + "sessions/<int:session_id>/marks/", tests.test_grid, name="test_grid"),
    path(T + "sittings/<int:sitting_id>/move/", tests.test_sitting_move, name="test_sitting_move"),
    path(T + "assign/", tests.test_assign, name="test_assign"),
    path(T + "convene/", tests.test_convene, name="test_convene"),
    path(T + "import/", tests.test_import, name="test_import"),
    # Interviews (staff).
    path(V, interviews.interview_panels, name="interview_panels"),
    path(V + "panels/new/", interviews.interview_panel_create, name="interview_panel_create"),
    path(
        V + "panels/<int:panel_id>/edit/",
        interviews.interview_panel_edit,
        name="interview_panel_edit",
    ),
    path(
        V + "panels/<int:panel_id>/delete/",
        interviews.interview_panel_delete,
        name="interview_panel_delete",
    ),
    path(V + "panels/<int:panel_id>/", interviews.interview_slots, name="interview_slots"),
    path(
        V + "panels/<int:panel_id>/generate/",
        interviews.interview_slots_generate,
        name="interview_slots_generate",
    ),
    path(
        V + "panels/<int:panel_id>/delete-empty/",
        interviews.interview_slots_delete_empty,
        name="interview_slots_delete_empty",
    ),
    path(
        V + "slots/<int:slot_id>/delete/",
        interviews.interview_slot_delete,
        name="interview_slot_delete",
    ),
    path(
        V + "slots/<int:slot_id>/assign/",
        interviews.interview_slot_assign,
        name="interview_slot_assign",
    ),
    path(
        V + "slots/<int:slot_id>/attendance/",
        interviews.interview_slot_attendance,
        name="interview_slot_attendance",
    ),
    path(V + "assign/", interviews.interview_assign, name="interview_assign"),
    path(V + "convene/", interviews.interview_convene, name="interview_convene"),
    path(V + "conflicts/", interviews.interview_conflicts, name="interview_conflicts"),
    path(
        V + "conflicts/<int:conflict_id>/delete/",
        interviews.interview_conflict_delete,
        name="interview_conflict_delete",
    ),
    path(V + "rubric/", interviews.interview_rubric, name="interview_rubric"),
    path(V + "review/", interviews.interview_review, name="interview_review"),
    # Jurors.
    path(S + "jury/", jury.jury_home, name="jury_home"),
    path(S + "jury/interviews/<int:slot_id>/", jury.jury_sheet, name="jury_sheet"),
    path(
        S + "jury/interviews/<int:slot_id>/amend/", jury.jury_sheet_amend, name="jury_sheet_amend"
    ),
    path(S + "jury/conflicts/", jury.jury_conflicts, name="jury_conflicts"),
]
