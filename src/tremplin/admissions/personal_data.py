"""Personal data (law 09-08): what an applicant may download, their request for deletion,
and the erasure itself, on request or by the retention schedule (``retention``)."""

import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tremplin.admissions import eligibility
from tremplin.admissions.documents import DOCUMENT_GIVEN
from tremplin.admissions.models import Application, Document
from tremplin.core.audit import log_action
from tremplin.core.i18n import localized

GRADUATE_KEPT = gettext_lazy(
    "You completed the training: your application is kept with your training records and "
    "your certificate, so it cannot be deleted from here. Contact the school for any question "
    "about your data."
)


@transaction.atomic
def application_request_deletion(*, application: Application) -> Application:
    """The applicant asks for their data to be deleted (law 09-08); staff carry it out.
    Refused once the training is completed: the erasure would be (``application_erase``),
    and a request staff cannot carry out would wait in their queue for ever."""
    from tremplin.admissions.services import message_context, notify_applicant

    if seat_held(application) == SEAT_COMPLETED:
        raise ValidationError(str(GRADUATE_KEPT))
    # Once: a conditional update, which a request sent again (or at the same instant) finds
    # done.
    asked = Application.objects.filter(
        pk=application.pk, deletion_requested_at__isnull=True
    ).update(deletion_requested_at=timezone.now())
    application.refresh_from_db(fields=["deletion_requested_at"])
    if asked:
        log_action(
            "tremplin.applications.deletion_requested",
            school=application.intake.school,
            obj=application,
        )
        # Perhaps asked from a space left open on a shared computer: she is told.
        notify_applicant(application, "deletion_requested", message_context(application))
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
    seat = seat_held(locked)
    if seat == SEAT_COMPLETED:
        raise ValidationError(
            _(
                "This person completed the training: the application is kept with the "
                "training records and the certificate, and cannot be erased here."
            )
        )
    if seat:
        # The offers sweep frees the seat for the next person waiting and ends the
        # enrolment (selection.offers); run it now rather than within the minute.
        from tremplin.selection.offer_tasks import expire_offers

        transaction.on_commit(expire_offers.enqueue, robust=True)
    locked.status = Application.Status.WITHDRAWN
    locked.withdrawn_at = locked.withdrawn_at or timezone.now()
    personal_data_erase(
        locked,
        actor=actor,
        reason=reason.strip(),
        data={"requested_at": locked.deletion_requested_at},
    )
    return locked


# What the selection gave an application (``seat_held``).
SEAT_COMPLETED = "completed"  # the training done
SEAT_TRAINING = "training"  # enrolled, in training (accepting an offer enrols at once)
SEAT_OFFERED = "offered"  # an offer waiting for the applicant's answer


def seat_held(application: Application) -> str:
    """What the selection gave ``application`` that its withdrawal or erasure takes back (an
    offer, a seat in training), or that keeps it (a training completed); "" for nothing."""
    from django_scopes import scopes_disabled

    from tremplin.selection.models import Offer
    from tremplin.training.models import Enrolment

    with scopes_disabled():  # the application's own rows, whoever asks (the applicant too)
        enrolment = Enrolment.objects.filter(application=application).values_list(
            "status", flat=True
        )
        match enrolment.first():
            case Enrolment.Status.COMPLETED:
                return SEAT_COMPLETED
            case Enrolment.Status.ACTIVE:
                return SEAT_TRAINING
        offered = Offer.objects.filter(application=application, status=Offer.Status.LIVE)
        return SEAT_OFFERED if offered.exists() else ""


def erased_cin(application_id: int) -> str:
    """What stands for the CIN once erased: unique within the call, as the constraint wants,
    and never a CIN (those start with a letter), so it cannot block someone who applies."""
    return f"~{application_id}"


