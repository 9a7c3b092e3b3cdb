"""Plain-Python references and hypothesis strategies for the selection engine's tests.

The references are written for clarity, one applicant at a time, straight from the
definitions in docs/selection-rules.md, so that the vectorised engine is checked against
something obviously right rather than against itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from tremplin.selection.engine import Tracks, Wishes


@dataclass
class Market:
    """A small several-track instance, as Python lists (and arrays for the engine)."""

    wishes: list[list[tuple[int, float]]]  # per applicant, (track, score) by preference
    seats: list[int]
    reserved: list[int]
    group: list[list[bool]]  # group[a][t]: applicant a counts for track t's quota group
    lottery: list[int]

    @property
    def n_applicants(self) -> int:
        return len(self.wishes)

    @property
    def n_tracks(self) -> int:
        return len(self.seats)

    def key(self, a: int, t: int) -> tuple[float, int, int]:
        """How track t sorts applicant a: best first (score, then lottery, then index)."""
        score = dict(self.wishes[a])[t]
        return (-score, self.lottery[a], a)

    def arrays(self) -> tuple[Wishes, Tracks, np.ndarray]:
        applicant, track, preference, score, in_quota = [], [], [], [], []
        for a, row in enumerate(self.wishes):
            for rank, (t, s) in enumerate(row, start=1):
                applicant.append(a)
                track.append(t)
                preference.append(rank)
                score.append(s)
                in_quota.append(self.group[a][t])
        wishes = Wishes(
            applicant=np.array(applicant, dtype=np.int64),
            track=np.array(track, dtype=np.int64),
            preference=np.array(preference, dtype=np.int64),
            score=np.array(score, dtype=np.float64),
            in_quota=np.array(in_quota, dtype=bool),
        )
        tracks = Tracks(np.array(self.seats, dtype=np.int64), np.array(self.reserved))
        return wishes, tracks, np.array(self.lottery, dtype=np.int64)


def reserve_choice(market: Market, t: int, candidates: list[int]) -> list[int]:
    """Track t's choice: its best group members on reserved seats, then the best of the rest."""
    ranked = sorted(candidates, key=lambda a: market.key(a, t))
    members = [a for a in ranked if market.group[a][t]]
    reserved = members[: market.reserved[t]]
    rest = [a for a in ranked if a not in reserved]
    return reserved + rest[: market.seats[t] - len(reserved)]


def reference_deferred_acceptance(market: Market) -> list[int]:
    """Applicant-proposing deferred acceptance, one proposal at a time: track per applicant."""
    next_wish = [0] * market.n_applicants
    held: list[list[int]] = [[] for _ in range(market.n_tracks)]
    free = list(range(market.n_applicants))
    while free:
        a = free.pop()
        if next_wish[a] >= len(market.wishes[a]):
            continue
        t = market.wishes[a][next_wish[a]][0]
        next_wish[a] += 1
        chosen = reserve_choice(market, t, [*held[t], a])
        free.extend(x for x in [*held[t], a] if x not in chosen)
        held[t] = chosen
    assignment = [-1] * market.n_applicants
    for t, applicants in enumerate(held):
        for a in applicants:
            assignment[a] = t
    return assignment


def blocking_pairs(market: Market, assignment: list[int]) -> list[tuple[int, int]]:
    """Every (applicant, track) that would both rather be together, by the definitions."""
    holders: list[list[int]] = [[] for _ in range(market.n_tracks)]
    for a, t in enumerate(assignment):
        if t >= 0:
            holders[t].append(a)
    pairs = []
    for a, row in enumerate(market.wishes):
        for t, _ in row:
            if t == assignment[a]:
                break
            if a in reserve_choice(market, t, [*holders[t], a]):
                pairs.append((a, t))
    return pairs


@st.composite
def markets(
    draw: st.DrawFn,
    *,
    max_applicants: int = 24,
    max_tracks: int = 5,
    max_wishes: int = 4,
    quotas: bool = True,
) -> Market:
    """Small instances with many ties (scores from a handful of values) and quotas."""
    n_tracks = draw(st.integers(1, max_tracks))
    n = draw(st.integers(0, max_applicants))
    seats = draw(st.lists(st.integers(0, 4), min_size=n_tracks, max_size=n_tracks))
    reserved = [draw(st.integers(0, s)) if quotas else 0 for s in seats]
    wishes = []
    group = []
    for _ in range(n):
        tracks = draw(
            st.lists(
                st.integers(0, n_tracks - 1),
                unique=True,
                max_size=min(max_wishes, n_tracks),
            )
        )
        scores = draw(
            st.lists(
                st.sampled_from([8.0, 10.0, 10.5, 12.0, 15.0]),
                min_size=len(tracks),
                max_size=len(tracks),
            )
        )
        wishes.append(list(zip(tracks, scores, strict=True)))
        group.append(
            draw(st.lists(st.booleans(), min_size=n_tracks, max_size=n_tracks))
            if quotas
            else [False] * n_tracks
        )
    lottery = draw(st.permutations(list(range(1, n + 1))))
    return Market(wishes=wishes, seats=seats, reserved=reserved, group=group, lottery=lottery)


def reference_call_order(
    merit: list[int], groups: list[set[int]], shares: list[Fraction], called: list[int]
) -> list[int]:
    """Parcoursup's call order, place by place, with the first quota winning conflicts."""
    remaining = list(merit)
    sequence = list(called)
    while remaining:
        k = len(sequence) + 1
        short = [
            i
            for i, (g, q) in enumerate(zip(groups, shares, strict=True))
            if any(a in g for a in remaining) and sum(a in g for a in sequence) < math.ceil(q * k)
        ]
        pool = remaining
        if len(short) == 2:
            both = [a for a in remaining if a in groups[0] and a in groups[1]]
            pool = both or [a for a in remaining if a in groups[0]]
        elif short:
            pool = [a for a in remaining if a in groups[short[0]]]
        pick = pool[0]  # `remaining` is in merit order, so the first is the best
        remaining.remove(pick)
        sequence.append(pick)
    return sequence[len(called) :]
