"""Jurors: they see only their panels' interviews, never an applicant they declared a
conflict with, never a CIN, nor another juror's marks before submitting; a submitted sheet
locks and its amendment is audited; the interview mark is the engine's aggregation."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.selection.assessment_builders import make_juror, make_panel, make_selection
from tests.selection.builders import give_marks
from tremplin.core.models import AuditEvent
from tremplin.selection import interviews, scoring
from tremplin.selection.interviews_scoring import sheet_amend, sheet_mark, sheet_save
from tremplin.selection.models import (
    ConflictOfInterest,
    Criterion,
    InterviewSlot,
    Mark,
    ScoreSheet,
)


class Jury:
    def __init__(self, world, n=4, criteria=True, **scheme):
        self.world = world
        self.selection = make_selection(world.smara, n=n, **scheme)
        give_marks(self.selection.intake, {"test": [12] * n})
        self.amina = make_juror("amina", world.smara)
        self.karim = make_juror("karim", world.smara)  # a juror of Smara, on no panel here
        self.panel = make_panel(
            self.selection.interview, [world.users["juror"], self.amina], slots=n
        )
        with scopes_disabled():
            if criteria:
                self.levels = Criterion.objects.create(
                    component=self.selection.interview,
                    label="Motivation",
                    label_ar="الحافز",
                    weight=Decimal(1),
                    levels=[
                        {"mark": "16", "text": "Projet clair", "text_ar": "مشروع واضح"},
                        {"mark": "12", "text": "Projet vague", "text_ar": "مشروع غامض"},
                        {"mark": "8", "text": "Pas de projet", "text_ar": "بدون مشروع"},
                    ],
                    position=1,
                )
                self.free = Criterion.objects.create(
                    component=self.selection.interview,
                    label="Communication",
                    label_ar="التواصل",
                    weight=Decimal(2),
                    position=2,
                )
        with scope(school=world.smara):
            interviews.interviews_assign(
                component=self.selection.interview, actor=world.users["admissions"]
            )
        with scopes_disabled():
            self.slots = list(
                InterviewSlot.objects.filter(panel=self.panel)
                .select_related("application", "component")
                .order_by("starts_at")
            )

    def url(self, slot, name="jury_sheet") -> str:
        return reverse(f"selection:{name}", args=[self.world.smara.slug, slot.pk])

    def submit(self, juror, slot, **scores):
        with scope(school=self.world.smara):
            return sheet_save(slot=slot, juror=juror, comment="", submit=True, **scores)

    def mark(self, slot) -> Mark:
        with scopes_disabled():
            return Mark.objects.get(
                component=self.selection.interview, application_id=slot.application_id
            )


@pytest.fixture
def jury(world):
    return Jury(world)


def _sheet_data(jury, level="16", free="13", **extra) -> dict:
    return {f"c{jury.levels.pk}": level, f"c{jury.free.pk}": free, "comment": "", **extra}


# --- What a juror sees ------------------------------------------------------------------------


def test_a_juror_sees_only_the_interviews_of_the_panels_they_sit_on(world, jury):
    other = make_panel(jury.selection.interview, [jury.karim], name="Jury B", slots=1, hour=15)
    with scopes_disabled():
        outsider = jury.slots[-1].application
        InterviewSlot.objects.filter(pk=jury.slots[-1].pk).update(application=None)
        InterviewSlot.objects.filter(panel=other).update(application=outsider)
    content = world.client("juror").get(reverse("selection:jury_home", args=["smara"]))
    content = content.content.decode()
    for slot in jury.slots[:-1]:
        assert slot.application.full_name in content
    assert outsider.full_name not in content


def test_a_juror_not_on_the_panel_gets_404_on_its_sheets(world, jury):
    from tests.conftest import verified_client

    karim = verified_client(jury.karim)
    assert karim.get(jury.url(jury.slots[0])).status_code == 404
    assert karim.post(jury.url(jury.slots[0]), _sheet_data(jury, submit="1")).status_code == 404
    with scopes_disabled():
        assert not ScoreSheet.objects.exists()


def test_a_juror_gets_404_on_the_staff_pages(world, jury):
    client = world.client("juror")
    for name, args in [
        ("interview_review", jury.selection.urls["interview"]),
        ("interview_panels", jury.selection.urls["interview"]),
        ("test_sessions", jury.selection.urls["test"]),
    ]:
        assert client.get(reverse(f"selection:{name}", args=args)).status_code == 404


def test_a_juror_never_sees_an_applicant_they_declared_a_conflict_with(world, jury):
    application = jury.slots[0].application
    client = world.client("juror")
    found = client.get(
        reverse("selection:jury_conflicts", args=["smara"]), {"q": application.last_name}
    )
    assert application.full_name in found.content.decode()
    # Found too as typed on a phone: without the accents, hyphens or capitals.
    folded = client.get(
        reverse("selection:jury_conflicts", args=["smara"]),
        {"q": application.last_name.upper().replace("I", "Ï") + " -"},
    )
    assert application.full_name in folded.content.decode()
    # With an invisible control character pasted in (PostgreSQL refuses NUL in a query).
    pasted = client.get(
        reverse("selection:jury_conflicts", args=["smara"]),
        {"q": f"{application.reference}\x00"},
    )
    assert application.full_name in pasted.content.decode()
    response = client.post(
        reverse("selection:jury_conflicts", args=["smara"]),
        {"application": application.pk, "reason": "Mon cousin"},
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert ConflictOfInterest.objects.get(juror=world.users["juror"]).reason == "Mon cousin"
    home = client.get(reverse("selection:jury_home", args=["smara"])).content.decode()
    assert application.full_name not in home
    assert client.get(jury.url(jury.slots[0])).status_code == 404


def test_a_jurors_search_finds_only_those_who_may_still_be_interviewed(world, jury):
    """Not anybody once the call's ranking is published: the search for conflicts is no
    directory of every applicant the school ever had. Found ineligible after her interview
    was assigned, an applicant keeps it, and the juror may still declare."""
    from django.utils import timezone

    from tremplin.admissions.models import Application
    from tremplin.selection.models import RankingRun

    url = reverse("selection:jury_conflicts", args=["smara"])
    client = world.client("juror")
    first, second = (slot.application for slot in jury.slots[:2])
    with scopes_disabled():
        Application.objects.filter(pk=second.pk).update(
            eligibility=Application.Eligibility.INELIGIBLE
        )
    assert first.full_name in client.get(url, {"q": first.reference}).content.decode()
    assert second.full_name in client.get(url, {"q": second.reference}).content.decode()
    assert client.post(url, {"application": second.pk, "reason": "Ma voisine"}).status_code == 302

    with scopes_disabled():
        RankingRun.objects.create(
            intake=jury.selection.intake, number=1, status=RankingRun.Status.DONE,
            created_by=world.users["director"], published_at=timezone.now(),
        )  # fmt: skip
    page = client.get(url, {"q": first.reference}).content.decode()
    assert first.full_name not in page.split("<h2")[0]  # not found (the declared are below)
    assert "Personne ne correspond parmi les candidats qui peuvent encore" in page
    assert client.post(url, {"application": first.pk, "reason": "Mon cousin"}).status_code == 404
    with scopes_disabled():
        assert list(ConflictOfInterest.objects.values_list("application", flat=True)) == [second.pk]


def test_a_juror_never_sees_a_cin(world, jury):
    client = world.client("juror")
    pages = [
        client.get(reverse("selection:jury_home", args=["smara"])),
        client.get(jury.url(jury.slots[0])),
        client.get(
            reverse("selection:jury_conflicts", args=["smara"]),
            {"q": jury.slots[0].application.last_name},
        ),
    ]
    for page in pages:
        content = page.content.decode()
        assert all(s.application.cin not in content for s in jury.slots)


def test_a_juror_cannot_read_another_jurors_marks_before_submitting_their_own(world, jury):
    slot = jury.slots[0]
    jury.submit(
        jury.amina, slot, scores={jury.levels.pk: Decimal(8), jury.free.pk: Decimal("17.3")}
    )
    client = world.client("juror")
    before = client.get(jury.url(slot)).content.decode()
    assert "14,2" not in before and jury.amina.last_name not in before  # amina's 14.2
    client.post(jury.url(slot), _sheet_data(jury, submit="1"))
    after = client.get(jury.url(slot)).content.decode()
    assert jury.amina.last_name in after and "14,2" in after


# --- Sheets -----------------------------------------------------------------------------------


def test_a_sheet_is_the_weighted_mean_of_its_criteria_rounded_half_up():
    a, b = Criterion(pk=1, weight=Decimal(1)), Criterion(pk=2, weight=Decimal(1))
    assert sheet_mark([a, b], {1: Decimal("12.24"), 2: Decimal("12.25")}) == Decimal("12.25")
    b.weight = Decimal(2)
    assert sheet_mark([a, b], {1: Decimal(16), 2: Decimal("12.5")}) == Decimal("13.67")


def test_a_draft_stays_open_and_a_submission_needs_every_criterion(world, jury):
    client, slot = world.client("juror"), jury.slots[0]
    response = client.post(jury.url(slot), {f"c{jury.levels.pk}": "12", "comment": "Timide"})
    assert response.status_code == 302
    with scopes_disabled():
        sheet = ScoreSheet.objects.get(juror=world.users["juror"])
    assert (sheet.status, sheet.mark, sheet.comment) == ("draft", None, "Timide")
    refused = client.post(
        jury.url(slot), {f"c{jury.levels.pk}": "12", "submit": "1"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 400
    assert "Score every criterion" in refused.content.decode()
    with scopes_disabled():
        sheet.refresh_from_db()
    assert sheet.status == "draft"


def test_a_level_that_is_not_in_the_rubric_is_refused(world, jury):
    response = world.client("juror").post(
        jury.url(jury.slots[0]), _sheet_data(jury, level="20", submit="1")
    )
    assert response.status_code == 400
    with scopes_disabled():
        assert not ScoreSheet.objects.filter(status="submitted").exists()


def test_a_submitted_sheet_locks_and_sets_the_interview_mark(world, jury):
    client, slot = world.client("juror"), jury.slots[0]
    client.post(jury.url(slot), _sheet_data(jury, level="16", free="12,5", submit="1"))
    with scopes_disabled():
        sheet = ScoreSheet.objects.get(juror=world.users["juror"])
    assert (sheet.status, sheet.mark) == ("submitted", Decimal("13.67"))
    assert sheet.submitted_at is not None
    mark = jury.mark(slot)
    assert (mark.value, mark.source, mark.disagreement) == (Decimal("13.67"), "jury", False)
    # A second post changes nothing.
    client.post(jury.url(slot), _sheet_data(jury, level="8", free="2", submit="1"))
    with scopes_disabled():
        sheet.refresh_from_db()
    assert sheet.mark == Decimal("13.67")
    page = client.get(jury.url(slot)).content.decode()
    assert "tp-locked" in page and 'name="submit"' not in page


def test_amending_a_submitted_sheet_needs_a_reason_and_is_audited(world, jury):
    client, slot = world.client("juror"), jury.slots[0]
    client.post(jury.url(slot), _sheet_data(jury, level="16", free="13", submit="1"))
    amend = jury.url(slot, "jury_sheet_amend")
    refused = client.post(amend, _sheet_data(jury, level="12", free="13", reason=""))
    assert refused.status_code == 400
    assert jury.mark(slot).value == Decimal(14)
    done = client.post(amend, _sheet_data(jury, level="12", free="13", reason="Erreur de ligne"))
    assert done.status_code == 302
    assert jury.mark(slot).value == Decimal("12.67")
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.selection.sheet.amended")
    assert event.reason == "Erreur de ligne" and event.actor == world.users["juror"]
    assert event.data["old"]["mark"] == "14.00" and event.data["new"]["mark"] == "12.67"
    assert event.data["old"]["scores"][str(jury.levels.pk)] == "16.00"
    assert event.data["new"]["scores"][str(jury.levels.pk)] == "12"


def test_the_service_refuses_to_amend_without_a_reason(world, jury):
    sheet = jury.submit(
        world.users["juror"], jury.slots[0], scores={jury.levels.pk: 16, jury.free.pk: 13}
    )
    with scope(school=world.smara), pytest.raises(ValidationError):
        sheet_amend(
            sheet=sheet,
            scores={jury.levels.pk: Decimal(8), jury.free.pk: Decimal(8)},
            comment="",
            reason="  ",
            actor=world.users["juror"],
        )


def test_an_absent_applicant_cannot_be_scored(world, jury):
    with scope(school=world.smara):
        interviews.slot_attendance_set(
            slot=jury.slots[0], present=False, actor=world.users["admissions"]
        )
    response = world.client("juror").post(jury.url(jury.slots[0]), _sheet_data(jury, submit="1"))
    assert response.status_code == 400
    with scopes_disabled():
        assert not ScoreSheet.objects.exists()


# --- Aggregation ------------------------------------------------------------------------------


def test_without_correction_the_mark_is_the_mean_and_a_wide_spread_is_flagged(world):
    jury = Jury(world, n=2, criteria=False)
    first, second = jury.slots
    jury.submit(world.users["juror"], first, scores={}, overall=Decimal(12))
    assert jury.mark(first).value == Decimal(12)
    jury.submit(jury.amina, first, scores={}, overall=Decimal("17.5"))
    jury.submit(world.users["juror"], second, scores={}, overall=Decimal(12))
    jury.submit(jury.amina, second, scores={}, overall=Decimal(15))
    flagged, calm = jury.mark(first), jury.mark(second)
    assert (flagged.value, flagged.disagreement) == (Decimal("14.75"), True)
    assert (calm.value, calm.disagreement) == (Decimal("13.5"), False)
    assert flagged.detail["spread"] == "5.50"
    page = world.client("admissions").get(
        reverse("selection:interview_review", args=jury.selection.urls["interview"]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    content = page.content.decode()
    assert content.count('class="table-warning"') == 1
    assert "jurors disagree" in content


def test_severity_correction_puts_a_lenient_juror_on_the_common_scale(world):
    jury = Jury(world, n=3, criteria=False, severity_correction=True)
    severe, lenient = world.users["juror"], jury.amina
    given = {severe: [10, 11, 12], lenient: [15, 16, 17]}
    for juror, marks in given.items():
        for slot, value in zip(jury.slots, marks, strict=True):
            jury.submit(juror, slot, scores={}, overall=Decimal(value))
    expected = scoring.jury_marks(
        [
            (juror.pk, slot.application_id, Decimal(value))
            for juror, marks in given.items()
            for slot, value in zip(jury.slots, marks, strict=True)
        ],
        correct_severity=True,
    )
    for slot in jury.slots:
        mark = jury.mark(slot)
        assert mark.value == expected[slot.application_id].mean
        assert mark.disagreement is False  # 5 points apart raw, the same once corrected
        assert mark.detail["corrected"] is True
    # Same order as the raw means, centred on the pooled mean of 13.5.
    values = [jury.mark(s).value for s in jury.slots]
    assert values == sorted(values) and values[1] == Decimal("13.5")


def test_the_same_sheets_without_correction_flag_the_lenient_jurors_spread(world):
    jury = Jury(world, n=3, criteria=False)
    for juror, marks in {world.users["juror"]: [10, 11, 12], jury.amina: [15, 16, 17]}.items():
        for slot, value in zip(jury.slots, marks, strict=True):
            jury.submit(juror, slot, scores={}, overall=Decimal(value))
    assert [jury.mark(s).value for s in jury.slots] == [
        Decimal("12.5"),
        Decimal("13.5"),
        Decimal("14.5"),
    ]
    assert all(jury.mark(s).disagreement for s in jury.slots)


# --- Query count ------------------------------------------------------------------------------


# 8 to know who asks (session, user, two OTP devices, school, roles, coordinator scopes x2),
# then the slots with their panel, applicant and intake, and my sheets.
JURY_HOME_QUERIES = 10


def test_my_interviews_run_the_same_few_queries_for_2_or_8_interviews(
    world, django_assert_num_queries
):
    jury = Jury(world, n=8, criteria=False)
    client = world.client("juror")
    url = reverse("selection:jury_home", args=["smara"])
    with scopes_disabled():
        InterviewSlot.objects.filter(pk__in=[s.pk for s in jury.slots[2:]]).update(application=None)
    client.get(url)
    with django_assert_num_queries(JURY_HOME_QUERIES):
        assert client.get(url).content.decode().count("/jury/interviews/") == 2
    with scopes_disabled():
        for slot in jury.slots[2:]:
            InterviewSlot.objects.filter(pk=slot.pk).update(application=slot.application)
    jury.submit(world.users["juror"], jury.slots[0], scores={}, overall=Decimal(10))
    with django_assert_num_queries(JURY_HOME_QUERIES):
        assert client.get(url).content.decode().count("/jury/interviews/") == 8


def test_the_school_menu_leads_a_juror_to_their_interviews(world):
    dashboard = world.client("juror").get(reverse("schools:dashboard", args=["smara"]))
    assert reverse("selection:jury_home", args=["smara"]) in dashboard.content.decode()
    # A funder's coordinator never scores: no such link for them.
    coordinator = world.client("coordinator").get(reverse("schools:dashboard", args=["smara"]))
    assert coordinator.status_code == 200
    assert reverse("selection:jury_home", args=["smara"]) not in coordinator.content.decode()


def test_staff_on_the_panel_see_no_other_jurors_mark_on_the_review_before_their_own(world):
    """The director sits on the panel: the staff review page must not show her Amina's mark
    (nor the aggregated one) before she has submitted her own sheet."""
    jury = Jury(world, n=1, criteria=True)
    director = world.users["director"]
    with scopes_disabled():
        jury.panel.jurors.add(director)
    slot = jury.slots[0]
    jury.submit(
        jury.amina, slot, scores={jury.levels.pk: Decimal(8), jury.free.pk: Decimal("17.3")}
    )
    review = reverse(
        "selection:interview_review",
        args=["smara", jury.selection.intake.slug, jury.selection.interview.code],
    )
    before = world.client("director").get(review).content.decode()
    assert "14,2" not in before and jury.amina.last_name not in before
    # An officer who is not on the panel sees it all.
    assert "14,2" in world.client("admissions").get(review).content.decode()
    jury.submit(director, slot, scores={jury.levels.pk: Decimal(12), jury.free.pk: Decimal(12)})
    after = world.client("director").get(review).content.decode()
    assert "14,2" in after and jury.amina.last_name in after


def test_an_admissions_officer_on_a_panel_scores_like_any_juror(world, jury):
    officer = world.users["admissions"]
    with scopes_disabled():
        jury.panel.jurors.add(officer)
    response = world.client("admissions").post(
        jury.url(jury.slots[0]), _sheet_data(jury, submit="1")
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert ScoreSheet.objects.get(juror=officer).locked


def test_garbled_ids_in_a_jurors_conflict_declaration_answer_404_not_500(world, jury):
    url = reverse("selection:jury_conflicts", args=["smara"])
    for raw in ("²", "9" * 40, "-1", "1e3"):
        response = world.client("juror").post(url, {"application": raw, "reason": "voisin"})
        assert response.status_code == 404, raw