def personal_data_erase(locked: Application, *, actor, reason: str, data: dict) -> None:
    """Erase what identifies the person behind ``locked`` (an application locked by the
    caller's transaction), everywhere: its fields, documents, letters, codes, and the texts
    and attachments of its messages (the files go once the caller's transaction commits).
    The statistics' fields stay, and the status the caller gave it. Saves it and records
    the erasure in the audit log, by ``actor`` (None: the system), with ``reason``."""
    from django.contrib.contenttypes.models import ContentType

    from tremplin.admissions.export_tasks import exports_after_erasure
    from tremplin.core.models import AuditEvent
    from tremplin.notify.models import Message
    from tremplin.notify.services import message_attachments_delete
    from tremplin.selection.letters import letters_erase
    from tremplin.selection.personal_data import selection_notes_erase

    # The lists of the call exported, kept or being written, may hold her: they go too, once
    # this commits (first and robust: a file the storage fails to delete must not stop it).
    transaction.on_commit(partial(exports_after_erasure, locked.intake_id), robust=True)
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
    # What still waits goes nowhere (as when staff remove an address: ``messages_readdress``).
    messages.filter(status=Message.Status.PENDING).update(status=Message.Status.FAILED)
    # The audit log keeps who did what and when, but from now on names the application by
    # its reference only, and keeps nothing staff wrote about the person (the reasons of an
    # override, of an offer declined, of a conflict of interest...).
    AuditEvent.objects.filter(**about_it).update(object_repr=locked.reference, reason="")
    # Nor where she did it from: the address of her own actions (she has no account, so
    # they have no actor) identifies her connection. Staff's actions keep theirs.
    AuditEvent.objects.filter(**about_it, actor=None).exclude(ip_address=None).update(
        ip_address=None
    )
    _forget_file_hashes(AuditEvent.objects.filter(**about_it, action=DOCUMENT_GIVEN))
    letters_erase(application=locked)
    selection_notes_erase(application=locked)
    locked.codes.all().delete()
    locked.cin = erased_cin(locked.pk)
    locked.first_name = locked.last_name = locked.first_name_ar = locked.last_name_ar = ""
    locked.birth_date = erased_birth_date(locked.birth_date, locked.intake.reference_date)
    locked.phone = locked.email = locked.diploma = locked.motivation = ""
    locked.needs_accommodation = locked.accommodation_consent = False
    locked.override_reason = ""
    # Nothing left to review: what she changed is erased, and no decision can be taken.
    locked.changed_since_decision_at = None
    locked.erased_at = timezone.now()
    locked.save()  # which empties the folded names too (Application.save)
    log_action(
        "tremplin.applications.erased",
        actor=actor,
        school=locked.intake.school,
        obj=locked,
        reason=reason,
        data=data,
    )


def erased_birth_date(birth_date: datetime.date, reference: datetime.date) -> datetime.date:
    """The date of birth an erasure keeps: the year, on the first or the last day of it, so
    that the age on the call's reference date stays what it was (the funnel by age, the age
    band filter and the reason "too young" still agree with what was decided)."""
    if (birth_date.month, birth_date.day) <= (reference.month, reference.day):
        return birth_date.replace(month=1, day=1)
    return birth_date.replace(month=12, day=31)


def _forget_file_hashes(events) -> None:
    """The SHA-256 of an ID card's scan is its fingerprint: an erased application keeps
    that a document was given and replaced, and when, not which file it was."""
    for event in events:
        data = {key: value for key, value in event.data.items() if key != "sha256"}
        if "previous" in data:
            data["previous"] = [
                {key: value for key, value in old.items() if key != "sha256"}
                for old in data["previous"]
            ]
        event.data = data
        event.save(update_fields=["data"])


def application_data(application: Application) -> dict:
    """Everything the platform holds about the applicant, for their download: the
    application, the messages sent to them, what the selection recorded about them (the
    convocations, their marks, the results of the published rankings, offers and letters),
    and their enrolment in the training.

    Codes are given as stored (``bac``, ``neet``), with their texts under ``labels``, in
    the language of the request (the applicant's, who downloads it). Not included: the
    working rankings never published, and each juror's own score sheet (the panel's mark,
    which decides, is in ``marks``)."""
    return {
        "reference": application.reference,
        "intake": _local(application, application.intake.title, application.intake.title_ar),
        "school": str(application.intake.school),
        "cin": application.cin,
        "first_name": application.first_name,
        "last_name": application.last_name,
        "first_name_ar": application.first_name_ar,
        "last_name_ar": application.last_name_ar,
        "birth_date": application.birth_date.isoformat(),
        "sex": application.sex,
        "phone": application.phone,
        "email": application.email,
        "commune": str(application.commune),
        "province": str(application.commune.province),
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
        "source": application.source,
        "status": application.status,
        "withdrawn_at": _time(application.withdrawn_at),
        "eligibility": application.eligibility,
        "eligibility_decided_by_staff": application.eligibility_overridden,
        "eligibility_reasons": _eligibility_reasons(application),
        "wishes": [localized(w.track, "name") for w in application.wishes.select_related("track")],
        "documents": [
            {"kind": d.kind, "file_name": d.original_name, "size": d.size}
            for d in application.documents.all()
        ],
        "submitted_at": application.created_at.isoformat(),
        "deletion_requested_at": _time(application.deletion_requested_at),
        "messages": _messages(application),
        "selection": _selection(application),
        "training": _training(application),
        "labels": {
            "sex": application.get_sex_display(),
            "education_level": application.get_education_level_display(),
            "employment": application.get_employment_display(),
            "status": application.get_status_display(),
            "eligibility": application.get_eligibility_display(),
            "source": application.get_source_display(),
        },
    }


