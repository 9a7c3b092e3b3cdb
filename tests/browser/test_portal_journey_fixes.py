"""The applicant's journey in Chromium on a phone, without JavaScript: changing language
mid-form, the list of errors at the top of the form, the reference on one line."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import Application

PHONE = {"width": 360, "height": 740}
APPLY = "/schools/smara/calls/promo-2026/apply/"


@pytest.fixture
def open_intake(live_world):
    return make_open_intake(live_world.smara)


def phone_page(browser, live_server, language: str, **cookies):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    cookies = {"django_language": language, **cookies}
    context.add_cookies(
        [{"name": name, "value": value, "url": live_server.url} for name, value in cookies.items()]
    )
    return context, context.new_page()


def test_changing_language_mid_form_keeps_what_was_typed(browser, live_server, open_intake):
    context, page = phone_page(browser, live_server, "fr")
    page.goto(f"{live_server.url}{APPLY}")
    page.fill("#id_cin", "SH 123456")
    page.fill("#id_first_name", "Salka")
    page.fill("#id_diploma", "Bac sciences, mention bien.")
    page.check("#id_sex_0")
    page.select_option("#id_education_level", "bac")
    page.locator('button[name="language"][value="ar"]').click()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.input_value("#id_cin") == "SH 123456"
    assert page.input_value("#id_first_name") == "Salka"
    assert page.input_value("#id_diploma") == "Bac sciences, mention bien."
    assert page.is_checked("#id_sex_0")
    assert page.input_value("#id_education_level") == "bac"
    assert page.locator(".errorlist").count() == 0
    page.screenshot(path="var/screenshots/portal-language-switch-ar.png", full_page=True)
    # The next page is in Arabic too: the choice is remembered.
    page.goto(f"{live_server.url}/applicant/")
    assert page.locator("html").get_attribute("lang") == "ar"
    with scopes_disabled():
        assert not Application.objects.exists()
    context.close()


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_errors_are_listed_first_and_each_leads_to_its_field(
    browser, live_server, open_intake, language
):
    context, page = phone_page(browser, live_server, language)
    page.goto(f"{live_server.url}{APPLY}")
    page.fill("#id_cin", "12345")
    page.locator("form.tp-form button[type=submit]").click()
    # Focused on load, without a script: a screen reader starts there. (The browser moves
    # the focus once the page is rendered, a moment after its load event.)
    page.wait_for_function("document.activeElement.id === 'error-summary'", timeout=5_000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=f"var/screenshots/portal-error-summary-{language}.png")
    page.locator('#error-summary a[href="#id_privacy_consent"]').click()
    assert page.url.endswith("#id_privacy_consent")
    assert page.locator("#id_privacy_consent").is_visible()
    context.close()


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_reference_stays_on_one_line_in_the_space_heading(
    browser, live_server, open_intake, language
):
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    from tremplin.admissions.views_portal import SESSION_APPLICANT

    Client().post(APPLY, form_data())
    with scopes_disabled():
        application = Application.objects.get()
    session = SessionStore()
    session[SESSION_APPLICANT] = application.pk
    session.create()
    context, page = phone_page(browser, live_server, language, sessionid=session.session_key)
    page.goto(f"{live_server.url}/applicant/space/")
    reference = page.locator("h1 bdi")
    assert reference.inner_text() == application.reference
    assert reference.evaluate("element => element.getClientRects().length") == 1
    page.screenshot(path=f"var/screenshots/portal-space-heading-{language}.png")
    context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_enter_in_a_field_sends_the_application_not_a_language_button(
    browser, live_server, open_intake, javascript
):
    """The header's language buttons belong to the form (so that they keep what was
    typed): Enter must still press "Send my application", the form's default button."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}{APPLY}")
    data = form_data()
    for field in ("cin", "first_name", "last_name", "first_name_ar", "last_name_ar", "phone"):
        page.fill(f"#id_{field}", data[field])
    page.fill("#id_birth_date", "21/03/2003")  # as the hint says, day first
    page.check("#id_sex_0")
    page.select_option("#id_province", data["province"])
    if javascript:
        # htmx replaces the communes with the province's: choose one once they are in, or the
        # swap undoes the choice ("networkidle" was no wait: the page had reached it before).
        expect(page.locator("#id_commune option")).to_have_count(7)  # blank + Es-Semara's six
    page.select_option("#id_commune", data["commune"])
    page.select_option("#id_education_level", data["education_level"])
    page.select_option("#id_employment", data["employment"])
    page.check("#id_privacy_consent")
    page.locator("#id_phone").press("Enter")
    page.wait_for_url("**/submitted/**", timeout=10_000)
    assert page.locator("html").get_attribute("lang") == "ar"
    with scopes_disabled():
        assert Application.objects.get().language == "ar"
    context.close()
