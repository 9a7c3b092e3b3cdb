"""The waitlist: freed seats go to the next in the call order, respecting quotas; staff may
also promote someone by hand, with a reason.

Filling re-solves from scratch (docs/selection-rules.md, "Declines: solving again"): the
engine runs again on the published run's own inputs (each applicant's composite, lottery
number and tie-break marks, as stored in its `RankingResult`; quota membership from the
application), with everyone who holds a live or accepted offer fixed, and without those who
declined, let an offer expire, had it cancelled or withdrew. Whoever the new solution
admits without an offer gets one. Only those the published run admitted or put on the
waitlist can be called: someone told "not retained" is not called later.

Both workflows take the intake's pool lock first (see `tremplin.selection.offers`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import scope

from tremplin.admissions.models import Application, Intake, IntakeTrack, Wish
from tremplin.selection.call_order import Candidates, rank_single_track
from tremplin.selection.call_order import Quota as QuotaRule
from tremplin.selection.engine import Tracks, Wishes, allocate, reserved_seats
from tremplin.selection.models import (
    Offer,
    Quota,
    RankingResult,
    RankingRun,
    SeatPool,
    SelectionScheme,
)
from tremplin.selection.offers import (
    HOLDING,
    OfferError,
    offer_audit,
    offer_hours,
    offer_make,
    offers_notify,
    pools_lock,
)
from tremplin.selection.outcomes import Outcome
from tremplin.selection.schemes import published_run

logger = logging.getLogger(__name__)

LISTED = (RankingResult.Outcome.ADMITTED, RankingResult.Outcome.WAITLISTED)
# A missing or absent mark counts as 0 when breaking ties, as in the run itself
# (ranking_compute.score).
NO_MARK = Decimal(0)


@transaction.atomic
def waitlist_fill(*, intake: Intake, actor=None) -> list[Offer]:
    """Offer every free seat of `intake` to the next applicants in the call order (respecting
    quotas), notify them, and return the new offers (origin waitlist)."""
    with scope(school=intake.school):
        pools_lock(intake)
        return fill_locked(intake, actor=actor)


def fill_locked(intake: Intake, *, actor=None) -> list[Offer]:
    """`waitlist_fill` for a caller that already holds the intake's pool lock."""
    pools = {pool.track_id: pool for pool in SeatPool.objects.filter(intake=intake)}
    if not any(pool.free > 0 for pool in pools.values()):
        return []
    run = published_run(intake)
    if run is None:
        return []
    deadline = timezone.now() + timedelta(hours=offer_hours(intake))
    made = []
    for application_id, pool in _plan(intake, run, pools):
        offer = offer_make(
            pool=pool,
            application_id=application_id,
            run=run,
            origin=Offer.Origin.WAITLIST,
            actor=actor,
            deadline=deadline,
        )
        if offer is None:  # cannot happen under the lock; the conditional update says so
            logger.warning("No free seat left in pool %s for a waitlist offer.", pool.pk)
            continue
        offer_audit(offer, "made", actor=actor, run=run.number)
        made.append(offer)
    offers_notify(intake=intake, offers=made, actor=actor)
    return made


@transaction.atomic
def waitlist_promote(*, application: Application, actor, reason: str) -> Offer:
    """Offer a seat by hand to `application`, on the waitlist of the published run, with a
    reason (origin manual). Only if a seat is free and they hold no live or accepted offer;
    otherwise `OfferError` says why and nothing changes."""
    reason = reason.strip()
    if not reason:
        raise OfferError(_("Give the reason of the promotion."))
    intake = application.intake
    with scope(school=intake.school):
        pools = pools_lock(intake)
        run = published_run(intake)
        result = (
            RankingResult.objects.filter(run=run, application=application).first() if run else None
        )
        if result is None or result.outcome != RankingResult.Outcome.WAITLISTED:
            raise OfferError(_("Only an applicant on the waiting list can be promoted."))
        if Application.objects.filter(
            pk=application.pk, status=Application.Status.WITHDRAWN
        ).exists():
            raise OfferError(_("This application was withdrawn."))
        if Offer.objects.filter(application=application, status__in=HOLDING).exists():
            raise OfferError(_("This applicant already holds an offer."))
        pool = _promotion_pool(application, result, pools)
        if pool is None:
            raise OfferError(
                _("No seat is free. A seat frees up when an offer is declined or expires.")
            )
        try:
            offer = offer_make(
                pool=pool,
                application_id=application.pk,
                run=run,
                origin=Offer.Origin.MANUAL,
                actor=actor,
                reason=reason,
                deadline=timezone.now() + timedelta(hours=offer_hours(intake)),
            )
        except IntegrityError:
            # The partial unique constraint: another transaction gave them an offer first.
            raise OfferError(_("This applicant already holds an offer.")) from None
        if offer is None:
            raise OfferError(
                _("No seat is free. A seat frees up when an offer is declined or expires.")
            )
        offer_audit(offer, "made", actor=actor, reason=reason, run=run.number)
        offers_notify(intake=intake, offers=[offer], actor=actor)
    return offer


