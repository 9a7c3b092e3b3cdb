"""The progress of an import, as a keyboard and a screen reader meet it (an accessibility
review, WCAG 2.2): the poll of every second replaces only the progress, never the refresh
link (which may have the focus) nor the live region; the region speaks once per change of
status, and the report takes the place of the progress."""

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.builders import make_import_intake
from tremplin.admissions.models import ImportJob

pytestmark = pytest.mark.django_db

POLL = {"HTTP_HX_REQUEST": "true"}
GO_TO_THE_RESULT = (
    '<p id="import-refresh" hx-swap-oob="outerHTML">'
    '<a id="import-refresh-link" href="#import-report">Go to the result</a></p>'
)


@pytest.fixture
def intake(world):
    return make_import_intake(world.smara)


def url(job) -> str:
    return reverse("admissions:import_detail", args=["smara", "promo-2026", job.pk])


def english(client):
    client.cookies["django_language"] = "en"
    return client


def job_of(intake, **fields) -> ImportJob:
    fields = {"original_name": "x.csv", "mode": "all", **fields}
    with scopes_disabled():
        return ImportJob.objects.create(intake=intake, **fields)


def polled_part(page: str) -> str:
    found = re.search(r'<div id="import-report"[^>]*>.*?</div>', page, re.S)
    assert found, "no #import-report"
    return found.group(0)


def report_of(answer: str) -> str:
    """The finished report, which the link « Go to the result » can give the focus to."""
    return answer.split('<div id="import-report" tabindex="-1">')[1]


def said(answer: str) -> str | None:
    found = re.findall(r'<p id="import-said" hx-swap-oob="innerHTML">(.*?)</p>', answer, re.S)
    assert len(found) <= 1
    return " ".join(found[0].split()) if found else None


def test_the_poll_replaces_the_progress_only_never_the_link_nor_the_live_region(world, intake):
    job = job_of(intake, status="running", total_rows=200, processed_rows=50)
    page = english(world.client("admissions")).get(url(job)).content.decode()
    polled = polled_part(page)
    assert f'hx-get="{url(job)}?seen=running"' in polled
    assert 'hx-select="#import-report"' in polled and 'hx-swap="outerHTML"' in polled
    assert page.count("hx-get=") == 1 and '<div id="import-status">' in page
    assert "50 of 200 rows checked…" in polled and "<a " not in polled and "role=" not in polled
    # Outside what the poll replaces: the one live region, empty, and the refresh link.
    assert '<p id="import-said" class="visually-hidden" role="status"></p>' in page
    link = f'<a id="import-refresh-link" href="{url(job)}">Refresh</a>'
    assert f'<p id="import-refresh">{link}' in page


def test_the_live_region_speaks_when_the_reading_starts_then_not_at_each_poll(world, intake):
    job = job_of(intake, status="running")
    client = english(world.client("admissions"))
    started = client.get(f"{url(job)}?seen=pending", **POLL).content.decode()
    assert said(started) == "Reading the file…"
    again = client.get(f"{url(job)}?seen=running", **POLL).content.decode()
    assert said(again) is None
    # The answer rebuilds neither the region nor the link, which stay on the page.
    assert 'role="status"' not in again and "Refresh" not in again
    assert "import-refresh" not in started + again  # the link stays while it runs


@pytest.mark.parametrize(
    ("dry_run", "sentence"),
    [
        (True, "The dry run is finished: its report follows."),
        (False, "The import is finished: its report follows."),
    ],
)
def test_the_end_is_said_once_and_the_report_replaces_the_progress(
    world, intake, dry_run, sentence
):
    job = job_of(intake, status="done", dry_run=dry_run, total_rows=3, created_count=3)
    client = english(world.client("admissions"))
    done = client.get(f"{url(job)}?seen=running", **POLL).content.decode()
    assert said(done) == sentence
    assert "hx-get" not in done and "<progress" not in done
    assert "Rows" in report_of(done)
    # Nothing is left to refresh: the link, which may have the focus, leads to the report.
    assert GO_TO_THE_RESULT in done
    # Opened afterwards, the finished page says nothing out of band.
    page = client.get(url(job)).content.decode()
    assert "hx-swap-oob" not in page and "import-said" not in page


def test_a_failure_is_said_once_in_the_live_region_not_twice(world, intake):
    job = job_of(intake, status="failed")
    client = english(world.client("admissions"))
    failed = client.get(f"{url(job)}?seen=running", **POLL).content.decode()
    assert said(failed).startswith("The import failed before the end")
    assert 'role="alert"' not in failed
    assert GO_TO_THE_RESULT in failed


def test_a_file_refused_is_said_once_as_refused(world, intake):
    problem = {"line": None, "column": "", "code": "column_missing", "params": {"field": "cin"}}
    job = job_of(intake, status="done", total_rows=3, error_count=1, report=[problem])
    client = english(world.client("admissions"))
    done = client.get(f"{url(job)}?seen=running", **POLL).content.decode()
    # The region says what the report's first line says, and the alert does not say it again.
    assert said(done) == "The file was not read: nothing was imported."
    assert 'role="alert"' not in done
    assert "The file was not read" in report_of(done)
    # Opened afterwards (no live region then), the alert is one.
    page = client.get(url(job)).content.decode()
    assert '<div class="alert alert-danger" role="alert">' in page


def test_an_import_stopped_by_a_ranking_says_what_it_created_not_that_nothing_was(world, intake):
    """Valid rows only, a ranking published while the file was written: the batches written
    before stay, and the page says how many, then why the rest was not written."""
    stop = {"line": 0, "column": "", "code": "ranking_published", "params": {}}
    job = job_of(
        intake, status="done", dry_run=False, mode="valid", total_rows=900, created_count=500,
        report=[stop],
    )  # fmt: skip
    client = english(world.client("admissions"))
    done = client.get(f"{url(job)}?seen=running", **POLL).content.decode()
    sentence = (
        "The import stopped: 500 applications were created, the rest of the file was not written."
    )
    assert said(done) == sentence
    report = report_of(done)
    assert sentence in report and "A ranking of this call is published" in report
    assert "Applications created" in report and "nothing was imported" not in done
    assert 'role="alert"' not in done
    page = client.get(url(job)).content.decode()
    assert '<div class="alert alert-warning" role="alert">' in page
