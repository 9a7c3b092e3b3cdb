"""Jurors and markers in Chromium: a juror scores an interview on a 360 px phone in Arabic
(right to left), submits and sees the sheet locked; an officer types marks in the keyboard
grid (Enter goes down, each line saves itself). Screenshots of the grid, the sheet and the
slots page."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.selection.assessment_builders import (
    make_juror,
    make_panel,
    make_selection,
    make_session,
)
from tests.selection.builders import give_marks
from tremplin.selection import assessment, interviews
from tremplin.selection import models as sm
from tremplin.selection.assessment_marks import marks_record
from tremplin.selection.interviews_scoring import sheet_save
from tremplin.selection.models import Criterion, Mark, ScoreSheet

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))
LOGIN_LABELS = {
    "fr": ("Nom d’utilisateur", "Mot de passe", "Se connecter"),
    "ar": ("اسم المستخدم", "كلمة المرور", "تسجيل الدخول"),
}


@pytest.fixture
def interviews_ready(live_world):
    """A closed call whose 4 applicants passed the test and have interviews with the
    juror's panel, and a rubric with level descriptors in both languages."""
    selection = make_selection(live_world.smara, n=4)
    give_marks(selection.intake, {"test": [12, 13, 14, 15]})
    with scopes_disabled():
        Criterion.objects.create(
            component=selection.interview,
            label="Projet professionnel",
            label_ar="المشروع المهني",
            weight=Decimal(2),
            levels=[
                {"mark": "18", "text": "Projet clair et réaliste", "text_ar": "مشروع واضح وواقعي"},
                {"mark": "12", "text": "Projet vague", "text_ar": "مشروع غير محدد"},
                {"mark": "6", "text": "Pas de projet", "text_ar": "بدون مشروع"},
            ],
            position=1,
        )
        Criterion.objects.create(
            component=selection.interview,
            label="Communication",
            label_ar="التواصل",
            weight=Decimal(1),
            levels=[
                {"mark": "16", "text": "Claire et posée", "text_ar": "واضح وهادئ"},
                {"mark": "10", "text": "Hésitante", "text_ar": "متردد"},
            ],
            position=2,
        )
    make_panel(selection.interview, [live_world.users["juror"]], name="Jury A", slots=4)
    with scope(school=live_world.smara):
        interviews.interviews_assign(
            component=selection.interview, actor=live_world.users["admissions"]
        )
    return selection


def _context(browser, live_server, viewport, language):
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    return context


