"""The checks every run makes on its own result before returning it.

They do not trust the algorithm that produced the result: cut-offs are derived from the
final assignment alone, then every wish of every applicant is tested against them. A
result that passes is within the published rules whatever code produced it:

- no track holds more applicants than its seats;
- the quota property: a track holds fewer group members than its reserve only when no
  other group member wants it and could be admitted there;
- no blocking pair: nobody prefers a track that would take them (it has a free seat, or
  they beat its cut-off in open competition, or, for a group member, in the reserve);
- every outcome is explained by the cut-offs: each applicant holds exactly their most
  preferred wish that clears the cut-offs, or nothing when none does.

Failures raise `SelfCheckError`; the engine never returns a result that failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tremplin.selection.deferred_acceptance import Market, choose


class SelfCheckError(RuntimeError):
    """The engine's result broke one of the published rules; it was not returned."""


@dataclass(frozen=True)
class Cutoffs:
    """Per-track cut-offs derived from an assignment, as positions in the track order.

    `open_cut` is the position of the last applicant admitted in open competition when the
    track is full, `never` (past every position) when a seat is free, -1 when it has no
    open seat at all. `reserve_cut` is the same for the quota reserve: the last group
    member in a reserved seat when the reserve is filled, `never` when it is not (any group
    member who asks is taken), -1 when there is no reserve.
    """

    open_cut: np.ndarray
    reserve_cut: np.ndarray
    admitted: np.ndarray  # per track
    group_admitted: np.ndarray  # per track: group members, in reserved or open seats
    reserved_filled: np.ndarray  # per track: reserved seats taken by group members
    never: int


def derive_cutoffs(market: Market, held: np.ndarray) -> Cutoffs:
    """Compute the cut-offs implied by `held` (a position per applicant, -1 for none)."""
    m = market
    never = m.pos_track.size
    positions = np.sort(held[held >= 0])
    admitted = np.bincount(m.pos_track[positions], minlength=m.n_tracks)
    group_admitted = np.bincount(
        m.pos_track[positions], weights=m.pos_group[positions], minlength=m.n_tracks
    ).astype(np.int64)
    over = np.flatnonzero(admitted > m.capacity)
    if over.size:
        t = int(over[0])
        raise SelfCheckError(
            f"Track {t} holds {int(admitted[t])} applicants for {int(m.capacity[t])} seats."
        )
    choice = choose(positions, m.pos_track, m.pos_group, m.capacity, m.reserve)
    if not choice.kept.all():
        raise SelfCheckError("A track holds an applicant its own rule would turn away.")
    tracks = choice.segments.tracks

    full = admitted >= m.capacity
    open_cut = np.where(m.capacity > 0, never, -1).astype(np.int64)
    open_cut[tracks] = np.where(full[tracks], choice.last(choice.open, positions), never)

    reserved_filled = np.zeros(m.n_tracks, dtype=np.int64)
    reserved_filled[tracks] = choice.n_reserved
    reserve_full = reserved_filled >= m.reserve
    reserve_cut = np.where(reserve_full, -1, never).astype(np.int64)
    last_reserved = choice.last(choice.reserved, positions)
    reserve_cut[tracks] = np.where(reserve_full[tracks], last_reserved, never)
    return Cutoffs(
        open_cut=open_cut,
        reserve_cut=reserve_cut,
        admitted=admitted,
        group_admitted=group_admitted,
        reserved_filled=reserved_filled,
        never=never,
    )


def admissible(market: Market, cutoffs: Cutoffs, wish_pos: np.ndarray) -> np.ndarray:
    """Whether each wish (given by position) clears its track's cut-offs."""
    tracks = market.pos_track[wish_pos]
    return (wish_pos <= cutoffs.open_cut[tracks]) | (
        market.pos_group[wish_pos] & (wish_pos <= cutoffs.reserve_cut[tracks])
    )


def check_assignment(market: Market, held: np.ndarray) -> Cutoffs:
    """Run every check on `held` and return the cut-offs that explain it."""
    m = market
    n_wishes = m.wish_pos.size
    holder = np.flatnonzero(held >= 0)
    owners = m.pos_applicant[held[holder]]
    if not np.array_equal(owners, holder):
        a = int(holder[np.flatnonzero(owners != holder)[0]])
        raise SelfCheckError(f"Applicant {a} holds a seat they never asked for.")

    cutoffs = derive_cutoffs(m, held)

    # The quota property first, so that a failure names it rather than a blocking pair.
    wish_of_position = np.empty(n_wishes, dtype=np.int64)
    wish_of_position[m.wish_pos] = np.arange(n_wishes)
    held_limit = m.wish_start[1:].copy()
    held_limit[holder] = wish_of_position[held[holder]]
    wish_applicant = np.repeat(np.arange(m.n_applicants), np.diff(m.wish_start))
    prefers = np.arange(n_wishes) < held_limit[wish_applicant]
    envious_group = prefers & m.pos_group[m.wish_pos]
    wanted_by_group = np.bincount(m.pos_track[m.wish_pos[envious_group]], minlength=m.n_tracks)
    short = (cutoffs.reserved_filled < m.reserve) & (wanted_by_group > 0)
    if short.any():
        t = int(np.flatnonzero(short)[0])
        raise SelfCheckError(
            f"Quota property broken at track {t}: {int(cutoffs.reserved_filled[t])} of "
            f"{int(m.reserve[t])} reserved seats filled while a group member wants it."
        )

    # Each applicant must hold exactly their first wish that clears the cut-offs: nothing
    # preferred clears them (no blocking pair) and what they hold does (explained).
    clears = admissible(m, cutoffs, m.wish_pos)
    candidate = np.where(clears, np.arange(n_wishes), n_wishes)
    first_clear = _first_per_applicant(candidate, m.wish_start, n_wishes)
    expected = np.full(m.n_applicants, -1, dtype=np.int64)
    some = first_clear < n_wishes
    expected[some] = m.wish_pos[first_clear[some]]
    wrong = np.flatnonzero(expected != held)
    if wrong.size:
        a = int(wrong[0])
        raise SelfCheckError(_describe_mismatch(m, a, int(held[a]), int(expected[a])))
    return cutoffs


def _first_per_applicant(values: np.ndarray, wish_start: np.ndarray, fill: int) -> np.ndarray:
    """Per applicant, the minimum of `values` over their wishes, or `fill` if they have none."""
    n_applicants = wish_start.size - 1
    result = np.full(n_applicants, fill, dtype=np.int64)
    has = wish_start[1:] > wish_start[:-1]
    if values.size:
        # reduceat misreads empty runs, so only the applicants with wishes take part.
        result[has] = np.minimum.reduceat(values, wish_start[:-1][has])
    return result


def _describe_mismatch(m: Market, applicant: int, held: int, expected: int) -> str:
    if held < 0:
        return (
            f"Blocking pair: applicant {applicant} has no seat but clears the cut-offs "
            f"of track {int(m.pos_track[expected])}."
        )
    if expected < 0:
        return (
            f"Applicant {applicant} holds a seat at track {int(m.pos_track[held])} that "
            "its cut-offs do not explain."
        )
    return (
        f"Applicant {applicant} holds track {int(m.pos_track[held])}, but their most "
        f"preferred wish clearing the cut-offs is track {int(m.pos_track[expected])}: "
        "a blocking pair or an unexplained seat."
    )
