import os
import shutil
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from tests.factories import make_coordinator, make_member, make_school


def verified_client(user) -> Client:
    """A client logged in and past the second factor (as after the OTP step)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@dataclass
class World:
    smara: object
    other: object
    users: dict

    def client(self, persona: str) -> Client:
        if persona == "anonymous":
            return Client()
        return verified_client(self.users[persona])


PERSONAS = (
    "director",
    "admissions",
    "juror",
    "other_director",
    "other_admissions",
    "coordinator",
    "learner",
    "outsider",
    "anonymous",
)


@pytest.fixture(autouse=True)
def english_outside_requests():
    """Each test starts in English, whatever the previous one left: LocaleMiddleware
    activates the request's language in the test's thread and never deactivates it, so
    messages of services called after a page would otherwise depend on the test order.
    Pages still answer in their own language (French by default)."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def world(db) -> World:
    """Smara and a second school (in another province), with the personas of the suite."""
    return build_world()


@pytest.fixture
def live_world(transactional_db, live_server) -> World:
    """The same world, committed, for a live server and a real browser."""
    return build_world()


def build_world() -> World:
    smara = make_school("smara", "SMA")
    other = make_school("laayoune", "LAA", commune_code="321.01.03")
    users = {
        "director": make_member("director", smara, "director"),
        "admissions": make_member("admissions", smara, "admissions"),
        "juror": make_member("juror", smara, "juror"),
        "other_director": make_member("other_director", other, "director"),
        "other_admissions": make_member("other_admissions", other, "admissions"),
        "coordinator": make_coordinator("coordinator", province_code="221"),
        "learner": make_member("learner", smara, "learner"),
        "outsider": make_member("outsider", smara, "learner"),
    }
    with scopes_disabled():
        from tremplin.core.models import Membership

        # The outsider holds no role anywhere.
        Membership.objects.filter(user=users["outsider"]).delete()
        TOTPDevice.objects.create(user=users["coordinator"], name="phone", confirmed=True)
    return World(smara=smara, other=other, users=users)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Debian's Chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import Page, sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (not by the live server) are then flagged as unsafe although they are not.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    Page.screenshot = _screenshot_tried_twice(Page.screenshot)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def _screenshot_tried_twice(screenshot):
    """A page's screenshot taken again once when Chromium could not capture it (a busy
    machine: « Unable to capture screenshot »). The screenshots are for people to look at;
    what the tests assert does not depend on them."""
    from playwright.sync_api import Error

    if getattr(screenshot, "tried_twice", False):
        return screenshot

    def take(page, *args, **kwargs):
        try:
            return screenshot(page, *args, **kwargs)
        except Error as error:
            if "Unable to capture screenshot" not in str(error):
                raise
            page.wait_for_timeout(500)
            return screenshot(page, *args, **kwargs)

    take.tried_twice = True
    return take


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.fixturenames:
            item.add_marker(pytest.mark.browser)


# A one-page PDF: what the demo's letters hold in the modules that load the demo. WeasyPrint
# took 17 of the 24 seconds of each load; the letters' rendering has tests of its own
# (tests/selection/test_letter*.py).
BLANK_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _blank_letters(chunks, *, workers):
    from tremplin.selection.letter_pdf import RenderedLetter

    for chunk in chunks:
        yield [RenderedLetter(context["application_id"], BLANK_PDF, 1) for context in chunk]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The Smara demo, loaded once for the module that asks for it and rolled back after it
    (it takes seconds), its letters blank pages."""
    from django.core.management import call_command
    from django.db import transaction

    from tests.factories import commune
    from tremplin.selection import letters

    with (
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as patch,
        transaction.atomic(),
    ):
        patch.setattr(letters, "render_chunks", _blank_letters)
        commune()  # the geography, reloaded if a transactional test flushed it before
        call_command("demo")
        yield
        transaction.set_rollback(True)


@pytest.fixture
def sms_outbox(settings) -> list:
    """Every SMS sent during the test, in order (like ``mail.outbox`` for emails)."""
    from tremplin.notify.sms import LocmemSmsBackend

    settings.SMS_BACKEND = "tremplin.notify.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()
