"""Letters in Chromium: an officer follows a batch of convocations on a 360 px phone in Arabic
and on a desktop in French, and downloads a letter. Screenshots of both pages."""

import os
from pathlib import Path

import pytest
from django_scopes import scopes_disabled

from tests.factories import PASSWORD
from tests.selection.letters_world import applications, convene_to_test, selection_intake
from tremplin.selection.letters import letter_batch_start
from tremplin.selection.models import Letter, LetterBatch

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))
LOGIN_LABELS = {
    "fr": ("Nom d’utilisateur", "Mot de passe", "Se connecter"),
    "ar": ("اسم المستخدم", "كلمة المرور", "تسجيل الدخول"),
}


@pytest.fixture
def batch(live_world, settings):
    """A batch of test convocations, rendered (the immediate task backend runs it at once)."""
    settings.LETTER_WORKERS = 1
    intake = selection_intake(live_world.smara)
    convene_to_test(intake)
    with scopes_disabled():
        batch = letter_batch_start(
            intake=intake,
            kind=Letter.Kind.TEST_CONVOCATION,
            application_ids=[a.pk for a in applications(intake)],
            notify=False,
            actor=live_world.users["admissions"],
        )
        batch.refresh_from_db()
    assert batch.status == LetterBatch.Status.DONE
    return batch


def _log_in(page, base, language):
    user_label, password_label, button = LOGIN_LABELS[language]
    page.goto(f"{base}/account/login/")
    page.get_by_label(user_label).fill("admissions")
    page.get_by_label(password_label).fill(PASSWORD)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(f"{base}/staff/smara/")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("language", "viewport"), [("ar", PHONE), ("fr", DESKTOP)])
def test_an_officer_follows_a_batch_and_downloads_a_letter(
    browser, live_server, live_world, batch, language, viewport
):
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    _log_in(page, live_server.url, language)
    base = f"{live_server.url}/staff/smara/intakes/{batch.intake.slug}/letters/"
    page.goto(base)
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert _fits(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"letters-batches-{language}.png", full_page=True)

    page.locator(f"a[href$='/letters/batches/{batch.pk}/']").click()
    page.wait_for_url(f"**/letters/batches/{batch.pk}/")
    links = page.locator("a[href*='/staff/smara/letters/']")
    assert links.count() == 6
    assert _fits(page)
    page.screenshot(path=SHOTS / f"letters-batch-{language}.png", full_page=True)
    with page.expect_download() as download:
        links.first.click()
    path = download.value.path()
    assert download.value.suggested_filename.startswith("convocation-test-")
    assert Path(path).read_bytes().startswith(b"%PDF-")
    context.close()
