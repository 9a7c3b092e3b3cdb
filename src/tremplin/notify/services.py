"""The outbox's workflows: enqueue a message with the change that causes it, then send it.

What is guaranteed:

- A message exists if and only if the change that caused it committed: ``message_enqueue``
  writes the row in the caller's transaction and schedules the send on commit.
- A failed send is never lost and never undoes the change: it is recorded on the message and
  retried with exponential backoff, until ``NOTIFY_MAX_ATTEMPTS`` gives up (status failed),
  or at once when the gateway refused the message itself (an unknown number). Staff may
  send failed messages again from the outbox page (``messages_retry``), those of the last
  week only.
- A message with an expiry (a one-time code) is never sent after it: it ends as expired.
- A message recorded as sent is never sent again: a sender first claims the message with a
  conditional UPDATE that only matches pending messages (or abandoned claims, below).
- A message whose sender died after claiming it (worker killed, machine lost) is claimed
  again once the claim is older than ``NOTIFY_CLAIM_TIMEOUT``. If the dead sender had already
  handed it to the gateway, the person receives it twice: that in-flight message is the only
  possible duplicate, the price of never losing one (exactly-once needs an idempotency key
  from the gateway, which generic SMS gateways do not offer). The claim timeout must exceed
  the longest send (the SMTP and gateway timeouts), or a slow send would be claimed twice.

Tasks carry the send; ``outbox_flush`` (the ``send_outbox`` command, a sidecar running every
few seconds) sends whatever is due, in case a task was lost with its worker or never deferred.
Messages written without a task (``message_build``: the portal's confirmations, one statement
per submission on deadline day; the notices of a re-check of eligibility, thousands at once)
are sent by that sweep alone.
"""

import logging
import random
import re
import smtplib
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import urlize
from django.utils.translation import pgettext_lazy
from django_scopes import scopes_disabled

from tremplin.core.identifiers import normalize_phone
from tremplin.notify.models import Message, mask_recipient
from tremplin.notify.signals import message_sent
from tremplin.notify.sms import get_sms_backend

if TYPE_CHECKING:
    from tremplin.notify.selectors import OutboxFilters
    from tremplin.schools.models import School

logger = logging.getLogger(__name__)

# Defaults, overridable in settings (read at call time).
CLAIM_TIMEOUT_SECONDS = 300
MAX_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
RETRY_MAX_AGE_DAYS = 7
# The messages a visitor of the public portal sends to a recipient of their choosing (the
# phone and email typed in the form), and how many of them one recipient gets in 24 hours:
# enough for a family that shares a phone, not a way to flood someone with messages paid by
# the school (``NOTIFY_CONFIRMATIONS_PER_RECIPIENT``).
LIMITED_TEMPLATES = frozenset({"application_submitted"})
CONFIRMATIONS_PER_RECIPIENT = 5

# Every message the platform writes: its template (a directory of ``templates/notify/``)
# and its name for staff, as the outbox shows it.
MESSAGE_TEMPLATES = {
    "applicant_code": pgettext_lazy("message", "One-time code"),
    "application_reminder": pgettext_lazy("message", "Application already recorded"),
    # What the portal's form sends, the same text sent by an import (when staff ask for it):
    # told apart in the outbox, and by the limit of confirmations to one recipient.
    "application_imported": pgettext_lazy("message", "Application imported: its reference"),
    "application_submitted": pgettext_lazy("message", "Application received"),
    "application_withdrawn": pgettext_lazy(
        "message", "Application withdrawn from the applicant space"
    ),
    "contact_changed": pgettext_lazy("message", "Contact details changed (to the former ones)"),
    "decision": pgettext_lazy("message", "Decision"),
    "eligibility_changed": pgettext_lazy("message", "Eligibility changed by the school"),
    "deletion_requested": pgettext_lazy("message", "Deletion of the data requested"),
    "interview_convocation": pgettext_lazy("message", "Interview convocation"),
    "offer_withdrawn": pgettext_lazy("message", "Seat withdrawn by the school"),
    "test_convocation": pgettext_lazy("message", "Written test convocation"),
}


