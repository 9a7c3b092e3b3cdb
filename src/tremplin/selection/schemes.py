"""The selection scheme of an intake: its components, tie-breaks, seed, quotas and seats.

Every change goes through `scheme_save` or `scheme_draw_seed`, which check the rules the
engine relies on and write the change to the audit log with what it was before. Once a
ranking run of the intake is published the scheme is the one the applicants were told
about: it no longer changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from tremplin.admissions.models import Intake, IntakeTrack
from tremplin.core.audit import log_action
from tremplin.core.formatting import format_list
from tremplin.selection.models import Component, Quota, RankingRun, SelectionScheme
from tremplin.selection.models.scheme import new_lottery_seed

# The engine keeps at most two quotas on a single track (the call order), and one quota
# group per track when several tracks allocate by deferred acceptance.
MAX_QUOTAS_SINGLE_TRACK = 2
MAX_QUOTAS_PER_TRACK_SEVERAL = 1
MAX_TIE_KEYS = 3

DEFAULT_COMPONENTS = (
    {
        "code": "test",
        "kind": Component.Kind.WRITTEN_TEST,
        "name": "Test écrit",
        "name_ar": "الاختبار الكتابي",
        "weight": Decimal(1),
        "position": 1,
    },
    {
        "code": "interview",
        "kind": Component.Kind.INTERVIEW,
        "name": "Entretien",
        "name_ar": "المقابلة",
        "weight": Decimal(2),
        "position": 2,
    },
)


@transaction.atomic
def scheme_get_or_create(intake: Intake) -> SelectionScheme:
    """The intake's scheme; a new one has a written test (weight 1) and an interview
    (weight 2), ties broken by the interview then the test, and a fresh lottery seed."""
    try:
        with transaction.atomic():
            scheme, created = SelectionScheme.objects.get_or_create(
                intake=intake, defaults={"tie_break": ["interview", "test"]}
            )
    except IntegrityError:  # created at the same moment by another request
        scheme, created = SelectionScheme.objects.get(intake=intake), False
    if created:
        Component.objects.bulk_create(Component(scheme=scheme, **c) for c in DEFAULT_COMPONENTS)
    return scheme


def published_runs(intake):
    """The published run of ``intake`` (an intake, its id or an ``OuterRef``), as a queryset:
    at most one row, by the model's constraint."""
    return RankingRun.objects.filter(intake=intake, published_at__isnull=False)


def published_run(intake: Intake) -> RankingRun | None:
    return published_runs(intake).select_related("published_by").first()


def scheme_is_locked(intake: Intake) -> bool:
    """A published run fixes the scheme: applicants were told these rules."""
    return published_runs(intake).exists()


def single_track(intake: Intake) -> IntakeTrack | None:
    """The intake's only track, or None when it has several (or none yet)."""
    tracks = list(IntakeTrack.objects.filter(intake=intake)[:2])
    return tracks[0] if len(tracks) == 1 else None


# --- Parameters: what a run uses, and what the audit log records of a change --------------


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def scheme_parameters(scheme: SelectionScheme) -> dict:
    """The scheme as plain JSON (components, tie-break, seed, quotas, seats, settings)."""
    seats = track_parameters(scheme.intake)
    single = len(seats) == 1 and seats[0]["key"] == ""
    return {
        "mode": "single" if single else "several",
        "components": [
            {
                "code": c.code,
                "kind": c.kind,
                "name": c.name,
                "name_ar": c.name_ar,
                "weight": _decimal(c.weight),
                "threshold": _decimal(c.threshold),
                "absence": c.absence,
                "position": c.position,
            }
            for c in scheme.components.all()
        ],
        "tie_break": list(scheme.tie_break),
        "seed": scheme.lottery_seed,
        "quotas": [
            {"group": q.group, "share": _decimal(q.share), "track": q.track_id}
            for q in scheme.quotas.all()
        ],
        "tracks": seats,
        "offer_hours": scheme.offer_hours,
        "anonymous_marking": scheme.anonymous_marking,
        "severity_correction": scheme.severity_correction,
        "disagreement_threshold": _decimal(scheme.disagreement_threshold),
    }


# --- Changes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentChange:
    """One row of the components part of the scheme form. `id` None: a new component."""

    id: int | None
    code: str
    kind: str
    name: str
    name_ar: str
    weight: Decimal
    threshold: Decimal | None
    absence: str
    position: int
    delete: bool = False


@dataclass(frozen=True)
class QuotaChange:
    id: int | None
    group: str
    share: Decimal
    track_id: int | None
    delete: bool = False


