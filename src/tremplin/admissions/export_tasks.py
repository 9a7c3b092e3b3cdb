"""The export of a list of applications, or of a ranking run's table, as a task
(``ExportJob``).

The workbook of a call of 100,000 applications takes about twenty seconds to write on a
fast machine and over a minute on a slow one: longer than a request should hold a server's
worker, and than a proxy in front of it waits. Lists of up to ``IN_REQUEST`` applications,
and every CSV (streamed: its first bytes leave at once), are still written in the request
(``views_export.application_export``); a larger workbook is written by a task, and its page
says how far it is, then offers it to download.

The file holds personal data. Only who asked for it may download it, each download is
audited, and it is deleted ``KEPT`` after it was written (``export_files_forget``); the
search that chose its applications (a name, a CIN) is forgotten once the file is written.
"""

import datetime
import hashlib
import json
import logging
import tempfile
import uuid
from functools import partial

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django_scopes import scope, scopes_disabled
from django_tasks import task

from tremplin.admissions.exporting import applications_export, export_record, filters_audited
from tremplin.admissions.models import ExportJob, Intake
from tremplin.admissions.selectors import SEARCH, applications_filtered

logger = logging.getLogger(__name__)

# The largest list whose workbook is written in the request: about a second.
IN_REQUEST = 5000
# How long a written file can be downloaded before it is deleted.
KEPT = datetime.timedelta(hours=24)
# A running export without progress for this long lost its worker (it moves every 2,000
# applications, every second or so).
STALE_AFTER = datetime.timedelta(minutes=10)
# An export still waiting this long after its task was queued lost its task (the process
# died between its commit and the queueing).
WAITING_AFTER = datetime.timedelta(minutes=10)
# A worker that dies each time it writes an export (out of memory) is not given it again
# after this many tries: the export fails, and says so.
MAX_ATTEMPTS = 3
ACTIVE = (ExportJob.Status.PENDING, ExportJob.Status.RUNNING)
# What narrows the staff list (``selectors.applications_filtered``), and its order.
FILTERS = (
    "queue", "status", "eligibility", "sex", "education", "employment", "commune", "wish",
    "age", SEARCH, "sort",
)  # fmt: skip


def export_filters(params) -> dict[str, str]:
    """The list's filters among ``params`` (a query string, a form), as an export keeps them."""
    return {name: params.get(name)[:200] for name in FILTERS if params.get(name)}


def export_job_start(
    *,
    intake: Intake,
    actor,
    fmt: str,
    filters: dict[str, str],
    include_identity: bool,
    ranking_run=None,
) -> tuple[ExportJob, bool]:
    """Ask for the list ``filters`` chooses of ``intake`` as ``fmt``, or the table of its
    ``ranking_run`` (a workbook), written by a task once committed: (the export, True), or
    (the same one of the same person, already waiting or running, False): a second click, a
    page sent again."""
    fields = {
        "intake": intake,
        "created_by": actor,
        "format": fmt,
        "filters": filters,
        "include_identity": include_identity,
        "ranking_run": ranking_run,
    }
    same = [intake.pk, fmt, sorted(filters.items()), include_identity]
    if ranking_run is not None:
        same.append(ranking_run.pk)
    key = hashlib.sha256(json.dumps(same).encode()).hexdigest()
    active = ExportJob.objects.filter(created_by=actor, key=key, status__in=ACTIVE)
    for _race in range(2):
        if (already := active.first()) is not None:
            return already, False
        try:
            return _export_job_create(fields, key), True
        except IntegrityError:  # the same, committed meanwhile: it is the one, if not ended
            continue
    return _export_job_create(fields, key), True


def _export_job_create(fields: dict, key: str) -> ExportJob:
    from tremplin.selection.ranking_results import results_count

    run = fields["ranking_run"]
    with transaction.atomic():
        job = ExportJob.objects.create(
            **fields,
            language=translation.get_language(),
            expected=(
                applications_filtered(fields["intake"], fields["filters"]).count()
                if run is None
                else results_count(run)
            ),
            queued_at=timezone.now(),
            key=key,
        )
    transaction.on_commit(partial(run_export.enqueue, export_id=job.pk))
    return job