def _promotion_pool(
    application: Application, result: RankingResult, pools: dict[int | None, SeatPool]
) -> SeatPool | None:
    """The pool with a free seat for the applicant: the intake's, or the track they prefer
    among those with a free seat."""
    if None in pools:
        pool = pools[None]
        return pool if pool.free > 0 else None
    by_track = dict(
        IntakeTrack.objects.filter(intake=application.intake).values_list("track_id", "pk")
    )
    wished = [
        by_track.get(t)
        for t in application.wishes.order_by("rank").values_list("track_id", flat=True)
    ]
    for intake_track_id in [*wished, result.track_id]:
        pool = pools.get(intake_track_id)
        if pool is not None and pool.free > 0:
            return pool
    return None


# --- Re-solving --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inputs:
    """The published run's inputs, one entry per applicant (a row of its results)."""

    results: list[RankingResult]
    composite: np.ndarray  # Decimals
    lottery: np.ndarray
    tie_keys: tuple[np.ndarray, ...]
    holding: np.ndarray  # holds a live or accepted offer: fixed
    holding_pool: dict[int, int | None]  # applicant index -> intake track id of their pool
    excluded: np.ndarray  # declined, expired, cancelled, withdrawn, or never listed


def _plan(
    intake: Intake, run: RankingRun, pools: dict[int | None, SeatPool]
) -> list[tuple[int, SeatPool]]:
    """Who gets the free seats, in call order: (application id, pool) pairs."""
    inputs = _inputs(intake, run)
    if not inputs.results:
        return []
    quotas = _quotas(run, intake)
    if None in pools:
        return _plan_single(inputs, pools[None], quotas)
    return _plan_tracks(intake, inputs, pools, quotas)


def _inputs(intake: Intake, run: RankingRun) -> _Inputs:
    results = list(
        RankingResult.objects.filter(run=run)
        .select_related("application")
        .only(
            "application_id", "track_id", "composite", "lottery", "marks", "outcome",
            "application__status", "application__sex", "application__employment",
        )
        .order_by("pk")
    )  # fmt: skip
    holding_pool: dict[int, int | None] = {}
    out: set[int] = set()
    offers = Offer.objects.filter(pool__intake=intake).values_list(
        "application_id", "status", "pool__track_id"
    )
    index = {r.application_id: i for i, r in enumerate(results)}
    for application_id, status, track_id in offers:
        i = index.get(application_id)
        if i is None:
            continue
        if status in HOLDING:
            holding_pool[i] = track_id
        else:
            out.add(i)
    n = len(results)
    holding = np.zeros(n, dtype=bool)
    holding[list(holding_pool)] = True
    excluded = np.array(
        [
            i in out
            or r.application.status == Application.Status.WITHDRAWN
            or r.outcome not in LISTED
            for i, r in enumerate(results)
        ],
        dtype=bool,
    )
    tie_codes = _tie_codes(run, intake)
    return _Inputs(
        results=results,
        composite=np.array([_decimal(r.composite) for r in results] or [], dtype=object),
        lottery=np.array([r.lottery for r in results], dtype=np.int64),
        tie_keys=tuple(
            np.array([_decimal(r.marks.get(code)) for r in results], dtype=object)
            for code in tie_codes
        ),
        holding=holding,
        holding_pool=holding_pool,
        excluded=excluded & ~holding,
    )


def _decimal(value) -> Decimal:
    if value is None or value == "absent":
        return NO_MARK
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return NO_MARK


def _tie_codes(run: RankingRun, intake: Intake) -> list[str]:
    codes = (run.parameters or {}).get("tie_break")
    if isinstance(codes, list):
        return [str(code) for code in codes]
    scheme = SelectionScheme.objects.filter(intake=intake).values_list("tie_break", flat=True)
    return [str(code) for code in (scheme.first() or [])]


@dataclass(frozen=True)
class _QuotaSpec:
    group: str  # Quota.Group
    share: Fraction  # 0..1
    track_id: int | None  # intake track, None for all


def _quotas(run: RankingRun, intake: Intake) -> list[_QuotaSpec]:
    """The quotas of the run (its parameters when they list them, else the scheme's)."""
    stored = (run.parameters or {}).get("quotas")
    rows = []
    if isinstance(stored, list) and all(isinstance(q, dict) and "group" in q for q in stored):
        rows = [(q["group"], q["share"], q.get("track")) for q in stored]
    else:
        rows = list(
            Quota.objects.filter(scheme__intake=intake)
            .order_by("pk")
            .values_list("group", "share", "track_id")
        )
    return [_QuotaSpec(group, Fraction(str(share)) / 100, track) for group, share, track in rows]


