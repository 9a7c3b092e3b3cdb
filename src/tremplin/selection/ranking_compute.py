"""From a snapshot of the inputs to a run's results: composites, the engine, summary, checks.

No database here (the snapshot is plain data), so the same inputs and seed give the same
rows, bit for bit, wherever this runs.

- Composites come from `scoring.composite` (Decimal, rounded half up); an absence counts
  as 0 or eliminates, as the component says; thresholds eliminate.
- Who takes part: eligible, not withdrawn, no elimination, every mark present. The others
  get an outcome and a reason without entering the engine (a missing mark is reported by
  the "marks" check, which keeps the run from being published).
- One track: Parcoursup's call order (`rank_single_track`). Several tracks: deferred
  acceptance over the wishes (`allocate`), then the waiting lists as a second deferred
  acceptance of those left without a seat over each track's waiting places, so that each
  applicant waits on the one list they prefer among those that have room for them.
- Marks, composites and tie keys go to the engine as integers (hundredths), which it
  ranks exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np

from tremplin.selection.call_order import Candidates, Quota, rank_single_track
from tremplin.selection.checks import SelfCheckError
from tremplin.selection.engine import Allocation, Tracks, Wishes, allocate, reserved_seats
from tremplin.selection.ordering import draw_lottery_for_ids
from tremplin.selection.outcomes import Outcome, Reason, WishOutcome
from tremplin.selection.ranking_inputs import ABSENT, ApplicantInput, RankingInputs
from tremplin.selection.scoring import Component, composite

# Outcomes as RankingResult stores them.
ADMITTED = "admitted"
WAITLISTED = "waitlisted"
NOT_RETAINED = "not_retained"
INELIGIBLE = "ineligible"
OUTCOMES = (ADMITTED, WAITLISTED, NOT_RETAINED, INELIGIBLE)
_ENGINE_OUTCOME = {
    Outcome.ADMITTED: ADMITTED,
    Outcome.WAITLISTED: WAITLISTED,
    Outcome.NOT_RETAINED: NOT_RETAINED,
}
# Not one of the engine's reasons: the run could not rank someone whose marks are missing.
MISSING_MARKS = "missing_marks"
ELIGIBLE = "eligible"

Progress = Callable[[str], None]
# The checks of `allocate`, under the names the run stores.
ENGINE_CHECKS = {
    "capacity": "capacity",
    "quota": "quota",
    "no blocking pair": "no_blocking_pair",
    "explained by the cut-offs": "cutoffs",
}


def reason_name(reason: Reason) -> str:
    return "" if reason == Reason.NONE else reason.name.lower()


def cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def from_cents(value: int) -> str:
    return str((Decimal(int(value)) / 100).quantize(Decimal("0.01")))


@dataclass(frozen=True)
class Scored:
    """One applicant's composite and what keeps them out of the ranking, if anything."""

    composite: Decimal | None
    exclusion: str  # "" or a reason name
    absent: tuple[str, ...] = ()
    below: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    tie_values: tuple[Decimal, ...] = ()


def score(applicant: ApplicantInput, inputs: RankingInputs) -> Scored:
    values: dict[str, Decimal] = {}
    absent, missing = [], []
    for c in inputs.components:
        raw = applicant.marks.get(c.code)
        if raw == ABSENT:
            if c.absence_eliminates:
                absent.append(c.code)
            else:
                values[c.code] = Decimal(0)
        elif raw is None:
            missing.append(c.code)
        else:
            values[c.code] = Decimal(raw)
    value = None
    if not absent and not missing:
        result = composite(
            values, [Component(c.code, c.weight, c.threshold) for c in inputs.components]
        )
        value = result.value
    below = tuple(
        c.code
        for c in inputs.components
        if c.threshold is not None and c.code in values and values[c.code] < c.threshold
    )
    # The most decisive reason first: a withdrawal or ineligibility, then an elimination
    # (someone below the test's threshold is often never interviewed), then a gap.
    if applicant.withdrawn:
        exclusion = reason_name(Reason.WITHDRAWN)
    elif applicant.eligibility != ELIGIBLE:
        exclusion = reason_name(Reason.INELIGIBLE)
    elif absent:
        exclusion = reason_name(Reason.ABSENT)
    elif below:
        exclusion = reason_name(Reason.BELOW_THRESHOLD)
    elif missing:
        exclusion = MISSING_MARKS
    else:
        exclusion = ""
    return Scored(
        composite=value,
        exclusion=exclusion,
        absent=tuple(absent),
        below=below,
        missing=tuple(missing),
        tie_values=tuple(values.get(code, Decimal(0)) for code in inputs.tie_break),
    )