@dataclass(frozen=True)
class SeatsChange:
    """Seats and waiting list of one track (`track_id`), or of the intake (None)."""

    track_id: int | None
    seats: int
    waitlist: int


def track_parameters(intake) -> list[dict]:
    """The seats and waiting list of each track a ranking of `intake` uses: a call of one
    track ranks with the call's own numbers, a call of several with each track's."""
    tracks = list(IntakeTrack.objects.filter(intake=intake).select_related("track"))
    if len(tracks) <= 1:
        return [
            {
                "id": tracks[0].pk if tracks else None,
                "key": "",
                "code": tracks[0].track.code if tracks else "",
                "name": tracks[0].track.name if tracks else "",
                "name_ar": tracks[0].track.name_ar if tracks else "",
                "seats": intake.seats,
                "waitlist": intake.waitlist,
            }
        ]
    return [
        {
            "id": t.pk,
            "key": str(t.pk),
            "code": t.track.code,
            "name": t.track.name,
            "name_ar": t.track.name_ar,
            "seats": t.seats,
            "waitlist": t.waitlist,
        }
        for t in tracks
    ]


def _refuse_if_locked(intake: Intake) -> None:
    run = published_run(intake)
    if run is not None:
        raise ValidationError(
            _(
                "Run #%(number)s is published: the applicants were told these rules, so the "
                "scheme can no longer change."
            )
            % {"number": run.number}
        )


def _check_components(scheme: SelectionScheme, rows: list[ComponentChange]) -> list:
    kept = [r for r in rows if not r.delete]
    errors = []
    if not kept:
        errors.append(_("The selection needs at least one component."))
    codes = [r.code for r in kept]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        errors.append(
            _("Each component needs its own code; used twice: %(codes)s.")
            % {"codes": format_list(duplicates)}
        )
    for r in kept:
        if r.weight <= 0:
            errors.append(_("The weight of “%(code)s” must be more than 0.") % {"code": r.code})
        if r.threshold is not None and not 0 <= r.threshold <= 20:
            errors.append(
                _("The threshold of “%(code)s” must lie between 0 and 20.") % {"code": r.code}
            )
    removed = [r.id for r in rows if r.delete and r.id is not None]
    if removed:
        marked = (
            Component.objects.filter(scheme=scheme, pk__in=removed)
            .annotate(n=Count("marks"))
            .filter(n__gt=0)
        )
        for component in marked:
            errors.append(
                _(
                    "“%(code)s” already has %(n)s marks: it cannot be removed. Give it a "
                    "smaller weight instead, or delete its marks first."
                )
                % {"code": component.code, "n": component.n}
            )
    return errors


def _check_quotas(intake: Intake, rows: list[QuotaChange], tracks: list[IntakeTrack]) -> list:
    kept = [r for r in rows if not r.delete]
    errors = []
    track_ids = {t.pk for t in tracks}
    for r in kept:
        if not 0 <= r.share <= 100:
            errors.append(_("A share lies between 0 and 100 (per cent)."))
        if r.track_id is not None and r.track_id not in track_ids:
            errors.append(_("A quota names a track that is not part of this call."))
    duplicate = _("A group has two quotas for the same track: keep one.")
    seen = [(r.group, r.track_id) for r in kept]
    if len(seen) != len(set(seen)):
        errors.append(duplicate)
    if len(tracks) <= 1:
        # One track: every quota applies to it, in the call order.
        groups = [r.group for r in kept]
        if len(groups) != len(set(groups)) and duplicate not in errors:
            errors.append(duplicate)
        if len(kept) > MAX_QUOTAS_SINGLE_TRACK:
            errors.append(_("A call with one track can have at most two quotas."))
        return errors
    for track in tracks:
        # A track's own quota of a group replaces the call-wide quota of that group.
        groups = {r.group for r in kept if r.track_id in (None, track.pk)}
        if len(groups) > MAX_QUOTAS_PER_TRACK_SEVERAL:
            errors.append(
                _(
                    "With several tracks, each track can have one quota group only; "
                    "%(track)s has %(n)s."
                )
                % {"track": track, "n": len(groups)}
            )
    return errors


def _check_seats(rows: list[SeatsChange]) -> list:
    errors = []
    for r in rows:
        if r.seats < 1:
            errors.append(_("Every track needs at least one seat."))
        if r.waitlist < 0:
            errors.append(_("A waiting list cannot be negative."))
    return errors


