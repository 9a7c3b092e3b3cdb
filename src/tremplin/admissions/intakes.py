"""Workflows of a call for applications: creating and editing it, opening and closing it,
and publishing the school's privacy notice it refers to. Each change is audited."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tremplin.admissions.models import Intake
from tremplin.core.audit import log_action


@transaction.atomic
def intake_set_status(*, intake: Intake, actor, status: str) -> Intake:
    """Open, close or reopen a call. Opening needs a privacy notice with its CNDP number."""
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    if status == Intake.Status.OPEN:
        notice = locked.privacy_notice
        if notice is None or not notice.cndp_authorisation.strip():
            raise ValidationError(
                _("A call cannot open without a privacy notice carrying the CNDP number.")
            )
        if not locked.intake_tracks.exists():
            raise ValidationError(_("Add at least one track to the call before opening it."))
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status"])
    log_action(
        "tremplin.intakes.status_changed",
        actor=actor,
        school=locked.school,
        obj=locked,
        data={"from": before, "to": status},
    )
    return locked


@transaction.atomic
def intake_save(*, school, actor, intake: Intake, provinces, communes, track_seats: dict) -> Intake:
    """Create or update a call and the seats of each of its tracks (the call's seats are
    their sum). Tracks already holding wishes keep existing, with their new seats."""
    from tremplin.admissions.models import IntakeTrack

    created = intake.pk is None
    intake.school = school
    intake.seats = sum(track_seats.values())
    intake.full_clean()
    intake.save()
    intake.provinces.set(provinces)
    intake.communes.set(communes)
    for track, seats in track_seats.items():
        if seats:
            IntakeTrack.objects.update_or_create(
                intake=intake, track=track, defaults={"seats": seats}
            )
        else:
            IntakeTrack.objects.filter(intake=intake, track=track).delete()
    log_action(
        "tremplin.intakes.created" if created else "tremplin.intakes.changed",
        actor=actor,
        school=school,
        obj=intake,
        data={"seats": intake.seats, "tracks": {t.code: s for t, s in track_seats.items() if s}},
    )
    return intake


@transaction.atomic
def privacy_notice_publish(*, school, actor, notice) -> object:
    """Publish a new version of the school's privacy notice (earlier ones stay as they were)."""
    from django.db.models import Max

    from tremplin.admissions.models import PrivacyNotice

    latest = PrivacyNotice.objects.select_for_update().filter(school=school)
    notice.school = school
    notice.version = (latest.aggregate(v=Max("version"))["v"] or 0) + 1
    notice.full_clean()
    notice.save()
    log_action(
        "tremplin.privacy.notice_published",
        actor=actor,
        school=school,
        obj=notice,
        data={"version": notice.version, "cndp": notice.cndp_authorisation},
    )
    return notice