@dataclass
class Row:
    """One RankingResult to store."""

    application_id: int
    track_id: int | None
    marks: dict
    composite: Decimal | None
    outcome: str
    reason: str
    merit_rank: int | None
    call_rank: int | None
    waitlist_position: int | None
    called_by_quota: str
    lottery: int
    explanation: dict


@dataclass
class Computed:
    rows: list[Row]
    summary: dict
    checks: list[dict] = field(default_factory=list)


def compute(inputs: RankingInputs, on_progress: Progress | None = None) -> Computed:
    """Rank the snapshot. Raises SelfCheckError when a check of the result fails, and
    ValueError when the scheme breaks a rule of the engine."""
    say = on_progress or (lambda message: None)
    if not inputs.components:
        raise ValueError("The scheme has no component.")
    say("Composites")
    scored = [score(a, inputs) for a in inputs.applicants]
    ids = np.array([a.reference.encode() for a in inputs.applicants], dtype="S")
    lottery = draw_lottery_for_ids(inputs.seed, ids) if ids.size else np.zeros(0, np.int64)
    say("Engine")
    if inputs.single:
        computed = _single_track(inputs, scored, lottery)
    else:
        computed = _several_tracks(inputs, scored, lottery)
    computed.checks = _input_checks(inputs, scored) + computed.checks
    _verify(inputs, computed)
    return computed


def _marks_of(applicant: ApplicantInput) -> dict:
    return dict(applicant.marks)


def _exclusion_outcome(reason: str) -> str:
    return INELIGIBLE if reason == reason_name(Reason.INELIGIBLE) else NOT_RETAINED


def _base_explanation(s: Scored) -> dict:
    return {
        "composite": None if s.composite is None else str(s.composite),
        "absent": list(s.absent),
        "below_threshold": list(s.below),
        "missing": list(s.missing),
    }


def _quotas_for(inputs: RankingInputs, track_id: int | None) -> list:
    return [q for q in inputs.quotas if q.track is None or q.track == track_id]


def _summary(inputs: RankingInputs, rows: list[Row]) -> dict:
    counts = dict.fromkeys(OUTCOMES, 0)
    for row in rows:
        counts[row.outcome] += 1
    return {
        "applications": len(rows),
        "counts": counts,
        "seats": {t.key: t.seats for t in inputs.tracks},
        "waitlist": {t.key: t.waitlist for t in inputs.tracks},
    }


# --- One track: the call order ------------------------------------------------------------


