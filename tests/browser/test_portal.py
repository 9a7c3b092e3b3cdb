"""The applicant's journey in Chromium, on a phone, in French and in Arabic, with and
without JavaScript."""

import gzip
import os
import re
from pathlib import Path

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests.admissions.open_intake import make_open_intake
from tremplin.admissions.models import Application
from tremplin.notify.models import Message

PHONE = {"width": 360, "height": 740}
SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))


def label(language: str, english: str, context: str = "") -> str:
    from django.utils import translation

    with translation.override(language):
        if context:
            return translation.pgettext(context, english)
        return translation.gettext(english)


@pytest.fixture
def open_intake(live_world):
    return make_open_intake(live_world.smara)


def fill_application(
    page, cin: str, phone: str = "06 61 23 45 67", *, javascript: bool = True
) -> None:
    page.fill("#id_cin", cin)
    page.fill("#id_first_name", "Salka")
    page.fill("#id_last_name", "Ma El Ainine")
    page.fill("#id_first_name_ar", "السالكة")
    page.fill("#id_last_name_ar", "ماء العينين")
    page.fill("#id_birth_date", "14/05/2002")
    page.check("#id_sex_0")
    page.fill("#id_phone", phone)
    from tremplin.schools.models import Commune

    commune = Commune.objects.get(code="221.01.01")
    if javascript:
        # htmx replaces the communes with the province's: choose one once they are in, or
        # the swap would undo the choice.
        page.select_option("#id_province", str(commune.province_id))
        expect(page.locator("#id_commune option")).to_have_count(7)  # blank + Es-Semara's six
    else:
        page.select_option("#id_province", str(commune.province_id))
    page.select_option("#id_commune", str(commune.pk))
    page.select_option("#id_education_level", "bac")
    page.select_option("#id_employment", "neet")
    page.check("#id_privacy_consent")


def last_code() -> str:
    with scopes_disabled():
        body = Message.objects.filter(template="applicant_code").latest("pk").body
    return re.search(r"\b(\d{6})\b", body).group(1)


