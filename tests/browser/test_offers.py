"""Offers in Chromium: an applicant accepts on a phone in French; another declines on a
phone in Arabic without JavaScript, and the staff offers page shows the next person on the
waiting list offered the seat."""

import os
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django_scopes import scopes_disabled

from tests.factories import PASSWORD
from tests.selection.offers_world import app, closed_intake, publish_single, record_letters
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.selection.models import Offer

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))


def label(language: str, english: str) -> str:
    from django.utils import translation

    with translation.override(language):
        return translation.gettext(english)


@pytest.fixture
def published(live_world, monkeypatch):
    """Six applicants ranked 1 to 6; seats for 2, then a waiting list of 3."""
    letters = record_letters(monkeypatch, on_commit=True)
    intake = closed_intake(live_world, n=6, seats=2, waitlist=3)
    publish_single(
        intake,
        actor=live_world.users["director"],
        composites=[17.5, 16.25, 15, 14, 12.5, 9],
        seats=2,
        waitlist=3,
    )
    return intake, letters


def applicant_context(browser, base: str, application, language: str, javascript: bool = True):
    """A browser already in the applicant's space (the code step is the portal's test)."""
    session = SessionStore()
    session[SESSION_APPLICANT] = application.pk
    session.create()
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    context.add_cookies(
        [
            {"name": "sessionid", "value": session.session_key, "url": base},
            {"name": "django_language", "value": language, "url": base},
        ]
    )
    return context


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_applicant_accepts_and_a_decline_calls_the_next_on_the_waiting_list(
    browser, live_server, live_world, published
):
    intake, letters = published
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    # 1 accepts on a phone, in French.
    first = app(intake, 1)
    context = applicant_context(browser, base, first, "fr")
    page = context.new_page()
    page.goto(f"{base}/applicant/space/")
    offer = page.get_by_test_id("offer")
    assert offer.get_attribute("data-offer-status") == "live"
    assert "(" in page.get_by_test_id("offer-deadline").inner_text()
    assert fits(page)
    offer.screenshot(path=SHOTS / "offers-applicant-fr-phone.png")
    page.screenshot(path=SHOTS / "offers-applicant-space-fr-phone.png", full_page=True)
    page.get_by_test_id("offer-accept").click()
    assert page.get_by_test_id("offer").get_attribute("data-offer-status") == "accepted"
    assert page.locator(".alert-success").is_visible()
    page.screenshot(path=SHOTS / "offers-applicant-accepted-fr-phone.png", full_page=True)
    context.close()

    # 2 declines on a phone, in Arabic, without JavaScript: the confirmation opens in place.
    second = app(intake, 2)
    context = applicant_context(browser, base, second, "ar", javascript=False)
    page = context.new_page()
    page.goto(f"{base}/applicant/space/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert fits(page)
    page.get_by_test_id("offer").screenshot(path=SHOTS / "offers-applicant-ar-phone.png")
    page.get_by_test_id("offer-decline-open").click()
    page.get_by_test_id("offer-decline").click()
    assert page.get_by_test_id("offer").count() == 0  # nothing left to answer
    assert page.locator(".alert-success").is_visible()
    context.close()

    with scopes_disabled():
        called = Offer.objects.get(application=app(intake, 3))
    assert called.status == "live" and called.origin == "waitlist"
    assert letters.application_ids == [called.application_id]

    # The officer sees it on the offers page (desktop, French; then a phone in Arabic).
    from tests.conftest import verified_client

    cookie = verified_client(live_world.users["admissions"]).cookies["sessionid"].value
    for language, viewport, name in (("fr", DESKTOP, "desktop"), ("ar", PHONE, "phone")):
        context = browser.new_context(viewport=viewport)
        context.add_cookies(
            [
                {"name": "sessionid", "value": cookie, "url": base},
                {"name": "django_language", "value": language, "url": base},
            ]
        )
        page = context.new_page()
        page.goto(f"{base}/staff/smara/intakes/{intake.slug}/offers/")
        row = page.locator(
            f'[data-testid="offer-row"][data-reference="{called.application.reference}"]'
        )
        assert row.get_attribute("data-status") == "live"
        assert page.get_by_test_id("pool-accepted").inner_text().strip() == "1"
        assert page.get_by_test_id("pool-live").inner_text().strip() == "1"
        assert fits(page)
        page.screenshot(path=SHOTS / f"offers-staff-{language}-{name}.png", full_page=True)
        context.close()


def test_an_officer_records_a_phone_answer_with_a_reason(
    browser, live_server, live_world, published
):
    intake, _ = published
    base = live_server.url
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/account/login/")
    page.get_by_label("Nom d’utilisateur").fill("admissions")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{base}/staff/smara/intakes/{intake.slug}/offers/")
    reference = app(intake, 2).reference
    row = page.locator(f'[data-testid="offer-row"][data-reference="{reference}"]')
    row.locator("details.tp-offer-phone summary").click()
    row.get_by_label(label("fr", "accepts")).check()
    row.get_by_role("button", name=label("fr", "Record the answer")).click()
    # No reason: refused, nothing changed, the form says why.
    row = page.locator(f'[data-testid="offer-row"][data-reference="{reference}"]')
    assert row.get_attribute("data-status") == "live"
    assert row.locator(".errorlist").is_visible()
    page.screenshot(path=SHOTS / "offers-staff-phone-answer-fr-desktop.png", full_page=True)
    phone = row.locator("details.tp-offer-phone")  # beside it: taking the offer back
    phone.get_by_label(label("fr", "accepts")).check()
    phone.get_by_label(label("fr", "Reason")).fill("Appel du 3 octobre, 10 h")
    phone.get_by_role("button", name=label("fr", "Record the answer")).click()
    row = page.locator(f'[data-testid="offer-row"][data-reference="{reference}"]')
    assert row.get_attribute("data-status") == "accepted"
    assert "Appel du 3 octobre" in row.inner_text()
    context.close()
