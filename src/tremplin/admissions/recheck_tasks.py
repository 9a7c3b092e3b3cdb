"""The re-check of a call's eligibility rules as staff ask for it (``EligibilityRecheck``):
first a preview of what it would change, then the re-check that applies it, each queued, run
by a task, and run again if its worker died.

The re-check itself (``screening.eligibility_recheck``) takes seconds for a school's call
but about a minute for a call of 100,000 applications, longer than a request may last. It
runs in one transaction, and the task writes the counts in that transaction: a worker that
dies leaves the applications as they were, and the re-check waiting to run again.
"""

import datetime
import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from django_tasks import task

from tremplin.admissions.models import EligibilityRecheck, Intake

logger = logging.getLogger(__name__)

ACTIVE = (EligibilityRecheck.Status.PENDING, EligibilityRecheck.Status.RUNNING)
# A re-check of 100,000 applications takes about a minute; one still running after this
# long, whose row no transaction holds, lost its worker.
STALE_AFTER = datetime.timedelta(minutes=30)
# A re-check still waiting after this long lost its task (the process died between its
# commit and the task's queueing): it would keep the call from any other re-check.
WAITING_AFTER = datetime.timedelta(minutes=10)


def eligibility_recheck_preview(*, intake: Intake, actor) -> tuple[EligibilityRecheck, bool]:
    """Ask what a re-check of ``intake``'s rules would change, run by a task once committed:
    it writes nothing but its own counts, and tells no one. (The preview, True), or (the
    re-check already waiting or running, False) when there is one (a second click, a
    colleague's). Refused (ValidationError) once a ranking of the call is published."""
    return _queue(intake=intake, actor=actor, preview=True)


def eligibility_recheck_start(
    *, intake: Intake, actor, preview: EligibilityRecheck
) -> tuple[EligibilityRecheck, bool]:
    """Apply ``preview``: ask for the re-check of ``intake``'s rules it showed, run by a task
    once committed, under the rules it evaluated (``preview_refusal``). (The re-check, True),
    or (the one already waiting or running, False). Refused (ValidationError) if the preview
    cannot be applied, or once a ranking of the call is published."""
    active = EligibilityRecheck.objects.filter(intake=intake, status__in=ACTIVE).first()
    if active is not None and active.preview:
        raise ValidationError(
            _(
                "A new preview is being prepared for this call: it replaces the one you saw. "
                "Apply it once it says what would change."
            )
        )
    if active is not None:  # a second click on the button: not "replaced since"
        return active, False
    refusal = preview_refusal(preview, intake)
    if refusal:
        raise ValidationError(refusal)
    return _queue(intake=intake, actor=actor, rules_digest=preview.rules_digest)


def preview_refusal(preview: EligibilityRecheck, intake: Intake) -> str:
    """Why ``preview`` cannot be applied now, in the reader's language, or "": it must be
    the call's last re-check, finished, and the call's rules those it evaluated."""
    from tremplin.admissions.eligibility import Rules

    if not preview.preview or preview.intake_id != intake.pk:
        return _("This is not a preview of this call's re-check.")
    if preview.status != EligibilityRecheck.Status.DONE:
        return _("This preview is not finished: it can be applied once it says what would change.")
    latest = recheck_latest(intake)
    if latest is None or latest.pk != preview.pk:
        return _(
            "This preview was applied or replaced since: the call's page shows the last re-check."
        )
    if Rules.of(Intake.objects.get(pk=intake.pk)).digest() != preview.rules_digest:  # as stored
        return _(
            "The eligibility rules changed since this preview: ask for a new one to see what "
            "the current rules would change."
        )
    return ""


def _queue(*, intake: Intake, actor, **fields) -> tuple[EligibilityRecheck, bool]:
    """A re-check or a preview of ``intake`` queued, or the one already active."""
    from tremplin.admissions.intakes import rules_frozen
    from tremplin.admissions.selectors import applications_to_recheck
    from tremplin.selection.schemes import published_run

    published = published_run(intake)
    if published is not None:
        raise ValidationError(rules_frozen(published))
    active = EligibilityRecheck.objects.filter(intake=intake, status__in=ACTIVE).first()
    if active is not None:
        return active, False
    try:
        with transaction.atomic():
            recheck = EligibilityRecheck.objects.create(
                intake=intake,
                created_by=actor,
                expected=applications_to_recheck(intake).count(),
                queued_at=timezone.now(),
                **fields,
            )
    except IntegrityError:  # one per call at a time: a colleague's committed meanwhile
        # (and may have finished since, on a small call)
        return recheck_latest(intake), False
    transaction.on_commit(partial(run_recheck.enqueue, recheck_id=recheck.pk))
    return recheck, True


def recheck_latest(intake: Intake) -> EligibilityRecheck | None:
    """The call's last re-check asked for, whatever its status."""
    return EligibilityRecheck.objects.filter(intake=intake).select_related("created_by").first()


@task()
def run_recheck(recheck_id: int) -> None:
    eligibility_recheck_execute(recheck_id)


def eligibility_recheck_execute(recheck_id: int) -> None:
    """Run a waiting re-check and write its counts with its results, all or nothing; or a
    waiting preview, which writes its counts alone. A task delivered twice runs it once; a
    ranking published since it was asked for leaves it failed, and the applications as they
    were; so do rules changed since the preview a re-check applies."""
    claimed_at = timezone.now()
    with scopes_disabled():
        rechecks = EligibilityRecheck.objects.filter(pk=recheck_id)
        if not rechecks.filter(status=EligibilityRecheck.Status.PENDING).update(
            status=EligibilityRecheck.Status.RUNNING, claimed_at=claimed_at
        ):
            return
        if rechecks.filter(preview=True).exists():
            _run(rechecks.filter(claimed_at=claimed_at), _preview)
        else:
            _run(rechecks, partial(_recheck, claimed_at=claimed_at))


