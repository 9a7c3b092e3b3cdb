"""A large workbook in Chromium, in Arabic on a phone: the list's Excel button asks for it,
its page polls while a worker writes it, says once that it is ready, and offers the file,
which downloads as a right-to-left workbook of the list as filtered."""

import io
import os
from pathlib import Path

import pytest
from django_scopes import scopes_disabled
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.admissions.intake_pages import four_applicants
from tests.factories import PASSWORD
from tremplin.admissions import export_tasks
from tremplin.admissions.models import ExportJob

PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("TREMPLIN_SCREENSHOTS", "var/screenshots"))


class _Queued:
    """The tasks queued, run when the test says: the page is seen waiting, then written."""

    def __init__(self):
        self.ids: list[int] = []

    def enqueue(self, *, export_id: int) -> None:
        self.ids.append(export_id)


@pytest.fixture
def queued(monkeypatch) -> _Queued:
    tasks = _Queued()
    monkeypatch.setattr(export_tasks, "run_export", tasks)
    monkeypatch.setattr(export_tasks, "IN_REQUEST", 1)
    return tasks


def test_a_large_workbook_is_asked_for_followed_and_downloaded_in_arabic_on_a_phone(
    browser, live_world, live_server, queued
):
    intake = four_applicants(live_world)
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("اسم المستخدم").fill("admissions")
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول").click()
    page.wait_for_url(f"{live_server.url}/staff/smara/")

    page.goto(f"{live_server.url}/staff/smara/intakes/{intake.slug}/applications/?sex=F")
    page.get_by_role("button", name="تصدير (Excel)").click()
    page.wait_for_url("**/applications/exports/*/")
    expect(page.get_by_text("في انتظار البدء…")).to_be_visible()
    assert page.locator("html").get_attribute("dir") == "rtl"

    with scopes_disabled():
        (job,) = ExportJob.objects.all()
    assert queued.ids == [job.pk] and job.filters == {"sex": "F"}
    export_tasks.export_job_execute(job.pk)  # the worker, while the page polls

    # The poll brings the file, and the live region says it once.
    download_link = page.get_by_role("link", name="تنزيل مصنف Excel")
    expect(download_link).to_be_visible(timeout=15_000)
    expect(page.locator("#export-said")).to_have_text("الملف جاهز للتنزيل.")
    expect(page.locator("#export-refresh-link")).to_have_attribute("href", "#export-progress")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "export-ready-ar-phone.png", full_page=True)

    with page.expect_download() as downloading:
        download_link.click()
    content = Path(downloading.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.sheet_view.rightToLeft
    assert downloading.value.suggested_filename.startswith("smara-promo-2026-مصفاة-")
    column = [cell.value for cell in sheet[1]].index("الاسم الشخصي (بالحروف اللاتينية)")
    names = sorted(row[column] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names == ["Fatima", "Salma"]
    context.close()
