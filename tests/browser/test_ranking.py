"""Ranking in Chromium: an officer runs a ranking (its progress until done), compares it with
the previous run and publishes it with a comment; an applicant then opens their space with a
one-time code and reads the decision and its explanation. Screenshots of the pages in French
and Arabic, on a 360 px phone and on a desktop."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from tests.browser.test_portal import last_code
from tests.browser.test_staff_pages import log_in
from tests.selection.builders import give_marks, make_closed_intake, make_scheme
from tremplin.admissions.models import Application
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.selection.models import Mark, RankingRun
from tremplin.selection.ranking import ranking_publish, ranking_run_execute, ranking_run_start

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))
TEST = [12, 15, 7, 16, 10, 11, 14, 9, 13, 12, 15, 8, 17, 11, 10, 14, 16, 9, 12, 13]
INTERVIEW = [14, 10, 18, 16, 12, 11, 13, 9, 15, 12, 16, 10, 12, 15, 17, 11, 14, 13, 9, 16]


@pytest.fixture
def waiting_tasks(settings):
    """Tasks wait in the queue, so the page shows the run's progress until we run it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def promo(live_world):
    intake = make_closed_intake(live_world.smara, n=20, seats=6, waitlist=4)
    make_scheme(intake, women_share=50, test_threshold=Decimal(8))
    give_marks(intake, {"test": TEST, "interview": INTERVIEW})
    with scope(school=intake.school):
        first = ranking_run_start(intake=intake, actor=live_world.users["director"], enqueue=False)
    ranking_run_execute(first.pk)
    return intake


def test_an_officer_runs_compares_and_publishes_then_an_applicant_reads_the_decision(
    browser, live_server, live_world, promo, waiting_tasks
):
    # Since run #1, no. 6 (a man, 11/11) got a much better interview.
    with scopes_disabled():
        Mark.objects.filter(application__number=6, component__code="interview").update(value=19)
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    base = f"{live_server.url}/staff/smara/intakes/{promo.slug}"
    log_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/staff/smara/")
    page.goto(f"{base}/rankings/")
    page.locator("form[action$='/rankings/start/'] button").click()
    page.wait_for_url(f"{base}/rankings/2/")
    expect(page.locator("progress")).to_be_visible()  # waiting for a worker

    with scopes_disabled():
        run = RankingRun.objects.get(intake=promo, number=2)
    ranking_run_execute(run.pk)  # the worker's turn
    # htmx polls, sees the run done and reloads the page with the results.
    expect(page.get_by_test_id("results")).to_be_visible(timeout=10_000)
    expect(page.locator("progress")).to_have_count(0)
    expect(page.get_by_test_id("count-admitted")).to_have_text("6")

    page.locator(f"a[href='/staff/smara/intakes/{promo.slug}/rankings/2/compare/']").click()
    moved = page.get_by_test_id("move-SMA-25-0006")
    expect(moved.get_by_test_id("move")).to_contain_text("+")
    expect(moved.get_by_test_id("why")).to_contain_text("11,00 → 19,00")
    page.locator("#changed").check()
    page.locator("main form[method=get] button[type=submit]").click()
    expect(page.get_by_test_id("move-SMA-25-0006")).to_be_visible()

    page.goto(f"{base}/rankings/2/publish/")
    expect(page.get_by_test_id("publish-seed")).to_have_text("2025")
    page.locator("#id_comment").fill("Classement validé par le jury du 12 septembre.")
    page.locator("#id_confirm").check()
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(f"{base}/rankings/2/")
    expect(page.get_by_test_id("published")).to_contain_text("jury du 12 septembre")
    context.close()

    # No. 6 is now admitted: they come back with their reference, CIN and a one-time code.
    with scopes_disabled():
        applicant = Application.objects.get(intake=promo, number=6)
    context = browser.new_context(viewport=PHONE)
    context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/applicant/")
    page.fill("#id_reference", applicant.reference)
    page.fill("#id_cin", applicant.cin)
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/applicant/code/")
    from tremplin.admissions.codes import access_request_process
    from tremplin.admissions.models import AccessRequest

    access_request_process(AccessRequest.objects.latest("pk").pk)  # the worker's turn
    page.fill("#id_code", last_code())
    page.locator("main form[method=post] button[type=submit]").click()
    decision = page.get_by_test_id("decision")
    expect(decision).to_be_visible()
    expect(page.get_by_test_id("offer-accept")).to_be_visible()
    expect(page.get_by_test_id("decision-mark")).to_have_count(2)
    expect(page.get_by_test_id("decision-composite")).to_contain_text("16")  # 16.33
    expect(page.get_by_test_id("decision-seed")).to_have_text("2025")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "ranking-decision-flow-ar-phone.png", full_page=True)
    context.close()


def _staff_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _applicant_cookie(application) -> str:
    session = SessionStore()
    session[SESSION_APPLICANT] = application.pk
    session.create()
    return session.session_key


@pytest.mark.parametrize(("width", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_ranking_pages_fit_phone_and_desktop_in_both_languages(
    browser, live_server, live_world, promo, width, viewport, language
):
    director = live_world.users["director"]
    with scopes_disabled():  # something to compare: no. 6 got a much better interview
        Mark.objects.filter(application__number=6, component__code="interview").update(value=19)
    with scope(school=promo.school):
        run = ranking_run_start(intake=promo, actor=director, enqueue=False)
    ranking_run_execute(run.pk)
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = f"{live_server.url}/staff/smara/intakes/{promo.slug}"

    def visit(cookie: str, targets: dict) -> None:
        context = browser.new_context(viewport=viewport)
        context.add_cookies(
            [
                {"name": "django_language", "value": language, "url": live_server.url},
                {"name": "sessionid", "value": cookie, "url": live_server.url},
            ]
        )
        page = context.new_page()
        for name, target in targets.items():
            page.goto(target)
            assert page.locator("html").get_attribute("dir") == (
                "rtl" if language == "ar" else "ltr"
            )
            assert page.locator("main h1, main h2").first.is_visible(), name
            page.screenshot(path=SHOTS / f"ranking-{name}-{language}-{width}.png", full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        context.close()

    staff = _staff_cookie(director)
    visit(
        staff,
        {
            "scheme": f"{base}/scheme/",
            "results": f"{base}/rankings/{run.number}/",
            "compare": f"{base}/rankings/{run.number}/compare/?with=1",
            "publish": f"{base}/rankings/{run.number}/publish/",
        },
    )
    with scope(school=promo.school):
        ranking_publish(run=RankingRun.objects.get(pk=run.pk), actor=director, comment="Jury")
    with scopes_disabled():
        waiting = Application.objects.get(intake=promo, ranking_results__run=run,
                                          ranking_results__waitlist_position=2)  # fmt: skip
    visit(staff, {"scheme-published": f"{base}/scheme/"})
    visit(_applicant_cookie(waiting), {"decision": f"{live_server.url}/applicant/space/"})
