"""How a track orders the applicants who wish for it: composite score, then the published
tie-break keys, then one lottery number per applicant.

Pure numpy, no Django. The lottery is drawn with splitmix64, written out here rather than
taken from numpy's generators, whose streams numpy does not promise to keep across versions:
a published seed must give the same draw for as long as anyone may ask to check it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, applied element-wise (uint64 arithmetic wraps)."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def _seed_word(seed: int) -> np.uint64:
    if not 0 <= seed < 2**64:
        raise ValueError(f"The seed must be an integer between 0 and 2**64 - 1, not {seed}.")
    return _splitmix64(np.array([seed], dtype=np.uint64))[0]


def _permutation_from_hashes(hashes: np.ndarray) -> np.ndarray:
    # Lottery numbers are the ranks of the hashes, 1..n; the stable sort settles the
    # (astronomically unlikely) equal hashes by applicant index, so the draw stays total.
    lottery = np.empty(hashes.size, dtype=np.int64)
    lottery[np.argsort(hashes, kind="stable")] = np.arange(1, hashes.size + 1)
    return lottery


def draw_lottery(seed: int, n_applicants: int) -> np.ndarray:
    """One lottery number per applicant index, a permutation of 1..n: lower wins a tie.

    The same seed and the same number of applicants always give the same draw.
    """
    with np.errstate(over="ignore"):
        index = np.arange(n_applicants, dtype=np.uint64)
        hashes = _splitmix64(_splitmix64(index) ^ _seed_word(seed))
    return _permutation_from_hashes(hashes)


def draw_lottery_for_ids(seed: int, ids: np.ndarray) -> np.ndarray:
    """Like `draw_lottery`, but keyed by each applicant's identifier (a numpy bytes array).

    Keying by identifier rather than by row means that reordering a national file does not
    change anyone's lottery number.
    """
    if ids.dtype.kind != "S":
        raise TypeError("Applicant identifiers must be a numpy bytes array (dtype 'S').")
    width = ids.dtype.itemsize
    raw = np.ascontiguousarray(ids).view(np.uint8).reshape(ids.size, width)
    hashes = np.full(ids.size, _FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(width):
            byte = raw[:, column].astype(np.uint64)
            # NUL is numpy's padding, never part of an identifier: skip it so the hash does
            # not depend on the width numpy picked for the array.
            hashes = np.where(byte != 0, (hashes ^ byte) * _FNV_PRIME, hashes)
        hashes = _splitmix64(_splitmix64(hashes) ^ _seed_word(seed))
    return _permutation_from_hashes(hashes)


def dense_rank_descending(values: np.ndarray) -> np.ndarray:
    """0 for the highest value, 1 for the next distinct one, and so on (int64).

    Object arrays (e.g. of Decimal) are ranked exactly in Python; numeric arrays with numpy.
    """
    if values.dtype == object:
        distinct = sorted(set(values.tolist()), reverse=True)
        rank_of = {value: rank for rank, value in enumerate(distinct)}
        return np.fromiter((rank_of[v] for v in values.tolist()), np.int64, values.size)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    if values.dtype.kind in "bu":
        values = values.astype(np.int64)
    # Sorting the negation (rather than reversing an ascending argsort) keeps every later
    # gather and scatter contiguous, which halves the time on millions of wishes.
    order = np.argsort(-values)
    ordered = values[order]
    steps = np.empty(values.size, dtype=np.int64)
    steps[0] = 0
    np.cumsum(ordered[1:] != ordered[:-1], out=steps[1:])
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[order] = steps
    return ranks


def lottery_ranks(lottery: np.ndarray) -> np.ndarray:
    """A strict rank 0..n-1 from lottery numbers: lower number first, then lower index."""
    lottery = np.asarray(lottery)
    if lottery.size and lottery.dtype.kind in "iu":
        low = int(lottery.min())
        shifted = lottery.astype(np.int64) - low
        # The usual case, a permutation (as `draw_lottery` gives), needs no sort at all.
        if (
            int(shifted.max()) == lottery.size - 1
            and (np.bincount(shifted, minlength=lottery.size) == 1).all()
        ):
            return shifted
    ranks = np.empty(lottery.size, dtype=np.int64)
    ranks[np.argsort(lottery, kind="stable")] = np.arange(lottery.size)
    return ranks


def track_major_order(
    track: np.ndarray,
    score: np.ndarray,
    tie_keys: Sequence[np.ndarray],
    applicant_rank: np.ndarray,
    n_tracks: int,
) -> np.ndarray:
    """Indices of wishes sorted by track, then best first within each track.

    "Best" is the highest score, then the highest value of each published key in turn,
    then the lowest `applicant_rank` (the lottery). `applicant_rank` is given per wish and
    is strict per applicant, so no two wishes for one track ever compare equal.
    """
    # One int64 key sorted once is about ten times faster than np.lexsort on millions of
    # wishes; we pack dense ranks into it whenever the bits fit, which they do for a
    # national file, and fall back to lexsort otherwise.
    parts = [dense_rank_descending(score), *(dense_rank_descending(k) for k in tie_keys)]
    parts.append(applicant_rank.astype(np.int64, copy=False))
    widths = [int(p.max()).bit_length() if p.size else 0 for p in parts]
    track_bits = max(int(n_tracks - 1).bit_length(), 1)
    if track_bits + sum(widths) <= 63:
        key = track.astype(np.int64)
        for part, width in zip(parts, widths, strict=True):
            key <<= width
            key |= part
        return np.argsort(key)
    return np.lexsort((*reversed(parts), track))
