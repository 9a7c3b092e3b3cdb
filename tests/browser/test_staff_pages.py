"""Real-browser tests in Debian's Chromium: login, language switch, dashboard on a phone."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))


@pytest.fixture
def page(browser, live_world):
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


def log_in(page, base: str, username: str = "director") -> None:
    page.goto(f"{base}/account/login/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_director_logs_in_and_lands_on_the_school_dashboard(page, live_server):
    log_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/staff/smara/")
    assert page.get_by_role("heading", name="École smara").is_visible()
    assert page.get_by_text("1 100 000,00 MAD").first.is_visible()


def test_a_wrong_password_says_so_in_french(page, live_server):
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("Nom d’utilisateur").fill("director")
    page.get_by_label("Mot de passe").fill("wrong")
    page.get_by_role("button", name="Se connecter").click()
    # Said first: in the title, and in the summary of errors, which has the focus.
    assert page.title().startswith("Erreur\u00a0: ")
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.url.endswith("/account/login/")


def test_the_language_switch_goes_to_arabic_right_to_left_and_back(page, live_server):
    page.goto(f"{live_server.url}/schools/smara/")
    assert page.locator("html").get_attribute("dir") == "ltr"
    page.locator("button[name=language][value=ar]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator('link[href*="bootstrap.rtl.min.css"]').count() == 1
    # Right-to-left for real: the brand sits at the right edge.
    brand = page.get_by_role("link", name="Tremplin").bounding_box()
    assert brand["x"] > DESKTOP["width"] / 2
    page.locator("button[name=language][value=fr]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.get_by_role("heading", name="Calls for applications").count() == 0


@pytest.mark.parametrize(("width", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_dashboard_fits_phone_and_desktop_in_both_languages(
    browser, live_world, live_server, width, viewport, language
):
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    log_in_lang = {
        "fr": ("Nom d’utilisateur", "Mot de passe", "Se connecter"),
        "ar": ("اسم المستخدم", "كلمة المرور", "تسجيل الدخول"),
    }[language]
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label(log_in_lang[0]).fill("director")
    page.get_by_label(log_in_lang[1]).fill(PASSWORD)
    page.get_by_role("button", name=log_in_lang[2], exact=True).click()
    page.wait_for_url(f"{live_server.url}/staff/smara/")
    assert no_horizontal_scroll(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"dashboard-{language}-{width}.png", full_page=True)
    context.close()


def test_the_skip_link_is_the_first_stop_for_keyboard_users(page, live_server):
    page.goto(f"{live_server.url}/schools/smara/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_funnel_of_a_call_fits_a_phone_each_count_with_its_name(
    browser, live_world, live_server, language
):
    """Four counts side by side do not fit a phone: each row of the funnel's tables is
    stacked, two counts to a line, each named, and none is left past the edge of the screen.
    On a laptop's 1024 pixels the two tables, one under the other, fit too."""
    from tests.admissions.open_intake import applied_through_the_portal

    application = applied_through_the_portal(live_world.smara)
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    try:
        page = context.new_page()
        log_in(page, live_server.url)
        page.wait_for_url(f"{live_server.url}/staff/smara/")
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        page.goto(f"{live_server.url}/staff/smara/intakes/{application.intake.slug}/")
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        counts = page.locator("table:has(caption) td")  # the funnel's two tables
        assert counts.count() == 2 * 4 + 5 * 4  # sexes and age bands, four stages each
        for cell in counts.all():
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], cell.inner_text()
        # Two to a line: a row's first two counts side by side, its third under them.
        first, second, third = (counts.nth(i).bounding_box() for i in range(3))
        assert first["y"] == second["y"] < third["y"]
        # The name is drawn before the count, from the cell's label.
        withdrawn = {"fr": "Retirées", "ar": "المسحوبة"}[language]
        named = page.locator(f'table:has(caption) td[data-label="{withdrawn}"]').first
        shown = named.evaluate("e => getComputedStyle(e, '::before').content")
        assert withdrawn in shown and named.is_visible()
        assert no_horizontal_scroll(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"funnel-{language}-phone.png", full_page=True)

        page.set_viewport_size({"width": 1024, "height": 768})
        page.reload()
        assert no_horizontal_scroll(page)
        for table in page.locator("table:has(caption)").all():
            assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    finally:
        context.close()


