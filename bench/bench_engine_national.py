"""The engine on a national file, against the minimal deferred acceptance in `floor_da`.

    .venv/bin/python bench/bench_engine_national.py [--applicants N] [--tracks T]

1,000,000 applicants with up to 5 wishes among 1,000 tracks, 60% of which reserve seats
for one of two quota groups. The floor runs plain deferred acceptance (no quotas, no
checks, no explanations); the engine runs with quotas, its self-checks and everything an
explanation needs. Each runs in its own process, three times; we print the best time,
the ratio (goal: engine within 3x of the floor) and memory (goal: under 1 GB): the peak
resident size of the whole process, inputs included, and the peak of what the call
itself allocated (tracemalloc).

It also checks that with quotas switched off the engine finds the floor's matching, and
times one school of 201 applicants with a quota through the engine (goal: under 50 ms).
`--write-files DIR` writes the same instance as CSV files for `tremplin allocate`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from _instances import Instance, generate, write_national_files  # noqa: E402
from floor_da import floor_deferred_acceptance  # noqa: E402

from tremplin.selection.engine import (  # noqa: E402
    Candidates,
    Quota,
    Tracks,
    Wishes,
    allocate,
    rank_single_track,
    reserved_seats,
)

REPEATS = 3


def engine_inputs(inst: Instance, *, quotas: bool) -> tuple[Wishes, Tracks]:
    """The engine's arrays for an instance, with or without its quotas."""
    if not quotas:
        return Wishes(inst.applicant, inst.track, inst.rank, inst.score), Tracks(inst.seats)
    group_of_track = inst.quota_group[inst.track]
    in_quota = (group_of_track > 0) & (group_of_track == inst.group[inst.applicant])
    reserved = reserved_seats(inst.seats, [str(s) for s in inst.quota_share])
    return (
        Wishes(inst.applicant, inst.track, inst.rank, inst.score, in_quota=in_quota),
        Tracks(inst.seats, reserved),
    )


def digest(assigned: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(assigned, dtype=np.int64).tobytes()).hexdigest()


def child(which: str, n_applicants: int, n_tracks: int) -> None:
    """Run one side in this process and print its figures as JSON."""
    inst = generate(n_applicants, n_tracks, seed=1)
    if which == "floor":

        def run() -> np.ndarray:
            return floor_deferred_acceptance(
                inst.applicant, inst.track, inst.score, inst.lottery, inst.seats
            )

    else:
        wishes, tracks = engine_inputs(inst, quotas=True)

        def run() -> np.ndarray:
            return allocate(wishes, tracks, inst.lottery).assigned_track

    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        assigned = run()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures = {
        "seconds": min(times),
        "traced_peak": traced_peak,
        "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "assigned": int((assigned >= 0).sum()),
        "wishes": inst.n_wishes,
    }
    if which == "floor":
        figures["digest"] = digest(assigned)
    else:
        plain_wishes, plain_tracks = engine_inputs(inst, quotas=False)
        figures["digest_without_quotas"] = digest(
            allocate(plain_wishes, plain_tracks, inst.lottery).assigned_track
        )
    print(json.dumps(figures))


def measure(which: str, n_applicants: int, n_tracks: int) -> dict:
    command = [sys.executable, __file__, "--child", which]
    command += ["--applicants", str(n_applicants), "--tracks", str(n_tracks)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def school() -> tuple[float, int]:
    """Median time for one school: 201 applicants, 24 seats, 30 waiting, a 30% quota."""
    rng = np.random.default_rng(201)
    composite = np.round(rng.uniform(6, 19, 201), 2)
    candidates = Candidates(
        composite=composite,
        lottery=rng.permutation(201) + 1,
        below_threshold=rng.random(201) < 0.1,
        absent=rng.random(201) < 0.05,
    )
    quota = Quota("scholarship", "0.3", rng.random(201) < 0.25)
    times = []
    for _ in range(200):
        started = time.perf_counter()
        result = rank_single_track(candidates, seats=24, waitlist=30, quotas=[quota])
        explanations = [result.explain(i) for i in range(201)]
        times.append(time.perf_counter() - started)
    moved = sum(1 for e in explanations if e.moved_by)
    return float(np.median(times)), moved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["floor", "engine"])
    parser.add_argument("--applicants", type=int, default=1_000_000)
    parser.add_argument("--tracks", type=int, default=1_000)
    parser.add_argument(
        "--write-files",
        type=Path,
        metavar="DIR",
        help="only write the instance as WISHES/TRACKS/APPLICANTS.csv in DIR (to try "
        "`tremplin allocate` at national scale), then stop",
    )
    args = parser.parse_args()
    if args.write_files:
        inst = generate(args.applicants, args.tracks, seed=1)
        paths = write_national_files(inst, args.write_files)
        print("Wrote", ", ".join(str(p) for p in paths))
        return
    if args.child:
        child(args.child, args.applicants, args.tracks)
        return

    print(f"National file: {args.applicants:,} applicants, up to 5 wishes, {args.tracks:,} tracks")
    floor = measure("floor", args.applicants, args.tracks)
    engine = measure("engine", args.applicants, args.tracks)
    print(f"  {floor['wishes']:,} wishes; best of {REPEATS} runs, each side in its own process")
    for label, figures in (
        ("floor  (plain deferred acceptance):         ", floor),
        ("engine (quotas, self-checks, explanations):", engine),
    ):
        print(
            f"{label} {figures['seconds']:6.2f} s   "
            f"peak RSS {figures['max_rss'] / 2**20:5.0f} MB   "
            f"allocated by the call {figures['traced_peak'] / 2**20:5.0f} MB"
        )
    ratio = engine["seconds"] / floor["seconds"]
    print(f"engine / floor: {ratio:.2f}x (goal: within 3x; {'met' if ratio <= 3 else 'NOT met'})")
    under = engine["max_rss"] < 2**30
    print(f"engine memory under 1 GB: {'yes' if under else 'NO'}")
    same = engine["digest_without_quotas"] == floor["digest"]
    print(f"engine without quotas finds the floor's matching: {'yes' if same else 'NO'}")
    print(f"assigned with quotas: {engine['assigned']:,}; floor: {floor['assigned']:,}")

    seconds, moved = school()
    print(
        f"one school, 201 applicants, 30% quota, call order + 201 explanations: "
        f"{seconds * 1000:.2f} ms (median of 200; goal under 50 ms; {moved} moved by the quota)"
    )
    if not (same and under):
        sys.exit(1)


if __name__ == "__main__":
    main()