def _log_in(page, live_server, username, language):
    user_label, password_label, button = LOGIN_LABELS[language]
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label(user_label).fill(username)
    page.get_by_label(password_label).fill(PASSWORD)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(f"{live_server.url}/staff/smara/")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_juror_scores_an_interview_on_a_phone_in_arabic_and_sees_it_locked(
    browser, live_server, live_world, interviews_ready
):
    context = _context(browser, live_server, PHONE, "ar")
    page = context.new_page()
    _log_in(page, live_server, "juror", "ar")
    page.goto(f"{live_server.url}/staff/smara/jury/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert _fits(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "jury-home-ar-phone.png", full_page=True)

    page.locator("a[href*='/jury/interviews/']").first.click()
    page.wait_for_url("**/jury/interviews/*/")
    # Level descriptors in Arabic, as large choices that fit the screen.
    level = page.get_by_text("مشروع واضح وواقعي")
    expect(level).to_be_visible()
    assert level.bounding_box()["height"] >= 44  # a comfortable thumb target
    assert _fits(page)
    page.screenshot(path=SHOTS / "jury-sheet-ar-phone.png", full_page=True)

    level.click()
    page.get_by_text("متردد").click()
    page.locator("textarea[name=comment]").fill("مرشح متحمس")
    page.wait_for_timeout(300)  # Bootstrap's transition to the checked colours
    page.screenshot(path=SHOTS / "jury-sheet-filled-ar-phone.png", full_page=True)
    page.locator("button[name=submit]").click()
    page.wait_for_load_state()

    expect(page.locator(".tp-locked")).to_be_visible()
    expect(page.locator("button[name=submit]")).to_have_count(0)
    expect(page.locator("input[type=radio]")).to_have_count(0)
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert _fits(page)
    page.screenshot(path=SHOTS / "jury-sheet-locked-ar-phone.png", full_page=True)
    context.close()

    with scopes_disabled():
        sheet = ScoreSheet.objects.get(juror=live_world.users["juror"])
        mark = Mark.objects.get(component=interviews_ready.interview, application=sheet.application)
    # (2 × 18 + 1 × 10) / 3 = 15.33
    assert (sheet.status, sheet.mark, sheet.comment) == (
        "submitted",
        Decimal("15.33"),
        "مرشح متحمس",
    )
    assert mark.value == Decimal("15.33") and mark.source == "jury"


@pytest.fixture
def seated(live_world):
    selection = make_selection(live_world.smara, n=6)
    session = make_session(selection.test, capacity=10)
    with scope(school=live_world.smara):
        assessment.sittings_assign(component=selection.test, actor=live_world.users["admissions"])
        first = sm.TestSitting.objects.filter(session=session).order_by("candidate_number")[2]
        assessment.sittings_attendance_set(
            session=session, presence={first.pk: False}, actor=live_world.users["admissions"]
        )
    return selection, session


def _marks(selection) -> dict:
    with scopes_disabled():
        return {
            m.application_id: m.value
            for m in Mark.objects.filter(component=selection.test, value__isnull=False)
        }


def test_an_officer_types_marks_down_the_grid_with_the_keyboard(
    browser, live_server, live_world, seated
):
    selection, session = seated
    context = _context(browser, live_server, DESKTOP, "fr")
    page = context.new_page()
    _log_in(page, live_server, "admissions", "fr")
    school, intake, code = selection.urls["test"]
    page.goto(
        f"{live_server.url}/staff/{school}/intakes/{intake}/tests/{code}/sessions/{session.pk}/marks/"
    )
    inputs = page.locator("input.tp-mark:not([disabled])")
    expect(inputs).to_have_count(5)  # the absent line is disabled
    rows = [inputs.nth(i).get_attribute("name")[1:] for i in range(5)]
    inputs.nth(0).click()
    for row, typed in zip(rows, ["12,5", "14.25", "21", "9"], strict=False):
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
        # The test database (SQLite in memory) serves one writer at a time: let each line's
        # save land before the next, as the file database in WAL mode would queue them.
        expect(page.locator(f"#row-{row} .text-success, #row-{row} .errorlist")).to_have_count(1)
    # Enter moved down each time: the fifth line has the focus, the others saved themselves.
    assert page.evaluate("document.activeElement.name") == inputs.nth(4).get_attribute("name")
    expect(page.locator("tr.table-danger")).to_have_count(1, timeout=5000)
    expect(page.locator("tr .text-success")).to_have_count(3)
    # Each line's save is said in the page's one live region, outside the lines.
    expect(page.locator("[role=status]")).to_have_count(1)
    expect(page.locator("#grid-said")).not_to_have_text("")
    values = sorted(_marks(selection).values())
    assert values == [Decimal("9"), Decimal("12.5"), Decimal("14.25")]
    page.screenshot(path=SHOTS / "grid-fr-desktop.png", full_page=True)
    context.close()


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_grid_and_the_slots_fit_a_phone(browser, live_server, live_world, seated, language):
    selection, session = seated
    amina = make_juror("amina", live_world.smara)
    make_panel(selection.interview, [live_world.users["juror"], amina], name="Jury A", slots=8)
    with scope(school=live_world.smara):
        absent = set(Mark.objects.filter(absent=True).values_list("application_id", flat=True))
        marks_record(
            component=selection.test,
            values={a.pk: Decimal(12) for a in selection.applications if a.pk not in absent},
            actor=live_world.users["admissions"],
        )
        interviews.interviews_assign(
            component=selection.interview, actor=live_world.users["admissions"]
        )
        slots = list(sm.InterviewSlot.objects.filter(application__isnull=False)[:2])
        for slot, marks in zip(slots, [(12, 18), (14, 15)], strict=True):
            for juror, value in zip([live_world.users["juror"], amina], marks, strict=True):
                sheet_save(
                    slot=slot,
                    juror=juror,
                    scores={},
                    overall=Decimal(value),
                    comment="",
                    submit=True,
                )
    context = _context(browser, live_server, PHONE, language)
    page = context.new_page()
    _log_in(page, live_server, "admissions", language)
    school, intake, code = selection.urls["test"]
    base = f"{live_server.url}/staff/{school}/intakes/{intake}"
    for name, url in [
        ("grid", f"{base}/tests/{code}/sessions/{session.pk}/marks/"),
        ("attendance", f"{base}/tests/{code}/sessions/{session.pk}/attendance/"),
        ("sessions", f"{base}/tests/{code}/"),
    ]:
        page.goto(url)
        assert _fits(page), name
        page.screenshot(path=SHOTS / f"{name}-{language}-phone.png", full_page=True)
    with scopes_disabled():
        panel = sm.Panel.objects.get(component=selection.interview)
    page.goto(f"{base}/interviews/{selection.interview.code}/panels/{panel.pk}/")
    assert _fits(page)
    page.screenshot(path=SHOTS / f"slots-{language}-phone.png", full_page=True)
    context.close()
    context = _context(browser, live_server, DESKTOP, language)
    page = context.new_page()
    _log_in(page, live_server, "admissions", language)
    interview = f"{base}/interviews/{selection.interview.code}"
    for name, url in [
        ("slots", f"{interview}/panels/{panel.pk}/"),
        ("panels", f"{interview}/"),
        ("rubric", f"{interview}/rubric/"),
        ("review", f"{interview}/review/"),
        ("conflicts", f"{interview}/conflicts/"),
        ("assessment", f"{base}/assessment/"),
        ("import", f"{base}/tests/{code}/import/"),
    ]:
        page.goto(url)
        assert _fits(page), name
        page.screenshot(path=SHOTS / f"{name}-{language}-desktop.png", full_page=True)
    context.close()