def _single_track(inputs: RankingInputs, scored: list[Scored], lottery: np.ndarray) -> Computed:
    track = inputs.tracks[0]
    n = len(inputs.applicants)
    exclusion = [s.exclusion for s in scored]

    def mask(*reasons: str) -> np.ndarray:
        return np.array([e in reasons for e in exclusion], dtype=bool)

    quotas = [
        Quota(
            name=q.group,
            share=Fraction(q.share) / 100,
            members=np.array([q.group in a.groups for a in inputs.applicants], dtype=bool),
        )
        for q in _quotas_for(inputs, track.id)
    ]
    candidates = Candidates(
        composite=np.array(
            [cents(s.composite) if not s.exclusion else 0 for s in scored], dtype=np.int64
        ),
        lottery=lottery,
        tie_keys=tuple(
            np.array([cents(s.tie_values[k]) for s in scored], dtype=np.int64)
            for k in range(len(inputs.tie_break))
        ),
        ineligible=mask(reason_name(Reason.INELIGIBLE), MISSING_MARKS),
        absent=mask(reason_name(Reason.ABSENT)),
        below_threshold=mask(reason_name(Reason.BELOW_THRESHOLD)),
    )
    result = rank_single_track(
        candidates,
        seats=track.seats,
        waitlist=track.waitlist,
        quotas=quotas,
        withdrawn=mask(reason_name(Reason.WITHDRAWN)),
    )
    rows = []
    for i, (a, s) in enumerate(zip(inputs.applicants, scored, strict=True)):
        explained = result.explain(i)
        reason = MISSING_MARKS if s.exclusion == MISSING_MARKS else reason_name(explained.reason)
        outcome = _ENGINE_OUTCOME[explained.outcome]
        if reason == reason_name(Reason.INELIGIBLE):
            outcome = INELIGIBLE
        explanation = {
            "kind": "single",
            **_base_explanation(s),
            "outcome": outcome,
            "reason": reason,
            "merit_rank": explained.merit_rank,
            "call_rank": explained.call_rank,
            "last_admitted_rank": explained.last_admitted_rank,
            "waitlist_position": explained.waitlist_position,
            "ahead": explained.ahead,
            "moved_by": explained.moved_by,
        }
        rows.append(
            Row(
                application_id=a.id,
                track_id=None,
                marks=_marks_of(a),
                composite=s.composite,
                outcome=outcome,
                reason=reason,
                merit_rank=explained.merit_rank,
                call_rank=explained.call_rank,
                waitlist_position=explained.waitlist_position,
                called_by_quota=explained.moved_by or "",
                lottery=int(lottery[i]),
                explanation=explanation,
            )
        )
    summary = _summary(inputs, rows)
    admitted = [r for r in rows if r.outcome == ADMITTED]
    by_merit = [r for r in admitted if not r.called_by_quota]
    full = len(admitted) >= track.seats and n > 0
    last = max(by_merit, key=lambda r: r.call_rank) if by_merit and full else None
    index = {a.id: i for i, a in enumerate(inputs.applicants)}
    quota_cutoffs = {}
    for q in quotas:
        # The line for a group member, when the quota admitted one below the open line.
        members = [r for r in admitted if q.members[index[r.application_id]]]
        if members and last is not None:
            lowest = max(members, key=lambda r: r.call_rank)
            if lowest.composite < last.composite:
                quota_cutoffs[q.name] = str(lowest.composite)
    summary["cutoffs"] = {track.key: None if last is None else str(last.composite)}
    summary["quota_cutoffs"] = {track.key: quota_cutoffs}
    summary["ranked"] = {track.key: sum(1 for r in rows if r.merit_rank)}
    checks = [
        _check("call_order", "The call order follows its definition at every place."),
        _check("capacity", "No more admitted and waiting than seats and waiting places."),
        _check("quota", "Every quota holds among the first k called, for every k."),
    ]
    return Computed(rows=rows, summary=summary, checks=checks)


def _check(name: str, detail: str, ok: bool = True, **params) -> dict:
    return {"name": name, "ok": ok, "detail": detail, "params": params}


# --- Several tracks: deferred acceptance ------------------------------------------------


@dataclass(frozen=True)
class _Market:
    wishes: Wishes
    tracks: Tracks
    groups: list[str | None]  # per track: its quota group
    shares: list[Fraction]


def _market(inputs: RankingInputs, scored: list[Scored]) -> _Market:
    tracks = inputs.tracks
    index = {t.id: k for k, t in enumerate(tracks)}
    groups: list[str | None] = []
    shares: list[Fraction] = []
    for t in tracks:
        applying = _quotas_for(inputs, t.id)
        # A track-specific quota replaces the intake-wide one of the same group.
        by_group = {}
        for q in sorted(applying, key=lambda q: q.track is not None):
            by_group[q.group] = q
        if len(by_group) > 1:
            raise ValueError("With several tracks, a track can have one quota group only.")
        q = next(iter(by_group.values()), None)
        groups.append(q.group if q else None)
        shares.append(Fraction(q.share) / 100 if q else Fraction(0))
    columns: dict[str, list] = {"applicant": [], "track": [], "preference": [], "score": []}
    in_quota: list[bool] = []
    ties: list[list[int]] = [[] for _ in inputs.tie_break]
    for i, (a, s) in enumerate(zip(inputs.applicants, scored, strict=True)):
        if s.exclusion:
            continue
        for preference, track_id in enumerate(a.wishes, start=1):
            k = index[track_id]
            columns["applicant"].append(i)
            columns["track"].append(k)
            columns["preference"].append(preference)
            columns["score"].append(cents(s.composite))
            in_quota.append(groups[k] is not None and groups[k] in a.groups)
            for key, value in zip(ties, s.tie_values, strict=True):
                key.append(cents(value))
    seats = np.array([t.seats for t in tracks], dtype=np.int64)
    wishes = Wishes(
        **{name: np.array(values, dtype=np.int64) for name, values in columns.items()},
        in_quota=np.array(in_quota, dtype=bool),
        tie_keys=tuple(np.array(k, dtype=np.int64) for k in ties),
    )
    return _Market(
        wishes=wishes,
        tracks=Tracks(seats=seats, reserved=reserved_seats(seats, shares)),
        groups=groups,
        shares=shares,
    )