@pytest.mark.parametrize("language", ["fr", "ar"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_applicant_applies_on_a_phone_and_follows_the_application(
    browser, live_server, open_intake, language, javascript
):
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/schools/smara/")
    page.get_by_role("link", name=label(language, "Apply")).first.click()
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    fill_application(page, cin="sh 123456", javascript=javascript)
    page.get_by_role("button", name=label(language, "Send my application")).click()
    reference = page.get_by_test_id("reference").inner_text().strip()
    assert re.fullmatch(r"SMA-\d{2}-\d{4}", reference)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=SHOTS / f"portal-submitted-{language}-{javascript}.png")

    page.get_by_role("link", name=label(language, "Follow my application")).click()
    page.fill("#id_reference", reference)
    page.fill("#id_cin", "SH123456")
    page.get_by_role("button", name=label(language, "Receive a code")).click()
    page.fill("#id_code", last_code())
    page.get_by_role("button", name=label(language, "Open my space")).click()
    assert page.get_by_test_id("status").inner_text().strip() == label(language, "Received")
    assert page.get_by_test_id("eligibility").inner_text().strip() == label(
        language, "You meet the conditions of this call."
    )
    page.screenshot(path=SHOTS / f"portal-space-{language}-{javascript}.png", full_page=True)
    with scopes_disabled():
        assert Application.objects.get(reference=reference).language == language
    context.close()


ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_an_applicant_types_her_numbers_on_an_arabic_keyboard(browser, live_server, open_intake):
    context = browser.new_context(viewport=PHONE)
    context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/schools/smara/calls/promo-2026/apply/")
    arabic = ARABIC_DIGITS
    fill_application(page, cin="SH 123456".translate(arabic), phone="0661234567".translate(arabic))
    page.get_by_role("button", name=label("ar", "Send my application")).click()
    reference = page.get_by_test_id("reference").inner_text().strip()
    with scopes_disabled():
        application = Application.objects.get(reference=reference)
    assert (application.cin, application.phone) == ("SH123456", "+212661234567")

    page.get_by_role("link", name=label("ar", "Follow my application")).click()
    page.fill("#id_reference", reference.lower().translate(ARABIC_DIGITS))
    page.fill("#id_cin", "sh١٢٣٤٥٦")
    page.get_by_role("button", name=label("ar", "Receive a code")).click()
    page.fill("#id_code", last_code().translate(ARABIC_DIGITS))
    page.get_by_role("button", name=label("ar", "Open my space")).click()
    assert page.get_by_test_id("status").inner_text().strip() == label("ar", "Received")
    context.close()


def test_htmx_narrows_the_communes_to_the_chosen_province(browser, live_server, open_intake):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/schools/smara/calls/promo-2026/apply/")
    assert page.locator("#id_commune option").count() > 7
    # A commune chosen from the whole list first stays chosen once the list is its province's,
    # and a screen reader is told what the list became.
    page.select_option("#id_commune", label="Amgala — Es-Semara")
    page.select_option("#id_province", label="Es-Semara")
    # expect() polls without evaluating strings, which the pages' CSP forbids.
    expect(page.locator("#id_commune option")).to_have_count(7)  # the blank and six communes
    expect(page.locator("#id_commune option:checked")).to_have_text("Amgala")
    expect(page.locator("#communes-said")).to_have_text("6 communes in Es-Semara")
    expect(page.locator("#id_commune")).to_be_enabled()
    context.close()


COMPRESSED_TYPES = ("text/", "application/javascript", "image/svg+xml", "application/json")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_form_weighs_under_150_kb_on_a_first_visit(browser, live_server, open_intake, language):
    """Everything a phone downloads the first time it opens the form, as the production
    server sends it: text compressed (gzip here; whitenoise sends brotli, smaller still)."""
    context = browser.new_context(viewport=PHONE)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"{live_server.url}/schools/smara/calls/promo-2026/apply/", wait_until="networkidle")
    sizes = {}
    for response in responses:
        body = response.body()
        kind = response.headers.get("content-type", "")
        compressed = kind.startswith(COMPRESSED_TYPES)
        sizes[response.url] = len(gzip.compress(body, 9)) if compressed else len(body)
    context.close()
    assert any(url.endswith(".css") for url in sizes)  # the styles were counted
    assert sum(sizes.values()) < 150_000, sorted(sizes.items(), key=lambda item: -item[1])


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_applicant_sends_a_missing_document_from_her_space_on_a_phone(
    browser, live_server, live_world, language, tmp_path
):
    """Her diploma was not at hand when she applied (or the school imported her answers):
    she sends a photo of it from her space, and the call's conditions are met."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    from tests.admissions.open_intake import form_data
    from tremplin.admissions.models import Document
    from tremplin.admissions.views_portal import SESSION_APPLICANT

    make_open_intake(live_world.smara, required_documents=["diploma"])
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    Client().post(
        "/schools/smara/calls/promo-2026/apply/",
        {**form_data(), "document_diploma": SimpleUploadedFile("d.pdf", pdf)},
    )
    with scopes_disabled():
        application = Application.objects.get()
        Document.objects.all().delete()
        Application.objects.filter(pk=application.pk).update(
            eligibility="ineligible",
            eligibility_reasons=[{"rule": "documents", "params": {"missing": ["diploma"]}}],
        )
    session = SessionStore()
    session[SESSION_APPLICANT] = application.pk
    session.create()
    context = browser.new_context(viewport=PHONE)
    context.add_cookies(
        [
            {"name": "django_language", "value": language, "url": live_server.url},
            {"name": "sessionid", "value": session.session_key, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/applicant/space/")
    documents = page.get_by_test_id("documents")
    expect(documents).to_contain_text(label(language, "missing", "a document, whatever its gender"))
    documents.get_by_role("link", name=label(language, "Send it")).click()
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    photo = tmp_path / "diplome.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.set_input_files("#id_document_file", str(photo))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=SHOTS / f"portal-document-{language}.png", full_page=True)
    page.get_by_role("button", name=label(language, "Send"), exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(
        label(language, "Your document is received.")
    )
    assert page.get_by_test_id("eligibility").inner_text().strip() == label(
        language, "You meet the conditions of this call."
    )
    page.screenshot(path=SHOTS / f"portal-space-documents-{language}.png", full_page=True)
    context.close()


@pytest.mark.parametrize("language", ["fr", "ar"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_document_sent_with_a_mistyped_phone_is_kept_while_she_corrects_it(
    browser, live_server, live_world, language, javascript, tmp_path
):
    """The 4 MB photo of her ID card, sent over a mobile connection with a landline typed by
    mistake: corrected, the application goes with the document she need not choose again."""
    make_open_intake(live_world.smara, required_documents=["cin"])
    scan = tmp_path / "ma-cin.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/schools/smara/calls/promo-2026/apply/")
    fill_application(page, cin="sh 654321", phone="05 22 12 34 56", javascript=javascript)
    page.set_input_files("#id_document_cin", str(scan))
    page.get_by_role("button", name=label(language, "Send my application")).click()
    kept = page.locator("#id_document_cin_helptext")
    expect(kept).to_contain_text("ma-cin.pdf")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=SHOTS / f"portal-document-kept-{language}-{javascript}.png")
    page.fill("#id_phone", "06 61 23 45 67")
    page.get_by_role("button", name=label(language, "Send my application")).click()
    reference = page.get_by_test_id("reference").inner_text().strip()
    with scopes_disabled():
        application = Application.objects.get(reference=reference)
        assert [d.original_name for d in application.documents.all()] == ["ma-cin.pdf"]
        assert application.eligibility == "eligible"
    context.close()
