"""The public page of a call in Chromium, on a phone, in Arabic: the conditions to apply."""

import gzip

from django.utils import translation
from playwright.sync_api import expect

from tests.admissions.open_intake import make_open_intake
from tremplin.admissions.choices import DocumentKind, EducationLevel, Employment

PHONE = {"width": 390, "height": 844}
COMPRESSED_TYPES = ("text/", "application/javascript", "image/svg+xml", "application/json")


def test_an_arabic_phone_reads_the_conditions_of_a_call_right_to_left(
    browser, live_server, live_world
):
    intake = make_open_intake(
        live_world.smara,
        education_levels=["bac", "bac2"],
        employment_situations=["neet"],
        required_documents=["cin", "diploma"],
    )
    # Without JavaScript: the page must not need it.
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"{live_server.url}{intake.get_absolute_url()}", wait_until="networkidle")

    assert page.locator("html").get_attribute("dir") == "rtl"
    conditions = page.get_by_test_id("conditions")
    with translation.override("ar"):
        expect(conditions).to_contain_text(str(EducationLevel.BAC2.label))
        expect(conditions).to_contain_text(str(Employment.NEET.label))
        expect(page.get_by_test_id("documents")).to_contain_text(str(DocumentKind.DIPLOMA.label))
    expect(conditions.locator("li")).to_have_count(3)  # age and residence, level, situation
    # The list runs right to left: its bullets, and the space for them, on the right.
    assert conditions.evaluate("e => getComputedStyle(e).direction") == "rtl"
    padding = conditions.evaluate(
        "e => [getComputedStyle(e).paddingRight, getComputedStyle(e).paddingLeft]"
    )
    assert padding[0] != "0px" and padding[1] == "0px", padding
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    sizes = {}
    for response in responses:
        body = response.body()
        compressed = response.headers.get("content-type", "").startswith(COMPRESSED_TYPES)
        sizes[response.url] = len(gzip.compress(body, 9)) if compressed else len(body)
    context.close()
    assert sum(sizes.values()) < 150_000, sorted(sizes.items(), key=lambda item: -item[1])