@transaction.atomic
def scheme_save(
    *,
    scheme: SelectionScheme,
    actor,
    settings: dict,
    tie_break: list[str],
    components: list[ComponentChange],
    quotas: list[QuotaChange],
    seats: list[SeatsChange],
) -> SelectionScheme:
    """Save the whole scheme at once (it is checked as a whole), then audit the change.

    `settings` holds offer_hours, anonymous_marking, severity_correction and
    disagreement_threshold. Raises ValidationError (nothing changes) when a rule is broken.
    """
    intake = Intake.objects.select_for_update().get(pk=scheme.intake_id)
    scheme = SelectionScheme.objects.select_for_update().get(pk=scheme.pk)
    _refuse_if_locked(intake)
    before = scheme_parameters(scheme)
    tracks = list(IntakeTrack.objects.filter(intake=intake).select_related("track"))
    errors = _check_components(scheme, components) + _check_quotas(intake, quotas, tracks)
    errors += _check_seats(seats)
    codes = {r.code for r in components if not r.delete}
    keys = [code for code in tie_break if code]
    if len(keys) != len(set(keys)):
        errors.append(_("A tie-break key is listed twice."))
    unknown = [code for code in keys if code not in codes]
    if unknown:
        errors.append(
            _("Tie-break keys must be components of the scheme: %(codes)s is not.")
            % {"codes": format_list(unknown)}
        )
    if errors:
        raise ValidationError(errors)

    existing = {c.pk: c for c in scheme.components.all()}
    Component.objects.filter(
        scheme=scheme, pk__in=[r.id for r in components if r.delete and r.id]
    ).delete()
    # Free the codes first: a swap of two codes would otherwise hit the unique constraint.
    for r in components:
        if r.id in existing and not r.delete and existing[r.id].code != r.code:
            Component.objects.filter(pk=r.id).update(code=f"~{r.id}")
    for r in components:
        if r.delete:
            continue
        component = existing.get(r.id) or Component(scheme=scheme)
        for name in ("code", "kind", "name", "name_ar", "weight", "threshold", "absence"):
            setattr(component, name, getattr(r, name))
        component.position = r.position
        component.full_clean(exclude=["scheme"])
        component.save()

    Quota.objects.filter(scheme=scheme, pk__in=[r.id for r in quotas if r.delete and r.id]).delete()
    current = {q.pk: q for q in scheme.quotas.all()}
    for r in quotas:
        if r.delete:
            continue
        quota = current.get(r.id) or Quota(scheme=scheme)
        quota.group, quota.share, quota.track_id = r.group, r.share, r.track_id
        quota.save()

    by_track = {t.pk: t for t in tracks}
    for r in seats:
        if r.track_id is None:
            intake.seats, intake.waitlist = r.seats, r.waitlist
            if len(tracks) == 1:  # one track: its seats are the intake's
                IntakeTrack.objects.filter(pk=tracks[0].pk).update(
                    seats=r.seats, waitlist=r.waitlist
                )
        elif r.track_id in by_track:
            IntakeTrack.objects.filter(pk=r.track_id).update(seats=r.seats, waitlist=r.waitlist)
    if len(tracks) > 1:
        # The call's seats are its tracks' (as admissions keeps them).
        fresh = {r.track_id: r for r in seats if r.track_id}
        intake.seats = sum(fresh[t.pk].seats if t.pk in fresh else t.seats for t in tracks)
        intake.waitlist = sum(fresh[t.pk].waitlist if t.pk in fresh else t.waitlist for t in tracks)
    intake.save(update_fields=["seats", "waitlist"])

    scheme.tie_break = keys
    for name in ("offer_hours", "anonymous_marking", "severity_correction"):
        setattr(scheme, name, settings[name])
    scheme.disagreement_threshold = settings["disagreement_threshold"]
    scheme.full_clean(exclude=["intake"])
    scheme.save()
    scheme.intake = intake
    after = scheme_parameters(scheme)
    log_action(
        "tremplin.selection.scheme.changed",
        actor=actor,
        school=intake.school,
        obj=scheme,
        data={"before": before, "after": after},
    )
    return scheme


@transaction.atomic
def scheme_draw_seed(*, scheme: SelectionScheme, actor) -> SelectionScheme:
    """A new lottery seed, allowed until a run is published (the seed is then published)."""
    intake = Intake.objects.select_for_update().get(pk=scheme.intake_id)
    _refuse_if_locked(intake)
    locked = SelectionScheme.objects.select_for_update().get(pk=scheme.pk)
    before = locked.lottery_seed
    locked.lottery_seed = new_lottery_seed()
    locked.save(update_fields=["lottery_seed", "updated_at"])
    log_action(
        "tremplin.selection.scheme.seed_drawn",
        actor=actor,
        school=intake.school,
        obj=locked,
        data={"before": before, "after": locked.lottery_seed},
    )
    return locked
