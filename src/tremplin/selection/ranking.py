"""Ranking runs: start one, execute it (in a task), publish it.

A run is a snapshot: its parameters, the marks it used, its results and the engine's
checks are written once, when it finishes, and nothing in the code changes them after
that. Publishing only adds who published it, when and why, then opens the offers and
starts the decision letters, in the same transaction.
"""

from __future__ import annotations

import datetime
import importlib
import logging
from collections.abc import Callable
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from tremplin.admissions.models import Intake
from tremplin.core.audit import log_action
from tremplin.selection.checks import SelfCheckError
from tremplin.selection.models import Letter, RankingResult, RankingRun
from tremplin.selection.ranking_compute import Computed, compute
from tremplin.selection.ranking_inputs import snapshot_inputs
from tremplin.selection.schemes import published_runs

logger = logging.getLogger(__name__)

BATCH = 1000
# Progress (in %) at each step of a run, for the page's progress bar.
STEP_SNAPSHOT, STEP_COMPUTE, STEP_STORE, STEP_DONE = 10, 40, 70, 100


@transaction.atomic
def ranking_run_start(*, intake: Intake, actor, enqueue: bool = True) -> RankingRun:
    """Create the next run of `intake` (waiting) and run it in a task once committed."""
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    number = (RankingRun.objects.filter(intake=locked).aggregate(n=Max("number"))["n"] or 0) + 1
    run = RankingRun.objects.create(intake=locked, number=number, created_by=actor)
    log_action(
        "tremplin.selection.ranking.started",
        actor=actor,
        school=locked.school,
        obj=run,
        data={"number": number},
    )
    if enqueue:
        from tremplin.selection.ranking_tasks import run_ranking

        run_id = run.pk
        transaction.on_commit(lambda: run_ranking.enqueue(run_id=run_id))
    return run


# A run takes seconds; one still running after this long lost its worker.
STALE_AFTER = datetime.timedelta(minutes=30)


def ranking_runs_resume(*, stale_after: datetime.timedelta = STALE_AFTER) -> int:
    """Queue again the runs whose worker died mid-way. Safe: a run stores its results in
    one transaction at the end, so a dead worker left none, and the run starts afresh."""
    cutoff = timezone.now() - stale_after
    with scopes_disabled():
        stale = list(
            RankingRun.objects.filter(
                status=RankingRun.Status.RUNNING, claimed_at__lt=cutoff
            ).values_list("pk", flat=True)
        )
    resumed = 0
    for run_id in stale:
        with transaction.atomic(), scopes_disabled():
            if RankingRun.objects.filter(
                pk=run_id, status=RankingRun.Status.RUNNING, claimed_at__lt=cutoff
            ).update(status=RankingRun.Status.PENDING, progress=0):
                from tremplin.selection.ranking_tasks import run_ranking

                transaction.on_commit(partial(run_ranking.enqueue, run_id=run_id))
                resumed += 1
    if resumed:
        logger.warning("ranking runs queued again after their worker stopped: %s", stale)
    return resumed


def ranking_run_execute(run_id: int) -> RankingRun:
    """Snapshot the inputs, rank, and store the results and checks in one transaction.

    Only a waiting run starts (a task delivered twice does nothing the second time). A
    failed self-check, or a scheme the engine refuses, leaves the run failed with the
    message and no results at all.
    """
    with scopes_disabled():
        runs = RankingRun.objects.filter(pk=run_id)
        claimed = runs.filter(status=RankingRun.Status.PENDING).update(
            status=RankingRun.Status.RUNNING, progress=1, claimed_at=timezone.now()
        )
        run = runs.select_related("intake__school").get()
    if not claimed:
        return run

    def step(progress: int) -> None:
        with scopes_disabled():
            runs.filter(status=RankingRun.Status.RUNNING).update(progress=progress)

    with scope(school=run.intake.school):
        parameters: dict = {}
        try:
            step(STEP_SNAPSHOT)
            inputs = _consistent(snapshot_inputs, run.intake)
            parameters = inputs.parameters
            step(STEP_COMPUTE)
            computed = compute(inputs)
            step(STEP_STORE)
            _store(run, parameters, computed)
        except (SelfCheckError, ValueError) as error:
            _fail(run, parameters, str(error))
        except Exception:
            logger.exception("ranking run %s failed", run_id)
            _fail(run, parameters, "Internal error: the technical team has the details.")
            raise
        run.refresh_from_db()
    return run


@transaction.atomic
def _store(run: RankingRun, parameters: dict, computed: Computed) -> None:
    """Write every result and close the run, all or nothing."""
    results = [
        RankingResult(
            run=run,
            application_id=row.application_id,
            track_id=row.track_id,
            marks=row.marks,
            composite=row.composite,
            outcome=row.outcome,
            reason=row.reason,
            merit_rank=row.merit_rank,
            call_rank=row.call_rank,
            waitlist_position=row.waitlist_position,
            called_by_quota=row.called_by_quota,
            lottery=row.lottery,
            explanation=row.explanation,
        )
        for row in computed.rows
    ]
    RankingResult.objects.bulk_create(results, batch_size=BATCH)
    closed = RankingRun.objects.filter(pk=run.pk, status=RankingRun.Status.RUNNING).update(
        status=RankingRun.Status.DONE,
        progress=STEP_DONE,
        finished_at=timezone.now(),
        parameters=parameters,
        summary=computed.summary,
        checks=computed.checks,
    )
    if not closed:  # pragma: no cover - another worker closed it meanwhile
        raise SelfCheckError("The run was closed by someone else while it ran.")