def _training(application: Application) -> dict | None:
    """Her enrolment in the training the selection led to, None before it."""
    from tremplin.training.models import Enrolment

    enrolment = (
        Enrolment.objects.filter(application=application).select_related("cohort", "track").first()
    )
    if enrolment is None:
        return None
    return {
        "cohort": enrolment.cohort.name,
        # None in a call of one track (``selection.offers``: its pool has no track).
        "track": localized(enrolment.track, "name") if enrolment.track else None,
        "status": enrolment.status,
        "status_label": enrolment.get_status_display(),
        "enrolled_at": enrolment.enrolled_at.isoformat(),
    }


def _eligibility_reasons(application: Application) -> list[str]:
    """The reasons the applicant reads in her space: the rules she does not meet and, when
    staff decided she is not eligible, their reason, written for her."""
    reasons = [eligibility.describe(r) for r in application.eligibility_reasons]
    ineligible = application.eligibility == Application.Eligibility.INELIGIBLE
    if application.eligibility_overridden and ineligible and application.override_reason:
        reasons.append(application.override_reason)
    return reasons


def _time(value) -> str | None:
    return value.isoformat() if value else None


def _local(application: Application, french: str, arabic: str) -> str:
    return arabic if application.language == "ar" and arabic else french


def _messages(application: Application) -> list[dict]:
    from django.contrib.contenttypes.models import ContentType

    from tremplin.notify.models import Message

    messages = Message.objects.filter(
        content_type=ContentType.objects.get_for_model(Application),
        object_id=str(application.pk),
    ).order_by("created_at", "pk")
    return [
        {
            "channel": m.channel,
            "to": m.recipient,
            "subject": m.subject,
            "text": m.body,
            "status": m.status,
            "written_at": m.created_at.isoformat(),
            "sent_at": _time(m.sent_at),
        }
        for m in messages
    ]


def _selection(application: Application) -> dict:
    from tremplin.selection.models import (
        InterviewSlot,
        Letter,
        Mark,
        Offer,
        RankingResult,
        TestSitting,
    )

    def component(c) -> str:
        return _local(application, c.name, c.name_ar)

    return {
        "tests": [
            {
                "component": component(s.component),
                "starts_at": s.session.starts_at.isoformat(),
                "candidate_number": s.candidate_number,
                "present": s.present,
            }
            for s in TestSitting.objects.filter(application=application).select_related(
                "component", "session"
            )
        ],
        "interviews": [
            {
                "component": component(s.component),
                "starts_at": s.starts_at.isoformat(),
                "present": s.present,
            }
            for s in InterviewSlot.objects.filter(application=application).select_related(
                "component"
            )
        ],
        "marks": [
            {
                "component": component(m.component),
                "mark": None if m.value is None else str(m.value),
                "absent": m.absent,
            }
            for m in Mark.objects.filter(application=application).select_related("component")
        ],
        "published_rankings": [
            {
                "run": r.run.number,
                "published_at": _time(r.run.published_at),
                "track": str(r.track.track) if r.track_id else None,
                "outcome": r.outcome,
                "score": None if r.composite is None else str(r.composite),
                "merit_rank": r.merit_rank,
                "waitlist_position": r.waitlist_position,
            }
            for r in RankingResult.objects.filter(
                application=application, run__published_at__isnull=False
            ).select_related("run", "track__track")
        ],
        "offers": [
            {
                "track": str(o.pool.track.track) if o.pool.track_id else None,
                "status": o.status,
                "offered_at": o.created_at.isoformat(),
                "answer_by": o.deadline.isoformat(),
                "answered_at": _time(o.answered_at),
            }
            for o in Offer.objects.filter(application=application).select_related(
                "pool__track__track"
            )
        ],
        "letters": [
            {"kind": letter.kind, "language": letter.language, "at": letter.created_at.isoformat()}
            for letter in Letter.objects.filter(application=application)
        ],
    }
