"""Workflows of a call for applications: creating and editing it, opening and closing it,
and publishing the school's privacy notice it refers to. Each change is audited."""

import datetime
import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tremplin.admissions.models import Intake, IntakeTrack, Wish
from tremplin.admissions.references import reference_year
from tremplin.core.audit import log_action

# The moves staff may make between statuses. A call never goes back to draft (applicants
# may have seen it), and a closed call reopens only while its closing date is ahead.
TRANSITIONS = {
    (Intake.Status.DRAFT, Intake.Status.OPEN),
    (Intake.Status.OPEN, Intake.Status.CLOSED),
    (Intake.Status.CLOSED, Intake.Status.OPEN),
}


@dataclass(frozen=True)
class TrackPlaces:
    """Seats and waiting list of one track in a call; no seats: not in the call."""

    seats: int
    waitlist: int = 0


# The fields of a call whose change the audit log records with their old and new value
# (besides the seats and the eligibility rules).
AUDITED_FIELDS = ("slug", "title", "title_ar", "opens_at", "closes_at", "privacy_notice_id")
CHANGED_SINCE_SHOWN = gettext_lazy(
    "Someone else changed this call while you were editing it: nothing you sent was saved. "
    "Here it is as it is now; make your changes again."
)


@dataclass(frozen=True)
class SavedIntake:
    intake: Intake
    rules_changed: bool  # an eligibility rule of an existing call changed


def transition_refusal(intake: Intake, status: str, now=None) -> str | None:
    """Why `intake` cannot move to `status` now, or None when it can (the notice and the
    tracks an opening needs are checked by `intake_set_status`)."""
    before = intake.status
    if before == status:
        return _("The call is already %(status)s.") % {"status": Intake.Status(status).label}
    if (before, status) not in TRANSITIONS:
        return _("A call cannot go from “%(before)s” to “%(after)s”.") % {
            "before": Intake.Status(before).label,
            "after": Intake.Status(status).label,
        }
    if status == Intake.Status.OPEN and _published_run(intake) is not None:
        return _("A ranking of this call is published: its decisions stand, it cannot reopen.")
    if status == Intake.Status.OPEN and intake.closes_at <= (now or timezone.now()):
        return _(
            "The closing date of this call has passed: set a later closing date before opening it."
        )
    return None


def next_statuses(intake: Intake) -> list[str]:
    """The statuses staff may move `intake` to now."""
    now = timezone.now()
    return [s for s in Intake.Status.values if transition_refusal(intake, s, now) is None]


@transaction.atomic
def intake_set_status(*, intake: Intake, actor, status: str) -> Intake:
    """Open a draft call, close an open one, or reopen a closed one whose closing date is
    still ahead. Opening needs a privacy notice with its CNDP number and a track."""
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    before = locked.status
    refusal = transition_refusal(locked, status)
    if refusal:
        raise ValidationError(refusal)
    if status == Intake.Status.OPEN:
        notice = locked.privacy_notice
        if notice is None or not notice.cndp_authorisation.strip():
            raise ValidationError(
                _("A call cannot open without a privacy notice carrying the CNDP number.")
            )
        if not locked.intake_tracks.exists():
            raise ValidationError(_("Add at least one track to the call before opening it."))
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


def intake_version(intake: Intake) -> str:
    """A fingerprint of the call as stored: its fields, the places of its rules and the
    places of its tracks. The edit page carries the one it was opened with; ``intake_save``
    refuses a form opened before someone else saved the call (or opened it, which fixes its
    address), so that a stale page never undoes a colleague's changes in silence."""
    fields = {
        field.attname: str(field.value_from_object(intake))
        for field in Intake._meta.concrete_fields
    }
    places = sorted(
        IntakeTrack.objects.filter(intake=intake).values_list("track_id", "seats", "waitlist")
    )
    state = [
        fields,
        sorted(intake.provinces.values_list("pk", flat=True)),
        sorted(intake.communes.values_list("pk", flat=True)),
        places,
    ]
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:32]


