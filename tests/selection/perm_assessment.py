"""Permission cases of the written test, the interviews and the jurors' pages, merged into
tests/test_permissions.py.

`CASES` maps URL names to their expected answers per persona; `url_values` gives the values
of the URL parameters this part owns, building the objects it needs for Smara (`objects`
holds the open intake and its application built by the `smara_objects` fixture).

The juror persona sits on the one panel; the director holds the jury permission but is not
on that panel, so the sheet answers 404 to them as to anyone else.
"""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from tests.permission_case import ADMISSIONS_STAFF, Case, staff
from tests.selection.builders import make_scheme
from tremplin.selection.models import (
    Component,
    ConflictOfInterest,
    InterviewSlot,
    Panel,
    TestSession,
    TestSitting,
)

JURORS = {"director": 200, "admissions": 200, "juror": 200}

_PAGES = [
    "assessment",
    "test_sessions",
    "test_session_create",
    "test_session",
    "test_session_edit",
    "test_attendance",
    "test_grid",
    "test_import",
    "interview_panels",
    "interview_panel_create",
    "interview_panel_edit",
    "interview_slots",
    "interview_conflicts",
    "interview_rubric",
    "interview_review",
]
# Writes that answer with a redirect (refused or not: the objects below are not emptied).
_WRITES = [
    "test_session_delete",
    "test_sitting_move",
    "test_assign",
    "test_convene",
    "interview_panel_delete",
    "interview_slots_generate",
    "interview_slots_delete_empty",
    "interview_slot_delete",
    "interview_slot_assign",
    "interview_convene",
    "interview_conflict_delete",
]

CASES: dict = {
    **{f"selection:{name}": Case(expect=ADMISSIONS_STAFF) for name in _PAGES},
    **{f"selection:{name}": Case(method="post", expect=staff(302)) for name in _WRITES},
    "selection:interview_assign": Case(method="post", expect=staff(200)),
    "selection:interview_slot_attendance": Case(
        method="post", expect=staff(302), data={"present": "1"}
    ),
    "selection:jury_home": Case(expect=JURORS),
    "selection:jury_conflicts": Case(expect=JURORS),
    "selection:jury_sheet": Case(expect={"juror": 200}),
    # Without a submitted sheet, the amendment page sends the juror back to the sheet.
    "selection:jury_sheet_amend": Case(expect={"juror": 302}),
}


def url_values(world, objects: dict) -> dict:
    intake, application = objects["intake"], objects["application"]
    scheme = make_scheme(intake)
    with scopes_disabled():
        test = Component.objects.get(scheme=scheme, code="test")
        interview = Component.objects.get(scheme=scheme, code="interview")
        start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=7)
        session, _ = TestSession.objects.get_or_create(
            component=test,
            place="Salle 1",
            defaults={
                "starts_at": start,
                "ends_at": start + datetime.timedelta(hours=2),
                "place_ar": "القاعة 1",
                "capacity": 30,
            },
        )
        sitting, _ = TestSitting.objects.get_or_create(
            component=test,
            application=application,
            defaults={"session": session, "candidate_number": 1001},
        )
        panel, _ = Panel.objects.get_or_create(component=interview, name="Jury A")
        panel.jurors.set([world.users["juror"]])
        slot, _ = InterviewSlot.objects.get_or_create(
            panel=panel,
            starts_at=start,
            defaults={
                "component": interview,
                "ends_at": start + datetime.timedelta(minutes=20),
                "application": application,
            },
        )
        # The director's conflict (the juror persona has none, so their sheet opens).
        conflict, _ = ConflictOfInterest.objects.get_or_create(
            juror=world.users["director"], application=application, defaults={"reason": "Voisin"}
        )
    return {
        "test_code": test.code,
        "interview_code": interview.code,
        "session_id": session.pk,
        "sitting_id": sitting.pk,
        "panel_id": panel.pk,
        "slot_id": slot.pk,
        "conflict_id": conflict.pk,
    }