def _run(rechecks, run) -> None:
    """``run`` the re-check or preview of ``rechecks``, failed or waiting again as the error
    it meets says."""
    from tremplin.admissions.screening import RulesChanged

    recheck_id = rechecks.values_list("pk", flat=True).first()
    try:
        run(rechecks)
    except ValidationError:  # a ranking published since: its rules stand
        _fail(rechecks, EligibilityRecheck.Failure.RULES_FROZEN)
    except RulesChanged:  # since the preview it applies: not what staff were shown
        _fail(rechecks, EligibilityRecheck.Failure.RULES_CHANGED)
    except OperationalError:
        # The database busy (SQLite's write lock held by a long import) or gone for a
        # moment: nothing was written, and it waits to be run again (the resume sweep).
        logger.warning("The eligibility re-check %s waits to run again", recheck_id)
        rechecks.filter(status=EligibilityRecheck.Status.RUNNING).update(
            status=EligibilityRecheck.Status.PENDING, claimed_at=None, queued_at=timezone.now()
        )
    except Exception:
        logger.exception("The eligibility re-check %s failed", recheck_id)
        _fail(rechecks, EligibilityRecheck.Failure.INTERNAL)
        raise


def _recheck(rechecks, *, claimed_at) -> None:
    """The re-check and its counts, in one transaction."""
    from tremplin.admissions.screening import eligibility_recheck

    with transaction.atomic():
        # Locked to the end: the resume sweep skips a re-check whose worker is alive.
        recheck = (
            rechecks.select_for_update(of=("self",)).select_related("intake", "created_by").get()
        )
        if recheck.claimed_at != claimed_at:  # taken again after a resume
            return
        done = eligibility_recheck(
            intake=recheck.intake, actor=recheck.created_by, rules_digest=recheck.rules_digest
        )
        rechecks.update(**_counts(done))


def _preview(rechecks) -> None:
    """The preview, without a transaction (it writes nothing but its counts, and holds no
    lock: ``screening.eligibility_preview``), its counts written if it is still this run's
    (``rechecks`` is filtered on its claim)."""
    from tremplin.admissions.screening import eligibility_preview

    recheck = rechecks.select_related("intake").first()
    if recheck is None:  # taken again after a resume
        return
    done = eligibility_preview(intake=recheck.intake)
    rechecks.update(**_counts(done), changes=list(done.changes))


def _counts(done) -> dict:
    return {
        "status": EligibilityRecheck.Status.DONE,
        "finished_at": timezone.now(),
        "rules_digest": done.rules_digest,
        "checked": done.checked,
        "changed": done.changed,
        "became_eligible": done.became_eligible,
        "became_ineligible": done.became_ineligible,
        "told": done.told,
        "staff_decided": done.staff_decided,
    }


def _fail(rechecks, failure: str) -> int:
    return rechecks.filter(status=EligibilityRecheck.Status.RUNNING).update(
        status=EligibilityRecheck.Status.FAILED, failure=failure, finished_at=timezone.now()
    )


def eligibility_rechecks_resume(
    *,
    stale_after: datetime.timedelta = STALE_AFTER,
    waiting_after: datetime.timedelta = WAITING_AFTER,
) -> int:
    """Queue again the re-checks whose worker died: running for ``stale_after`` and not
    locked by a transaction (a live worker holds its re-check's row to the end; SQLite
    has no row locks, and goes by the time alone), and those still waiting ``waiting_after``
    after their task was queued, which was lost. Safe: a dead worker's transaction left
    nothing, and a task delivered twice runs its re-check once.

    A preview holds no lock: one still running after ``stale_after`` (a call of 100,000
    takes about a minute) is failed, not queued again, which could go on for ever if it
    were only slow; staff ask for another."""
    now = timezone.now()
    running = Q(status=EligibilityRecheck.Status.RUNNING, claimed_at__lt=now - stale_after)
    waiting = Q(status=EligibilityRecheck.Status.PENDING, queued_at__lt=now - waiting_after)
    with scopes_disabled():
        lost = EligibilityRecheck.objects.filter(running, preview=True)
        for pk in lost.values_list("pk", flat=True):
            if _fail(lost.filter(pk=pk), EligibilityRecheck.Failure.INTERNAL):
                logger.error("The preview of a re-check %s failed: its worker was lost", pk)
        running &= Q(preview=False)
        # A write transaction only when there is something to do: on SQLite it takes the
        # database's write lock, which a long import may hold.
        if not EligibilityRecheck.objects.filter(running | waiting).exists():
            return 0
        with transaction.atomic():
            # Locked, those a worker holds skipped: each is written as it was read.
            stale = list(
                EligibilityRecheck.objects.select_for_update(skip_locked=True)
                .filter(running | waiting)
                .values_list("pk", flat=True)
            )
            # Queued again now: not again at the next sweep, while the worker catches up.
            EligibilityRecheck.objects.filter(pk__in=stale).update(
                status=EligibilityRecheck.Status.PENDING, claimed_at=None, queued_at=now
            )
            for recheck_id in stale:
                transaction.on_commit(partial(run_recheck.enqueue, recheck_id=recheck_id))
    if stale:
        logger.warning("Eligibility re-checks queued again, their task or worker lost: %s", stale)
    return len(stale)
