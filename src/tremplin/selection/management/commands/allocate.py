"""`tremplin allocate`: run the national allocation from CSV files, outside any database."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tremplin.selection.engine import Allocation, SelfCheckError, allocate
from tremplin.selection.national import NationalFile, NationalFileError, read_national
from tremplin.selection.national_results import write_cutoffs, write_explanation, write_result

# Past this many tracks the report shows a summary and the most selective tracks; every
# cut-off is still available with --cutoffs (a file) or -v 2 (all printed).
PRINTED_TRACKS = 50
MOST_SELECTIVE = 10


class Command(BaseCommand):
    # Plain strings: argparse formats help text eagerly and cannot take lazy translations,
    # which is also why Django's own commands keep theirs untranslated.
    help = (
        "Allocate applicants to tracks by deferred acceptance from national CSV files, "
        "check the result and write RESULT.csv. Needs no database."
    )
    # The command reads and writes files only: no system checks, no migrations needed.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wishes", required=True, type=Path, help="WISHES.csv: applicant,rank,track,score"
        )
        parser.add_argument(
            "--tracks",
            required=True,
            type=Path,
            help="TRACKS.csv: track,seats and optionally quota_group,quota_share",
        )
        parser.add_argument(
            "--out", required=True, type=Path, help="RESULT.csv to write: applicant,track"
        )
        parser.add_argument(
            "--applicants",
            type=Path,
            help="APPLICANTS.csv: applicant and optionally lottery and group",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help="Seed of the lottery when APPLICANTS.csv gives none (default 0)",
        )
        parser.add_argument(
            "--explain", type=Path, help="EXPLAIN.csv to write: one line per wish, and why"
        )
        parser.add_argument(
            "--cutoffs", type=Path, help="CUTOFFS.csv to write: every track's cut-off"
        )

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        verbosity = int(options["verbosity"])

        def progress(message: str) -> None:
            if verbosity >= 1:
                self.stderr.write(f"[{time.perf_counter() - started:6.1f} s] {message}")

        seed = int(options["seed"])
        if not 0 <= seed < 2**64:
            raise CommandError("--seed must be between 0 and 2**64 - 1.")
        try:
            national = read_national(
                options["wishes"],
                options["tracks"],
                options["applicants"],
                seed=seed,
                on_progress=progress,
            )
        except NationalFileError as error:
            raise CommandError(str(error)) from error
        read_seconds = time.perf_counter() - started

        try:
            allocation = allocate(
                national.wishes, national.engine_tracks(), national.lottery, on_progress=progress
            )
        except SelfCheckError as error:
            raise CommandError(
                f"The result failed its self-check and was not written: {error}"
            ) from error
        except ValueError as error:
            raise CommandError(str(error)) from error
        allocate_seconds = time.perf_counter() - started - read_seconds

        progress(f"Writing {options['out']}")
        write_result(options["out"], national, allocation)
        if options["explain"]:
            progress(f"Writing {options['explain']}")
            write_explanation(options["explain"], national, allocation)
        if options["cutoffs"]:
            progress(f"Writing {options['cutoffs']}")
            write_cutoffs(options["cutoffs"], national, allocation)

        self._report(national, allocation, show_all=verbosity >= 2)
        total = time.perf_counter() - started
        self.stdout.write(
            f"Time: {total:.1f} s (reading {read_seconds:.1f} s, allocating and checking "
            f"{allocate_seconds:.1f} s, writing {total - read_seconds - allocate_seconds:.1f} s)"
        )

    def _report(self, national: NationalFile, allocation: Allocation, *, show_all: bool) -> None:
        n, assigned = allocation.n_applicants, allocation.n_assigned
        share = assigned / n if n else 0.0
        self.stdout.write(
            f"Assigned {assigned:,} of {n:,} applicants ({share:.1%}) to "
            f"{national.tracks.ids.size:,} tracks in {allocation.rounds} rounds; "
            f"checks passed: {', '.join(allocation.checks)}."
        )
        lottery = f"drawn from seed {national.seed}" if national.seed is not None else "as given"
        self.stdout.write(f"Lottery: {lottery}.")
        cut = allocation.cutoffs
        full = int(cut.full.sum())
        self.stdout.write(
            f"{full:,} tracks are full; {int((cut.reserved > 0).sum()):,} reserve seats for "
            f"a quota group; {int(allocation.via_quota.sum()):,} applicants were admitted "
            "thanks to a reserve, ranked too low to be among the seats without it."
        )
        open_score, quota_score = allocation.cutoff_scores()
        tracks = np.arange(cut.seats.size)
        if not show_all and tracks.size > PRINTED_TRACKS:
            # The most selective: the highest score needed in open competition.
            ranked = np.argsort(-np.nan_to_num(open_score, nan=-np.inf), kind="stable")
            tracks = ranked[:MOST_SELECTIVE]
            self.stdout.write(
                f"Cut-offs of the {MOST_SELECTIVE} most selective tracks "
                "(all of them: --cutoffs FILE, or -v 2):"
            )
        else:
            self.stdout.write(
                "Cut-offs: rank and score of the last admitted, in open competition and "
                "for the quota group:"
            )
        names = [national.tracks.ids[t].decode("utf-8", errors="replace") for t in tracks]
        width = max([len(name) for name in names] + [5])
        self.stdout.write(
            f"  {'track':<{width}} {'seats':>7} {'admitted':>8} {'last rank':>9} "
            f"{'score':>7}   {'reserved':>8} {'in group':>8} {'quota rank':>10} {'score':>7}"
        )
        for name, t in zip(names, tracks.tolist(), strict=True):
            self.stdout.write(
                f"  {name:<{width}} {int(cut.seats[t]):>7,} {int(cut.admitted[t]):>8,} "
                f"{_rank(cut.last_rank[t]):>9} {_score(open_score[t]):>7}   "
                f"{int(cut.reserved[t]):>8,} {int(cut.quota_admitted[t]):>8,} "
                f"{_rank(cut.quota_rank[t]):>10} {_score(quota_score[t]):>7}"
            )


def _rank(rank: int) -> str:
    # 0: seats were left, nobody who reached the track was refused; -1: no such seat.
    return {0: "open", -1: "-"}.get(int(rank), f"{int(rank):,}")


def _score(score: float) -> str:
    return "-" if np.isnan(score) else f"{score:.10g}"
