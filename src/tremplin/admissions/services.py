"""Admissions workflows: submitting, editing and withdrawing an application, its eligibility
evaluated then and told to the applicant when it moves, a contact corrected by staff, a
search by CIN and a CIN shown recorded (the re-check of a call and the staff's decisions on
eligibility are in ``screening``, the applicant's one-time codes in ``codes``, the erasure
of personal data and its download in ``personal_data``).

Every change that decides something about a person writes an audit event in the same
transaction, and every message to the applicant goes through the outbox in that
transaction too.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tremplin.admissions import eligibility
from tremplin.admissions.models import (
    Application,
    Document,
    Intake,
    Wish,
)
from tremplin.admissions.references import make_reference, number_for_application, reference_year
from tremplin.core.audit import audit_event, log_action
from tremplin.core.identifiers import normalize_cin
from tremplin.core.inserts import Dependent, insert_family
from tremplin.core.text import typed_search

# The audit action of a submission through the portal (the application's history starts there).
APPLICATION_SUBMITTED = "tremplin.applications.submitted"
# A submission with a CIN that has already applied sends that application's reference
# again to its own phone and email, at most this often, and so many times a day.
REMINDER_INTERVAL = datetime.timedelta(hours=1)
REMINDERS_PER_DAY = 3
# The notices of an applicant's new phone or email to the former ones, at most so many a
# day for one application: changing a number back and forth must not flood anyone.
CONTACT_NOTICES_PER_DAY = 3
# The message telling an applicant that her eligibility moved without her doing.
ELIGIBILITY_NOTICE = "eligibility_changed"

APPLICANT_FIELDS = (
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "birth_date",
    "sex",
    "phone",
    "email",
    "commune",
    "education_level",
    "diploma",
    "employment",
    "motivation",
    "needs_accommodation",
    "accommodation_consent",
    "follow_up_consent",
)


class ApplicationClosed(Exception):
    """The intake does not take applications (or changes) any more."""


@dataclass(frozen=True)
class Submission:
    """What a submission gave: a new application, or the one the same person already sent.
    ``application`` is None when the CIN has already applied with another phone or date of
    birth: whoever submitted must learn nothing about that application."""

    application: Application | None
    created: bool


def notify_applicant(
    application: Application,
    template: str,
    context: dict,
    *,
    expires_at: datetime.datetime | None = None,
    channels: list[tuple[str, str]] | None = None,
) -> None:
    """Queue the message on every channel the applicant gave (or on ``channels``, (channel,
    recipient) pairs). Called inside the transaction that creates what the message is
    about, so it cannot be queued twice: no dedupe key (and no savepoint) is needed.
    ``expires_at``: not sent after then (a one-time code)."""
    from tremplin.notify.services import message_enqueue

    for channel, recipient in channels or applicant_channels(application):
        message_enqueue(
            channel=channel,
            to=recipient,
            template=template,
            context=context,
            language=application.language,
            school=application.intake.school,
            related=application,
            expires_at=expires_at,
        )


def message_context(application: Application) -> dict:
    """What the messages about ``application`` say of it, in the applicant's language
    (whatever the language of the request that writes them)."""
    intake = application.intake
    return {
        "first_name": application.first_name_for_messages,
        "reference": application.reference,
        "intake_title": intake.title if application.language != "ar" else intake.title_ar,
        "school_name": in_language(intake.school, application.language),
    }


def correctable_until(application: Application) -> str:
    """Until when the applicant may still correct her application, as a message tells her
    (the call's closing date, in her language), or "" when she no longer may: a message
    must not promise corrections after the closing date."""
    from tremplin.core.formatting import format_datetime

    if not application.accepts_changes:
        return ""
    return format_datetime(application.intake.closes_at, "short", application.language)


def imported_message_context(application: Application, space_url: str) -> dict:
    """What the message giving an imported applicant her reference says: that of every
    message, her space's address, and until when she may still correct her application
    (an import, or the references sent later, often come after the closing date)."""
    return {
        **message_context(application),
        "space_url": space_url,
        "closes_at": correctable_until(application),
    }


def tell_eligibility(application: Application, before: str) -> None:
    """Tell the applicant, in her language, that her eligibility moved from ``before``
    without her doing (the rules checked again, a staff decision or its undoing): found not
    eligible behind her back, she would learn it only by opening her space, perhaps after
    the closing date, when she can no longer correct her application. Nothing to a
    withdrawn or erased application.

    Each change is told (only staff cause them, and each is her standing now); one told
    before that still waits to be sent no longer says so: it expires, and this one goes in
    its place (a decision corrected at once sends only the correction)."""
    if not eligibility_to_tell(application, before):
        return
    moment = timezone.now()
    _eligibility_notices_waiting(application.intake.school, [application.pk], moment).update(
        expires_at=moment
    )
    notify_applicant(application, ELIGIBILITY_NOTICE, _eligibility_notice_context(application))


def tell_eligibility_of_many(moved: list[tuple[Application, str]]) -> None:
    """``tell_eligibility`` for each (application, eligibility before) of one call, in two
    statements: those still waiting expire in one UPDATE, the new notices are written in
    one INSERT. They have no task each (a row each in the task queue, thousands after a
    change of the rules): the outbox sweep sends them within seconds
    (``notify.services.outbox_flush``), and a worker lost meanwhile loses none of them."""
    from tremplin.notify.models import Message

    told = [
        application for application, before in moved if eligibility_to_tell(application, before)
    ]
    if not told:
        return
    moment = timezone.now()
    school = told[0].intake.school
    _eligibility_notices_waiting(school, [a.pk for a in told], moment).update(expires_at=moment)
    Message.objects.bulk_create(
        message
        for application in told
        for message in applicant_messages(
            application, ELIGIBILITY_NOTICE, _eligibility_notice_context(application)
        )
    )


def eligibility_to_tell(application: Application, before: str) -> bool:
    """Whether ``tell_eligibility`` tells the applicant of ``application`` anything."""
    Eligibility = Application.Eligibility
    now = application.eligibility
    if now == before or now not in (Eligibility.ELIGIBLE, Eligibility.INELIGIBLE):
        return False
    return application.erased_at is None and application.status == Application.Status.SUBMITTED


def _eligibility_notices_waiting(school, application_ids: list[int], moment: datetime.datetime):
    """The notices of eligibility about ``application_ids`` that are still to be sent and
    not expired at ``moment``."""
    from tremplin.notify.models import Message

    return _messages_about(school, ELIGIBILITY_NOTICE, application_ids).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=moment), status=Message.Status.PENDING
    )


def _eligibility_notice_context(application: Application) -> dict:
    """What the notice of ``tell_eligibility`` says, in the applicant's language."""
    from tremplin.core.links import site_url

    return {
        **message_context(application),
        "eligible": application.eligibility == Application.Eligibility.ELIGIBLE,
        "by_staff": application.eligibility_overridden,
        "closes_at": correctable_until(application),
        "space_url": site_url("portal:access"),
    }


def applicant_messages(application: Application, template: str, context: dict) -> list:
    """The messages ``notify_applicant`` queues, built (``notify.services.message_build``)
    and not saved: for a caller that writes many at once, and leaves them to the outbox
    sweep."""
    from tremplin.notify.services import message_build

    return [
        message_build(
            channel=channel,
            to=recipient,
            template=template,
            context=context,
            language=application.language,
            school=application.intake.school,
            related=application,
        )
        for channel, recipient in applicant_channels(application)
    ]


def applicant_channels(application: Application) -> list[tuple[str, str]]:
    """(channel, recipient) for each way the applicant gave to reach her: her phone, and her
    email when she gave one."""
    channels = [("sms", application.phone)]
    if application.email:
        channels.append(("email", application.email))
    return channels


# What the rules read of an application (with its documents).
RULE_FIELDS = ("birth_date", "commune", "education_level", "employment")


def decision_to_review(application: Application) -> None:
    """The applicant changed what the rules read: a staff decision on eligibility, taken on
    what the application said then, goes back to the review queue. It stands meanwhile:
    an applicant let in by staff is not turned away by correcting a typo. Sets the field,
    does not save."""
    if application.eligibility_overridden:
        application.changed_since_decision_at = timezone.now()


def eligibility_moved(was: str, application: Application) -> dict:
    """What an audit event of the applicant's own change adds when it changed her
    eligibility (``{"eligibility": {"from", "to"}}``): her history then says so."""
    if application.eligibility == was:
        return {}
    return {"eligibility": {"from": was, "to": application.eligibility}}


def rules_not_met(application: Application, rules: eligibility.Rules, documents: list[str]):
    """The rules ``application``'s answers and ``documents`` (their kinds) do not meet, as
    ``eligibility.evaluate`` gives them; changes nothing."""
    return eligibility.evaluate(
        rules,
        birth_date=application.birth_date,
        commune_id=application.commune_id,
        province_id=application.commune.province_id,
        education_level=application.education_level,
        employment=application.employment,
        documents=documents,
    )


def check_eligibility(
    application: Application, rules: eligibility.Rules, documents: list[str] | None = None
) -> None:
    """Evaluate the rules; sets the fields, does not save. When staff decided, their
    decision stands and only the reasons follow the answers: those of a decision taken
    on answers since corrected ("you are 28", after a corrected date of birth) would be
    read as the rules' word on the answers of today."""
    if documents is None:
        documents = [d.kind for d in application.documents.all()] if application.pk else []
    failed = rules_not_met(application, rules, documents)
    if not application.eligibility_overridden:
        application.eligibility = (
            Application.Eligibility.INELIGIBLE if failed else Application.Eligibility.ELIGIBLE
        )
    application.eligibility_reasons = failed
    application.eligibility_checked_at = timezone.now()


def application_submit(
    *,
    intake: Intake,
    data: dict,
    wishes: list,
    documents: list[tuple[str, object, str]],
    language: str,
    space_url: str,
    rules: eligibility.Rules | None = None,
    now: datetime.datetime | None = None,
) -> Submission:
    """Record an application, or return the one this CIN already has in this intake.

    Safe to repeat: a double click, a retry or two tabs give back the first application
    (the database's unique constraint decides between simultaneous requests), as long as the
    phone and date of birth are those of the first one. Otherwise the CIN may be someone
    else's: nothing is given back, and the first application's reference is sent again to
    its own phone and email (see ``_repeated``). ``rules`` are the intake's eligibility
    rules, when the caller has already read them.

    Written for deadline day: the number is taken in one statement of its own (see
    ``number_for_application``), then one more writes the application with its wishes,
    documents, audit event and confirmations (``core.inserts.insert_family``): together or
    not at all. The confirmations have no task each: the outbox sweep sends them
    (``notify.services.outbox_flush``), within seconds.
    """
    now = now or timezone.now()
    if not intake.accepts_applications(now):
        raise ApplicationClosed
    rules = rules or eligibility.Rules.of(intake)
    number = number_for_application(intake, data["cin"])
    if number is None:
        return _repeated(intake, data, space_url=space_url)
    application = _new_application(intake, data, number=number, language=language, now=now)
    # Evaluated before the INSERT, from the documents given, so the row is written once.
    check_eligibility(application, rules, documents=[kind for kind, *_ in documents])
    stored = [_document(application, *document) for document in documents]
    try:
        created = insert_family(
            application,
            _submission_rows(application, wishes, stored, space_url),
            unless=("intake", "cin"),
        )
    except BaseException:
        _forget_files(stored)
        raise
    if not created:
        # Another request for the same CIN committed first: answer as for a repetition.
        _forget_files(stored)
        return _repeated(intake, data, space_url=space_url)
    return Submission(application, created=True)


def _submission_rows(
    application: Application, wishes: list, documents: list[Document], space_url: str
) -> list[Dependent]:
    """What is written with a new application, each row pointing to it."""
    from tremplin.notify.services import message_build

    intake = application.intake
    link = ("application_id",)
    rows = [
        Dependent(Wish(application=application, track=track, rank=rank), link)
        for rank, track in enumerate(wishes, start=1)
    ]
    rows += [Dependent(document, link) for document in documents]
    event = audit_event(
        APPLICATION_SUBMITTED,
        school=intake.school,
        obj=application,
        data={"source": application.source, "eligibility": application.eligibility},
    )
    rows.append(Dependent(event, ("object_id",)))
    context = {**message_context(application), "space_url": space_url}
    for channel, recipient in applicant_channels(application):
        message = message_build(
            channel=channel,
            to=recipient,
            template="application_submitted",
            context=context,
            language=application.language,
            school=intake.school,
            related=application,
        )
        rows.append(Dependent(message, ("object_id",)))
    return rows


def in_language(obj, language: str) -> str:
    """``obj``'s name as the applicant reads it (a message goes in their language, whatever
    the language of the request that writes it)."""
    with translation.override(language):
        return str(obj)


def _existing(intake: Intake, cin: str) -> Application | None:
    return Application.objects.filter(intake=intake, cin=cin).first()


def _repeated(intake: Intake, data: dict, *, space_url: str) -> Submission:
    """A submission with a CIN that has already applied to ``intake``.

    A CIN is printed on many photocopies: it proves nothing. The same phone and date of
    birth make it the same person retrying (a double click, a retry, two tabs), who gets
    their application back. Anyone else gets nothing, and the reference goes again to the
    phone and email of the application, where only its owner reads it.
    """
    existing = _existing(intake, data["cin"])
    if existing is None or existing.erased_at is not None:  # nobody to tell any more
        return Submission(None, created=False)
    if existing.phone == data["phone"] and existing.birth_date == data["birth_date"]:
        return Submission(existing, created=False)
    _reference_remind(existing, space_url=space_url)
    return Submission(None, created=False)


@transaction.atomic
def _reference_remind(application: Application, *, space_url: str) -> bool:
    """Queue the reference of ``application`` again to its phone and email, in its
    language, unless that was done within ``REMINDER_INTERVAL``, or ``REMINDERS_PER_DAY``
    times in a day: the form must not become a way to flood someone with messages. False
    when nothing was queued."""
    from tremplin.notify.models import Message

    # The row lock makes simultaneous submissions queue one reminder between them. Only
    # the application's row: locking the call's would hold up everyone else's submission.
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("intake__school")
        .get(pk=application.pk)
    )
    if locked.erased_at is not None:  # erased meanwhile: nobody to tell any more
        return False
    # One SMS per reminder: every application has a phone.
    today = _written_today(locked, "application_reminder").filter(channel=Message.Channel.SMS)
    sent = list(today.values_list("created_at", flat=True))
    if len(sent) >= REMINDERS_PER_DAY or any(
        at >= timezone.now() - REMINDER_INTERVAL for at in sent
    ):
        return False
    notify_applicant(
        locked, "application_reminder", {**message_context(locked), "space_url": space_url}
    )
    return True


