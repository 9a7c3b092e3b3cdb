"""The re-check of a call's rules in Chromium, in Arabic on a phone and in French on a
desktop: staff ask what the current rules would change, the page polls while a worker looks,
then shows the changes and the button that applies them without a reload; applied, the
page says what was done."""

import os
from pathlib import Path

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests.admissions.intake_pages import four_applicants
from tests.browser.test_staff_pages import DESKTOP, PHONE, log_in_by_session, no_horizontal_scroll
from tremplin.admissions import recheck_tasks
from tremplin.admissions.models import Application, EligibilityRecheck, Intake

SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))

# What each language's page says, and the button that applies 3 changes.
SAID = {
    "ar": {
        "ask": "معاينة ما ستغيره القواعد الحالية",
        "looking": "جارٍ فحص ما ستغيره القواعد الحالية",
        "would": "عدد النتائج التي ستتغير: 3.",
        "apply": "تطبيق هذه النتائج وإخبار 3 مترشحين",
        "changed": "عدد النتائج التي تغيرت: 3.",
    },
    "fr": {
        "ask": "Voir ce que les règles actuelles changeraient",
        "looking": "Aperçu de ce que les règles actuelles changeraient pour 4 candidatures",
        "would": "3 résultats changeraient.",
        "apply": "Appliquer ces résultats et informer 3 personnes",
        "changed": "3 résultats ont changé.",
    },
}


class _Queued:
    """The tasks queued, run when the test says: the page is seen waiting, then done."""

    def __init__(self):
        self.ids: list[int] = []

    def enqueue(self, *, recheck_id: int) -> None:
        self.ids.append(recheck_id)

    def run_last(self) -> None:
        recheck_tasks.eligibility_recheck_execute(self.ids[-1])


@pytest.fixture
def queued(monkeypatch) -> _Queued:
    tasks = _Queued()
    monkeypatch.setattr(recheck_tasks, "run_recheck", tasks)
    return tasks


@pytest.mark.parametrize(("language", "viewport"), [("ar", PHONE), ("fr", DESKTOP)])
def test_staff_preview_a_recheck_then_apply_it_without_reloading_in_between(
    browser, live_world, live_server, queued, language, viewport
):
    said = SAID[language]
    intake = four_applicants(live_world)
    with scopes_disabled():  # Fatima and Salma too young now, Omar no longer too old
        Intake.objects.filter(pk=intake.pk).update(min_age=24, max_age=50)
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    log_in_by_session(context, live_server.url, live_world.users["admissions"])
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/smara/intakes/{intake.slug}/")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")

    page.get_by_role("button", name=said["ask"]).click()
    page.wait_for_url("**#recheck")
    expect(page.locator("#recheck-status")).to_contain_text(said["looking"])
    queued.run_last()  # the worker, while the page polls

    # The poll says what would change, and brings the changes and the button beside it.
    expect(page.locator("#recheck-status")).to_contain_text(said["would"], timeout=15_000)
    table = page.get_by_test_id("preview-changes")
    expect(table.locator("tbody tr")).to_have_count(3)
    for name in ("Fatima", "Omar", "Salma"):
        expect(table).to_contain_text(name)
    apply = page.get_by_role("button", name=said["apply"])
    expect(apply).to_be_visible()
    assert no_horizontal_scroll(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"recheck-preview-{language}.png", full_page=True)
    with scopes_disabled():
        assert Application.objects.filter(eligibility="eligible").count() == 3  # as before

    apply.click()
    page.wait_for_url("**#recheck")
    queued.run_last()
    expect(page.locator("#recheck-status")).to_contain_text(said["changed"], timeout=15_000)
    expect(page.get_by_test_id("preview-changes")).to_have_count(0)
    expect(page.get_by_role("button", name=said["ask"])).to_be_visible()
    page.screenshot(path=SHOTS / f"recheck-applied-{language}.png", full_page=True)
    with scopes_disabled():
        eligible = set(Application.objects.filter(eligibility="eligible").values_list(
            "first_name", flat=True
        ))  # fmt: skip
        assert eligible == {"Omar", "Karim"}
        assert [r.preview for r in EligibilityRecheck.objects.order_by("pk")] == [True, False]
    context.close()
