"""Random instances shared by the benches: a national file's worth of wishes, as arrays.

Everything is drawn from one seed with numpy's PCG64 so that a bench run can be repeated.
Popularity is skewed (lognormal) and seats do not follow popularity, so some tracks are
heavily over-demanded and deferred acceptance has real work to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Instance:
    """Wishes sorted by applicant then preference, plus tracks and applicants."""

    n_applicants: int
    n_tracks: int
    applicant: np.ndarray  # int32 per wish
    rank: np.ndarray  # int16 per wish, 1 = first choice
    track: np.ndarray  # int32 per wish
    score: np.ndarray  # float64 per wish, out of 20 with two decimals (ties happen)
    seats: np.ndarray  # int64 per track
    lottery: np.ndarray  # int64 per applicant, a permutation: lower wins a tie
    group: np.ndarray  # int8 per applicant: 0 none, 1 scholarship, 2 resident
    quota_group: np.ndarray  # int8 per track: 0 no quota, else the group it reserves for
    quota_share: np.ndarray  # float64 per track

    @property
    def n_wishes(self) -> int:
        return int(self.applicant.size)


def generate(
    n_applicants: int,
    n_tracks: int,
    *,
    max_wishes: int = 5,
    seat_ratio: float = 0.7,
    quotas: bool = True,
    seed: int = 2024,
) -> Instance:
    """Draw an instance with up to `max_wishes` distinct wishes per applicant."""
    rng = np.random.default_rng(seed)
    popularity = rng.lognormal(0.0, 1.0, n_tracks)
    cumulative = np.cumsum(popularity / popularity.sum())
    cumulative[-1] = 1.0

    # Most applicants use every wish they may (as on Parcoursup), a few use only one or two.
    weights = np.arange(1, max_wishes + 1, dtype=np.float64) ** 2
    wanted = rng.choice(np.arange(1, max_wishes + 1), n_applicants, p=weights / weights.sum())
    # Draw `max_wishes` tracks by popularity, then keep each row's first occurrences only,
    # so applicants end up with 1..max_wishes distinct wishes.
    draws = np.searchsorted(cumulative, rng.random((n_applicants, max_wishes)), side="right")
    draws = np.minimum(draws, n_tracks - 1).astype(np.int32)
    keep = np.arange(max_wishes)[None, :] < wanted[:, None]
    for j in range(1, max_wishes):
        for i in range(j):
            keep[:, j] &= draws[:, j] != draws[:, i]
    applicant = np.repeat(np.arange(n_applicants, dtype=np.int32), max_wishes)[keep.ravel()]
    track = draws.ravel()[keep.ravel()]
    rank = (np.cumsum(keep, axis=1, dtype=np.int16)[keep]).astype(np.int16)

    ability = rng.normal(12.0, 3.0, n_applicants)
    score = ability[applicant] + rng.normal(0.0, 1.5, applicant.size)
    score = np.round(np.clip(score, 0.0, 20.0), 2)

    # Seats loosely follow popularity (sqrt) so that the popular tracks are over-demanded.
    weight = np.sqrt(popularity) * rng.uniform(0.5, 1.5, n_tracks)
    seats = np.maximum(1, np.floor(weight / weight.sum() * seat_ratio * n_applicants))
    seats = seats.astype(np.int64)

    group = np.zeros(n_applicants, dtype=np.int8)
    if quotas:
        group[rng.random(n_applicants) < 0.25] = 1
        group[(group == 0) & (rng.random(n_applicants) < 0.2)] = 2
    quota_group = np.zeros(n_tracks, dtype=np.int8)
    quota_share = np.zeros(n_tracks)
    if quotas:
        with_quota = rng.random(n_tracks) < 0.6
        quota_group[with_quota] = rng.integers(1, 3, int(with_quota.sum()))
        quota_share[with_quota] = rng.choice([0.1, 0.15, 0.2, 0.3], int(with_quota.sum()))

    return Instance(
        n_applicants=n_applicants,
        n_tracks=n_tracks,
        applicant=applicant,
        rank=rank,
        track=track,
        score=score,
        seats=seats,
        lottery=rng.permutation(n_applicants).astype(np.int64),
        group=group,
        quota_group=quota_group,
        quota_share=quota_share,
    )


def write_national_files(inst: Instance, directory: Path) -> tuple[Path, Path, Path]:
    """Write the instance as WISHES.csv, TRACKS.csv and APPLICANTS.csv in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    applicant_ids = np.char.add(b"A", np.char.zfill(np.arange(inst.n_applicants).astype(bytes), 7))
    track_ids = np.char.add(b"T", np.char.zfill(np.arange(inst.n_tracks).astype(bytes), 4))
    labels = np.array([b"", b"scholarship", b"resident"])
    wishes = directory / "WISHES.csv"
    with wishes.open("wb") as out:
        out.write(b"applicant,rank,track,score\n")
        rows = zip(
            applicant_ids[inst.applicant].tolist(),
            inst.rank.astype(bytes).tolist(),
            track_ids[inst.track].tolist(),
            np.char.mod("%.2f", inst.score).astype(bytes).tolist(),
            strict=True,
        )
        out.write(b"\n".join(map(b",".join, rows)) + b"\n")
    tracks = directory / "TRACKS.csv"
    with tracks.open("w") as out:
        out.write("track,seats,quota_group,quota_share\n")
        for t in range(inst.n_tracks):
            group = labels[inst.quota_group[t]].decode()
            share = f"{inst.quota_share[t]:g}" if group else ""
            out.write(f"{track_ids[t].decode()},{inst.seats[t]},{group},{share}\n")
    applicants = directory / "APPLICANTS.csv"
    with applicants.open("wb") as out:
        out.write(b"applicant,lottery,group\n")
        rows = zip(
            applicant_ids.tolist(),
            inst.lottery.astype(bytes).tolist(),
            labels[inst.group].tolist(),
            strict=True,
        )
        out.write(b"\n".join(map(b",".join, rows)) + b"\n")
    return wishes, tracks, applicants