def message_template_label(template: str) -> str:
    """A message's template as staff call it, in the active language; an unknown one (a
    template since removed) as it is stored."""
    label = MESSAGE_TEMPLATES.get(template)
    return str(label) if label is not None else template


def _setting(name: str, default: int | float) -> Any:
    return getattr(settings, name, default)


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email (a letter as PDF, a calendar event)."""

    filename: str
    content: bytes
    mimetype: str


def message_enqueue(
    *,
    dedupe_key: str = "",
    attachments: Sequence[Attachment] = (),
    files_written: list[str] | None = None,
    **fields: Any,
) -> Message:
    """Write a message and send it once the current transaction commits; ``fields`` as for
    ``message_build`` (channel, to, template, context, language, school, related).

    Call it inside the transaction of the change that causes the message, so that the
    message exists if and only if the change commits. ``template`` names a directory of
    ``templates/notify/``: ``subject.txt`` and ``body.txt`` for an email, ``sms.txt`` for an
    SMS, rendered now in ``language`` with ``context``. With a ``dedupe_key``, enqueuing the
    same key again returns the first message instead of sending another one.
    ``attachments`` (emails only) are copied to private storage with the message, at once:
    their storage names are added to ``files_written``, for the caller to delete should its
    transaction roll back (the row goes, not the file, which holds personal data).
    """
    message = message_build(dedupe_key=dedupe_key, attachments=attachments, **fields)
    if dedupe_key:
        # Insert first and look only on conflict: the unique constraint, not a prior check,
        # decides between two concurrent requests. The savepoint keeps the caller's
        # transaction usable after the conflict.
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            with scopes_disabled():
                existing = Message.objects.filter(dedupe_key=dedupe_key).first()
            if existing is None:
                raise
            return existing
    else:
        message.save()
    if attachments:
        _store_attachments(message, attachments, [] if files_written is None else files_written)
    message_id = message.pk
    if _backend_is_transactional():
        # The database backend stores the task in this same transaction: it exists if and
        # only if the message does, and no extra commit is paid per message.
        _schedule(message_id, attempt=0)
    else:
        # robust: failing to enqueue the task must not fail a request whose change has
        # committed; the message waits for the sweep instead.
        transaction.on_commit(lambda: _schedule(message_id, attempt=0), robust=True)
    return message


def message_build(
    *,
    channel: str,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str,
    school: "School | None" = None,
    related: models.Model | None = None,
    dedupe_key: str = "",
    attachments: Sequence[Attachment] = (),
    expires_at: datetime | None = None,
) -> Message:
    """The message ``message_enqueue`` writes, rendered and checked but not saved.

    ``expires_at``: when what it says stops being true (a one-time code's end). A message
    still unsent then is not sent at all, neither by a retry nor by staff sending it again.

    ``related`` may be unsaved: whoever writes it with the message fills ``object_id``
    (``core.inserts.insert_family``). A message written this way has no task of its own:
    the outbox sweep sends it (``outbox_flush``). Its attachments' files are not stored:
    a message with attachments goes through ``message_enqueue``, which stores them.
    """
    if attachments and channel != Message.Channel.EMAIL:
        raise ValueError("Only an email carries attachments.")
    language = _supported_language(language)
    subject, body = _render(channel, template, context, language)
    message = Message(
        school=school,
        channel=channel,
        recipient=to.strip(),
        language=language,
        template=template,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        expires_at=expires_at,
        # Random storage names, chosen now; the files are written once the row is in.
        attachments=[
            {
                "path": f"private/outbox/{uuid.uuid4().hex}{PurePath(a.filename).suffix.lower()}",
                "filename": a.filename,
                "mimetype": a.mimetype,
            }
            for a in attachments
        ],
    )
    if related is not None:
        message.content_type = ContentType.objects.get_for_model(related)
        message.object_id = "" if related.pk is None else str(related.pk)
    # Foreign keys and the constraint are left to the database: validating them here would
    # cost a query each on the application's hottest path.
    message.full_clean(
        exclude=["school", "content_type", "object_id"],
        validate_unique=False,
        validate_constraints=False,
    )
    return message


def _store_attachments(
    message: Message, attachments: Sequence[Attachment], written: list[str]
) -> None:
    """Write the copies, each name added to ``written`` as soon as the file is (a later one
    failing leaves none unnamed)."""
    stored = []
    for entry, attachment in zip(message.attachments, attachments, strict=True):
        name = default_storage.save(entry["path"], ContentFile(attachment.content))
        written.append(name)
        stored.append({**entry, "path": name})
    if stored != message.attachments:  # the storage chose another name
        message.attachments = stored
        message.save(update_fields=["attachments"])


def message_attachments_delete(messages: models.QuerySet) -> None:
    """Forget the attached files of ``messages`` (an erasure); the files go once this commits."""
    paths = [
        entry["path"]
        for attachments in messages.values_list("attachments", flat=True)
        for entry in attachments or []
    ]
    messages.update(attachments=[])
    transaction.on_commit(lambda: [default_storage.delete(path) for path in paths])


def message_attachments_named(names: list[str]) -> set[str]:
    """The copies among ``names`` that a message still names (``core.private_files``). The
    names are in JSON, so the messages with attachments are read once, in chunks."""
    with scopes_disabled():
        rows = Message.objects.exclude(attachments=[]).values_list("attachments", flat=True)
        named = {entry["path"] for attachments in rows.iterator(2000) for entry in attachments}
    return named & set(names)


def _backend_is_transactional() -> bool:
    """True when tasks are rows of this database (django-tasks-db), written in the caller's
    transaction; other backends (a broker, the immediate backend) are enqueued on commit."""
    from tremplin.notify.tasks import send_message

    backend = send_message.get_backend()
    return type(backend).__module__.startswith("django_tasks_db")


def message_send(message_id: int, *, attempt: int | None = None) -> str | None:
    """Send one message if it is still to be sent, and record the outcome.

    ``attempt``, for a task: how many attempts the message had when the task was scheduled.
    The task is that attempt's schedule, so it does not compare clocks again (a worker whose
    clock runs slightly behind must not skip its message); but if another sender (the sweep)
    tried the message since, that sender scheduled the next try, after its backoff, and
    this task does nothing: trying now would retry early, and schedule a second chain of
    tries. Without ``attempt`` (the sweep), the message is sent only when due.

    Returns the message's new status (sent, pending for a retry, failed), or None when there
    was nothing to do: already sent or failed, not due, or claimed by a sender still within
    its claim timeout. A delivery failure never raises: it is recorded and the retry is
    scheduled. Run it outside any transaction (a task, a command), so that the claim is
    visible to other senders before the send starts.
    """
    claimed_at = timezone.now()
    if attempt is None:
        claimable = _due(claimed_at)
    else:
        claimable = Q(status=Message.Status.PENDING, attempts=attempt) | _abandoned(claimed_at)
    with scopes_disabled():
        claimed = Message.objects.filter(claimable, pk=message_id).update(
            status=Message.Status.SENDING, claimed_at=claimed_at
        )
        if not claimed:
            return None
        message = Message.objects.get(pk=message_id)
        if message.expires_at is not None and message.expires_at <= claimed_at:
            Message.objects.filter(
                pk=message_id, status=Message.Status.SENDING, claimed_at=claimed_at
            ).update(status=Message.Status.EXPIRED)
            return Message.Status.EXPIRED
        if not message.recipient:
            # Nobody to send it to any more: an erasure emptied it while it waited, or while
            # a sender held it. Never handed to a backend (an SMS to "", an email to nobody
            # that Django would count as sent).
            Message.objects.filter(
                pk=message_id, status=Message.Status.SENDING, claimed_at=claimed_at
            ).update(status=Message.Status.FAILED)
            return Message.Status.FAILED
        if _over_the_limit(message, claimed_at):
            Message.objects.filter(
                pk=message_id, status=Message.Status.SENDING, claimed_at=claimed_at
            ).update(status=Message.Status.FAILED, failure=Message.Failure.LIMITED)
            logger.warning(
                "Message %s not sent: the recipient had %s confirmations in 24 hours",
                message_id,
                _setting("NOTIFY_CONFIRMATIONS_PER_RECIPIENT", CONFIRMATIONS_PER_RECIPIENT),
            )
            return Message.Status.FAILED
    try:
        _deliver(message)
    except Exception as exc:
        return _record_failure(message, claimed_at=claimed_at, error=exc)
    with scopes_disabled():
        recorded = Message.objects.filter(
            pk=message_id, status=Message.Status.SENDING, claimed_at=claimed_at
        ).update(
            status=Message.Status.SENT,
            sent_at=timezone.now(),
            attempts=F("attempts") + 1,
            last_error="",
            failure="",
        )
    if not recorded:
        logger.warning(
            "Message %s was sent after its claim had expired and been taken over: "
            "it may arrive twice. Raise NOTIFY_CLAIM_TIMEOUT above the slowest send.",
            message_id,
        )
    for receiver, error in message_sent.send_robust(sender=Message, message=message):
        if isinstance(error, Exception):
            logger.error("Message %s sent, but %s failed: %r", message_id, receiver, error)
    return Message.Status.SENT


def _over_the_limit(message: Message, now: datetime) -> bool:
    """Whether ``message`` is a confirmation to a recipient who already got
    ``NOTIFY_CONFIRMATIONS_PER_RECIPIENT`` of them in the last 24 hours, from any school.
    A confirmation held back so and sent again by staff, one by one (``messages_retry``),
    is not held again, whatever happens to its tries: they judged it wanted. Several
    senders at once may each send one more: a limit against floods, not an exact count."""
    if message.template not in LIMITED_TEMPLATES or message.limit_waived:
        return False
    limit = _setting("NOTIFY_CONFIRMATIONS_PER_RECIPIENT", CONFIRMATIONS_PER_RECIPIENT)
    with scopes_disabled():  # from any school
        sent = Message.objects.alias(to=Lower("recipient")).filter(
            status=Message.Status.SENT,
            to=message.recipient.lower(),
            sent_at__gte=now - timedelta(days=1),
            template__in=LIMITED_TEMPLATES,
        )
        return sent[:limit].count() >= limit


@dataclass(frozen=True)
class Retried:
    """What sending again did: ``queued`` messages will go out; ``too_old`` failed ones,
    written before ``since``, were left as they are."""

    queued: int
    too_old: int
    since: datetime


def retry_since() -> datetime:
    """The oldest a failed message may be (since it was written) and still be sent again:
    ``NOTIFY_RETRY_MAX_AGE_DAYS`` ago, a week by default."""
    days = _setting("NOTIFY_RETRY_MAX_AGE_DAYS", RETRY_MAX_AGE_DAYS)
    return timezone.now() - timedelta(days=days)


@transaction.atomic
def messages_retry(
    *,
    school: "School",
    actor,
    message_id: int | None = None,
    filters: "OutboxFilters | None" = None,
) -> Retried:
    """Send the school's failed messages again: one (``message_id``), or those of the outbox
    list as staff filtered it (``selectors.OutboxFilters``). Each gets a fresh set of
    attempts. For after the cause is fixed (the gateway's token renewed, an outage over).

    Only the messages written in the last ``NOTIFY_RETRY_MAX_AGE_DAYS`` days (``retry_since``):
    a message fails about three hours after it was written (``MAX_ATTEMPTS`` tries, with
    the backoff), or at once, so a week covers an outage over a long weekend, while what an
    older one says (a call closed since, a convocation past) would mislead more than help.
    Erased and expired messages are never sent again (``selectors.outbox_retryable``), and
    confirmations held back by the limit to one recipient (``_over_the_limit``) only one by
    one: sent again so, the limit no longer holds them.

    Idempotent: the messages are locked and taken only while failed, so a repeated request
    finds them pending and queues nothing; a message another sender took is left alone."""
    from tremplin.core.audit import log_action
    from tremplin.notify.selectors import NO_FILTER, outbox_retryable, outbox_retryable_together

    filters = filters or NO_FILTER
    since = retry_since()
    if message_id is not None:
        failed = outbox_retryable(school=school, filters=filters).filter(pk=message_id)
    else:
        failed = outbox_retryable_together(school=school, filters=filters)
    ids = list(
        failed.filter(created_at__gte=since).select_for_update().values_list("pk", flat=True)
    )
    too_old = failed.filter(created_at__lt=since).count()
    if not ids:
        return Retried(queued=0, too_old=too_old, since=since)
    Message.objects.filter(pk__in=ids, status=Message.Status.FAILED).update(
        status=Message.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        limit_waived=Case(
            When(failure=Message.Failure.LIMITED, then=Value(True)), default=F("limit_waived")
        ),
    )
    log_action(
        "tremplin.outbox.retried",
        actor=actor,
        school=school,
        data={
            "messages": len(ids),
            **({"message": message_id} if message_id else {}),
            **({"filters": filters.params()} if filters else {}),
            **({"too_old": too_old} if too_old else {}),
        },
    )
    _schedule_on_commit(ids)
    return Retried(queued=len(ids), too_old=too_old, since=since)


@transaction.atomic
def message_try_now(*, school: "School", actor, message_id: int) -> bool:
    """Try now a message of the school that failed and waits for its next try (the backoff
    waits up to an hour): once the gateway is back, staff need not wait. Its attempts so far
    still count (``MAX_ATTEMPTS``). Returns whether it was queued: not when it was sent,
    taken by a sender, or tried again meanwhile (a repeated request queues nothing more)."""
    from tremplin.core.audit import log_action
    from tremplin.notify.selectors import waiting_to_be_tried_again

    hastened = list(
        Message.objects.filter(waiting_to_be_tried_again(), school=school, pk=message_id)
        .select_for_update()
        .values_list("attempts", flat=True)
    )
    if not hastened:
        return False
    Message.objects.filter(pk=message_id).update(next_attempt_at=timezone.now())
    log_action(
        "tremplin.outbox.tried_now", actor=actor, school=school, data={"message": message_id}
    )
    _schedule_on_commit([message_id], attempt=hastened[0])
    return True


# Beyond this many, the outbox sweep sends the rest within seconds: no task each.
_RETRY_TASKS = 200


def _schedule_on_commit(ids: list[int], *, attempt: int = 0) -> None:
    """A task for each message put back to pending by staff, with ``attempt`` attempts,
    once their change commits (the first ``_RETRY_TASKS``: the sweep sends the others within
    seconds)."""
    for pk in ids[:_RETRY_TASKS]:
        transaction.on_commit(lambda pk=pk: _schedule(pk, attempt=attempt), robust=True)


def messages_readdress(*, related: models.Model, channel: str, old: str, new: str) -> int:
    """Send to ``new`` the messages about ``related`` that have not reached ``old`` (an
    applicant's phone number corrected by staff): failed ones written in the last
    ``NOTIFY_RETRY_MAX_AGE_DAYS`` days, refused ones included (the number refused was the
    wrong one), and those still waiting; not those past their expiry, nor one a sender holds
    now (it goes where it was going). With ``new`` empty (an address removed), those waiting
    never go. Call it in the transaction of the correction; returns how many will go out."""
    if not old or old == new:
        return 0
    with scopes_disabled():
        undelivered = Message.objects.filter(
            content_type=ContentType.objects.get_for_model(related),
            object_id=str(related.pk),
            channel=channel,
            recipient=old,
            status__in=[Message.Status.FAILED, Message.Status.PENDING],
        )
        if not new:
            # The address removed (a stranger's): what still waits for it never goes.
            undelivered.update(recipient="", status=Message.Status.FAILED)
            return 0
        ids = list(
            undelivered.filter(created_at__gte=retry_since())
            .exclude(expires_at__lte=timezone.now())
            .select_for_update()
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=ids).update(
            recipient=new,
            status=Message.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            failure="",
        )
    _schedule_on_commit(ids)
    return len(ids)


def outbox_flush(*, limit: int = 500) -> Counter[str]:
    """Send every message that is due: pending and past its next attempt, or abandoned by a
    sender that died. Returns how many ended in each status ("skipped": a concurrent sender
    took it first). Used by ``tremplin send_outbox``, the safety net for lost tasks."""
    now = timezone.now()
    with scopes_disabled():
        due = list(
            Message.objects.filter(_due(now))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
    outcomes: Counter[str] = Counter()
    for message_id in due:
        outcomes[message_send(message_id) or "skipped"] += 1
    return outcomes


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1 min, 2 min… capped at an hour.

    Jittered down by up to a quarter, so that messages that failed together during a gateway
    outage do not all come back at the same second when it recovers.
    """
    base = _setting("NOTIFY_BACKOFF_BASE", BACKOFF_BASE_SECONDS)
    seconds = min(base * 2 ** (attempts - 1), _backoff_max())
    return timedelta(seconds=seconds * random.uniform(0.75, 1.0))


def _backoff_max() -> float:
    return _setting("NOTIFY_BACKOFF_MAX", BACKOFF_MAX_SECONDS)


def _supported_language(language: str) -> str:
    try:
        return translation.get_supported_language_variant(language)
    except LookupError:
        # A message in the default language beats no message.
        return settings.LANGUAGE_CODE


def _render(channel: str, template: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    with translation.override(language):
        if channel == Message.Channel.SMS:
            # One line: line breaks in the template are layout, and an SMS pays per character.
            return "", " ".join(render_to_string(f"notify/{template}/sms.txt", context).split())
        subject = render_to_string(f"notify/{template}/subject.txt", context)
        body = render_to_string(f"notify/{template}/body.txt", context)
    # A line break in a subject is a header injection: Django refuses it.
    return " ".join(subject.split()), body.strip() + "\n"


def _claim_timeout() -> timedelta:
    return timedelta(seconds=_setting("NOTIFY_CLAIM_TIMEOUT", CLAIM_TIMEOUT_SECONDS))


def _abandoned(now: datetime) -> Q:
    return Q(status=Message.Status.SENDING, claimed_at__lt=now - _claim_timeout())


def _due(now: datetime) -> Q:
    return Q(status=Message.Status.PENDING, next_attempt_at__lte=now) | _abandoned(now)


def _deliver(message: Message) -> None:
    if message.channel == Message.Channel.EMAIL:
        # Stable across retries, so a mail client can fold the duplicate of an in-flight
        # message resent after a crash.
        message_id = f"<outbox.{message.pk}.{message.created_at:%Y%m%d%H%M%S}@{DNS_NAME}>"
        email = EmailMultiAlternatives(
            message.subject,
            message.body,
            to=[message.recipient],
            headers={"Content-Language": message.language, "Message-ID": message_id},
        )
        # The same text, with its direction: plain text has none, and a mail client showing
        # an Arabic message left to right puts its punctuation, and its links, on the wrong
        # side.
        email.attach_alternative(_as_html(message.body, message.language), "text/html")
        for entry in message.attachments:
            with default_storage.open(entry["path"], "rb") as stored:
                email.attach(entry["filename"], stored.read(), entry["mimetype"])
        email.send()
    else:
        get_sms_backend().send(message.recipient, message.body)


def _as_html(body: str, language: str) -> str:
    """A message's text as an HTML page in its language's direction, its lines kept and its
    links (left to right, whatever the text around them) made links."""
    direction = "rtl" if translation.get_language_info(language)["bidi"] else "ltr"
    text = urlize(body, autoescape=True).replace("<a ", '<a dir="ltr" ')
    return (
        f'<!doctype html><html lang="{language}" dir="{direction}"><body>'
        f'<div dir="{direction}" style="white-space: pre-wrap">{text}</div></body></html>'
    )


def _record_failure(message: Message, *, claimed_at: datetime, error: Exception) -> str | None:
    attempts = message.attempts + 1
    failure = failure_kind(error)
    if failure == Message.Failure.REFUSED or attempts >= _setting(
        "NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS
    ):
        status, next_attempt_at = Message.Status.FAILED, message.next_attempt_at
    else:
        delay = retry_delay(attempts)
        asked = getattr(error, "retry_after", None)
        if asked is not None:  # the gateway's own figure, within the backoff's ceiling
            delay = max(delay, timedelta(seconds=min(asked, _backoff_max())))
        status, next_attempt_at = Message.Status.PENDING, timezone.now() + delay
    if message.expires_at is not None and (
        timezone.now() >= message.expires_at
        or (status == Message.Status.PENDING and next_attempt_at >= message.expires_at)
    ):
        # No retry, later or by hand, would come before what it says stops being true.
        status = Message.Status.EXPIRED
    with scopes_disabled():
        recorded = Message.objects.filter(
            pk=message.pk, status=Message.Status.SENDING, claimed_at=claimed_at
        ).update(
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_error=_describe(error, message)[:2000],
            failure=failure,
        )
    if not recorded:
        return None  # taken over after the claim expired: the new sender records its outcome
    if status == Message.Status.EXPIRED:
        logger.warning("Message %s failed and expires before a retry: %s", message.pk, error)
    elif status == Message.Status.FAILED:
        logger.error("Message %s failed %s times, giving up: %s", message.pk, attempts, error)
    else:
        logger.warning("Message %s failed (attempt %s), retrying: %s", message.pk, attempts, error)
        message_id = message.pk
        transaction.on_commit(
            lambda: _schedule(message_id, attempt=attempts, run_after=next_attempt_at),
            robust=True,
        )
    return status


def failure_kind(error: Exception) -> str:
    """Why a send failed, as staff can act on it (``Message.Failure``).

    Refused, for good, when sending the same message again cannot work: the SMS gateway
    refused it (``SmsGatewayError.permanent``: an unknown number), or the mail server refused
    every recipient with a 5xx reply (no such mailbox, a malformed address). Credentials: the
    gateway answered 401 or 403, or the mail server refused the login. Unavailable: no answer,
    a broken connection, any other refusal of the gateway or the mail server (its error, its
    limit), which passes. Anything else is unexpected, a gateway's redirect too (its address
    in the settings is to correct)."""
    from tremplin.notify.sms import SmsGatewayError

    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return Message.Failure.REFUSED
    if getattr(error, "permanent", False):
        return Message.Failure.REFUSED
    if isinstance(error, smtplib.SMTPAuthenticationError) or getattr(error, "status", None) in (
        401,
        403,
    ):
        return Message.Failure.CREDENTIALS
    if 300 <= (getattr(error, "status", None) or 0) < 400:
        return Message.Failure.OTHER  # a redirect: the gateway's address is to correct
    if isinstance(error, SmsGatewayError | smtplib.SMTPException | OSError):
        return Message.Failure.UNAVAILABLE  # OSError: refused connection, timeout, DNS
    return Message.Failure.OTHER


# A Moroccan mobile number in the forms a gateway may quote it: +212661234567, 00212 …,
# 212 661-234567, 06 61 23 45 67, 0661-23-45-67; not the digits of a date or a code beside it.
_PHONE_IN_TEXT = re.compile(r"(?<![\d+])(?:(?:\+|00)?212[ .-]?|0)[5-7](?:[ .-]?\d){8}(?!\d)")


def _describe(error: Exception, message: Message) -> str:
    """The error as the outbox keeps it for whoever runs the platform: refusals quote the
    address or the number, which the outbox page shows masked, as it does here."""
    text = f"{type(error).__name__}: {error}".replace(message.recipient, message.recipient_masked)
    return _PHONE_IN_TEXT.sub(_masked_phone, text)


def _masked_phone(found: re.Match) -> str:
    phone = normalize_phone(found[0])
    return mask_recipient(phone) if phone else "*" * (len(found[0]) - 2) + found[0][-2:]


def _schedule(message_id: int, *, attempt: int, run_after: datetime | None = None) -> None:
    """A task to try the message once it has had ``attempt`` attempts (``message_send``)."""
    # Imported here: the task module imports this one.
    from tremplin.notify.tasks import send_message

    task = send_message
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # e.g. the immediate backend: the sweep sends it when it is due
        task = task.using(run_after=run_after)
    task.enqueue(message_id=message_id, attempt=attempt)