def _waitlists(
    inputs: RankingInputs, market: _Market, al: Allocation, lottery: np.ndarray
) -> dict[int, tuple[int, int]]:
    """Per applicant left without a seat: (track index, position) of the list they wait on."""
    places = np.array([t.waitlist for t in inputs.tracks], dtype=np.int64)
    rows = np.flatnonzero(al.assigned_track[al.wishes.applicant] < 0)
    if not rows.size or not places.any():
        return {}
    second = allocate(
        al.wishes.take(rows),
        Tracks(seats=places, reserved=reserved_seats(places, market.shares)),
        lottery,
    )
    held = np.flatnonzero(second.assigned_track >= 0)
    waiting: dict[int, tuple[int, int]] = {}
    for k in range(len(inputs.tracks)):
        on_list = held[second.assigned_track[held] == k]
        order = on_list[np.argsort(second.rank_in_track[second.assigned_wish[on_list]])]
        for position, applicant in enumerate(order.tolist(), start=1):
            waiting[applicant] = (k, position)
    return waiting


def _wish_explanation(inputs: RankingInputs, wish) -> dict:
    return {
        "track": inputs.tracks[wish.track].id,
        "preference": wish.preference,
        "score": from_cents(wish.score),
        "rank_in_track": wish.rank_in_track,
        "in_quota": wish.in_quota,
        "cutoff_rank": wish.cutoff_rank,
        "outcome": WishOutcome(wish.outcome).name.lower(),
        "waitlist_position": wish.waitlist_position,
        "ahead": wish.ahead,
    }


def _several_tracks(inputs: RankingInputs, scored: list[Scored], lottery: np.ndarray) -> Computed:
    tracks = inputs.tracks
    market = _market(inputs, scored)
    al = allocate(market.wishes, market.tracks, lottery)
    waiting = _waitlists(inputs, market, al, lottery)
    rows = []
    for i, (a, s) in enumerate(zip(inputs.applicants, scored, strict=True)):
        explanation = {"kind": "several", **_base_explanation(s)}
        track_id = a.wishes[0] if a.wishes else None
        merit_rank = waitlist_position = None
        quota = ""
        if s.exclusion:
            reason = s.exclusion
            outcome = _exclusion_outcome(reason)
        elif not a.wishes:
            reason, outcome = reason_name(Reason.NO_WISHES), NOT_RETAINED
        else:
            explained = al.explain(i)
            explanation["wishes"] = [_wish_explanation(inputs, w) for w in explained.wishes]
            ranks = {w.track: w.rank_in_track for w in explained.wishes}
            if explained.track is not None:
                outcome, reason = ADMITTED, ""
                k = explained.track
                if explained.via_quota:
                    quota = market.groups[k] or ""
            elif i in waiting:
                k, waitlist_position = waiting[i]
                outcome, reason = WAITLISTED, ""
            else:
                k = explained.wishes[0].track
                outcome, reason = NOT_RETAINED, reason_name(explained.reason)
            track_id = tracks[k].id
            merit_rank = ranks.get(k)
        explanation.update(
            {
                "outcome": outcome,
                "reason": reason,
                "track": track_id,
                "via_quota": bool(quota),
                "waitlist_position": waitlist_position,
            }
        )
        rows.append(
            Row(
                application_id=a.id,
                track_id=track_id,
                marks=_marks_of(a),
                composite=s.composite,
                outcome=outcome,
                reason=reason,
                merit_rank=merit_rank,
                call_rank=merit_rank,
                waitlist_position=waitlist_position,
                called_by_quota=quota,
                lottery=int(lottery[i]),
                explanation=explanation,
            )
        )
    summary = _summary(inputs, rows)
    composite_of = {i: s.composite for i, s in enumerate(scored)}
    cut = al.cutoffs
    summary["cutoffs"] = {
        t.key: str(composite_of[int(cut.last_applicant[k])])
        if cut.last_rank[k] > 0 and cut.last_applicant[k] >= 0
        else None
        for k, t in enumerate(tracks)
    }
    quota_cutoffs = {}
    for k, t in enumerate(tracks):
        quota_cutoffs[t.key] = {}
        # The line for a group member, when the reserve took one below the open line.
        if market.groups[k] and cut.quota_rank[k] > 0 and cut.quota_applicant[k] >= 0:
            line = composite_of[int(cut.quota_applicant[k])]
            open_line = summary["cutoffs"][t.key]
            if open_line is None or line < Decimal(open_line):
                quota_cutoffs[t.key] = {market.groups[k]: str(line)}
    summary["quota_cutoffs"] = quota_cutoffs
    took_part = al.rank_in_track > 0
    ranked = np.bincount(al.wishes.track[took_part], minlength=len(tracks))
    summary["ranked"] = {t.key: int(ranked[k]) for k, t in enumerate(tracks)}
    summary["rounds"] = al.rounds
    checks = [_check(ENGINE_CHECKS.get(name, name), name) for name in al.checks]
    return Computed(rows=rows, summary=summary, checks=checks)