def expect_in_view(locator) -> None:
    """Wholly in the phone's viewport, once the browser has scrolled (it may take longer than
    the page's load on a busy machine)."""
    expect(locator).to_be_in_viewport(ratio=1)


@pytest.mark.parametrize("form", ["decision", "contact"])
def test_a_form_of_an_application_shows_its_outcome_on_a_phone(
    browser, live_world, live_server, form
):
    """Refused, the page opens at the form, its error in view; done, at the top, where the
    message is (the redirect would otherwise keep the form's #fragment)."""
    from django.urls import reverse
    from django_scopes import scopes_disabled

    from tests.admissions.intake_pages import four_applicants
    from tremplin.admissions.models import Application

    intake = four_applicants(live_world)
    with scopes_disabled():
        salma = Application.objects.get(intake=intake, first_name="Salma")
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    log_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/staff/smara/")
    detail = reverse("admissions:application_detail", args=["smara", intake.slug, salma.reference])
    page.goto(live_server.url + detail)
    if form == "decision":
        scope = page.locator("#decision")
        scope.locator("input[type=radio][value=ineligible]").check()
        reason = scope.locator("[name=reason]").first
    else:
        page.locator("#contact summary").click()
        scope = page.locator("#contact")
        scope.locator("input[name=phone]").fill("06 12 34 56 99")
        reason = scope.locator("[name=reason]")
    # Refused (no reason): the page opens at the form, whose summary of its errors is in
    # view (not focused: a browser skips autofocus on a page opened at a #fragment; the
    # title says "Erreur") and leads to the field.
    scope.locator("button").last.click()
    page.wait_for_load_state("load")
    assert page.title().startswith("Erreur\u00a0: ")
    summary = scope.locator("#error-summary")
    expect_in_view(summary)
    summary.locator("a").first.click()
    expect_in_view(scope.locator(".errorlist").first)
    # Done: the message is in view.
    reason.fill("Appel de la candidate")
    scope.locator("button").last.click()
    page.wait_for_url(lambda url: url.split("#")[0].endswith(detail))
    page.wait_for_load_state("load")
    expect_in_view(page.locator("main > .alert").first)
    context.close()


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_call_titled_without_spaces_does_not_widen_its_pages_on_a_phone(
    browser, live_server, live_world, language
):
    """The longest title the form takes, typed without a space: the list of calls and the
    call's page scrolled sideways over 2,700 pixels."""
    from tests.admissions.open_intake import make_open_intake

    intake = make_open_intake(live_world.smara, title="Promotion" * 22, title_ar="فوج" * 60)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    log_in_by_session(context, live_server.url, live_world.users["admissions"])
    for path in ("/staff/smara/intakes/", f"/staff/smara/intakes/{intake.slug}/"):
        page.goto(f"{live_server.url}{path}")
        assert no_horizontal_scroll(page), path
    context.close()


def log_in_by_session(context, base: str, user) -> None:
    """A staff session as after the login and its second factor, for pages that test
    something else than the login."""
    from tests.conftest import verified_client

    client = verified_client(user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_on_a_phone_the_list_shows_its_results_before_its_filters(
    browser, live_server, live_world, language
):
    """Eight filter panels came before the first result on a phone: they start folded under
    one summary there, open on a wide screen, and without JavaScript."""
    from tests.admissions.intake_pages import four_applicants

    intake = four_applicants(live_world)
    path = f"/staff/smara/intakes/{intake.slug}/applications/"
    for viewport, javascript in ((PHONE, True), (DESKTOP, True), (PHONE, False)):
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        log_in_by_session(context, live_server.url, live_world.users["admissions"])
        page = context.new_page()
        page.goto(f"{live_server.url}{path}")
        facets = page.locator("#facets")
        first_result = page.locator("tbody tr").first
        if viewport is PHONE and javascript:
            assert facets.get_attribute("open") is None
            assert first_result.bounding_box()["y"] < viewport["height"]  # in sight
            page.locator("#facets > summary").click()
            expect(page.locator("#facets details").first).to_be_visible()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / f"list-filters-{language}-phone.png", full_page=True)
        else:
            assert facets.get_attribute("open") is not None
            expect(page.locator("#facets details").first).to_be_visible()
        assert no_horizontal_scroll(page)
        context.close()
