"""Admissions workflows: submitting, editing and withdrawing an application, the
applicant's one-time codes, eligibility and its overrides, and the intake's life cycle.

Every change that decides something about a person writes an audit event in the same
transaction, and every message to the applicant goes through the outbox in that
transaction too.
"""

import datetime
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from tremplin.admissions import eligibility
from tremplin.admissions.models import (
    ApplicantCode,
    Application,
    Document,
    Intake,
    Wish,
)
from tremplin.admissions.references import make_reference, number_for_application, reference_year
from tremplin.core.audit import audit_event, log_action
from tremplin.core.inserts import Dependent, insert_family

CODE_TTL = datetime.timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
CODES_PER_HOUR = 3

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
    application: Application
    created: bool


def _notify(application: Application, template: str, context: dict) -> None:
    """Queue the message on every channel the applicant gave. Called inside the transaction
    that creates what the message is about, so it cannot be queued twice: no dedupe key (and
    no savepoint) is needed."""
    from tremplin.notify.services import message_enqueue

    for channel, recipient in _channels(application):
        message_enqueue(
            channel=channel,
            to=recipient,
            template=template,
            context=context,
            language=application.language,
            school=application.intake.school,
            related=application,
        )


def _channels(application: Application) -> list[tuple[str, str]]:
    channels = [("sms", application.phone)]
    if application.email:
        channels.append(("email", application.email))
    return channels


def _check_eligibility(
    application: Application, rules: eligibility.Rules, documents: list[str] | None = None
) -> None:
    """Evaluate the rules unless staff decided; sets the fields, does not save."""
    if application.eligibility_overridden:
        return
    if documents is None:
        documents = [d.kind for d in application.documents.all()] if application.pk else []
    failed = eligibility.evaluate(
        rules,
        birth_date=application.birth_date,
        commune_id=application.commune_id,
        province_id=application.commune.province_id,
        education_level=application.education_level,
        employment=application.employment,
        documents=documents,
    )
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
    (the database's unique constraint decides between simultaneous requests). ``rules`` are
    the intake's eligibility rules, when the caller has already read them.

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
        return Submission(_existing(intake, data["cin"]), created=False)
    application = _new_application(intake, data, number=number, language=language, now=now)
    # Evaluated before the INSERT, from the documents given, so the row is written once.
    _check_eligibility(application, rules, documents=[kind for kind, *_ in documents])
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
        # Another request for the same CIN committed first: answer with its application.
        _forget_files(stored)
        return Submission(_existing(intake, data["cin"]), created=False)
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
        "tremplin.applications.submitted",
        school=intake.school,
        obj=application,
        data={"source": application.source, "eligibility": application.eligibility},
    )
    rows.append(Dependent(event, ("object_id",)))
    context = {
        "first_name": application.first_name,
        "reference": application.reference,
        "intake_title": intake.title if application.language != "ar" else intake.title_ar,
        "school_name": str(intake.school),
        "space_url": space_url,
    }
    for channel, recipient in _channels(application):
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


def _existing(intake: Intake, cin: str) -> Application | None:
    return Application.objects.filter(intake=intake, cin=cin).first()


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
        Application.objects.select_for_update()
        .select_related("intake__school")
        .get(pk=application.pk)
    )
    if not locked.accepts_changes:
        raise ApplicationClosed
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
    _check_eligibility(locked, eligibility.Rules.of(locked.intake))
    locked.save()
    # Field names only: the audit log must not become a second copy of personal data.
    log_action(
        "tremplin.applications.updated_by_applicant",
        school=locked.intake.school,
        obj=locked,
        data={"fields": sorted(changed)},
    )
    return locked


@transaction.atomic
def application_withdraw(*, application: Application) -> Application:
    updated = Application.objects.filter(
        pk=application.pk, status=Application.Status.SUBMITTED
    ).update(status=Application.Status.WITHDRAWN, withdrawn_at=timezone.now())
    application.refresh_from_db()
    if updated:
        log_action(
            "tremplin.applications.withdrawn", school=application.intake.school, obj=application
        )
    return application


@transaction.atomic
def application_request_deletion(*, application: Application) -> Application:
    """The applicant asks for their data to be deleted (law 09-08); staff carry it out."""
    if application.deletion_requested_at is None:
        application.deletion_requested_at = timezone.now()
        application.save(update_fields=["deletion_requested_at"])
        log_action(
            "tremplin.applications.deletion_requested",
            school=application.intake.school,
            obj=application,
        )
    return application


