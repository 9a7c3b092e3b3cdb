"""The background import of a spreadsheet of applications (an ``ImportJob``), its report,
and the life of the uploaded file: it holds full CINs, phones and accommodation needs, so it
is deleted once imported, and a dry run's once nobody can import it any more."""

import datetime
import gzip
import json
import logging
import uuid
from collections.abc import Iterator

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks import task

from tremplin.admissions.importing import import_applications
from tremplin.admissions.models import ImportJob

logger = logging.getLogger(__name__)

# The report entries a job keeps in the database; beyond, the whole report goes to a file.
REPORT_LIMIT = 5000
# How long a dry run's file waits for its real import before it is deleted.
DRY_RUN_KEPT = datetime.timedelta(hours=24)
_ACTIVE = (ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
# A running job without progress for this long lost its worker (progress moves per batch).
STALE_AFTER = datetime.timedelta(minutes=10)


def import_job_enqueue(job: ImportJob) -> None:
    """Run the job once the transaction that created it commits."""
    job_id = job.pk
    transaction.on_commit(lambda: run_import.enqueue(job_id=job_id))


def import_jobs_resume(*, stale_after: datetime.timedelta = STALE_AFTER) -> int:
    """Queue again the jobs whose worker died (running, no progress for `stale_after`).
    Safe: an all-or-nothing import left nothing behind (but a gap in the numbers it had
    reserved, when its process died), and the rows a "valid rows only" import had already
    saved count as "already there" the second time (one application per CIN and call)."""
    cutoff = timezone.now() - stale_after
    resumed = 0
    with scopes_disabled():
        for job in ImportJob.objects.filter(
            status=ImportJob.Status.RUNNING, heartbeat_at__lt=cutoff
        ).only("pk"):
            with transaction.atomic():
                if ImportJob.objects.filter(
                    pk=job.pk, status=ImportJob.Status.RUNNING, heartbeat_at__lt=cutoff
                ).update(status=ImportJob.Status.PENDING, processed_rows=0):
                    import_job_enqueue(job)
                    resumed += 1
    if resumed:
        logger.warning("%s import job(s) queued again after their worker stopped", resumed)
    return resumed


@task()
def run_import(job_id: int) -> None:
    """Run an import job: its dry run or its import, reporting progress as it goes."""
    with scopes_disabled():
        jobs = ImportJob.objects.filter(pk=job_id)
        # Only a waiting job starts: a task delivered twice does not import twice.
        if not jobs.filter(status=ImportJob.Status.PENDING).update(
            status=ImportJob.Status.RUNNING, heartbeat_at=timezone.now()
        ):
            return
        job = jobs.select_related("intake__school", "created_by").get()
        if job.consent_attested and job.attested_notice_id != job.intake.privacy_notice_id:
            _job_fail(job, "notice_changed")  # its applications would record another notice
            return

        def progress(done: int, total: int) -> None:
            jobs.filter(status=ImportJob.Status.RUNNING).update(
                processed_rows=done, total_rows=total, heartbeat_at=timezone.now()
            )

        fileobj = _file_open(job)
        if fileobj is None:  # imported, or swept, meanwhile
            _job_fail(job, "file_gone")
            return
        try:
            with fileobj:
                result = import_applications(
                    intake=job.intake,
                    fileobj=fileobj,
                    filename=job.original_name,
                    mode=job.mode,
                    dry_run=job.dry_run,
                    actor=job.created_by,
                    progress=progress,
                    notify_url=job.notify_url,
                    language=job.language,
                    consent_attested=job.consent_attested,
                )
        except Exception:
            logger.exception("import job %s failed", job_id)
            _job_fail(job, "internal_error")
            raise
        report_file = _report_store(result.report) if len(result.report) > REPORT_LIMIT else ""
        jobs.update(
            status=ImportJob.Status.DONE,
            finished_at=timezone.now(),
            total_rows=result.rows,
            processed_rows=result.rows,
            # For a dry run: how many would be created.
            created_count=result.valid if job.dry_run else result.created,
            ineligible_count=(
                result.ineligible_valid if job.dry_run else result.ineligible_created
            ),
            duplicate_count=result.duplicates,
            error_count=result.invalid,
            report=result.report[:REPORT_LIMIT],
            report_total=len(result.report),
            report_file=report_file,
            columns=result.column_mapping,
        )
        if not job.dry_run:
            _file_forget(job.file.name, finishing=job.pk)


def _file_open(job: ImportJob):
    """The job's uploaded file, open, or None when it is no longer kept: its name is cleared
    once imported or swept, and the storage may have lost it while the name stayed (a sweep
    between the click and the job's creation, a bucket's own expiry rule)."""
    if not job.file:
        return None
    try:
        return job.file.open("rb")
    except FileNotFoundError:
        logger.warning("The file of import job %s is no longer in the storage.", job.pk)
        return None


def _job_fail(job: ImportJob, code: str) -> None:
    """End ``job`` as failed, its report the one reason ``code``, and forget its file."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED,
        finished_at=timezone.now(),
        report=[{"line": 0, "column": "", "code": code, "params": {}}],
        report_total=1,
    )
    _file_forget(job.file.name, finishing=job.pk)


def import_job_report(job: ImportJob) -> Iterator[dict]:
    """Every entry of the job's report, from its file when the job only kept the first ones."""
    if not job.report_file:
        yield from job.report
        return
    with job.report_file.open("rb") as stored, gzip.open(stored, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _report_store(report: list[dict]) -> str:
    """The whole report as gzipped JSON lines, in private storage; returns its name."""
    lines = "\n".join(json.dumps(entry, ensure_ascii=False) for entry in report)
    content = ContentFile(gzip.compress(lines.encode("utf-8")))
    return default_storage.save(f"private/import-reports/{uuid.uuid4().hex}.jsonl.gz", content)


def import_job_runnable(job: ImportJob) -> bool:
    """A finished dry run whose file is still kept and whose real import would create
    something."""
    return import_job_importable(job) and import_file_kept(job)


def import_job_importable(job: ImportJob) -> bool:
    """A finished dry run whose real import would create something, were its file kept."""
    blocked = job.mode == ImportJob.Mode.ALL_OR_NOTHING and job.error_count
    done = job.dry_run and job.status == ImportJob.Status.DONE
    return bool(done and job.created_count and not blocked)


def import_file_kept(job: ImportJob) -> bool:
    """Whether the job's uploaded file can still be imported: named, younger than a dry run's
    file is kept (the sweep may delete it any time after), and still in the storage."""
    fresh = job.finished_at is not None and job.finished_at > timezone.now() - DRY_RUN_KEPT
    return bool(job.file and fresh and default_storage.exists(job.file.name))


def import_files_forget(*, older_than: datetime.timedelta = DRY_RUN_KEPT) -> int:
    """Delete the uploaded files of the jobs finished more than ``older_than`` ago (dry runs
    never imported, and any file an earlier version kept): they hold full identifiers, and
    nobody can import them any more. Returns how many went."""
    cutoff = timezone.now() - older_than
    with scopes_disabled():
        in_use = ImportJob.objects.filter(status__in=_ACTIVE).values("file")
        names = set(
            ImportJob.objects.filter(finished_at__lt=cutoff)
            .exclude(file="")
            .exclude(file__in=in_use)
            .values_list("file", flat=True)
        )
    for name in names:
        _file_forget(name)
    return len(names)


def _file_forget(name: str, *, finishing: int | None = None) -> None:
    """Delete an uploaded file and clear it from the jobs that name it (a dry run and its real
    import share it), unless a job other than ``finishing`` still waits to read it."""
    if not name:
        return
    with scopes_disabled():
        jobs = ImportJob.objects.filter(file=name)
        if jobs.filter(status__in=_ACTIVE).exclude(pk=finishing).exists():
            return
        jobs.update(file="")
    default_storage.delete(name)


def import_reports_forget(*, calls_closed_before: datetime.datetime) -> int:
    """Empty the reports of the imports into calls closed before ``calls_closed_before`` (the
    retention schedule's cutoff): a report quotes the values of the rows it refuses, personal
    data kept no longer than the applications themselves. The counts stay. Each job's file
    goes first, then its report: a file the storage cannot delete is logged and its job left
    for the next sweep. Returns how many reports were emptied."""
    with scopes_disabled():
        jobs = list(
            ImportJob.objects.filter(intake__closes_at__lt=calls_closed_before)
            .exclude(report=[], report_file="")
            .values_list("pk", "report_file")
        )
        emptied = 0
        for pk, name in jobs:
            try:
                if name:
                    default_storage.delete(name)
            except OSError:
                logger.exception("The report file %s of import %s could not be deleted.", name, pk)
                continue
            emptied += ImportJob.objects.filter(pk=pk).update(report=[], report_file="")
    return emptied