def _members(inputs: _Inputs, group: str) -> np.ndarray:
    if group == Quota.Group.WOMEN:
        return np.array([r.application.sex == "F" for r in inputs.results], dtype=bool)
    if group == Quota.Group.NEET:
        return np.array([r.application.employment == "neet" for r in inputs.results], dtype=bool)
    raise ValueError(f"Unknown quota group {group!r}.")


def _plan_single(
    inputs: _Inputs, pool: SeatPool, quotas: list[_QuotaSpec]
) -> list[tuple[int, SeatPool]]:
    solved = rank_single_track(
        Candidates(
            composite=inputs.composite,
            lottery=inputs.lottery,
            tie_keys=inputs.tie_keys,
            ineligible=inputs.excluded,
        ),
        seats=pool.seats,
        waitlist=0,
        quotas=[QuotaRule(q.group, q.share, _members(inputs, q.group)) for q in quotas[:2]],
        accepted=inputs.holding,
    )
    new = np.flatnonzero((solved.outcome == Outcome.ADMITTED) & ~inputs.holding)
    new = new[np.argsort(solved.call_rank[new], kind="stable")]
    return [(inputs.results[i].application_id, pool) for i in new.tolist()]


def _plan_tracks(
    intake: Intake, inputs: _Inputs, pools: dict[int | None, SeatPool], quotas: list[_QuotaSpec]
) -> list[tuple[int, SeatPool]]:
    """Several tracks: deferred acceptance again, holders fixed on their track."""
    track_ids = sorted(pools)  # intake track ids
    column = {track_id: k for k, track_id in enumerate(track_ids)}
    by_school_track = dict(IntakeTrack.objects.filter(intake=intake).values_list("track_id", "pk"))
    index = {r.application_id: i for i, r in enumerate(inputs.results)}
    wishes: dict[int, list[tuple[int, int]]] = {}  # applicant -> [(preference, track column)]
    rows = Wish.objects.filter(application__intake=intake).values_list(
        "application_id", "track_id", "rank"
    )
    for application_id, school_track_id, rank in rows:
        i = index.get(application_id)
        k = column.get(by_school_track.get(school_track_id))
        if i is not None and k is not None:
            wishes.setdefault(i, []).append((rank, k))
    n = len(inputs.results)
    fixed = np.full(n, -1, dtype=np.int64)
    for i, track_id in inputs.holding_pool.items():
        fixed[i] = column[track_id]
        if all(k != fixed[i] for _, k in wishes.get(i, [])):
            # Promoted by hand to a track they did not list: it is theirs all the same.
            wishes.setdefault(i, []).append((10_000, int(fixed[i])))

    quota_of_track = [_track_quota(quotas, track_id) for track_id in track_ids]
    member_sets = {q.group: _members(inputs, q.group) for q in quota_of_track if q is not None}
    applicant, track, preference, in_quota = [], [], [], []
    for i in range(n):
        if inputs.excluded[i]:
            continue
        for rank, k in sorted(wishes.get(i, [])):
            quota = quota_of_track[k]
            applicant.append(i)
            track.append(k)
            preference.append(rank)
            in_quota.append(bool(quota is not None and member_sets[quota.group][i]))
    rows_index = np.array(applicant, dtype=np.int64)
    seats = np.array([pools[t].seats for t in track_ids], dtype=np.int64)
    shares = [q.share if q is not None else 0 for q in quota_of_track]
    allocation = allocate(
        Wishes(
            applicant=rows_index,
            track=np.array(track, dtype=np.int64),
            preference=np.array(preference, dtype=np.int64),
            score=inputs.composite[rows_index] if n else inputs.composite,
            in_quota=np.array(in_quota, dtype=bool),
            tie_keys=tuple(key[rows_index] for key in inputs.tie_keys),
        ),
        Tracks(seats=seats, reserved=reserved_seats(seats, shares)),
        inputs.lottery,
        fixed=fixed,
    )
    new = [i for i in range(n) if allocation.assigned_track[i] >= 0 and fixed[i] < 0]
    new.sort(
        key=lambda i: (
            allocation.assigned_track[i],
            allocation.rank_in_track[allocation.assigned_wish[i]],
        )
    )
    return [
        (inputs.results[i].application_id, pools[track_ids[allocation.assigned_track[i]]])
        for i in new
    ]


def _track_quota(quotas: list[_QuotaSpec], track_id: int) -> _QuotaSpec | None:
    """The one quota group a track reserves seats for (deferred acceptance takes one): the
    track's own quota first, else the first quota of the whole intake."""
    for quota in quotas:
        if quota.track_id == track_id:
            return quota
    return next((q for q in quotas if q.track_id is None), None)
