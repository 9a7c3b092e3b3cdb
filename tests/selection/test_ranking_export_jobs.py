"""A ranking run's table too large for a request is written by a task, as a large list of
applications is: the run's page asks for it, the export's page follows it, and the file is
the same workbook, for whoever asked for it alone, each export and download audited."""

import io

import pytest
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from tests.selection.test_ranking_pages import english, ranked_intake, url
from tests.selection.test_ranking_runs import run_now
from tremplin.admissions import export_tasks
from tremplin.admissions.models import ExportJob
from tremplin.core.models import AuditEvent
from tremplin.selection.ranking_results import results_export

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake(world):
    return ranked_intake(world)


@pytest.fixture
def large(monkeypatch):
    """Any table of more than 3 rows is large (a national call's run has 100,000)."""
    monkeypatch.setattr(export_tasks, "IN_REQUEST", 3)


def events(action: str) -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.values)


def test_a_large_table_is_asked_for_from_the_runs_page_written_by_a_task_and_downloaded(
    world, intake, large, django_capture_on_commit_callbacks
):
    run = run_now(intake, world.users["director"])
    client = english(world.client("admissions"))
    page = client.get(url(intake, "selection:ranking_run", run.number)).content.decode()
    create = url(intake, "selection:ranking_export_create", run.number)
    assert f'action="{create}"' in page  # a button that asks, not a link that waits
    # An old link to the workbook explains, and offers the same button.
    old_link = client.get(url(intake, "selection:ranking_export", run.number)).content.decode()
    assert "The table of this run holds 10 applicants" in old_link
    assert f'action="{create}"' in old_link
    assert events("tremplin.selection.ranking.exported") == []

    with django_capture_on_commit_callbacks() as queued:
        asked = client.post(create)
        again = client.post(create, follow=True)  # a second click: the same export
    with scopes_disabled():
        (job,) = ExportJob.objects.all()
    assert (job.ranking_run, job.expected, job.format) == (run, 10, "xlsx")
    detail = url(intake, "admissions:export_detail", job.pk)
    assert asked["Location"] == detail and len(queued) == 1
    assert "This export was already asked for" in again.content.decode()
    page = client.get(detail).content.decode()
    assert "Export of ranking run #1 (Excel)" in page and "The run's table: 10 applicants." in page
    assert "Waiting to start…" in page

    queued[0]()  # the worker writes it
    page = client.get(detail).content.decode()
    assert "The file holds 10 applications." in page
    (exported,) = events("tremplin.selection.ranking.exported")
    assert exported.actor == world.users["admissions"] and exported.data["count"] == 10

    download = client.get(url(intake, "admissions:export_download", job.pk))
    assert download.status_code == 200
    assert f'filename="{intake.slug}-ranking-1-' in download["Content-Disposition"]
    in_request = io.BytesIO()
    with scope(school=intake.school):
        results_export(run=run, include_identity=True, actor=None, out=in_request, record=False)
    assert rows(b"".join(download.streaming_content)) == rows(in_request.getvalue())
    (downloaded,) = events("tremplin.selection.ranking.export_downloaded")
    assert downloaded.data["ranking_run"] == 1 and downloaded.data["count"] == 10
    assert events("tremplin.applications.export_downloaded") == []

    # The run's page lists it; the list of applications lists the exports of the list.
    page = client.get(url(intake, "selection:ranking_run", run.number)).content.decode()
    assert "Your exports of this run" in page and detail in page
    listing = client.get(url(intake, "admissions:application_list")).content.decode()
    assert detail not in listing


def test_a_colleague_cannot_follow_nor_download_anothers_export_of_a_run(
    world, intake, large, django_capture_on_commit_callbacks
):
    run = run_now(intake, world.users["director"])
    with django_capture_on_commit_callbacks(execute=True):
        english(world.client("admissions")).post(
            url(intake, "selection:ranking_export_create", run.number)
        )
    with scopes_disabled():
        (job,) = ExportJob.objects.all()
    director = world.client("director")
    for name in ("admissions:export_detail", "admissions:export_download"):
        assert director.get(url(intake, name, job.pk)).status_code == 404
    page = director.get(url(intake, "selection:ranking_run", run.number)).content.decode()
    assert url(intake, "admissions:export_detail", job.pk) not in page


def test_a_small_table_is_still_written_in_the_request(world, intake):
    run = run_now(intake, world.users["director"])
    client = english(world.client("admissions"))
    page = client.get(url(intake, "selection:ranking_run", run.number)).content.decode()
    assert url(intake, "selection:ranking_export", run.number) in page
    assert url(intake, "selection:ranking_export_create", run.number) not in page
