"""The progress of a ranking run and of a batch of letters, as a keyboard and a screen reader
meet it (an accessibility review, WCAG 2.2): the poll of every second replaces only the
progress, never the refresh link (which may have the focus) nor the live region, and the
region speaks once per change of status, not at every poll."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.selection.builders import give_marks, make_closed_intake, make_scheme
from tests.selection.letters_world import applications, convene_to_test, selection_intake
from tests.selection.test_letters import run_batch
from tests.selection.test_ranking_runs import INTERVIEW
from tremplin.selection.letters import letter_batch_start
from tremplin.selection.models import Letter, LetterBatch, RankingRun
from tremplin.selection.ranking import ranking_run_start

pytestmark = pytest.mark.django_db

POLL = {"HTTP_HX_REQUEST": "true"}
GO_TO_THE_RESULT = (
    '<p id="letter-batch-refresh" hx-swap-oob="outerHTML">'
    '<a id="letter-batch-refresh-link" href="#letter-batch-report">Go to the result</a></p>'
)


def english(client):
    client.cookies["django_language"] = "en"
    return client


def polled_part(page: str, element_id: str) -> str:
    """The element the poll replaces (hx-select keeps only it from the answer)."""
    found = re.search(rf'<div id="{element_id}"[^>]*>.*?</div>', page, re.S)
    assert found, f"no #{element_id}"
    return found.group(0)


def said(answer: str, region: str) -> str | None:
    """What a poll's answer puts in the page's live region (out of band), if anything."""
    found = re.findall(rf'<p id="{region}" hx-swap-oob="innerHTML">(.*?)</p>', answer, re.S)
    assert len(found) <= 1
    return " ".join(found[0].split()) if found else None


def assert_polls_only(page: str, *, part: str, region: str, url: str, status: str) -> None:
    """The page polls #part alone; the live region and the refresh link are outside it."""
    polled = polled_part(page, part)
    assert f'hx-get="{url}?seen={status}"' in polled and f'hx-select="#{part}"' in polled
    assert 'hx-swap="outerHTML"' in polled and page.count("hx-get=") == 1
    assert "<progress" in polled and "<a " not in polled and "role=" not in polled
    assert f'<p id="{region}" class="visually-hidden" role="status"></p>' in page
    assert f'href="{url}">Refresh</a>' in page


# --- A ranking run ------------------------------------------------------------------------


@pytest.fixture
def run(world):
    intake = make_closed_intake(world.smara, n=10, seats=3, waitlist=2)
    make_scheme(intake, test_threshold=Decimal(8))
    give_marks(intake, {"test": [12, 15, 7, 16, 10, 11, 14, 9, 13, 12], "interview": INTERVIEW})
    with scope(school=intake.school):
        return ranking_run_start(intake=intake, actor=world.users["director"], enqueue=False)


def _run_url(run) -> str:
    return reverse(
        "selection:ranking_run", args=[run.intake.school.slug, run.intake.slug, run.number]
    )


def test_a_runs_poll_replaces_its_progress_only(world, run):
    page = english(world.client("director")).get(_run_url(run)).content.decode()
    assert_polls_only(
        page, part="run-progress", region="run-said", url=_run_url(run), status="pending"
    )
    assert "Waiting to start…" in polled_part(page, "run-progress")


def test_a_run_says_once_that_it_started(world, run):
    client = english(world.client("director"))
    with scopes_disabled():
        RankingRun.objects.filter(pk=run.pk).update(status="running", progress=40)
    started = client.get(f"{_run_url(run)}?seen=pending", **POLL).content.decode()
    assert said(started, "run-said") == "Ranking…"
    assert f'hx-get="{_run_url(run)}?seen=running"' in polled_part(started, "run-progress")
    assert 'value="40"' in polled_part(started, "run-progress")
    # Not again at the next poll, and the answer rebuilds neither the region nor the link.
    again = client.get(f"{_run_url(run)}?seen=running", **POLL).content.decode()
    assert said(again, "run-said") is None
    assert 'role="status"' not in again and "Refresh" not in again


# --- A batch of letters -------------------------------------------------------------------


@pytest.fixture
def intake(world, settings):
    settings.LETTER_WORKERS = 1
    intake = selection_intake(world.smara)
    convene_to_test(intake)
    return intake


def _batch_url(batch) -> str:
    return reverse(
        "selection:letter_batch", args=[batch.intake.school.slug, batch.intake.slug, batch.pk]
    )


def _started(intake):
    with scopes_disabled():
        batch = letter_batch_start(
            intake=intake,
            kind=Letter.Kind.TEST_CONVOCATION,
            application_ids=[a.pk for a in applications(intake)],
            notify=False,
        )
        LetterBatch.objects.filter(pk=batch.pk).update(status="running", done=3)
        batch.refresh_from_db()
    return batch


def test_a_batchs_poll_replaces_its_progress_only(world, intake):
    batch = _started(intake)
    page = english(world.client("admissions")).get(_batch_url(batch)).content.decode()
    assert_polls_only(
        page, part="letter-batch-report", region="letter-batch-said", url=_batch_url(batch),
        status="running",
    )  # fmt: skip
    assert "3 of 6 letters rendered…" in polled_part(page, "letter-batch-report")
    link = f'<a id="letter-batch-refresh-link" href="{_batch_url(batch)}">Refresh</a>'
    assert f'<p id="letter-batch-refresh">{link}' in page


def test_a_batch_says_when_it_starts_and_nothing_while_it_runs(world, intake):
    batch = _started(intake)
    client = english(world.client("admissions"))
    started = client.get(f"{_batch_url(batch)}?seen=pending", **POLL).content.decode()
    assert said(started, "letter-batch-said") == "3 of 6 letters rendered…"
    running = client.get(f"{_batch_url(batch)}?seen=running", **POLL).content.decode()
    assert said(running, "letter-batch-said") is None
    assert 'role="status"' not in running and "Refresh" not in running
    assert "letter-batch-refresh" not in started + running  # the link stays while it runs


def test_a_batch_says_once_that_it_is_done_and_its_letters_replace_the_progress(
    world, intake, django_capture_on_commit_callbacks
):
    batch = run_batch(django_capture_on_commit_callbacks, intake, Letter.Kind.TEST_CONVOCATION)
    client = english(world.client("admissions"))
    done = client.get(f"{_batch_url(batch)}?seen=running", **POLL).content.decode()
    assert said(done, "letter-batch-said") == "The batch is done: 6 letters."
    report = done.split('<div id="letter-batch-report" tabindex="-1">')[1]
    assert "hx-get" not in done and report.count("/staff/smara/letters/") == 6
    # Nothing is left to refresh: the link, which may have the focus, leads to the letters.
    assert GO_TO_THE_RESULT in done


def test_a_batch_that_fails_says_so_once_in_the_live_region(world, intake):
    with scopes_disabled():
        batch = LetterBatch.objects.create(
            intake=intake,
            kind=Letter.Kind.TEST_CONVOCATION,
            status=LetterBatch.Status.FAILED,
            total=6,
            done=2,
            application_ids=[a.pk for a in applications(intake)],
        )
    client = english(world.client("admissions"))
    failed = client.get(f"{_batch_url(batch)}?seen=running", **POLL).content.decode()
    assert said(failed, "letter-batch-said").startswith("The batch stopped after 2 of 6 letters.")
    # The alert is in the part the poll brings: the region alone speaks, not twice.
    assert 'role="alert"' not in failed
    assert GO_TO_THE_RESULT in failed