@task()
def run_export(export_id: int) -> None:
    export_job_execute(export_id)


def export_job_execute(export_id: int) -> None:
    """Write a waiting export's file, reporting progress as it goes. A task delivered twice
    writes it once; a run whose export was given to another worker meanwhile (resumed, its
    progress stalled) throws its file away."""
    claimed_at = timezone.now()
    with scopes_disabled():
        jobs = ExportJob.objects.filter(pk=export_id)
        if not jobs.filter(status=ExportJob.Status.PENDING).update(
            status=ExportJob.Status.RUNNING,
            claimed_at=claimed_at,
            heartbeat_at=claimed_at,
            written=0,
            attempts=F("attempts") + 1,
        ):
            return
        mine = jobs.filter(status=ExportJob.Status.RUNNING, claimed_at=claimed_at)
        job = jobs.select_related("intake__school", "created_by", "ranking_run__intake").get()

        def progress(written: int) -> None:
            try:
                mine.update(written=written, heartbeat_at=timezone.now())
            except OperationalError:  # SQLite's write lock held: the next chunk says it
                logger.info("The progress of export %s waits for the next chunk", export_id)

        try:
            with tempfile.TemporaryFile() as out, translation.override(job.language):
                count = _write(job, out, progress)
                out.seek(0)
                name = default_storage.save(
                    f"private/exports/{uuid.uuid4().hex}.{job.format}", File(out)
                )
        except Exception:
            logger.exception("The export %s failed", export_id)
            _fail(mine, job.filters)
            raise
        with transaction.atomic():
            if not mine.update(
                status=ExportJob.Status.DONE,
                finished_at=timezone.now(),
                written=count,
                file=name,
                **_forgotten(job.filters),
            ):
                default_storage.delete(name)  # another run has it now
                return
            with scope(school=job.intake.school):
                _record(job, count)


def _write(job: ExportJob, out, progress) -> int:
    """Write what ``job`` exports to ``out``, not audited yet; how many rows."""
    from tremplin.selection.ranking_results import results_export

    same = {
        "include_identity": job.include_identity,
        "actor": job.created_by,
        "out": out,
        "progress": progress,
        "record": False,
    }
    if job.ranking_run is not None:
        with scope(school=job.intake.school):
            return results_export(run=job.ranking_run, **same)
    return applications_export(
        intake=job.intake,
        queryset=applications_filtered(job.intake, job.filters),
        fmt=job.format,
        **same,
    )


def _record(job: ExportJob, count: int) -> None:
    """The export in the audit log, as written in a request."""
    from tremplin.selection.ranking_results import export_record as ranking_export_record

    if job.ranking_run is not None:
        ranking_export_record(job.ranking_run, count, job.include_identity, job.created_by)
    else:
        export_record(
            job.intake, job.format, count, job.include_identity, job.created_by, job.filters
        )


def _forgotten(filters: dict) -> dict:
    """What an export that ended keeps of what chose its applications: not the search."""
    return {"filters": filters_audited(filters), "key": ""}


def _fail(jobs, filters: dict) -> int:
    return jobs.update(
        status=ExportJob.Status.FAILED, finished_at=timezone.now(), **_forgotten(filters)
    )


def export_expires_at(job: ExportJob) -> datetime.datetime | None:
    return job.finished_at + KEPT if job.finished_at else None


def export_downloadable(job: ExportJob) -> bool:
    """Written, and still kept (the sweep may not have deleted it yet: it is not offered)."""
    done = job.status == ExportJob.Status.DONE and bool(job.file)
    return done and export_expires_at(job) > timezone.now()


def export_state(job: ExportJob) -> str:
    """What the export is now, as its pages say it: writing, ready, gone or failed."""
    if job.active:
        return "writing"
    if export_downloadable(job):
        return "ready"
    return "gone" if job.status == ExportJob.Status.DONE else "failed"


