"""The background import of a spreadsheet of applications (an ``ImportJob``)."""

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks import task

from tremplin.admissions.importing import import_applications
from tremplin.admissions.models import ImportJob

logger = logging.getLogger(__name__)

# The report a job keeps (the counts stay exact beyond it; the command writes every line).
REPORT_LIMIT = 5000
# A running job without progress for this long lost its worker (progress moves per batch).
STALE_AFTER = datetime.timedelta(minutes=10)


def import_job_enqueue(job: ImportJob) -> None:
    """Run the job once the transaction that created it commits."""
    job_id = job.pk
    transaction.on_commit(lambda: run_import.enqueue(job_id=job_id))


def import_jobs_resume(*, stale_after: datetime.timedelta = STALE_AFTER) -> int:
    """Queue again the jobs whose worker died (running, no progress for `stale_after`).
    Safe: an all-or-nothing import left nothing behind, and the rows a "valid rows only"
    import had already saved count as "already there" the second time (one application
    per CIN and call)."""
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

        def progress(done: int, total: int) -> None:
            jobs.filter(status=ImportJob.Status.RUNNING).update(
                processed_rows=done, total_rows=total, heartbeat_at=timezone.now()
            )

        try:
            with job.file.open("rb") as fileobj:
                result = import_applications(
                    intake=job.intake,
                    fileobj=fileobj,
                    filename=job.original_name,
                    mode=job.mode,
                    dry_run=job.dry_run,
                    actor=job.created_by,
                    progress=progress,
                )
        except Exception:
            logger.exception("import job %s failed", job_id)
            jobs.update(
                status=ImportJob.Status.FAILED,
                finished_at=timezone.now(),
                report=[{"line": 0, "column": "", "code": "internal_error", "params": {}}],
            )
            raise
        jobs.update(
            status=ImportJob.Status.DONE,
            finished_at=timezone.now(),
            total_rows=result.rows,
            processed_rows=result.rows,
            # For a dry run: how many would be created.
            created_count=result.valid if job.dry_run else result.created,
            duplicate_count=result.duplicates,
            error_count=result.invalid,
            report=result.report[:REPORT_LIMIT],
        )
