"""Tremplin's selection engine: from marks and wishes to admitted, waitlisted and not retained.

A pure module over numpy arrays, with no Django import, so that it can be tested
exhaustively, benchmarked, and run on a national file from the command line.

- One track: `rank_single_track` gives Parcoursup's call order with one or two
  minimum-share quotas, then the admitted, the waitlist and the reasons for the rest
  (see `call_order`).
- Several tracks with ranked wishes: `allocate` runs applicant-proposing deferred
  acceptance with capacities and quota reserves (see `deferred_acceptance`), and
  `resolve` runs it again after declines, expiries and dropouts with the accepted offers
  kept.
- Ties are broken by the published keys, then by one lottery number per applicant
  (`draw_lottery`); the same inputs and seed give the same result, bit for bit.
- Every run checks its own result (`checks`) and raises `SelfCheckError` rather than
  return one that breaks the rules.

Applicants and tracks are indices 0..n-1; mapping them to people and programmes is the
caller's business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction

import numpy as np

from tremplin.selection.call_order import Candidates, Quota, SingleTrackResult, rank_single_track
from tremplin.selection.checks import Cutoffs, SelfCheckError, check_assignment
from tremplin.selection.deferred_acceptance import Market, deferred_acceptance, segments_of
from tremplin.selection.explanations import ApplicantExplanation, explain_applicant
from tremplin.selection.ordering import draw_lottery, lottery_ranks, track_major_order
from tremplin.selection.outcomes import Outcome, Reason, WishOutcome

__all__ = [
    "Allocation",
    "ApplicantExplanation",
    "Candidates",
    "Outcome",
    "Quota",
    "Reason",
    "SelfCheckError",
    "SingleTrackResult",
    "TrackCutoffs",
    "Tracks",
    "WishOutcome",
    "Wishes",
    "allocate",
    "draw_lottery",
    "rank_single_track",
    "reserved_seats",
    "resolve",
]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Wishes:
    """One row per wish: who, for which track, how much they want it, how the track sees them.

    `preference` is 1 for a first choice (any increasing numbers will do). `score` is the
    applicant's composite for that track, higher is better. `in_quota` says whether the
    applicant counts for that track's quota group. `tie_keys` are published keys compared
    in order when scores are equal, higher is better (negate a key to prefer lower values).
    """

    applicant: np.ndarray
    track: np.ndarray
    preference: np.ndarray
    score: np.ndarray
    in_quota: np.ndarray | None = None
    tie_keys: tuple[np.ndarray, ...] = ()

    def take(self, index: np.ndarray) -> Wishes:
        """The wishes at `index`, in that order."""
        return Wishes(
            applicant=self.applicant[index],
            track=self.track[index],
            preference=self.preference[index],
            score=self.score[index],
            in_quota=None if self.in_quota is None else self.in_quota[index],
            tie_keys=tuple(k[index] for k in self.tie_keys),
        )


@dataclass(frozen=True)
class Tracks:
    """Seats per track and, optionally, how many of them are reserved for its quota group."""

    seats: np.ndarray
    reserved: np.ndarray | None = None


def reserved_seats(
    seats: np.ndarray, shares: Sequence[Decimal | Fraction | str | int]
) -> np.ndarray:
    """Seats reserved for a quota group: ceil(share * seats) per track, computed exactly.

    Exact arithmetic matters: 0.3 * 10 is 3.0000000000000004 in floating point, whose
    ceiling would reserve a fourth seat.
    """
    exact = [Fraction(str(s)) for s in shares]
    if any(not 0 <= s <= 1 for s in exact):
        raise ValueError("Quota shares must lie between 0 and 1.")
    return np.array(
        [-((-s.numerator * int(n)) // s.denominator) for s, n in zip(exact, seats, strict=True)],
        dtype=np.int64,
    )


@dataclass(frozen=True)
class TrackCutoffs:
    """Per track, who got in and where the line fell (arrays indexed by track).

    Ranks count from 1 = the track's favourite among those who took part in this run.
    `last_rank` is the rank of the last applicant admitted in open competition: anyone
    ranked at or above it who wanted the track got in. `quota_rank` is the line for a
    member of the track's quota group, who gets in at or above either line (the open one,
    or the last group member on a reserved seat). For both, 0 means no line at all (seats
    were left: nobody who reached the track was refused) and -1 means no seat of that kind
    (no open seat, or no quota).
    """

    seats: np.ndarray
    reserved: np.ndarray
    admitted: np.ndarray
    quota_admitted: np.ndarray
    last_rank: np.ndarray
    last_applicant: np.ndarray  # the applicant on the open line, -1 when none
    quota_rank: np.ndarray
    quota_applicant: np.ndarray  # the applicant on the quota line, -1 when none

    @property
    def full(self) -> np.ndarray:
        return self.admitted >= self.seats


@dataclass(frozen=True, eq=False)
class Allocation:
    """The result of `allocate`: per applicant, per wish and per track arrays.

    `wishes` are the engine's copy, sorted by applicant then preference; per-wish arrays
    follow that order, and `wishes_order[i]` is the input row of sorted wish `i`.
    """

    wishes: Wishes
    wishes_order: np.ndarray
    tracks: Tracks
    lottery: np.ndarray
    fixed: np.ndarray  # per applicant: a track accepted earlier and kept, or -1
    wish_start: np.ndarray  # per applicant + 1: where their wishes begin
    assigned_track: np.ndarray  # per applicant, -1 when unassigned
    assigned_wish: np.ndarray  # per applicant, index into `wishes`, -1 when unassigned
    via_quota: np.ndarray  # per applicant: admitted thanks to a quota reserve (see _assemble)
    rank_in_track: np.ndarray  # per wish, 1 = the track's favourite; 0 if it took no part
    waitlist_position: np.ndarray  # per wish: place among those waiting there, 0 if not
    cutoffs: TrackCutoffs
    rounds: int
    checks: tuple[str, ...] = field(default=())

    @property
    def n_applicants(self) -> int:
        return self.assigned_track.size

    @property
    def n_assigned(self) -> int:
        return int(np.count_nonzero(self.assigned_track >= 0))

    def wish_outcomes(self) -> np.ndarray:
        """Per wish, a `WishOutcome` value (int8)."""
        w = np.arange(self.wishes.applicant.size)
        holding = self.assigned_wish[self.wishes.applicant]
        outcome = np.full(w.size, WishOutcome.NOT_NEEDED, dtype=np.int8)
        outcome[self.waitlist_position > 0] = WishOutcome.WAITING
        outcome[w == holding] = WishOutcome.ASSIGNED
        accepted = (self.fixed[self.wishes.applicant] >= 0) & (w == holding)
        outcome[accepted] = WishOutcome.ACCEPTED_EARLIER
        return outcome

    def in_quota_of_wishes(self) -> np.ndarray:
        """Per wish, whether the applicant counts for that track's quota group."""
        if self.wishes.in_quota is None:
            return np.zeros(self.wishes.applicant.size, dtype=bool)
        return np.asarray(self.wishes.in_quota, dtype=bool)

    def cutoff_rank_of_wishes(self, which: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Per wish (or for the wishes selected by `which`), the line that applied to that
        applicant on that track: the quota line for a group member, else the open line.
        Same conventions as `TrackCutoffs` (0: no line; -1: no seat open to them)."""
        track = self.wishes.track[which]
        quota = self.cutoffs.quota_rank[track]
        group = self.in_quota_of_wishes()[which] & (quota != -1)
        return np.where(group, quota, self.cutoffs.last_rank[track])

    def cutoff_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """Per track, the score on the open line and on the quota line (float arrays, NaN
        where there is no such line)."""
        n_tracks = self.cutoffs.seats.size
        scores = []
        for last in (self.cutoffs.last_applicant, self.cutoffs.quota_applicant):
            score = np.full(n_tracks, np.nan)
            hit = last[self.wishes.track] == self.wishes.applicant
            score[self.wishes.track[hit]] = self.wishes.score[hit]
            scores.append(score)
        return scores[0], scores[1]

    def explain(self, applicant: int) -> ApplicantExplanation:
        """Why `applicant` holds what they hold, wish by wish."""
        return explain_applicant(self, applicant)

    def resolve(
        self,
        *,
        accepted: np.ndarray | None = None,
        declined: np.ndarray | None = None,
        withdrawn: np.ndarray | None = None,
    ) -> Allocation:
        """Shorthand for `resolve(self, ...)`."""
        return resolve(self, accepted=accepted, declined=declined, withdrawn=withdrawn)


_CHECKS = ("capacity", "quota", "no blocking pair", "explained by the cut-offs")


@dataclass(frozen=True)
class _Run:
    """What one deferred-acceptance run needs and produced, before assembly."""

    wishes: Wishes  # sorted by applicant then preference
    wishes_order: np.ndarray
    wish_start: np.ndarray
    fixed: np.ndarray  # per applicant: the track kept from an earlier round, or -1
    kept_wish: np.ndarray  # per applicant: the wish kept from an earlier round, or -1
    active: np.ndarray  # indices of the wishes taking part (those of applicants not fixed)
    by_track: np.ndarray  # active wishes (indices into `active`) in track-major order
    market: Market


def allocate(
    wishes: Wishes,
    tracks: Tracks,
    lottery: np.ndarray,
    *,
    fixed: np.ndarray | None = None,
    on_progress: Progress | None = None,
) -> Allocation:
    """Allocate applicants to tracks by applicant-proposing deferred acceptance.

    `lottery` has one number per applicant (lower wins a tie); its length is the number of
    applicants. `fixed` gives, per applicant, a track whose offer they accepted in an
    earlier round (-1 for none): they keep it, their seats and any reserved seat they fill
    are taken out, and everyone else is allocated again from scratch. The result has been
    checked (capacity, quota, no blocking pair, explained by the cut-offs) before it is
    returned; a failure raises `SelfCheckError`.
    """
    say = on_progress or (lambda message: None)
    run = _prepare(wishes, tracks, lottery, fixed, say)
    rounds = 0

    def count_round(number: int, proposing: int) -> None:
        nonlocal rounds
        rounds = number
        if number == 1 or number % 10 == 0:
            say(f"Deferred acceptance, round {number}: {proposing:,} applicants propose")

    held = deferred_acceptance(run.market, on_round=count_round)
    say("Checking the result")
    cutoffs = check_assignment(run.market, held)
    return _assemble(run, tracks, lottery, held, cutoffs, rounds)


def _prepare(
    wishes: Wishes,
    tracks: Tracks,
    lottery: np.ndarray,
    fixed: np.ndarray | None,
    say: Progress,
) -> _Run:
    """Validate, sort the wishes, take out the accepted offers and rank every track."""
    n_applicants = int(lottery.size)
    seats = np.asarray(tracks.seats, dtype=np.int64)
    n_tracks = seats.size
    reserved = (
        np.zeros(n_tracks, dtype=np.int64)
        if tracks.reserved is None
        else np.asarray(tracks.reserved, dtype=np.int64)
    )
    wishes = _integer_columns(wishes)
    _validate(wishes, seats, reserved, n_applicants)
    say("Sorting wishes by applicant and preference")
    order = _preference_order(wishes, n_applicants)
    if order is not None:
        wishes = wishes.take(order)
    applicant = wishes.applicant.astype(np.int64, copy=False)
    track = wishes.track.astype(np.int64, copy=False)
    in_quota = (
        np.zeros(applicant.size, dtype=bool)
        if wishes.in_quota is None
        else np.asarray(wishes.in_quota, dtype=bool)
    )
    _refuse_duplicate_tracks(applicant, track, n_tracks)
    wish_start = _starts(applicant, n_applicants)

    fixed = np.full(n_applicants, -1, dtype=np.int64) if fixed is None else np.asarray(fixed)
    kept_wish, capacity, reserve = _take_out_fixed(
        fixed, applicant, track, in_quota, seats, reserved, wish_start
    )
    active = np.flatnonzero(fixed[applicant] < 0)

    def part(values: np.ndarray) -> np.ndarray:
        # Copying millions of wishes costs time and memory; only re-solves need a subset.
        return values if active.size == applicant.size else values[active]

    say("Ranking every track's applicants")
    a_app, a_track = part(applicant), part(track)
    by_track = track_major_order(
        a_track,
        part(wishes.score),
        [part(k) for k in wishes.tie_keys],
        lottery_ranks(lottery)[a_app],
        n_tracks,
    )
    wish_pos = np.empty(by_track.size, dtype=np.int64)
    wish_pos[by_track] = np.arange(by_track.size)
    market = Market(
        wish_start=_starts(a_app, n_applicants),
        wish_pos=wish_pos,
        pos_track=a_track[by_track],
        pos_applicant=a_app[by_track],
        pos_group=part(in_quota)[by_track],
        capacity=capacity,
        reserve=reserve,
    )
    return _Run(
        wishes=wishes,
        wishes_order=np.arange(applicant.size) if order is None else order,
        wish_start=wish_start,
        fixed=fixed,
        kept_wish=kept_wish,
        active=active,
        by_track=by_track,
        market=market,
    )


def _starts(applicant: np.ndarray, n_applicants: int) -> np.ndarray:
    start = np.zeros(n_applicants + 1, dtype=np.int64)
    np.cumsum(np.bincount(applicant, minlength=n_applicants), out=start[1:])
    return start


def resolve(
    previous: Allocation,
    *,
    accepted: np.ndarray | None = None,
    declined: np.ndarray | None = None,
    withdrawn: np.ndarray | None = None,
    on_progress: Progress | None = None,
) -> Allocation:
    """Allocate again after declines, expiries and dropouts, keeping accepted offers.

    `accepted` (per applicant) marks those who accepted the offer they hold in `previous`;
    they keep it, together with offers accepted before. `declined` (per wish, in
    `previous.wishes` order) removes wishes whose offer was turned down or expired.
    `withdrawn` (per applicant) removes applicants, releasing any seat they had accepted.
    Everyone else is allocated again from scratch, so there is no incremental state.
    """
    n = previous.n_applicants
    w = previous.wishes
    fixed = previous.fixed.copy()
    if accepted is not None:
        accepted = np.asarray(accepted, dtype=bool)
        unassigned = accepted & (previous.assigned_track < 0)
        if unassigned.any():
            a = int(np.flatnonzero(unassigned)[0])
            raise ValueError(f"Applicant {a} cannot accept: they hold no offer.")
        fixed[accepted] = previous.assigned_track[accepted]
    keep = np.ones(w.applicant.size, dtype=bool)
    if declined is not None:
        keep &= ~np.asarray(declined, dtype=bool)
    if withdrawn is not None:
        keep &= ~np.asarray(withdrawn, dtype=bool)[w.applicant]
    # An accepted offer whose wish is gone (declined later, or a dropout) is released.
    still_there = np.zeros(n, dtype=bool)
    kept_fixed = keep & (fixed[w.applicant] == w.track)
    still_there[w.applicant[kept_fixed]] = True
    fixed[~still_there] = -1
    return allocate(
        w.take(np.flatnonzero(keep)),
        previous.tracks,
        previous.lottery,
        fixed=fixed,
        on_progress=on_progress,
    )


def _integer_columns(wishes: Wishes) -> Wishes:
    """Check that applicants, tracks and preferences are integers (an empty list of any
    type is accepted as one of integers)."""
    columns = {}
    for name in ("applicant", "track", "preference"):
        values = np.asarray(getattr(wishes, name))
        if values.dtype.kind not in "iu":
            if values.size:
                raise ValueError(f"Wish {name}s must be integers.")
            values = values.astype(np.int64)
        columns[name] = values
    return replace(wishes, **columns)


def _validate(wishes: Wishes, seats: np.ndarray, reserved: np.ndarray, n_applicants: int) -> None:
    n = wishes.applicant.size
    columns = [wishes.track, wishes.preference, wishes.score, *wishes.tie_keys]
    if wishes.in_quota is not None:
        columns.append(wishes.in_quota)
    if any(np.shape(c) != (n,) for c in columns):
        raise ValueError("Every wish column must have one value per wish.")
    if reserved.shape != seats.shape:
        raise ValueError("Reserved seats must be given for every track.")
    if (seats < 0).any() or (reserved < 0).any() or (reserved > seats).any():
        raise ValueError("Seats must be non-negative and reserved seats at most the seats.")
    if n and (wishes.applicant.min() < 0 or wishes.applicant.max() >= n_applicants):
        raise ValueError("A wish names an applicant with no lottery number.")
    if n and (wishes.track.min() < 0 or wishes.track.max() >= seats.size):
        raise ValueError("A wish names an unknown track.")
    for values in (wishes.score, *wishes.tie_keys):
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise ValueError("Scores and tie-break keys must be finite numbers.")


def _preference_order(wishes: Wishes, n_applicants: int) -> np.ndarray | None:
    """The permutation sorting wishes by applicant then preference, or None if sorted."""
    preference = wishes.preference.astype(np.int64)
    low, high = (int(preference.min()), int(preference.max())) if preference.size else (0, 0)
    key = wishes.applicant.astype(np.int64) * (high - low + 1) + (preference - low)
    steps = np.diff(key)
    if (steps > 0).all():
        return None
    order = np.argsort(key, kind="stable")
    same = np.flatnonzero(np.diff(key[order]) == 0)
    if same.size:
        a = int(wishes.applicant[order[same[0]]])
        raise ValueError(f"Applicant {a} has two wishes with the same preference.")
    return order


def _refuse_duplicate_tracks(applicant: np.ndarray, track: np.ndarray, n_tracks: int) -> None:
    key = np.sort(applicant * n_tracks + track)
    same = np.flatnonzero(key[1:] == key[:-1])
    if same.size:
        a, t = divmod(int(key[same[0]]), n_tracks)
        raise ValueError(f"Applicant {a} wishes for track {t} twice.")


def _take_out_fixed(
    fixed: np.ndarray,
    applicant: np.ndarray,
    track: np.ndarray,
    in_quota: np.ndarray,
    seats: np.ndarray,
    reserved: np.ndarray,
    wish_start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per applicant the wish kept from an earlier round (-1), and the seats left."""
    n_tracks = seats.size
    if fixed.shape != (wish_start.size - 1,):
        raise ValueError("`fixed` must have one value per applicant.")
    if (fixed >= n_tracks).any() or (fixed < -1).any():
        raise ValueError("`fixed` names an unknown track.")
    match = np.flatnonzero(fixed[applicant] == track)
    kept_wish = np.full(fixed.size, -1, dtype=np.int64)
    kept_wish[applicant[match]] = match
    orphan = np.flatnonzero((fixed >= 0) & (kept_wish < 0))
    if orphan.size:
        a = int(orphan[0])
        raise ValueError(f"Applicant {a} accepted track {int(fixed[a])} without wishing for it.")
    taken = np.bincount(track[match], minlength=n_tracks)
    capacity = seats - taken
    if (capacity < 0).any():
        t = int(np.flatnonzero(capacity < 0)[0])
        raise ValueError(f"Track {t} has more accepted offers than seats.")
    group_taken = np.bincount(track[match], weights=in_quota[match], minlength=n_tracks)
    reserve = np.minimum(np.maximum(reserved - group_taken.astype(np.int64), 0), capacity)
    return kept_wish, capacity, reserve


def _assemble(
    run: _Run,
    tracks: Tracks,
    lottery: np.ndarray,
    held: np.ndarray,
    cut: Cutoffs,
    rounds: int,
) -> Allocation:
    """Turn the checked run into per-applicant, per-wish and per-track arrays."""
    wishes, m, fixed = run.wishes, run.market, run.fixed
    n_wishes = wishes.applicant.size
    # Positions index the wishes that took part; map them back to indices into all wishes.
    wish_of_position = run.active[run.by_track]
    assigned_wish = run.kept_wish.copy()
    holders = np.flatnonzero(held >= 0)
    assigned_wish[holders] = wish_of_position[held[holders]]
    assigned_track = np.full(fixed.size, -1, dtype=np.int64)
    assigned = assigned_wish >= 0
    assigned_track[assigned] = wishes.track[assigned_wish[assigned]]

    seg = segments_of(m.pos_track)
    first_position = np.zeros(m.n_tracks, dtype=np.int64)
    first_position[seg.tracks] = seg.starts
    rank_in_track = np.zeros(n_wishes, dtype=np.int64)
    rank_in_track[wish_of_position] = (
        np.arange(wish_of_position.size) - first_position[m.pos_track] + 1
    )

    # Waiting: a wish preferred to the one held; its place counts those ahead on that track.
    limit = run.wish_start[1:].copy()
    limit[assigned] = assigned_wish[assigned]
    waiting = (np.arange(n_wishes) < limit[wishes.applicant])[wish_of_position]
    waitlist_position = np.zeros(n_wishes, dtype=np.int64)
    waitlist_position[wish_of_position[waiting]] = seg.offset(waiting)[waiting] + 1

    # Moved by the quota: a holder with at least `capacity` others ranked above them among
    # everyone who reached the track (held or still waiting there). Without the reserve
    # they would not have been among the first `capacity`.
    reached = waiting.copy()
    reached[held[holders]] = True
    ahead = seg.offset(reached)
    held_at = held[holders]
    via_quota = np.zeros(fixed.size, dtype=bool)
    via_quota[holders] = ahead[held_at] >= m.capacity[m.pos_track[held_at]]

    kept = run.kept_wish[run.kept_wish >= 0]
    in_quota = np.zeros(n_wishes, dtype=bool) if wishes.in_quota is None else wishes.in_quota
    fixed_count = np.bincount(wishes.track[kept], minlength=m.n_tracks)
    fixed_group = np.bincount(wishes.track[kept], weights=in_quota[kept], minlength=m.n_tracks)

    def line(cutoff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Positions become ranks; `never` (anyone gets in) becomes 0, -1 (nobody) stays.
        real = (cutoff >= 0) & (cutoff < cut.never)
        at = np.where(real, cutoff, 0)
        rank = np.where(real, at - first_position + 1, np.where(cutoff < 0, -1, 0))
        who = np.where(real, m.pos_applicant[at] if cut.never else -1, -1)
        return rank, who

    last_rank, last_applicant = line(cut.open_cut)
    # A group member gets in at or above either line, so theirs is the lower of the two.
    quota_cut = np.maximum(cut.open_cut, cut.reserve_cut)
    quota_cut[m.reserve <= 0] = -1
    quota_rank, quota_applicant = line(quota_cut)
    seats = np.asarray(tracks.seats, dtype=np.int64)
    cutoffs = TrackCutoffs(
        seats=seats,
        reserved=np.zeros_like(seats) if tracks.reserved is None else tracks.reserved,
        admitted=cut.admitted + fixed_count,
        quota_admitted=cut.group_admitted + fixed_group.astype(np.int64),
        last_rank=last_rank,
        last_applicant=last_applicant,
        quota_rank=quota_rank,
        quota_applicant=quota_applicant,
    )
    return Allocation(
        wishes=wishes,
        wishes_order=run.wishes_order,
        tracks=tracks,
        lottery=lottery,
        fixed=fixed,
        wish_start=run.wish_start,
        assigned_track=assigned_track,
        assigned_wish=assigned_wish,
        via_quota=via_quota,
        rank_in_track=rank_in_track,
        waitlist_position=waitlist_position,
        cutoffs=cutoffs,
        rounds=rounds,
        checks=_CHECKS,
    )