def _new_application(
    intake: Intake, data: dict, *, number: int, language: str, now: datetime.datetime
) -> Application:
    application = Application(
        intake=intake,
        number=number,
        reference=make_reference(intake.school.code, reference_year(intake), number),
        cin=data["cin"],
        privacy_notice=intake.privacy_notice,
        privacy_consent_at=now,
        language=language,
        created_at=now,
        **{field: data[field] for field in APPLICANT_FIELDS},
    )
    if not application.needs_accommodation:
        application.accommodation_consent = False
    application.refresh_search_name()
    return application


def _document(application: Application, kind: str, upload, content_type: str) -> Document:
    """The document's row, its file already stored (under a random name)."""
    from tremplin.admissions.uploads import safe_original_name

    document = Document(
        application=application,
        kind=kind,
        content_type=content_type,
        size=upload.size,
        original_name=safe_original_name(upload.name),
    )
    document.file.save("upload", upload, save=False)
    return document


def _forget_files(documents: list[Document]) -> None:
    for document in documents:
        document.file.delete(save=False)


@transaction.atomic
def application_update(*, application: Application, data: dict, wishes: list) -> Application:
    """The applicant corrects their application, until the closing date."""
    locked = (
        Application.objects.select_for_update(of=("self",))  # see _reference_remind
        .select_related("intake__school")
        .get(pk=application.pk)
    )
    if not locked.accepts_changes:
        raise ApplicationClosed
    # Told at the former phone and address: a change the applicant did not make (her space
    # left open on a shared computer) would otherwise send every later message, and every
    # code, to someone else without her knowing.
    former = [
        (channel, old)
        for channel, field in (("sms", "phone"), ("email", "email"))
        if (old := getattr(locked, field)) and data[field] != old
    ]
    contact = {field: getattr(locked, field) for field in ("phone", "email")}
    changed = {}
    for field in APPLICANT_FIELDS:
        new = data[field]
        old = getattr(locked, field)
        if old != new:
            changed[field] = True
            setattr(locked, field, new)
    if not locked.needs_accommodation:
        locked.accommodation_consent = False
    current = [w.track_id for w in locked.wishes.order_by("rank")]
    if [t.pk for t in wishes] != current:
        locked.wishes.all().delete()
        Wish.objects.bulk_create(
            Wish(application=locked, track=track, rank=rank)
            for rank, track in enumerate(wishes, start=1)
        )
        changed["wishes"] = True
    if changed.keys() & set(RULE_FIELDS):
        decision_to_review(locked)
    was = locked.eligibility
    check_eligibility(locked, eligibility.Rules.of(locked.intake))
    locked.save()
    # Field names only: the audit log must not become a second copy of personal data.
    log_action(
        "tremplin.applications.updated_by_applicant",
        school=locked.intake.school,
        obj=locked,
        data={"fields": sorted(changed), **eligibility_moved(was, locked)},
    )
    # What never reached the former phone or address goes to the new one, as when staff
    # correct them (``application_contact_correct``): she corrected a mistyped number
    # because her confirmation did not come.
    _readdress(locked, contact)
    if former and _written_today(locked, "contact_changed").count() < CONTACT_NOTICES_PER_DAY:
        notify_applicant(locked, "contact_changed", message_context(locked), channels=former)
    return locked