@transaction.atomic
def application_erase(*, application: Application, actor, reason: str) -> Application:
    """Carry out a deletion (law 09-08): erase everything that identifies the person and
    keep only what the funder's statistics need (sex, year of birth, commune, education,
    situation, eligibility). The application is withdrawn; its documents, its letters and the
    texts and attachments of its messages are deleted. Irreversible, so it needs a reason,
    and it is audited."""
    if not reason.strip():
        raise ValidationError(_("Give the reason for this deletion."))
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.erased_at is not None:
        return locked
    locked.status = Application.Status.WITHDRAWN
    locked.withdrawn_at = locked.withdrawn_at or timezone.now()
    personal_data_erase(
        locked,
        actor=actor,
        reason=reason.strip(),
        data={"requested_at": locked.deletion_requested_at},
    )
    return locked


def personal_data_erase(locked: Application, *, actor, reason: str, data: dict) -> None:
    """Erase what identifies the person behind ``locked`` (an application locked by the
    caller's transaction), everywhere: its fields, documents, letters, codes, and the texts
    and attachments of its messages (the files go once the caller's transaction commits).
    The statistics' fields stay, and the status the caller gave it. Saves it and records
    the erasure in the audit log, by ``actor`` (None: the system), with ``reason``."""
    from django.contrib.contenttypes.models import ContentType

    from tremplin.core.models import AuditEvent
    from tremplin.notify.models import Message
    from tremplin.notify.services import message_attachments_delete
    from tremplin.selection.letters import letters_erase

    documents = locked.documents.all()
    names = [name for name in documents.values_list("file", flat=True) if name]
    documents.delete()
    storage = Document.file.field.storage
    # Once this commits: an erasure rolled back keeps the files its rows point to.
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    about_it = {
        "content_type": ContentType.objects.get_for_model(Application),
        "object_id": str(locked.pk),
    }
    messages = Message.objects.filter(**about_it)
    message_attachments_delete(messages)  # the letters sent by email
    messages.update(recipient="", subject="", body="")
    # The audit log keeps who did what and when, but from now on names the application by
    # its reference only.
    AuditEvent.objects.filter(**about_it).update(object_repr=locked.reference)
    letters_erase(application=locked)
    locked.codes.all().delete()
    locked.cin = f"X{locked.pk}"[:10]
    locked.first_name = locked.last_name = locked.first_name_ar = locked.last_name_ar = ""
    locked.birth_date = locked.birth_date.replace(month=1, day=1)
    locked.phone = locked.email = locked.diploma = locked.motivation = ""
    locked.needs_accommodation = locked.accommodation_consent = False
    locked.erased_at = timezone.now()
    locked.save()
    log_action(
        "tremplin.applications.erased",
        actor=actor,
        school=locked.intake.school,
        obj=locked,
        reason=reason,
        data=data,
    )


def application_data(application: Application) -> dict:
    """Everything the platform holds about the applicant, for their download."""
    return {
        "reference": application.reference,
        "intake": application.intake.title,
        "school": application.intake.school.name,
        "cin": application.cin,
        "first_name": application.first_name,
        "last_name": application.last_name,
        "first_name_ar": application.first_name_ar,
        "last_name_ar": application.last_name_ar,
        "birth_date": application.birth_date.isoformat(),
        "sex": application.sex,
        "phone": application.phone,
        "email": application.email,
        "commune": application.commune.name,
        "province": application.commune.province.name,
        "education_level": application.education_level,
        "diploma": application.diploma,
        "employment": application.employment,
        "motivation": application.motivation,
        "needs_accommodation": application.needs_accommodation,
        "accommodation_consent": application.accommodation_consent,
        "follow_up_consent": application.follow_up_consent,
        "privacy_notice_version": application.privacy_notice.version,
        "privacy_consent_at": application.privacy_consent_at.isoformat(),
        "language": application.language,
        "status": application.status,
        "eligibility": application.eligibility,
        "eligibility_reasons": [eligibility.describe(r) for r in application.eligibility_reasons],
        "wishes": [str(w.track) for w in application.wishes.order_by("rank")],
        "documents": [
            {"kind": d.kind, "file_name": d.original_name, "size": d.size}
            for d in application.documents.all()
        ],
        "submitted_at": application.created_at.isoformat(),
        "deletion_requested_at": application.deletion_requested_at.isoformat()
        if application.deletion_requested_at
        else None,
    }


# --- One-time codes -----------------------------------------------------------------


