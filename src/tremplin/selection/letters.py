"""Letters to applicants: convocations (written test, interview) and decisions, as PDFs.

The other parts of selection start a batch with ``letter_batch_start`` inside their own
transaction (scheduling a session, publishing a run...). Once it commits, a task renders the
letters in each applicant's language, on every core, stores them privately (one letter per
application and kind: a new rendering replaces the previous file), and, when asked, sends
each applicant an SMS and an email with the PDF (and the .ics of a convocation) attached.

A batch runs once: the task claims it with a conditional update, and each message carries a
key (`_message_key`), so running the same batch again (a task delivered twice, a retry
after a failure) renders again but never sends twice. A convocation's key is its batch and
the application (convening again sends again). A decision's key is what it tells: the
application, its status and the offer it is about. Decision batches overlap (publication
starts one for every applicant, and each offer from the waiting list one more, which may
run first), so an applicant is told each decision once, whichever batch renders it, and a
new one (an offer after a wait, an offer expired) is told too.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404, HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from tremplin.admissions.models import Application, Intake
from tremplin.core.audit import log_action
from tremplin.core.links import site_url
from tremplin.notify.models import Message
from tremplin.notify.services import Attachment, message_enqueue
from tremplin.selection import ics
from tremplin.selection.letter_contexts import contexts_for
from tremplin.selection.letter_pdf import RenderedLetter, render_chunks, worker_count
from tremplin.selection.models import Letter, LetterBatch

logger = logging.getLogger(__name__)

Kind = Letter.Kind

# Letters rendered per round trip to a worker process: large enough to make the trip
# cheap, small enough to keep both cores busy to the end and the progress bar moving.
CHUNK = 8
# A running batch without progress for this long lost its worker (a chunk takes seconds).
STALE_AFTER = datetime.timedelta(minutes=10)

# The file names the applicant downloads, by kind (ASCII: every mail client keeps them).
FILENAMES = {
    Kind.TEST_CONVOCATION: "convocation-test",
    Kind.INTERVIEW_CONVOCATION: "convocation-interview",
    Kind.DECISION: "decision",
}


@transaction.atomic
def letter_batch_start(
    *,
    intake: Intake,
    kind: str,
    application_ids: list[int],
    notify: bool,
    actor=None,
) -> LetterBatch:
    """Create a batch of letters of ``kind`` for ``application_ids`` of ``intake`` and
    render it in a task once the caller's transaction commits.

    With ``notify``, each applicant also gets an SMS and, when they gave one, an email with
    the letter attached. Applications of another intake are refused; those with nothing to
    announce (no sitting, no slot, no published decision) or withdrawn get no letter.
    """
    if kind not in Kind.values:
        raise ValidationError(_("Unknown kind of letter."))
    ids = sorted(set(application_ids))
    with scopes_disabled():
        found = Application.objects.filter(intake=intake, pk__in=ids).count()
    if found != len(ids):
        raise ValidationError(_("Some applications are not in this call."))
    batch = LetterBatch.objects.create(
        intake=intake,
        kind=kind,
        total=len(ids),
        application_ids=ids,
        notify=notify,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    log_action(
        "tremplin.letters.batch_started",
        actor=actor,
        school=intake.school,
        obj=batch,
        data={"kind": kind, "letters": len(ids), "notify": notify},
    )
    batch_id = batch.pk
    transaction.on_commit(lambda: _enqueue(batch_id))
    return batch


def _enqueue(batch_id: int) -> None:
    from tremplin.selection.letter_tasks import render_letter_batch

    render_letter_batch.enqueue(batch_id=batch_id)


@transaction.atomic
def letter_batch_retry(*, batch: LetterBatch) -> bool:
    """Run a failed batch again (its letters are rendered again; nobody is sent a message
    twice). False when the batch had not failed."""
    retried = LetterBatch.objects.filter(pk=batch.pk, status=LetterBatch.Status.FAILED).update(
        status=LetterBatch.Status.PENDING, error="", finished_at=None
    )
    if retried:
        transaction.on_commit(lambda: _enqueue(batch.pk))
    return bool(retried)


def letter_batches_resume(*, stale_after: datetime.timedelta = STALE_AFTER) -> int:
    """Start again the batches whose worker died (running, and no progress for
    `stale_after`). Safe to repeat: a letter rendered again replaces the previous one, and
    its messages carry the same keys, so nobody is sent one twice."""
    cutoff = timezone.now() - stale_after
    with scopes_disabled():
        stale = list(
            LetterBatch.objects.filter(
                status=LetterBatch.Status.RUNNING, heartbeat_at__lt=cutoff
            ).values_list("pk", flat=True)
        )
        resumed = []
        for batch_id in stale:
            with transaction.atomic():
                if LetterBatch.objects.filter(
                    pk=batch_id, status=LetterBatch.Status.RUNNING, heartbeat_at__lt=cutoff
                ).update(status=LetterBatch.Status.PENDING):
                    resumed.append(batch_id)
                    transaction.on_commit(partial(_enqueue, batch_id))
    if resumed:
        logger.warning("letter batches resumed after their worker stopped: %s", resumed)
    return len(resumed)


def letter_batch_run(*, batch_id: int) -> None:
    """Render a waiting batch (the task's body). Run it outside any transaction."""
    with scopes_disabled():
        batches = LetterBatch.objects.filter(pk=batch_id)
        # Only a waiting batch starts: a task delivered twice does not run it twice at once.
        if not batches.filter(status=LetterBatch.Status.PENDING).update(
            status=LetterBatch.Status.RUNNING, done=0, heartbeat_at=timezone.now()
        ):
            return
        batch = batches.select_related("intake__school").get()
    with scope(school=batch.intake.school):
        try:
            workers = min(worker_count(), -(-batch.total // CHUNK))
            # What the workers are rendering, by application id, until it is stored.
            waiting: dict[int, tuple[Application, dict]] = {}
            for letters in render_chunks(_chunks(batch, waiting), workers=workers):
                _store(batch, letters, [waiting.pop(r.application_id) for r in letters])
        except Exception as exc:
            logger.exception("letter batch %s failed", batch_id)
            batches.update(
                status=LetterBatch.Status.FAILED,
                finished_at=timezone.now(),
                error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            raise
        batches.update(status=LetterBatch.Status.DONE, done=batch.total, finished_at=timezone.now())


def _chunks(batch: LetterBatch, waiting: dict) -> Iterator[list[dict]]:
    """The contexts of the batch's letters, chunk by chunk (also kept in ``waiting``);
    applications with nothing to announce count as done straight away."""
    ids = batch.application_ids
    for start in range(0, len(ids), CHUNK):
        applications = list(
            Application.objects.filter(
                pk__in=ids[start : start + CHUNK],
                status=Application.Status.SUBMITTED,
                erased_at__isnull=True,
            ).select_related("intake__school__commune__province")
        )
        contexts = []
        for application, context in zip(
            applications, contexts_for(batch, applications), strict=True
        ):
            if context is not None:
                waiting[application.pk] = (application, context)
                contexts.append(context)
        skipped = len(ids[start : start + CHUNK]) - len(contexts)
        if skipped:
            LetterBatch.objects.filter(pk=batch.pk).update(
                done=F("done") + skipped, heartbeat_at=timezone.now()
            )
        if contexts:
            yield contexts


def _store(
    batch: LetterBatch, rendered: list[RenderedLetter], sources: list[tuple[Application, dict]]
) -> None:
    """Save a chunk's PDFs, then record them (and their messages) in one transaction. If it
    rolls back, the files written for it go too: the PDFs, and the copies attached to its
    emails."""
    names = [_save_file(r.pdf) for r in rendered]
    storage = Letter.file.field.storage
    attached: list[str] = []  # the emails' copies (notify's storage)
    try:
        with transaction.atomic():
            unused = _record(batch, list(zip(rendered, names, sources, strict=True)), attached)
            LetterBatch.objects.filter(pk=batch.pk).update(
                done=F("done") + len(rendered), heartbeat_at=timezone.now()
            )
            transaction.on_commit(lambda: [storage.delete(name) for name in unused])
    except BaseException:
        for name in names:
            storage.delete(name)
        for name in attached:
            default_storage.delete(name)
        raise


def _save_file(pdf: bytes) -> str:
    field = Letter.file.field
    return field.storage.save(field.generate_filename(None, "letter.pdf"), ContentFile(pdf))


def _record(batch: LetterBatch, items: list, attached: list[str]) -> list[str]:
    """Insert or replace each letter and enqueue its messages; returns the storage names of
    the files no letter uses any more (to delete once this commits). The names of the files
    attached to the emails are added to ``attached``.

    A letter written by a newer batch (a decision after a promotion, say) is never replaced
    by an older batch that rendered it earlier: that letter and its messages are dropped.
    """
    existing = _letters_locked(batch, [application for _r, _n, (application, _c) in items])
    unused = []
    for rendered, name, (application, context) in items:
        letter = existing.get(application.pk)
        if letter is None:
            letter = _letter_created(batch, application)
        if letter.batch_id is not None and letter.batch_id > batch.pk:
            unused.append(name)
            continue
        if letter.file:
            unused.append(letter.file.name)
        letter.batch = batch
        letter.language = context["language"]
        letter.file.name = name
        letter.pages = rendered.pages
        letter.save()
        if batch.notify:
            _notify(batch, application, context, rendered.pdf, attached)
    return unused


def _letters_locked(batch: LetterBatch, applications: list[Application]) -> dict[int, Letter]:
    letters = Letter.objects.select_for_update().filter(
        application__in=applications, kind=batch.kind
    )
    return {letter.application_id: letter for letter in letters}


def _letter_created(batch: LetterBatch, application: Application) -> Letter:
    """A new letter row (empty until saved with its file), or the one that another batch
    inserted at the same moment, locked."""
    try:
        with transaction.atomic():
            return Letter.objects.create(application=application, kind=batch.kind)
    except IntegrityError:
        return Letter.objects.select_for_update().get(application=application, kind=batch.kind)


def _notify(
    batch: LetterBatch, application: Application, context: dict, pdf: bytes, attached: list[str]
) -> None:
    """An SMS, and an email with the letter (and the convocation's calendar) attached, whose
    copies' storage names are added to ``attached``."""
    common = {
        "school": batch.intake.school,
        "related": application,
        "language": context["language"],
        "template": batch.kind,
        "context": context,
    }
    key = _message_key(batch, application, context)
    message_enqueue(
        channel=Message.Channel.SMS, to=application.phone, dedupe_key=f"{key}:sms", **common
    )
    if not application.email:
        return
    attachments = [Attachment(_filename(batch.kind, application), pdf, "application/pdf")]
    events = calendar_events(context, sequence=batch.pk)
    if events:
        attachments.append(Attachment("convocation.ics", ics.calendar(events), ics.MIMETYPE))
    message_enqueue(
        channel=Message.Channel.EMAIL,
        to=application.email,
        dedupe_key=f"{key}:email",
        attachments=attachments,
        files_written=attached,
        # An SMS has no room for it; an email links to the applicant space.
        **{**common, "context": {**context, "space_url": site_url("portal:access")}},
    )


def _message_key(batch: LetterBatch, application: Application, context: dict) -> str:
    """The messages' dedupe key (one per channel is derived from it).

    A decision's key names what it tells, not the batch: the publication's batch that runs
    after a batch started by a waiting-list offer must not tell the same offer again."""
    if batch.kind == Kind.DECISION:
        decision = context["decision"]
        offer = decision["offer"] or "-"
        return f"decision:{application.pk}:{decision['status']}:{offer}"
    return f"letter:{batch.pk}:{application.pk}"


def calendar_events(context: dict, *, sequence: int = 0) -> list[ics.Event]:
    """The calendar events of a convocation's context (none for a decision)."""
    rows = context.get("sittings") or context.get("slots") or []
    school = context["school"]["local_name"]
    with translation.override(context["language"]):
        if context["kind"] == Kind.TEST_CONVOCATION:
            title = _("Written test")
        else:
            title = _("Selection interview")
        return [
            ics.Event(
                uid=f"{row['uid']}.{context['applicant']['reference']}@tremplin",
                start=datetime.datetime.fromisoformat(row["starts_at"]),
                end=datetime.datetime.fromisoformat(row["ends_at"]),
                summary=f"{title} — {school}",
                location=row["place"],
                description=_("Bring your national identity card (CIN) and your letter."),
                sequence=sequence,
            )
            for row in rows
        ]


def _filename(kind: str, application: Application) -> str:
    return f"{FILENAMES[kind]}-{application.reference}.pdf"


def letter_filename(letter: Letter) -> str:
    return _filename(letter.kind, letter.application)


def letters_of(application: Application) -> list[Letter]:
    """The applicant's letters that exist, by kind (for the applicant space)."""
    order = {kind: i for i, kind in enumerate(Kind.values)}
    letters = list(application.letters.exclude(file="").select_related("application"))
    return sorted(letters, key=lambda letter: order.get(letter.kind, 99))


def letters_erase(*, application: Application) -> None:
    """Delete the application's letters (an erasure, law 09-08); the files go once the
    caller's transaction commits."""
    letters = Letter.objects.filter(application=application)
    names = [name for name in letters.values_list("file", flat=True) if name]
    letters.delete()
    storage = Letter.file.field.storage
    transaction.on_commit(lambda: [storage.delete(name) for name in names])


def access_letter(request: HttpRequest, letter_id: int) -> Letter:
    """A letter of the current school (inside a ``school_view``); 404 otherwise."""
    letter = (
        Letter.objects.filter(pk=letter_id, application__intake__school=request.access.school)
        .exclude(file="")
        .select_related("application")
        .first()
    )
    if letter is None:
        raise Http404
    return letter


def access_letter_batch(request: HttpRequest, intake: Intake, batch_id: int) -> LetterBatch:
    try:
        return LetterBatch.objects.select_related("created_by").get(pk=batch_id, intake=intake)
    except LetterBatch.DoesNotExist:
        raise Http404 from None