# --- Checks -------------------------------------------------------------------------------


def _input_checks(inputs: RankingInputs, scored: list[Scored]) -> list[dict]:
    """What the run found in its inputs. A failing one keeps the run from publication."""
    pending = [
        a.reference
        for a, s in zip(inputs.applicants, scored, strict=True)
        if a.eligibility not in (ELIGIBLE, "ineligible") and not a.withdrawn
    ]
    missing = [
        a.reference
        for a, s in zip(inputs.applicants, scored, strict=True)
        if s.exclusion == MISSING_MARKS
    ]
    return [
        _check(
            "screening",
            "Every application is screened." if not pending else "Applications not screened.",
            ok=not pending,
            count=len(pending),
            references=pending[:20],
        ),
        _check(
            "marks",
            "Every applicant in the ranking has all their marks."
            if not missing
            else "Applicants without all their marks.",
            ok=not missing,
            count=len(missing),
            references=missing[:20],
        ),
    ]


def _verify(inputs: RankingInputs, computed: Computed) -> None:
    """Check the rows as they will be stored, whatever the engine said: capacity, waiting
    lists, and every outcome explained by the cut-offs."""
    for t in inputs.tracks:
        track_id = None if inputs.single else t.id
        here = [r for r in computed.rows if r.track_id == track_id]
        admitted = sum(1 for r in here if r.outcome == ADMITTED)
        waiting = sorted(r.waitlist_position for r in here if r.outcome == WAITLISTED)
        if admitted > t.seats:
            raise SelfCheckError(f"Track {t.key or '-'}: {admitted} admitted for {t.seats} seats.")
        if len(waiting) > t.waitlist or waiting != list(range(1, len(waiting) + 1)):
            raise SelfCheckError(f"Track {t.key or '-'}: the waiting list is not 1..n.")
        cutoff = computed.summary["cutoffs"].get(t.key)
        if cutoff is None:
            continue
        line = Decimal(cutoff)
        for r in here:
            over_line = r.composite is not None and r.composite > line
            if r.outcome != ADMITTED and r.merit_rank and over_line and inputs.single:
                raise SelfCheckError(
                    f"Application {r.application_id} is above the cut-off but not admitted."
                )
    for r in computed.rows:
        if r.outcome in (ADMITTED, WAITLISTED) and r.reason:
            raise SelfCheckError(f"Application {r.application_id} is retained with a reason.")
    computed.checks.append(
        _check("explained", "Every outcome is explained by the seats and the cut-offs.")
    )