def _hash_code(application_id: int, code: str) -> str:
    return salted_hmac("tremplin.applicant-code", f"{application_id}:{code}").hexdigest()


@transaction.atomic
def applicant_code_send(*, application: Application) -> bool:
    """Send a fresh 6-digit code by SMS (and email); False when too many were sent lately."""
    recent = ApplicantCode.objects.filter(
        application=application, created_at__gte=timezone.now() - datetime.timedelta(hours=1)
    ).count()
    if recent >= CODES_PER_HOUR:
        return False
    code = f"{secrets.randbelow(10**6):06d}"
    # A new code replaces the previous ones.
    ApplicantCode.objects.filter(application=application, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    ApplicantCode.objects.create(
        application=application,
        code_hash=_hash_code(application.pk, code),
        expires_at=timezone.now() + CODE_TTL,
    )
    _notify(
        application,
        "applicant_code",
        {
            "code": code,
            "minutes": int(CODE_TTL.total_seconds() // 60),
            "reference": application.reference,
        },
    )
    return True


def applicant_code_verify(*, application: Application, code: str) -> bool:
    """True once for the right, unexpired code; each wrong try counts against it."""
    with transaction.atomic():
        current = (
            ApplicantCode.objects.select_for_update()
            .filter(application=application, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if current is None or current.attempts >= CODE_MAX_ATTEMPTS:
            return False
        if not hmac.compare_digest(current.code_hash, _hash_code(application.pk, code)):
            ApplicantCode.objects.filter(pk=current.pk).update(attempts=F("attempts") + 1)
            return False
        ApplicantCode.objects.filter(pk=current.pk).update(used_at=timezone.now())
        return True


def application_for_access(*, reference: str, cin: str) -> Application | None:
    """The application matching both the reference and the CIN (None otherwise)."""
    if not reference or not cin:
        return None
    return (
        Application.objects.select_related("intake__school")
        .filter(reference=reference, cin=cin)
        .first()
    )


# --- Screening ----------------------------------------------------------------------


@transaction.atomic
def eligibility_recheck(*, intake: Intake) -> int:
    """Evaluate the rules again for every application not decided by staff."""
    rules = eligibility.Rules.of(intake)
    applications = list(
        Application.objects.filter(intake=intake, eligibility_overridden=False)
        .select_related("commune")
        .prefetch_related("documents")
    )
    for application in applications:
        _check_eligibility(application, rules)
    Application.objects.bulk_update(
        applications, ["eligibility", "eligibility_reasons", "eligibility_checked_at"], 500
    )
    log_action(
        "tremplin.applications.eligibility_rechecked",
        school=intake.school,
        obj=intake,
        data={"count": len(applications)},
    )
    return len(applications)


@transaction.atomic
def eligibility_override(
    *, application: Application, actor, eligible: bool, reason: str
) -> Application:
    """Staff decide eligibility against the rules; always with a reason, always audited."""
    if not reason.strip():
        raise ValidationError(_("Give the reason for this decision."))
    locked = Application.objects.select_for_update().get(pk=application.pk)
    before = locked.eligibility
    locked.eligibility = (
        Application.Eligibility.ELIGIBLE if eligible else Application.Eligibility.INELIGIBLE
    )
    locked.eligibility_overridden = True
    locked.override_reason = reason.strip()
    locked.save(update_fields=["eligibility", "eligibility_overridden", "override_reason"])
    log_action(
        "tremplin.applications.eligibility_overridden",
        actor=actor,
        school=application.intake.school,
        obj=locked,
        data={"from": before, "to": locked.eligibility},
        reason=locked.override_reason,
    )
    return locked


@transaction.atomic
def eligibility_restore_rules(*, application: Application, actor, reason: str) -> Application:
    """Undo a staff decision: the rules decide again."""
    locked = (
        Application.objects.select_for_update()
        .select_related("commune", "intake")
        .get(pk=application.pk)
    )
    locked.eligibility_overridden = False
    locked.override_reason = ""
    _check_eligibility(locked, eligibility.Rules.of(locked.intake))
    locked.save()
    log_action(
        "tremplin.applications.eligibility_rules_restored",
        actor=actor,
        school=locked.intake.school,
        obj=locked,
        reason=reason,
    )
    return locked


def identity_reveal(*, application: Application, actor) -> str:
    """The unmasked CIN, for a role that may see it; every reveal is audited."""
    log_action(
        "tremplin.applications.identity_viewed",
        actor=actor,
        school=application.intake.school,
        obj=application,
    )
    return application.cin
