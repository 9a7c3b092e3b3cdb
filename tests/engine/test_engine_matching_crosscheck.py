"""Cross-check against the `matching` library's resident-optimal hospital/resident solver.

Without quotas our problem is exactly the library's: tracks are hospitals ranking their
applicants by score then lottery, with capacities. Its matching must be ours, applicant
for applicant, on random instances up to 10,000 applicants.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching.games import HospitalResident

from tremplin.selection.engine import Tracks, Wishes, allocate

# The library warns about every player it has to drop; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:matching")


def random_instance(n: int, n_tracks: int, seed: int) -> tuple[Wishes, Tracks, np.ndarray]:
    rng = np.random.default_rng(seed)
    applicant, track, preference = [], [], []
    for a in range(n):
        chosen = rng.choice(
            n_tracks, size=int(rng.integers(0, min(5, n_tracks) + 1)), replace=False
        )
        applicant += [a] * chosen.size
        track += chosen.tolist()
        preference += list(range(1, chosen.size + 1))
    score = np.round(rng.uniform(0, 20, len(applicant)) * 2) / 2  # halves: many ties
    seats = rng.integers(0, max(2, 2 * n // n_tracks), n_tracks)
    return (
        Wishes(
            np.array(applicant, dtype=np.int64),
            np.array(track, dtype=np.int64),
            np.array(preference, dtype=np.int64),
            score,
        ),
        Tracks(seats),
        rng.permutation(n) + 1,
    )


def solve_with_matching(wishes: Wishes, tracks: Tracks, lottery: np.ndarray) -> list[int]:
    # The library cannot hold a hospital with no place: we leave those tracks out, which
    # changes nothing since they admit nobody.
    open_track = tracks.seats[wishes.track] > 0
    by_track = np.lexsort((lottery[wishes.applicant], -wishes.score, wishes.track))
    hospitals: dict[str, list[str]] = {}
    for w in by_track[open_track[by_track]].tolist():
        hospitals.setdefault(f"t{wishes.track[w]}", []).append(f"a{wishes.applicant[w]}")
    residents: dict[str, list[str]] = {}
    for a, t, ok in zip(
        wishes.applicant.tolist(), wishes.track.tolist(), open_track.tolist(), strict=True
    ):
        if ok:
            residents.setdefault(f"a{a}", []).append(f"t{t}")
    capacities = {h: int(tracks.seats[int(h[1:])]) for h in hospitals}
    result = [-1] * lottery.size
    if not residents:
        return result
    game = HospitalResident.create_from_dictionaries(residents, hospitals, capacities)
    for hospital, matched in game.solve(optimal="resident").items():
        for resident in matched:
            result[int(resident.name[1:])] = int(hospital.name[1:])
    return result


def in_deep_thread(function, *args):
    """Run `function` where the library's recursive deep copies have room to recurse."""
    outcome: list = []
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200_000)
    threading.stack_size(256 * 1024 * 1024)
    try:
        worker = threading.Thread(target=lambda: outcome.append(function(*args)))
        worker.start()
        worker.join()
    finally:
        threading.stack_size(0)
        sys.setrecursionlimit(limit)
    assert outcome, "the matching library failed; see the thread's traceback above"
    return outcome[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 80), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_it_finds_the_matching_library_s_matching_on_small_random_instances(n, n_tracks, seed):
    wishes, tracks, lottery = random_instance(n, n_tracks, seed)
    expected = solve_with_matching(wishes, tracks, lottery)
    assert allocate(wishes, tracks, lottery).assigned_track.tolist() == expected


@pytest.mark.parametrize(
    ("n", "n_tracks", "seed"), [(1_000, 20, 1), (3_000, 60, 2), (10_000, 100, 3)]
)
def test_it_finds_the_matching_library_s_matching_on_instances_up_to_ten_thousand(
    n, n_tracks, seed
):
    wishes, tracks, lottery = random_instance(n, n_tracks, seed)
    expected = in_deep_thread(solve_with_matching, wishes, tracks, lottery)
    result = allocate(wishes, tracks, lottery)
    assert result.n_assigned > n // 3
    assert result.assigned_track.tolist() == expected
