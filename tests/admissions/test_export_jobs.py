"""A large workbook of applications is written by a task: its page says how far it is, then
offers the file to whoever asked for it (a colleague's file is not theirs), for a day; a
second click gets the export already asked for; a task delivered twice writes one file; a
worker that died is replaced, and the run it left throws its file away."""

import datetime
import io
import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from tests.admissions.intake_pages import four_applicants, in_english
from tremplin.admissions import export_tasks
from tremplin.admissions.export_tasks import (
    export_files_forget,
    export_job_execute,
    export_jobs_resume,
)
from tremplin.admissions.models import ExportJob
from tremplin.core.models import AuditEvent

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def intake(world, monkeypatch):
    """Four applicants (Fatima and Salma, women; Omar and Karim, men), and workbooks of more
    than one application written by a task."""
    monkeypatch.setattr(export_tasks, "IN_REQUEST", 1)
    return four_applicants(world)


def url(name: str, intake, *args) -> str:
    return reverse(f"admissions:{name}", args=["smara", intake.slug, *args])


def jobs() -> list[ExportJob]:
    with scopes_disabled():
        return list(ExportJob.objects.order_by("pk"))


def audited(action: str) -> list[dict]:
    with scopes_disabled():
        return list(AuditEvent.objects.filter(action=action).values_list("data", flat=True))