def exports_recent(intake: Intake, actor, ranking_run=None) -> list[tuple[ExportJob, str]]:
    """``actor``'s exports of the list of ``intake``'s applications, or of the table of its
    ``ranking_run``, that are still running or still kept, last first, each with what it is
    now (``export_state``)."""
    since = timezone.now() - KEPT
    jobs = ExportJob.objects.filter(intake=intake, created_by=actor, ranking_run=ranking_run)
    return [
        (job, export_state(job))
        for job in jobs.filter(Q(status__in=ACTIVE) | Q(finished_at__gt=since))[:5]
    ]


def export_jobs_resume(
    *,
    stale_after: datetime.timedelta = STALE_AFTER,
    waiting_after: datetime.timedelta = WAITING_AFTER,
) -> int:
    """Queue again the exports whose worker died (running, no progress for ``stale_after``)
    and those whose task was lost (waiting ``waiting_after`` after it was queued). Safe: a
    run writes its file under a name of its own and only the run that holds the export
    records it. One whose worker died ``MAX_ATTEMPTS`` times fails instead."""
    now = timezone.now()
    stalled = Q(status=ExportJob.Status.RUNNING, heartbeat_at__lt=now - stale_after)
    due = stalled | Q(status=ExportJob.Status.PENDING, queued_at__lt=now - waiting_after)
    with scopes_disabled():
        for pk, filters in ExportJob.objects.filter(
            stalled, attempts__gte=MAX_ATTEMPTS
        ).values_list("pk", "filters"):
            if _fail(ExportJob.objects.filter(stalled, pk=pk), filters):
                logger.error("The export %s failed: its worker died %s times", pk, MAX_ATTEMPTS)
        resumed = _queue_again(ExportJob.objects.filter(due))
    if resumed:
        logger.warning("Exports queued again, their task or worker lost: %s", resumed)
    return len(resumed)


def _queue_again(jobs) -> list[int]:
    """Give each export of ``jobs`` to a new run: waiting again, its task queued once this
    commits. Each is written as it was read (a worker that moved meanwhile keeps it), and
    the run that had it finds it taken (``export_job_execute``). Returns those queued."""
    now = timezone.now()
    queued = []
    for pk in jobs.values_list("pk", flat=True):
        if jobs.filter(pk=pk).update(
            status=ExportJob.Status.PENDING, claimed_at=None, queued_at=now, written=0
        ):
            transaction.on_commit(partial(run_export.enqueue, export_id=pk))
            queued.append(pk)
    return queued


def export_files_forget(
    *, older_than: datetime.timedelta = KEPT, intake_id: int | None = None
) -> int:
    """Delete the files of the exports written more than ``older_than`` ago (of the call
    ``intake_id`` only, if given): personal data nobody may download any more. The row
    forgets the name first: a file the storage fails to delete is then an orphan, which
    ``core.private_files`` deletes. Returns how many."""
    cutoff = timezone.now() - older_than
    with scopes_disabled():
        written = ExportJob.objects.exclude(file="")
        if older_than:
            written = written.filter(finished_at__lt=cutoff)
        if intake_id is not None:
            written = written.filter(intake_id=intake_id)
        old = list(written.values_list("pk", "file"))
        for pk, name in old:
            ExportJob.objects.filter(pk=pk).update(file="")
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("The file %s of export %s could not be deleted.", name, pk)
    return len(old)


def exports_after_erasure(intake_id: int) -> int:
    """After an applicant of the call ``intake_id`` was erased: delete the call's exported
    files still kept, whatever their age, and write again those being written now (they may
    have read her already): the run under way then finds its export taken, and throws its
    file away. Returns how many files went."""
    with scopes_disabled():
        _queue_again(ExportJob.objects.filter(intake_id=intake_id, status=ExportJob.Status.RUNNING))
    return export_files_forget(older_than=datetime.timedelta(0), intake_id=intake_id)
