"""Applicant-proposing deferred acceptance with capacities and quota reserves, vectorised.

Vocabulary used throughout the selection package:

- wishes are stored sorted by applicant, then by preference; `wish_start[a]` is where
  applicant `a`'s wishes begin;
- every wish also has a *position* in one static order of all wishes, sorted by track and,
  within a track, from the track's favourite applicant to its least favourite (see
  `ordering.track_major_order`). Comparing two positions of one track compares the two
  applicants as that track ranks them, and sorting positions groups them by track.

A track's choice among the applicants it has received is the *reserve* rule, precisely:
the best `min(reserve, group members present)` members of its quota group take the
reserved seats, then the remaining seats go to the best of everyone else, group members
included. Unfilled reserved seats are therefore never wasted, and a group member is never
worse off for belonging to the group. This rule is substitutable and size-monotone, which
is what keeps deferred acceptance stable and strategy-proof for applicants.

Why rounds and not one applicant at a time: each round, every free applicant proposes to
their next wish at once; a track's new held set is its choice among what it held plus what
it was offered (path independence makes this the same as choosing among everything it was
ever offered). A round is a handful of sorts and segmented sums over the tracks that
received an offer, so a national file takes a few dozen rounds and no Python loop per
applicant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segments:
    """Runs of equal tracks in a sorted array of positions."""

    starts: np.ndarray  # index where each run begins
    ids: np.ndarray  # for each element, which run it belongs to
    tracks: np.ndarray  # the track of each run

    def offset(self, values: np.ndarray) -> np.ndarray:
        """Cumulative count of `values` before each element, restarting at every run."""
        before = np.cumsum(values, dtype=np.int64) - values
        return before - before[self.starts][self.ids]


def segments_of(element_tracks: np.ndarray) -> Segments:
    """Split a non-decreasing array of tracks into runs."""
    n = element_tracks.size
    first = np.empty(n, dtype=bool)
    if n:
        first[0] = True
        np.not_equal(element_tracks[1:], element_tracks[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return Segments(starts=starts, ids=np.cumsum(first) - 1, tracks=element_tracks[starts])


@dataclass(frozen=True)
class Choice:
    """Each track's choice among a sorted array of positions, by the reserve rule."""

    segments: Segments
    reserved: np.ndarray  # bool per element: takes a reserved seat
    open: np.ndarray  # bool per element: takes an open seat
    n_reserved: np.ndarray  # per run: reserved seats filled by group members

    @property
    def kept(self) -> np.ndarray:
        return self.reserved | self.open

    def last(self, selected: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Per run, the worst selected position, or -1 when none is selected."""
        if not positions.size:
            return np.zeros(0, dtype=np.int64)
        return np.maximum.reduceat(np.where(selected, positions, -1), self.segments.starts)


def choose(
    positions: np.ndarray,
    pos_track: np.ndarray,
    pos_group: np.ndarray,
    capacity: np.ndarray,
    reserve: np.ndarray,
) -> Choice:
    """Apply every track's reserve rule to `positions`, which must be sorted ascending."""
    tracks = pos_track[positions]
    group = pos_group[positions]
    seg = segments_of(tracks)
    reserved = group & (seg.offset(group) < reserve[tracks])
    n_reserved = (
        np.add.reduceat(reserved, seg.starts, dtype=np.int64)
        if positions.size
        else np.zeros(0, dtype=np.int64)
    )
    others = ~reserved
    open_seats = capacity[seg.tracks] - n_reserved
    chosen_open = others & (seg.offset(others) < open_seats[seg.ids])
    return Choice(segments=seg, reserved=reserved, open=chosen_open, n_reserved=n_reserved)


@dataclass(frozen=True)
class Market:
    """The static data of one deferred-acceptance run (see the module docstring)."""

    wish_start: np.ndarray  # int64, n_applicants + 1
    wish_pos: np.ndarray  # position of each wish in the track-major order
    pos_track: np.ndarray  # track of each position
    pos_applicant: np.ndarray  # applicant of each position
    pos_group: np.ndarray  # bool: the applicant counts for the track's quota group
    capacity: np.ndarray  # int64 per track
    reserve: np.ndarray  # int64 per track, reserved seats (<= capacity)

    @property
    def n_applicants(self) -> int:
        return self.wish_start.size - 1

    @property
    def n_tracks(self) -> int:
        return self.capacity.size


def deferred_acceptance(
    market: Market, *, on_round: Callable[[int, int], None] | None = None
) -> np.ndarray:
    """Run applicant-proposing deferred acceptance; return each applicant's held position.

    The result is the applicant-optimal stable matching for the reserve rule: the held
    position of applicant `a` (an index into the track-major order), or -1 when every one
    of their wishes turned them down. `on_round`, if given, receives the round number
    and how many applicants proposed in it.
    """
    m = market
    n_positions = m.pos_track.size
    never = np.int64(n_positions)  # a cut-off past every position: accepts anyone
    slot_start = np.zeros(m.n_tracks + 1, dtype=np.int64)
    np.cumsum(m.capacity, out=slot_start[1:])
    # Each track's held positions live in its own slice of `slots`, kept sorted.
    slots = np.full(int(slot_start[-1]), -1, dtype=np.int64)
    held = np.zeros(m.n_tracks, dtype=np.int64)
    # Per track, a newcomer is held if it beats `open_cut`, or if it belongs to the group
    # and beats `reserve_cut`; these let most doomed offers be refused without a sort.
    open_cut = np.where(m.capacity > 0, never, -1)
    reserve_cut = np.where(m.reserve > 0, never, -1)

    next_wish = m.wish_start[:-1].copy()
    wish_end = m.wish_start[1:]
    free = np.flatnonzero(wish_end > next_wish)
    round_number = 0
    while free.size:
        round_number += 1
        if on_round is not None:
            on_round(round_number, int(free.size))
        offered = m.wish_pos[next_wish[free]]
        next_wish[free] += 1
        tracks = m.pos_track[offered]
        hopeful = (offered < open_cut[tracks]) | (
            m.pos_group[offered] & (offered < reserve_cut[tracks])
        )
        refused = [free[~hopeful]]
        offered = offered[hopeful]
        if offered.size:
            refused.append(_hold(m, offered, slots, slot_start, held, open_cut, reserve_cut))
        rejected = np.concatenate(refused)
        free = rejected[next_wish[rejected] < wish_end[rejected]]

    result = np.full(m.n_applicants, -1, dtype=np.int64)
    holding = slots[slots >= 0]
    result[m.pos_applicant[holding]] = holding
    return result


def _hold(
    m: Market,
    offered: np.ndarray,
    slots: np.ndarray,
    slot_start: np.ndarray,
    held: np.ndarray,
    open_cut: np.ndarray,
    reserve_cut: np.ndarray,
) -> np.ndarray:
    """Merge this round's hopeful offers into the held sets; return the rejected applicants.

    Updates `slots`, `held`, `open_cut` and `reserve_cut` in place, for the tracks that
    received an offer only.
    """
    offered.sort()
    touched = segments_of(m.pos_track[offered]).tracks
    counts = held[touched]
    total = int(counts.sum())
    if total:
        # Gather the touched tracks' held slices into one array without a Python loop.
        first_of_run = np.cumsum(counts) - counts
        gather = np.repeat(slot_start[touched] - first_of_run, counts) + np.arange(total)
        candidates = np.concatenate((slots[gather], offered))
        candidates.sort()
    else:
        candidates = offered
    choice = choose(candidates, m.pos_track, m.pos_group, m.capacity, m.reserve)
    kept = choice.kept
    seg = choice.segments

    kept_run = seg.ids[kept]
    kept_count = np.bincount(kept_run, minlength=seg.starts.size)
    first_kept = np.cumsum(kept_count) - kept_count
    within = np.arange(kept_run.size) - first_kept[kept_run]
    slots[slot_start[seg.tracks][kept_run] + within] = candidates[kept]
    held[seg.tracks] = kept_count

    never = m.pos_track.size
    full = kept_count >= m.capacity[seg.tracks]
    open_cut[seg.tracks] = np.where(full, choice.last(choice.open, candidates), never)
    reserve_full = choice.n_reserved >= m.reserve[seg.tracks]
    reserve_cut[seg.tracks] = np.where(
        reserve_full, choice.last(choice.reserved, candidates), never
    )
    return m.pos_applicant[candidates[~kept]]
