"""The engine against the `matching` library on the same 10,000-applicant instance.

    .venv/bin/python bench/bench_engine_vs_matching.py

Both solve the same hospital/resident problem (no quotas, which the library does not
have): applicants rank up to 5 of 100 tracks, each track ranks its applicants by score
then lottery. We check that both give the identical matching, then print each one's time
measured in this run and the ratio (goal: the engine at least 100x faster).

The library's time covers building its game from preference dictionaries and solving it;
turning our arrays into those dictionaries is glue and is not counted.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _instances import Instance, generate
from matching.games import HospitalResident

from tremplin.selection.engine import Tracks, Wishes, allocate

N_APPLICANTS = 10_000
N_TRACKS = 100
ENGINE_REPEATS = 20


def preference_dictionaries(inst: Instance) -> tuple[dict, dict, dict]:
    """The library's inputs: resident and hospital preference lists and capacities."""
    by_track = np.lexsort((inst.lottery[inst.applicant], -inst.score, inst.track))
    hospitals: dict[str, list[str]] = {}
    for w in by_track.tolist():
        hospitals.setdefault(f"t{inst.track[w]}", []).append(f"a{inst.applicant[w]}")
    residents: dict[str, list[str]] = {}
    for a, t in zip(inst.applicant.tolist(), inst.track.tolist(), strict=True):
        residents.setdefault(f"a{a}", []).append(f"t{t}")
    capacities = {h: int(inst.seats[int(h[1:])]) for h in hospitals}
    return residents, hospitals, capacities


def solve_with_matching(inst: Instance, prefs: tuple[dict, dict, dict]) -> np.ndarray:
    """The library's resident-optimal matching, as a track per applicant."""
    game = HospitalResident.create_from_dictionaries(*prefs)
    matching = game.solve(optimal="resident")
    result = np.full(inst.n_applicants, -1, dtype=np.int64)
    for hospital, residents in matching.items():
        for resident in residents:
            result[int(resident.name[1:])] = int(hospital.name[1:])
    return result


def main() -> int:
    inst = generate(N_APPLICANTS, N_TRACKS, quotas=False, seed=10_000)
    wishes = Wishes(inst.applicant, inst.track, inst.rank, inst.score)
    tracks = Tracks(inst.seats)
    print(
        f"Instance: {inst.n_applicants:,} applicants, {inst.n_wishes:,} wishes, "
        f"{inst.n_tracks} tracks, {int(inst.seats.sum()):,} seats"
    )

    prefs = preference_dictionaries(inst)
    started = time.perf_counter()
    reference = solve_with_matching(inst, prefs)
    library_seconds = time.perf_counter() - started

    allocate(wishes, tracks, inst.lottery)  # warm-up: first-call imports and page faults
    timings = []
    for _ in range(ENGINE_REPEATS):
        started = time.perf_counter()
        result = allocate(wishes, tracks, inst.lottery)
        timings.append(time.perf_counter() - started)
    engine_seconds = float(np.median(timings))

    identical = bool(np.array_equal(result.assigned_track, reference))
    print(f"Identical matching: {'yes' if identical else 'NO'}")
    print(f"  assigned: engine {result.n_assigned:,}, matching {int((reference >= 0).sum()):,}")
    print(f"matching library (create + solve): {library_seconds * 1000:9.1f} ms")
    print(
        f"engine (allocate + self-checks):   {engine_seconds * 1000:9.1f} ms "
        f"(median of {ENGINE_REPEATS})"
    )
    ratio = library_seconds / engine_seconds
    verdict = "goal met" if ratio >= 100 else "goal NOT met"
    print(f"engine is {ratio:,.0f}x faster (goal: at least 100x; {verdict})")
    return 0 if identical else 1


if __name__ == "__main__":
    # The library deep-copies players that point at each other: on 10,000 applicants that
    # recursion needs a deep stack, which only a fresh thread can be given.
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(512 * 1024 * 1024)
    status: list[int] = []
    worker = threading.Thread(target=lambda: status.append(main()))
    worker.start()
    worker.join()
    sys.exit(status[0] if status else 1)