def _fail(run: RankingRun, parameters: dict, message: str) -> None:
    with scopes_disabled():
        RankingRun.objects.filter(pk=run.pk).update(
            status=RankingRun.Status.FAILED,
            finished_at=timezone.now(),
            parameters=parameters,
            error=message,
        )


# --- Publication ------------------------------------------------------------------------


def _follow_up(module: str, name: str) -> Callable:
    """offers_open and letter_batch_start live in the offers and letters parts."""
    return getattr(importlib.import_module(f"tremplin.selection.{module}"), name)


def publication_blockers(run: RankingRun) -> list[str]:
    """Why `run` cannot be published now (empty when it can)."""
    reasons = []
    if run.status != RankingRun.Status.DONE:
        reasons.append(_("Only a finished run can be published."))
    if run.intake.status == Intake.Status.OPEN:
        reasons.append(_("The call is still open: close it before publishing a ranking."))
    published = published_runs(run.intake_id).exclude(pk=run.pk).first()
    if published is not None:
        reasons.append(already_published_message(published))
    if run.published:
        reasons.append(_("This run is already published."))
    if (
        run.status == RankingRun.Status.DONE
        and not run.published
        and _places(run.parameters) != _current_places(run)
    ):
        reasons.append(
            _(
                "The seats or waiting lists of the call changed after this run: run the "
                "ranking again before publishing."
            )
        )
    failing = [check for check in run.checks if not check.get("ok")]
    if failing:
        reasons.append(
            _("Some checks of this run failed (see above): correct the inputs and run again.")
        )
    return reasons


def _places(parameters: dict) -> list[tuple]:
    """The seats and waiting list of each track a run was (or would be) computed with."""
    return [(t.get("id"), t.get("seats"), t.get("waitlist")) for t in parameters.get("tracks", [])]


def _current_places(run: RankingRun) -> list[tuple]:
    from tremplin.selection.schemes import track_parameters

    return _places({"tracks": track_parameters(run.intake)})


def already_published_message(published: RankingRun) -> str:
    return _(
        "Run #%(number)s of this call is already published: a call publishes one ranking, "
        "and its decisions stand."
    ) % {"number": published.number}


def _consistent(read, *args):
    """`read(*args)` in one transaction that sees one state of the database, so that marks
    entered meanwhile cannot give a mixed snapshot (PostgreSQL: REPEATABLE READ, which must
    be set before the transaction's first query, so only when this starts it; SQLite's
    transactions are serialisable already)."""
    starts_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if starts_transaction and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return read(*args)


@transaction.atomic
def ranking_publish(*, run: RankingRun, actor, comment: str) -> RankingRun:
    """Publish a finished run: a named person decides, with a comment, once per intake.

    Opens one offer per admitted applicant (`offers.offers_open`) and starts the decision
    letters of every applicant still on file (`letters.letter_batch_start`, which also
    notifies them), all in this transaction; their tasks run once it commits.
    """
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("Say why this run is the one to publish: a comment is required."))
    Intake.objects.select_for_update().get(pk=run.intake_id)
    run = RankingRun.objects.select_related("intake__school").select_for_update().get(pk=run.pk)
    blockers = publication_blockers(run)
    if blockers:
        raise ValidationError(blockers)
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = RankingRun.objects.filter(
                pk=run.pk, status=RankingRun.Status.DONE, published_at__isnull=True
            ).update(published_at=now, published_by=actor, publication_comment=comment)
    except IntegrityError:  # another run of the intake was published at the same moment
        published = published_runs(run.intake_id).first()
        raise ValidationError(already_published_message(published)) from None
    if not updated:  # pragma: no cover - the locks above make this unreachable
        raise ValidationError(_("This run is already published."))
    run.refresh_from_db()
    log_action(
        "tremplin.selection.ranking.published",
        actor=actor,
        school=run.intake.school,
        obj=run,
        reason=comment,
        data={
            "number": run.number,
            "counts": run.summary.get("counts", {}),
            "seed": run.parameters.get("seed"),
        },
    )
    _follow_up("offers", "offers_open")(run=run, actor=actor)
    application_ids = list(
        RankingResult.objects.filter(run=run, application__erased_at__isnull=True)
        .order_by("application_id")
        .values_list("application_id", flat=True)
    )
    _follow_up("letters", "letter_batch_start")(
        intake=run.intake,
        kind=Letter.Kind.DECISION,
        application_ids=application_ids,
        notify=True,
        actor=actor,
    )
    return run