def workbook_names(content: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    column = header.index("First name (Latin script)")  # in the language of who asked
    return sorted(row[column] for row in sheet.iter_rows(min_row=2, values_only=True))


def stored() -> set[str]:
    """The names of the files in the exports' directory (the tests share the storage)."""
    if not default_storage.exists("private/exports"):
        return set()
    return {f"private/exports/{name}" for name in default_storage.listdir("private/exports")[1]}


def downloaded(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_a_large_workbook_is_written_by_a_task_then_downloaded_by_who_asked(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    # The list offers the workbook as a form: too large to be written in the request.
    listed = client.get(url("application_list", intake), {"sex": "F"}).content.decode()
    assert f'action="{url("export_create", intake)}"' in listed
    assert url("application_export", intake, "xlsx") not in listed
    # A link to it from before (a bookmark) says why, and offers the same form.
    offered = client.get(url("application_export", intake, "xlsx"), {"sex": "F"})
    assert offered.status_code == 200 and offered["Content-Type"].startswith("text/html")
    assert "This list holds 2 applications" in offered.content.decode()
    assert '<input type="hidden" name="sex" value="F">' in offered.content.decode()

    with django_capture_on_commit_callbacks() as queued:
        asked = client.post(url("export_create", intake), {"format": "xlsx", "sex": "F"})
    (job,) = jobs()
    assert asked.status_code == 302 and asked["Location"] == url("export_detail", intake, job.pk)
    assert len(queued) == 1  # the task, once the request commits
    assert (job.status, job.expected, job.filters, job.language) == (
        "pending",
        2,
        {"sex": "F"},
        "en",
    )

    page = client.get(url("export_detail", intake, job.pk)).content.decode()
    assert "Waiting to start…" in page and 'hx-trigger="every 2s"' in page
    assert client.get(url("export_download", intake, job.pk))["Location"] == url(
        "export_detail", intake, job.pk
    )  # nothing to download yet: its page

    queued[0]()  # the worker writes it
    polled = client.get(url("export_detail", intake, job.pk), {"seen": "pending"}, **HTMX)
    said = polled.content.decode()
    assert "The file is ready to download." in said and "The file holds 2 applications." in said
    assert "hx-get" not in said  # written: no more polling
    response = client.get(url("export_download", intake, job.pk))
    assert response.status_code == 200
    assert 'attachment; filename="smara-promo-2026-filtered-' in response["Content-Disposition"]
    assert workbook_names(downloaded(response)) == ["Fatima", "Salma"]
    # Written once (recorded by the task, with its count), downloaded once: both audited.
    assert [(e["format"], e["count"]) for e in audited("tremplin.applications.exported")] == [
        ("xlsx", 2)
    ]
    assert [e["export"] for e in audited("tremplin.applications.export_downloaded")] == [job.pk]
    # The list links to it while it is kept.
    listed = client.get(url("application_list", intake)).content.decode()
    assert "Your exports of this call" in listed and "ready to download" in listed


@pytest.mark.django_db
def test_a_colleagues_export_is_not_theirs(world, intake, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.client("admissions").post(url("export_create", intake), {"format": "xlsx"})
    (job,) = jobs()
    assert job.status == "done"
    director = world.client("director")  # same school, same rights: not their file
    assert director.get(url("export_detail", intake, job.pk)).status_code == 404
    assert director.get(url("export_download", intake, job.pk)).status_code == 404
    assert "Your exports of this call" not in director.get(
        url("application_list", intake)
    ).content.decode(encoding="utf-8")
    assert audited("tremplin.applications.export_downloaded") == []


@pytest.mark.django_db
def test_a_second_click_gets_the_export_already_asked_for(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    with django_capture_on_commit_callbacks() as queued:
        client.post(url("export_create", intake), {"format": "xlsx", "sex": "M"})
        again = client.post(
            url("export_create", intake), {"format": "xlsx", "sex": "M"}, follow=True
        )
        # Another list is another export; so is a colleague's click on the same list.
        client.post(url("export_create", intake), {"format": "xlsx", "sex": "F"})
        world.client("director").post(url("export_create", intake), {"format": "xlsx", "sex": "M"})
    assert "This export was already asked for" in again.content.decode()
    assert len(jobs()) == 3 and len(queued) == 3
    for task in queued:
        task()
    assert [j.status for j in jobs()] == ["done"] * 3
    # Written: the same list may be asked for again (the data may have changed).
    with django_capture_on_commit_callbacks() as queued:
        client.post(url("export_create", intake), {"format": "xlsx", "sex": "M"})
    assert len(jobs()) == 4 and len(queued) == 1


@pytest.mark.django_db
def test_the_search_is_forgotten_once_the_file_is_written(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    with django_capture_on_commit_callbacks() as queued:
        client.post(url("export_create", intake), {"format": "xlsx", "q": "Salma", "sex": "F"})
    assert jobs()[0].filters == {"q": "Salma", "sex": "F"}  # what the task needs
    queued[0]()
    (job,) = jobs()
    assert job.filters == {"q": "*", "sex": "F"}  # as the audit log keeps it
    assert job.key == ""  # its hash could be reversed by trying names and CINs
    with scopes_disabled():
        kept = ExportJob.objects.filter(pk=job.pk).values().get()
    assert not [name for name, value in kept.items() if "Salma" in str(value)]
    assert job.expected == job.written == 1
    assert workbook_names(downloaded(client.get(url("export_download", intake, job.pk)))) == [
        "Salma"
    ]


@pytest.mark.django_db
def test_a_task_delivered_twice_writes_one_file(world, intake, django_capture_on_commit_callbacks):
    before = stored()
    with django_capture_on_commit_callbacks() as queued:
        world.client("admissions").post(url("export_create", intake), {"format": "csv"})
    queued[0]()
    (job,) = jobs()
    export_job_execute(job.pk)  # delivered again
    assert jobs()[0].file.name == job.file.name and job.status == "done"
    assert stored() - before == {job.file.name}
    assert len(audited("tremplin.applications.exported")) == 1


@pytest.mark.django_db
def test_a_failed_export_says_so_and_can_be_asked_for_again(
    world, intake, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_tasks, "applications_export", broken)
    client = in_english(world.client("admissions"))
    with django_capture_on_commit_callbacks() as queued:
        client.post(url("export_create", intake), {"format": "xlsx", "q": "Fatima"})
    queued[0]()  # logged; the task backend records it failed
    (job,) = jobs()
    assert (job.status, job.file.name, job.filters) == ("failed", "", {"q": "*"})
    page = client.get(url("export_detail", intake, job.pk)).content.decode()
    assert "The export failed: no file was written" in page
    assert "failed" in client.get(url("application_list", intake)).content.decode()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("export_create", intake), {"format": "xlsx", "q": "Fatima"})
    assert [j.status for j in jobs()] == ["failed", "done"]


@pytest.mark.django_db
def test_the_file_is_offered_for_a_day_then_deleted(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("export_create", intake), {"format": "xlsx"})
        client.post(url("export_create", intake), {"format": "csv"})
    old, recent = jobs()
    with scopes_disabled():
        ExportJob.objects.filter(pk=old.pk).update(
            finished_at=timezone.now() - datetime.timedelta(hours=25)
        )
    # Past its day, it is not offered, even before the sweep has deleted it.
    assert client.get(url("export_download", intake, old.pk))["Location"] == url(
        "export_detail", intake, old.pk
    )
    assert "no longer kept" in client.get(url("export_detail", intake, old.pk)).content.decode()
    assert export_files_forget() == 1
    assert not default_storage.exists(old.file.name)
    assert default_storage.exists(recent.file.name)
    assert [j.file.name for j in jobs()] == ["", recent.file.name]
    assert client.get(url("export_download", intake, recent.pk)).status_code == 200
    assert export_files_forget() == 0


@pytest.mark.django_db
def test_an_export_whose_worker_died_is_written_again(
    world, intake, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        world.client("admissions").post(url("export_create", intake), {"format": "xlsx"})
    (job,) = jobs()
    eleven_minutes_ago = timezone.now() - datetime.timedelta(minutes=11)
    with scopes_disabled():
        # A worker took it, wrote a chunk, and died eleven minutes ago.
        ExportJob.objects.filter(pk=job.pk).update(
            status="running", claimed_at=eleven_minutes_ago, heartbeat_at=eleven_minutes_ago
        )
    queued[0]()  # a late delivery of its first task: it is taken, nothing more
    assert jobs()[0].status == "running"
    with django_capture_on_commit_callbacks(execute=True):
        assert export_jobs_resume() == 1
    (job,) = jobs()
    assert (job.status, job.written) == ("done", 4) and default_storage.exists(job.file.name)
    assert export_jobs_resume() == 0


@pytest.mark.django_db
def test_an_export_whose_worker_dies_each_time_fails_after_three_tries(
    world, intake, django_capture_on_commit_callbacks
):
    """A workbook too large for the worker's memory: taken again every ten minutes for ever,
    its search kept all along."""
    with django_capture_on_commit_callbacks():
        world.client("admissions").post(url("export_create", intake), {"format": "xlsx", "q": "Om"})
    (job,) = jobs()
    for attempt in range(1, 4):
        with scopes_disabled():  # a worker takes it, and dies
            ExportJob.objects.filter(pk=job.pk).update(
                status="running",
                attempts=attempt,
                heartbeat_at=timezone.now() - datetime.timedelta(minutes=11),
            )
        with django_capture_on_commit_callbacks() as queued:
            resumed = export_jobs_resume()
        assert (resumed, len(queued)) == ((1, 1) if attempt < 3 else (0, 0)), attempt
    (job,) = jobs()
    assert (job.status, job.filters, job.key) == ("failed", {"q": "*"}, "")


@pytest.mark.django_db
def test_the_live_region_speaks_once_per_change_not_at_each_poll(world, intake):
    with scopes_disabled():
        job = ExportJob.objects.create(
            intake=intake, created_by=world.users["admissions"], format="xlsx", key="k",
            status="running", expected=4,
        )  # fmt: skip
    client = in_english(world.client("admissions"))
    started = client.get(url("export_detail", intake, job.pk), {"seen": "pending"}, **HTMX)
    assert started.content.decode().count('id="export-said"') == 1
    assert "Writing the file…" in started.content.decode()
    again = client.get(url("export_detail", intake, job.pk), {"seen": "running"}, **HTMX)
    assert 'id="export-said"' not in again.content.decode()  # nothing new to say
    assert "0 of 4 applications written…" in again.content.decode()


@pytest.mark.django_db
def test_a_file_with_full_cins_is_not_given_to_whoever_lost_the_right_to_see_them(
    world, intake, django_capture_on_commit_callbacks, monkeypatch
):
    from tremplin.core import permissions
    from tremplin.core.models import Role

    with django_capture_on_commit_callbacks(execute=True):
        world.client("admissions").post(url("export_create", intake), {"format": "csv"})
    (job,) = jobs()
    assert job.include_identity
    monkeypatch.setitem(
        permissions.ROLE_PERMISSIONS,
        Role.ADMISSIONS,
        permissions.ROLE_PERMISSIONS[Role.ADMISSIONS] - {permissions.IDENTITY_VIEW},
    )
    refused = world.client("admissions").get(url("export_download", intake, job.pk))
    assert refused.status_code == 403
    assert audited("tremplin.applications.export_downloaded") == []


@pytest.mark.django_db
def test_an_erasure_deletes_the_calls_exported_files_still_kept(
    world, intake, django_capture_on_commit_callbacks
):
    """A list exported before an applicant's data was erased still held it, for a day."""
    from tremplin.admissions.models import Application
    from tremplin.admissions.personal_data import application_erase

    with django_capture_on_commit_callbacks(execute=True):
        world.client("admissions").post(url("export_create", intake), {"format": "csv"})
    (job,) = jobs()
    assert default_storage.exists(job.file.name)
    with scopes_disabled():
        fatima = Application.objects.get(first_name="Fatima")
    with django_capture_on_commit_callbacks(execute=True), scope(school=world.smara):
        application_erase(application=fatima, actor=world.users["director"], reason="asked")
    assert not default_storage.exists(job.file.name)
    assert jobs()[0].file.name == ""
    page = in_english(world.client("admissions")).get(url("export_detail", intake, job.pk))
    assert "no longer kept" in page.content.decode()


@pytest.mark.django_db
def test_an_export_being_written_when_an_applicant_is_erased_is_written_again(
    world, intake, monkeypatch
):
    """It may have read her already: the run under way throws its file away, and the
    export is written again without her."""
    from tremplin.admissions.models import Application
    from tremplin.admissions.personal_data import application_erase

    with scopes_disabled():
        job = ExportJob.objects.create(
            intake=intake, created_by=world.users["admissions"], format="csv", key="k"
        )
        fatima = Application.objects.get(first_name="Fatima")
    real = export_tasks.applications_export
    erased = []
    before = stored()

    def erasing_meanwhile(**kwargs):
        written = real(**kwargs)  # Fatima in it
        if not erased:
            erased.append(True)
            with scope(school=world.smara):
                application_erase(application=fatima, actor=world.users["director"], reason="x")
            export_tasks.exports_after_erasure(intake.pk)  # what its commit runs
            export_job_execute(job.pk)  # the export queued again
        return written

    monkeypatch.setattr(export_tasks, "applications_export", erasing_meanwhile)
    export_job_execute(job.pk)
    (job,) = jobs()
    assert job.status == "done" and stored() - before == {job.file.name}
    with default_storage.open(job.file.name) as kept:
        assert "Fatima" not in kept.read().decode("utf-8-sig")


@pytest.mark.django_db
def test_an_export_whose_task_was_lost_is_queued_again(
    world, intake, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        lost = ExportJob.objects.create(
            intake=intake,
            created_by=world.users["admissions"],
            format="csv",
            key="lost",
            queued_at=timezone.now() - datetime.timedelta(minutes=11),
        )
        ExportJob.objects.create(
            intake=intake,
            created_by=world.users["admissions"],
            format="csv",
            key="just asked",
            queued_at=timezone.now() - datetime.timedelta(minutes=2),
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert export_jobs_resume() == 1
    assert [(j.pk == lost.pk, j.status) for j in jobs()] == [(True, "done"), (False, "pending")]


@pytest.mark.django_db
def test_the_run_a_resume_replaced_throws_its_file_away(world, intake, monkeypatch):
    """A worker so slow that its export was given to another, which finished first: the
    other's file is the export's, and the slow one's is deleted, not left in the storage."""
    with scopes_disabled():
        job = ExportJob.objects.create(
            intake=intake, created_by=world.users["admissions"], format="xlsx", key="k"
        )
    real = export_tasks.applications_export
    replaced = []
    before = stored()

    def slow(**kwargs):
        if not replaced:  # the first run stalls; the sweep gives the export to another
            replaced.append(export_jobs_resume(stale_after=datetime.timedelta(0)))
            export_job_execute(job.pk)  # which writes it all meanwhile
        return real(**kwargs)

    monkeypatch.setattr(export_tasks, "applications_export", slow)
    export_job_execute(job.pk)
    assert replaced == [1]
    (done,) = jobs()
    assert done.status == "done" and done.written == 4
    assert stored() - before == {done.file.name}  # the first run's file deleted
    assert len(audited("tremplin.applications.exported")) == 1  # the file kept


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (run with DATABASE_URL)")


@pytest.mark.postgres
def test_concurrent_clicks_ask_for_one_export(postgres_only, world, monkeypatch):
    """Eight clicks at once on the same list, five times: one export each time, and every
    click led to it."""
    intake = four_applicants(world)
    monkeypatch.setattr(export_tasks, "run_export", _NotRun())
    clients = [world.client("admissions") for _ in range(8)]
    for round_number in range(5):
        filters = {
            "format": "xlsx",
            "sort": ["number", "-number", "name", "-name", "age"][round_number],
        }
        barrier = threading.Barrier(len(clients))
        answers: list[str] = []

        def click(client, barrier=barrier, answers=answers, filters=filters):
            try:
                barrier.wait()
                answers.append(client.post(url("export_create", intake), filters)["Location"])
            finally:
                connection.close()

        threads = [threading.Thread(target=click, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with scopes_disabled():
            made = list(ExportJob.objects.filter(filters__sort=filters["sort"]))
        assert len(made) == 1, round_number
        assert answers == [url("export_detail", intake, made[0].pk)] * len(clients)


@pytest.mark.postgres
def test_two_deliveries_at_once_write_one_file(postgres_only, world):
    """The same task delivered twice to two workers at the same moment, five times: one
    run writes the export, the other finds it taken."""
    intake = four_applicants(world)
    for round_number in range(5):
        with scopes_disabled():
            job = ExportJob.objects.create(
                intake=intake,
                created_by=world.users["admissions"],
                format="csv",
                key=f"race {round_number}",
            )
        before = stored()
        barrier = threading.Barrier(2)

        def deliver(barrier=barrier, job=job):
            try:
                barrier.wait()
                export_job_execute(job.pk)
            finally:
                connection.close()

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with scopes_disabled():
            job.refresh_from_db()
        assert (job.status, job.attempts) == ("done", 1), round_number
        assert stored() - before == {job.file.name}, round_number
    assert len(audited("tremplin.applications.exported")) == 5


class _NotRun:
    """The task left waiting: the clicks race on asking, not on writing."""

    def enqueue(self, **kwargs) -> None:
        pass