def _readdress(locked: Application, old: dict[str, str]) -> int:
    """Send to ``locked``'s phone and email what never reached their ``old`` values (by
    field name); how many messages will go (``notify.services.messages_readdress``)."""
    from tremplin.notify.models import Message
    from tremplin.notify.services import messages_readdress

    return messages_readdress(
        related=locked, channel=Message.Channel.SMS, old=old["phone"], new=locked.phone
    ) + messages_readdress(
        related=locked, channel=Message.Channel.EMAIL, old=old["email"], new=locked.email
    )


def _messages_about(school, template: str, application_ids: list[int]):
    """The messages of ``template`` written about the applications ``application_ids`` of
    ``school``."""
    from django.contrib.contenttypes.models import ContentType

    from tremplin.notify.models import Message

    return Message.objects.filter(
        school=school,
        template=template,
        content_type=ContentType.objects.get_for_model(Application),
        object_id__in=[str(pk) for pk in application_ids],
    )


def _written_today(application: Application, template: str):
    """The messages of ``template`` written about ``application`` in the last 24 hours (the
    caps that keep the portal from flooding anyone)."""
    return _messages_about(application.intake.school, template, [application.pk]).filter(
        created_at__gte=timezone.now() - datetime.timedelta(days=1)
    )


@transaction.atomic
def application_language_set(*, application: Application, language: str) -> bool:
    """The applicant chooses the language of her messages (SMS, email), from her space,
    where she reads the pages in it: also once the call is closed, as the offers and the
    letters come later. True if it changed; recorded in her history like a correction."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("intake__school")
        .get(pk=application.pk)
    )
    if locked.language == language:
        return False
    locked.language = language
    locked.save(update_fields=["language", "updated_at"])
    log_action(
        "tremplin.applications.updated_by_applicant",
        school=locked.intake.school,
        obj=locked,
        data={"fields": ["language"]},
    )
    return True


@transaction.atomic
def application_withdraw(*, application: Application) -> Application:
    """The applicant withdraws. What the selection gave her goes back with it (an offer, a
    seat in training: ``selection.offers``); refused once the training is completed, as the
    application stays with the training records and the certificate."""
    from tremplin.admissions.personal_data import SEAT_COMPLETED, seat_held

    if seat_held(application) == SEAT_COMPLETED:
        raise ValidationError(
            _(
                "You completed the training: your application stays with your training "
                "records and your certificate, and cannot be withdrawn."
            ),
            code="graduate",
        )
    updated = Application.objects.filter(
        pk=application.pk, status=Application.Status.SUBMITTED
    ).update(status=Application.Status.WITHDRAWN, withdrawn_at=timezone.now())
    application.refresh_from_db()
    if updated:
        log_action(
            "tremplin.applications.withdrawn", school=application.intake.school, obj=application
        )
        # Final, and done from a space perhaps left open on a shared computer: she is told,
        # on every channel she gave.
        notify_applicant(application, "application_withdrawn", message_context(application))
    return application


@dataclass(frozen=True)
class ContactCorrected:
    changed: list[str]
    resent: int


@transaction.atomic
def application_contact_correct(
    *, application: Application, actor, phone: str, email: str, reason: str
) -> ContactCorrected:
    """Staff correct the phone or the email of an application, as the applicant asked them
    (a number that changed, or was mistyped: then no code reaches them, and they cannot
    correct it themselves). Audited with the reason, the fields named and not their values;
    the messages that did not reach the old number or address go to the new one
    (``notify.services.messages_readdress``)."""
    if not reason.strip():
        raise ValidationError(_("Give the reason for this correction."))
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.erased_at is not None:
        raise ValidationError(
            _("The personal data of this application is erased: it has no contact details.")
        )
    old = {"phone": locked.phone, "email": locked.email}
    locked.phone, locked.email = phone, email
    changed = [field for field, value in old.items() if getattr(locked, field) != value]
    if not changed:
        return ContactCorrected(changed=[], resent=0)
    locked.save(update_fields=[*changed, "updated_at"])
    resent = _readdress(locked, old)
    log_action(
        "tremplin.applications.contact_corrected",
        actor=actor,
        school=locked.intake.school,
        obj=locked,
        data={"fields": changed, "resent": resent},
        reason=reason.strip(),
    )
    return ContactCorrected(changed=changed, resent=resent)


def identity_search_record(*, intake: Intake, search: str | None, actor) -> None:
    """A search that gives an applicant's CIN in full looks her up by her identity: like a
    reveal, it is audited, on each application of ``intake`` it finds (the list, its
    export, a ranking's results). A search by name or reference records nothing."""
    cin = normalize_cin(typed_search(search)) if search else None
    if cin is None:
        return
    for application in Application.objects.filter(intake=intake, cin=cin):
        log_action(
            "tremplin.applications.identity_searched",
            actor=actor,
            school=intake.school,
            obj=application,
        )


def identity_reveal(*, application: Application, actor) -> str:
    """The unmasked CIN, for a role that may see it; every reveal is audited."""
    log_action(
        "tremplin.applications.identity_viewed",
        actor=actor,
        school=application.intake.school,
        obj=application,
    )
    return application.cin
