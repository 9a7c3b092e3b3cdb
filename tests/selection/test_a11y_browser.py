"""The focus of a keyboard user in Chromium, on a 360 px phone (an accessibility review, WCAG
2.2): Enter on the last line of the marks grid goes on to the button that saves them all, not
to the page, and the line's save is said in the page's live region; the refresh link of a
batch in progress keeps the focus while the poll replaces the progress every second, and the
end of the batch is said once."""

import os
from pathlib import Path

from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.selection.assessment_builders import make_selection, make_session
from tests.selection.letters_world import applications, convene_to_test, selection_intake
from tremplin.selection import assessment
from tremplin.selection import models as sm
from tremplin.selection.models import Letter, LetterBatch

PHONE = {"width": 360, "height": 740}
SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))
LOGIN_LABELS = {
    "fr": ("Nom d’utilisateur", "Mot de passe", "Se connecter"),
    "ar": ("اسم المستخدم", "كلمة المرور", "تسجيل الدخول"),
}
FOCUSED = "document.activeElement.getAttribute('href') || document.activeElement.tagName"


def _page(browser, live_server, language):
    context = browser.new_context(viewport=PHONE)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    user_label, password_label, button = LOGIN_LABELS[language]
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label(user_label).fill("admissions")
    page.get_by_label(password_label).fill(PASSWORD)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(f"{live_server.url}/staff/smara/")
    return context, page


def test_enter_on_the_grids_last_line_saves_it_and_goes_on_to_the_save_button(
    browser, live_server, live_world
):
    selection = make_selection(live_world.smara, n=3)
    session = make_session(selection.test, capacity=10)
    with scope(school=live_world.smara):
        assessment.sittings_assign(component=selection.test, actor=live_world.users["admissions"])
        last = sm.TestSitting.objects.filter(session=session).order_by("candidate_number").last()
    context, page = _page(browser, live_server, "ar")
    school, intake, code = selection.urls["test"]
    page.goto(
        f"{live_server.url}/staff/{school}/intakes/{intake}/tests/{code}/sessions/{session.pk}/marks/"
    )
    said = page.locator("#grid-said")
    expect(said).to_have_attribute("role", "status")
    expect(said).to_have_text("")
    page.locator(f"#m{last.pk}").click()
    page.keyboard.type("١٤٫٥")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.hasAttribute('data-tp-grid-save')")
    expect(said).to_contain_text(str(last.candidate_number))
    # The line was swapped: the region, outside it, is the same element and keeps the words.
    expect(page.locator(f"#m{last.pk}")).to_have_value("14,5")
    expect(page.locator("[role=status]")).to_have_count(1)
    assert page.evaluate("document.activeElement.hasAttribute('data-tp-grid-save')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "grid-last-line-ar-phone.png", full_page=True)
    context.close()


def test_the_refresh_link_keeps_the_focus_while_a_batch_runs_and_ends(
    browser, live_server, live_world
):
    intake = selection_intake(live_world.smara)
    convene_to_test(intake)
    with scopes_disabled():
        batch = LetterBatch.objects.create(
            intake=intake,
            kind=Letter.Kind.TEST_CONVOCATION,
            status=LetterBatch.Status.RUNNING,
            total=6,
            done=2,
            application_ids=[a.pk for a in applications(intake)],
        )
    url = f"/staff/smara/intakes/{intake.slug}/letters/batches/{batch.pk}/"
    context, page = _page(browser, live_server, "fr")
    page.goto(live_server.url + url)
    said = page.locator("#letter-batch-said")
    link = page.locator(f"main a[href='{url}']")
    link.focus()
    with scopes_disabled():
        LetterBatch.objects.filter(pk=batch.pk).update(done=4)
    expect(page.locator("progress")).to_have_attribute("value", "66", timeout=5000)
    page.wait_for_timeout(1500)  # more polls
    assert page.evaluate(FOCUSED) == url
    expect(said).to_have_text("")  # the batch was running already: nothing new to say
    with scopes_disabled():
        LetterBatch.objects.filter(pk=batch.pk).update(status=LetterBatch.Status.FAILED)
    expect(said).not_to_have_text("", timeout=5000)
    expect(page.locator("progress")).to_have_count(0)
    expect(page.locator("form[action$='/retry/'] button")).to_be_visible()
    # Nothing is left to refresh: the link keeps the focus and leads to the result.
    assert page.evaluate(FOCUSED) == "#letter-batch-report"
    expect(page.locator("#letter-batch-refresh-link")).to_have_text("Aller au résultat")
    page.screenshot(path=SHOTS / "letters-batch-failed-fr-phone.png", full_page=True)
    context.close()
