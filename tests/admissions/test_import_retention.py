"""The uploaded spreadsheets hold full CINs, phones and accommodation needs: they are deleted
once imported, and a dry run's once nobody can import it any more."""

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv, make_import_intake
from tremplin.admissions import import_tasks
from tremplin.admissions.models import ImportJob


@pytest.fixture
def intake(world):
    return make_import_intake(world.smara)


def job_with_file(intake, name: str, **fields) -> ImportJob:
    with scopes_disabled():
        job = ImportJob.objects.create(intake=intake, original_name="c.csv", mode="valid",
                                       **fields)  # fmt: skip
        job.file.save(name, io.BytesIO(canonical_csv([applicant(0)])))
    return job


def finished(job: ImportJob, ago: datetime.timedelta) -> ImportJob:
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(
            status="done", finished_at=timezone.now() - ago, created_count=1
        )
        job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_a_finished_import_deletes_its_file(world, intake):
    job = job_with_file(intake, "real.csv", dry_run=False)
    stored = job.file.name
    import_tasks.run_import.call(job_id=job.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == "done" and job.created_count == 1
    assert job.file.name == "" and not default_storage.exists(stored)


@pytest.mark.django_db
def test_a_failed_import_deletes_its_file_too(world, intake, monkeypatch):
    job = job_with_file(intake, "boom.csv", dry_run=False)
    stored = job.file.name

    def boom(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_tasks, "import_applications", boom)
    with pytest.raises(RuntimeError):
        import_tasks.run_import.call(job_id=job.pk)
    assert not default_storage.exists(stored)


@pytest.mark.django_db
def test_a_dry_run_keeps_its_file_for_the_real_import(world, intake):
    job = job_with_file(intake, "dry.csv", dry_run=True)
    import_tasks.run_import.call(job_id=job.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == "done" and default_storage.exists(job.file.name)
    assert import_tasks.import_job_runnable(job)


@pytest.mark.django_db
def test_the_sweep_deletes_old_dry_run_files_and_keeps_fresh_ones(world, intake):
    old = finished(job_with_file(intake, "old.csv"), datetime.timedelta(hours=25))
    fresh = finished(job_with_file(intake, "fresh.csv"), datetime.timedelta(hours=2))
    old_name, fresh_name = old.file.name, fresh.file.name
    assert not import_tasks.import_job_runnable(old)  # too late to import it: no button

    call_command("resume_stalled", stdout=io.StringIO())

    assert not default_storage.exists(old_name)
    assert default_storage.exists(fresh_name)
    with scopes_disabled():
        old.refresh_from_db()
        fresh.refresh_from_db()
    assert old.file.name == "" and fresh.file.name == fresh_name
    assert import_tasks.import_files_forget() == 0


@pytest.mark.django_db
def test_the_sweep_leaves_a_file_an_import_still_waits_to_read(world, intake):
    dry = finished(job_with_file(intake, "old.csv"), datetime.timedelta(hours=25))
    with scopes_disabled():
        ImportJob.objects.create(intake=intake, original_name="c.csv", mode="valid",
                                 dry_run=False, file=dry.file.name)  # fmt: skip
    assert import_tasks.import_files_forget() == 0
    assert default_storage.exists(dry.file.name)


@pytest.mark.django_db
def test_an_import_whose_file_was_swept_fails_with_a_reason(world, intake):
    with scopes_disabled():
        job = ImportJob.objects.create(intake=intake, original_name="c.csv", mode="valid",
                                       dry_run=False)  # fmt: skip
    import_tasks.run_import.call(job_id=job.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == "failed" and job.report[0]["code"] == "file_gone"