@transaction.atomic
def intake_save(
    *,
    school,
    actor,
    intake: Intake,
    provinces,
    communes,
    tracks: dict,
    version: str | None = None,
    page: str = "",
) -> SavedIntake:
    """Create or update a call, its eligibility rules, and the seats and waiting list of
    each of its tracks (`tracks`: Track -> TrackPlaces); the call's seats and waiting list
    are the sums over all its tracks, listed or not.

    Raises ValidationError, and nothing changes, when a track that applications wish or
    the selection uses would leave the call, or when seats, waiting lists, tracks or
    eligibility rules would change after a ranking run was published, or when ``version``
    (``intake_version`` of the call as the form showed it) is no longer the call's. The
    audit event records the rules that changed, each with its old and new value, and
    ``page``, the edit page that sent it (``_last_saved_by``).
    """
    created = intake.pk is None
    # Locked as ranking_publish locks it, so that a publication cannot slip in between.
    stored = None if created else Intake.objects.select_for_update().get(pk=intake.pk)
    if stored is not None and version is not None and version != intake_version(stored):
        if _last_saved_by(stored.pk, page):  # the same form sent again: saved already
            return SavedIntake(stored, rules_changed=False)
        raise ValidationError(CHANGED_SINCE_SHOWN, code="changed_since_shown")
    if stored is not None:
        # The status changes through intake_set_status only: a form loaded before someone
        # closed the call must not reopen it.
        intake.status = stored.status
    rules_before = (
        None if created else _rules(stored, stored.provinces.all(), stored.communes.all())
    )
    attached, current = _places(stored)
    listed = {track.pk for track in tracks}
    # A track the form did not list (there should be none) stays as it is.
    wanted = {pk: places for pk, places in current.items() if pk not in listed}
    wanted |= {track.pk: places for track, places in tracks.items() if places.seats}
    removed = [it for pk, it in attached.items() if pk not in wanted]
    published = None if created else _published_run(intake)
    _refuse_places(intake, wanted, current, removed, published)
    if published is not None and _rules(intake, provinces, communes) != rules_before:
        raise ValidationError(rules_frozen(published))
    if published is not None and _to_the_minute(intake.opens_at, intake.closes_at) == (
        _to_the_minute(stored.opens_at, stored.closes_at)
    ):
        # As the form shows them, to the minute: the seconds stored stay.
        intake.opens_at, intake.closes_at = stored.opens_at, stored.closes_at
    elif published is not None:
        # The erasure of the applicants' data counts from the closing (``retention``).
        raise ValidationError(
            {
                "closes_at": _(
                    "A ranking of this call is published: its dates no longer change (the "
                    "applicants' data is kept counting from its closing)."
                )
            }
        )
    if stored is not None:
        _refuse_another_year(intake, stored)
    if (
        stored is not None
        and intake.status == Intake.Status.OPEN
        and _to_the_minute(intake.opens_at) != _to_the_minute(stored.opens_at)
        and intake.opens_at > timezone.now()
    ):
        raise ValidationError(
            {
                "opens_at": _(
                    "This call is open: an opening still to come would stop the "
                    "applications and the corrections until then. To stop them now, close "
                    "the call from its page."
                )
            }
        )
    if intake.status == Intake.Status.OPEN and intake.privacy_notice_id is None:
        raise ValidationError(
            {
                "privacy_notice": _(
                    "An open call needs its privacy notice: close the call before removing it."
                )
            }
        )

    if published is None:
        intake.seats = sum(p.seats for p in wanted.values())
        intake.waitlist = sum(p.waitlist for p in wanted.values())
    intake.school = school
    intake.full_clean()
    intake.save()
    intake.provinces.set(provinces)
    intake.communes.set(communes)
    IntakeTrack.objects.filter(pk__in=[it.pk for it in removed]).delete()
    for track_id, places in wanted.items():
        row = attached.get(track_id)
        if row is None or (row.seats, row.waitlist) != (places.seats, places.waitlist):
            IntakeTrack.objects.update_or_create(
                intake=intake,
                track_id=track_id,
                defaults={"seats": places.seats, "waitlist": places.waitlist},
            )

    data = {
        "seats": intake.seats,
        "waitlist": intake.waitlist,
        "tracks": {t.code: tracks[t].seats for t in tracks if t.pk in wanted},
        "waitlists": {t.code: tracks[t].waitlist for t in tracks if t.pk in wanted},
    }
    if removed:
        data["removed_tracks"] = [it.track.code for it in removed]
    if page:
        data["page"] = page[:40]
    if stored is not None:
        # What else changed, with its old and new value; the descriptions, only that they did.
        fields = {
            name: {"from": getattr(stored, name), "to": getattr(intake, name)}
            for name in AUDITED_FIELDS
            # Dates to the minute, as the form gives them: seconds stored are no change.
            if _to_the_minute(getattr(stored, name)) != _to_the_minute(getattr(intake, name))
        }
        fields |= {
            name: "changed"
            for name in ("description", "description_ar")
            if getattr(stored, name) != getattr(intake, name)
        }
        if fields:
            data["fields"] = fields
    rules_changed = {}
    if rules_before is not None:
        after = _rules(intake, provinces, communes)
        rules_changed = {
            name: {"from": rules_before[name], "to": after[name]}
            for name in after
            if after[name] != rules_before[name]
        }
        if rules_changed:
            data["rules"] = rules_changed
    log_action(
        "tremplin.intakes.created" if created else "tremplin.intakes.changed",
        actor=actor,
        school=school,
        obj=intake,
        data=data,
    )
    return SavedIntake(intake, rules_changed=bool(rules_changed))


