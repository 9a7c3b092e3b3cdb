"""The floor for the national bench: a minimal vectorised deferred acceptance.

Only what any applicant-proposing deferred acceptance over numpy arrays must do: rank each
track's applicants once (score, then lottery), then run rounds in which every free
applicant proposes to their next wish and each track keeps its best `seats`. No quotas,
no published tie-break keys, no re-solve, no checks, no explanations: the engine's extra
work is measured against this.

It uses the same fast tricks the engine does (one packed int64 key instead of np.lexsort,
refusing hopeless offers before sorting, sorting only the tracks that received an offer),
so that the ratio measures the engine's features and not a slow baseline.
"""

from __future__ import annotations

import numpy as np


def floor_deferred_acceptance(
    applicant: np.ndarray,
    track: np.ndarray,
    score: np.ndarray,
    lottery: np.ndarray,
    seats: np.ndarray,
) -> np.ndarray:
    """Per applicant, the track they end up in (-1 for none).

    Wishes must be sorted by applicant then preference; `lottery` is a permutation of
    0..n-1 or 1..n (lower wins a tie).
    """
    n_applicants, n_tracks, n_wishes = lottery.size, seats.size, applicant.size

    # Rank: track, then score descending, then lottery, packed into one int64.
    by_score = np.argsort(-score)
    ordered = score[by_score]
    dense = np.empty(n_wishes, dtype=np.int64)
    steps = np.zeros(n_wishes, dtype=np.int64)
    np.cumsum(ordered[1:] != ordered[:-1], out=steps[1:])
    dense[by_score] = steps
    lot = lottery.astype(np.int64) - int(lottery.min())
    lot_bits = int(lot.max()).bit_length()
    key = (track.astype(np.int64) << (int(dense.max()).bit_length() + lot_bits)) | (
        dense << lot_bits
    )
    key |= lot[applicant]
    by_track = np.argsort(key)
    position = np.empty(n_wishes, dtype=np.int64)
    position[by_track] = np.arange(n_wishes)
    pos_track = track[by_track].astype(np.int64)
    pos_applicant = applicant[by_track].astype(np.int64)

    start = np.zeros(n_applicants + 1, dtype=np.int64)
    np.cumsum(np.bincount(applicant, minlength=n_applicants), out=start[1:])
    slot_start = np.zeros(n_tracks + 1, dtype=np.int64)
    np.cumsum(seats, out=slot_start[1:])
    slots = np.full(int(slot_start[-1]), -1, dtype=np.int64)
    held = np.zeros(n_tracks, dtype=np.int64)
    cut = np.where(seats > 0, n_wishes, -1)  # the last held position once a track is full

    next_wish = start[:-1].copy()
    free = np.flatnonzero(start[1:] > next_wish)
    while free.size:
        offered = position[next_wish[free]]
        next_wish[free] += 1
        hopeful = offered < cut[pos_track[offered]]
        rejected = [free[~hopeful]]
        offered = np.sort(offered[hopeful])
        if offered.size:
            tracks = pos_track[offered]
            first = np.ones(offered.size, dtype=bool)
            first[1:] = tracks[1:] != tracks[:-1]
            touched = tracks[first]
            counts = held[touched]
            gather = np.repeat(slot_start[touched] - (np.cumsum(counts) - counts), counts)
            gather += np.arange(gather.size)
            candidates = np.sort(np.concatenate((slots[gather], offered)))
            run_tracks = pos_track[candidates]
            new_run = np.ones(candidates.size, dtype=bool)
            new_run[1:] = run_tracks[1:] != run_tracks[:-1]
            run_start = np.flatnonzero(new_run)
            run_id = np.cumsum(new_run) - 1
            within = np.arange(candidates.size) - run_start[run_id]
            keep = within < seats[run_tracks]
            slots[slot_start[run_tracks[keep]] + within[keep]] = candidates[keep]
            kept = np.bincount(run_id[keep], minlength=run_start.size)
            run_track = run_tracks[run_start]
            held[run_track] = kept
            last = candidates[run_start + np.maximum(kept - 1, 0)]
            cut[run_track] = np.where(kept >= seats[run_track], last, n_wishes)
            rejected.append(pos_applicant[candidates[~keep]])
        rejected = np.concatenate(rejected)
        free = rejected[next_wish[rejected] < start[1:][rejected]]

    result = np.full(n_applicants, -1, dtype=np.int64)
    holding = slots[slots >= 0]
    result[pos_applicant[holding]] = pos_track[holding]
    return result