def intake_changes(intake_id: int):
    """The audit events of the saves of a call (``intake_save``), latest first."""
    from django.contrib.contenttypes.models import ContentType

    from tremplin.core.models import AuditEvent

    return AuditEvent.objects.filter(
        action="tremplin.intakes.changed",
        content_type=ContentType.objects.get_for_model(Intake),
        object_id=str(intake_id),
    ).order_by("-created_at", "-pk")


def _last_saved_by(intake_id: int, page: str) -> bool:
    """Whether the last change of the call came from the edit page ``page``: its form sent
    twice (a double click on Save, a resend on a slow line), whose second request found
    the version changed by the first, not by a colleague."""
    last = intake_changes(intake_id).values_list("data", flat=True).first()
    return bool(page) and last is not None and last.get("page") == page[:40]


def _to_the_minute(*values) -> tuple:
    """The values, each moment (a datetime) without its seconds."""
    return tuple(
        v.replace(second=0, microsecond=0) if isinstance(v, datetime.datetime) else v
        for v in values
    )


def _places(stored: Intake | None) -> tuple[dict[int, IntakeTrack], dict[int, TrackPlaces]]:
    """The call's IntakeTrack rows by track id, and the places its ranking would use."""
    if stored is None:
        return {}, {}
    attached = {
        it.track_id: it for it in IntakeTrack.objects.filter(intake=stored).select_related("track")
    }
    return attached, current_places(stored, attached)


def current_places(intake: Intake, attached: dict[int, IntakeTrack]) -> dict[int, TrackPlaces]:
    """The seats and waiting list a ranking of `intake` uses for each of its tracks
    (`attached`: its IntakeTrack rows by track id)."""
    current = {pk: TrackPlaces(it.seats, it.waitlist) for pk, it in attached.items()}
    if len(attached) == 1:
        # A call of one track ranks with the call's own seats and waiting list (see
        # selection.schemes.scheme_parameters); calls saved before the tracks had a waiting
        # list hold it there only.
        (only,) = attached
        current[only] = TrackPlaces(intake.seats, intake.waitlist)
    return current


def _refuse_places(intake: Intake, wanted: dict, current: dict, removed: list, published) -> None:
    if not wanted:
        raise ValidationError(_("Give seats to at least one track."))
    if published is not None and wanted != current:
        raise ValidationError(
            _(
                "Run #%(number)s is published: the seats, waiting lists and tracks of the "
                "call can no longer change."
            )
            % {"number": published.number}
        )
    errors = _removal_errors(intake, removed)
    if errors:
        raise ValidationError(errors)


def rules_frozen(published) -> str:
    """Why the eligibility rules of a call with a published ranking stay as they are: its
    decisions were taken on them, and the people it ranked (admitted, on the waiting list)
    must not become ineligible after the fact."""
    return _(
        "Run #%(number)s is published: its decisions were taken on the eligibility rules of "
        "the call, which can no longer change nor be checked again."
    ) % {"number": published.number}


def eligibility_frozen(published) -> str:
    """Why staff can no longer make eligible an application that is not, once a ranking of
    its call is published (``screening._check_published_allows``)."""
    return _(
        "Run #%(number)s is published: it was made on the eligibility of the applications "
        "then, and takes no one in now. This application can no longer become eligible; its "
        "reason can still be written again."
    ) % {"number": published.number}


def _refuse_another_year(intake: Intake, stored: Intake) -> None:
    """References carry the year the call opens (``SMA-25-0042``) and are numbered per school
    and year: once applications have theirs, an opening moved to another year would number
    the next ones on that year's counter, into numbers the call has already given."""
    year = reference_year(stored)
    if reference_year(intake) != year and stored.applications.exists():
        raise ValidationError(
            {
                "opens_at": _(
                    "The applications of this call already have references of %(year)s: its "
                    "opening can move within %(year)s only."
                )
                % {"year": year}
            }
        )


def _rules(intake: Intake, provinces, communes) -> dict:
    """The eligibility rules of `intake` as JSON, to compare and to audit."""
    return {
        "reference_date": intake.reference_date.isoformat() if intake.reference_date else None,
        "min_age": intake.min_age,
        "max_age": intake.max_age,
        "provinces": sorted(p.code for p in provinces),
        "communes": sorted(c.code for c in communes),
        "education_levels": sorted(intake.education_levels),
        "employment_situations": sorted(intake.employment_situations),
        "required_documents": sorted(intake.required_documents),
    }


def _published_run(intake: Intake):
    from tremplin.selection.schemes import published_run

    return published_run(intake)


def _removal_errors(intake: Intake, removed: list[IntakeTrack]) -> list[str]:
    """Why each of `removed` must stay in the call: wished by applications, or used by the
    selection (its quotas, ranking results and offers would go with it)."""
    from tremplin.selection.models import Quota, RankingResult, SeatPool

    errors = []
    for it in removed:
        wishes = Wish.objects.filter(application__intake=intake, track_id=it.track_id).count()
        if wishes:
            errors.append(
                ngettext(
                    "“%(track)s” must stay in the call: %(n)s application lists it among "
                    "its wishes.",
                    "“%(track)s” must stay in the call: %(n)s applications list it among "
                    "their wishes.",
                    wishes,
                )
                % {"track": it.track, "n": wishes}
            )
        elif (
            Quota.objects.filter(track=it).exists()
            or RankingResult.objects.filter(track=it).exists()
            or SeatPool.objects.filter(track=it).exists()
        ):
            errors.append(
                _(
                    "“%(track)s” must stay in the call: the selection already uses it "
                    "(quotas, ranking runs or offers)."
                )
                % {"track": it.track}
            )
    return errors


@transaction.atomic
def privacy_notice_publish(*, school, actor, notice) -> object:
    """Publish a new version of the school's privacy notice (earlier ones stay as they were).

    No call changes: each keeps the notice chosen in its form until staff choose another
    there, so that what its applicants consent to never changes without a person deciding.
    """
    from django.db.models import Max

    from tremplin.admissions.models import PrivacyNotice
    from tremplin.schools.models import School

    # Two publications at once (a double click) would read the same last version and one
    # would fail on the unique (school, version). The school's row, locked, queues the second
    # behind the first; locking the notices would not do (Django drops FOR UPDATE from an
    # aggregate, and the first version has no row to lock).
    School.objects.select_for_update().only("pk").get(pk=school.pk)
    notice.school = school
    latest = PrivacyNotice.objects.filter(school=school).aggregate(v=Max("version"))["v"]
    notice.version = (latest or 0) + 1
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
