"""`tremplin allocate`: a national file in, RESULT.csv and a readable report out, no database."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

TRACKS = "track,seats,quota_group,quota_share\nDEV,1,scholarship,0.5\nDATA,1,,\n"
WISHES = (
    "applicant,rank,track,score\nali,1,DEV,12\nsara,1,DEV,15\nsara,2,DATA,11\nyoussef,1,DATA,14\n"
)
APPLICANTS = "applicant,lottery,group\nali,1,scholarship\nsara,2,\nyoussef,3,\n"


def write(directory: Path, **files: str) -> dict[str, Path]:
    paths = {}
    for name, text in files.items():
        paths[name] = directory / f"{name.upper()}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def allocate(**options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("allocate", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_it_allocates_a_national_file_and_reports_every_cut_off(tmp_path):
    paths = write(tmp_path, wishes=WISHES, tracks=TRACKS, applicants=APPLICANTS)
    out, err = allocate(
        wishes=paths["wishes"],
        tracks=paths["tracks"],
        applicants=paths["applicants"],
        out=tmp_path / "RESULT.csv",
    )
    with (tmp_path / "RESULT.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["applicant", "track"],
            ["ali", "DEV"],  # the one DEV seat is reserved for a scholarship holder
            ["sara", ""],  # beaten on DATA by youssef
            ["youssef", "DATA"],
        ]
    assert "Assigned 2 of 3 applicants (66.7%)" in out
    assert "checks passed: capacity, quota, no blocking pair, explained by the cut-offs" in out
    assert "Lottery: as given." in out
    assert "DEV" in out and "DATA" in out
    assert "Time:" in out
    assert "Read 4 wishes" in err  # progress goes to stderr, the report to stdout


def test_it_turns_a_bad_line_into_a_command_error_naming_it(tmp_path):
    paths = write(tmp_path, wishes=WISHES + "ali,2,WEB,9\n", tracks=TRACKS)
    with pytest.raises(CommandError, match=r"WISHES\.csv, line 6: unknown track 'WEB'"):
        allocate(wishes=paths["wishes"], tracks=paths["tracks"], out=tmp_path / "RESULT.csv")
    assert not (tmp_path / "RESULT.csv").exists()


def test_many_tracks_print_a_summary_and_write_every_cut_off_to_a_file(tmp_path):
    tracks = "track,seats\n" + "".join(f"T{t:02},1\n" for t in range(60))
    wishes = "applicant,rank,track,score\n" + "".join(
        f"a{a},1,T{a % 60:02},{10 + a % 7}\n" for a in range(150)
    )
    paths = write(tmp_path, wishes=wishes, tracks=tracks)
    out, _ = allocate(
        wishes=paths["wishes"],
        tracks=paths["tracks"],
        out=tmp_path / "RESULT.csv",
        cutoffs=tmp_path / "CUTOFFS.csv",
        explain=tmp_path / "EXPLAIN.csv",
        seed=5,
        verbosity=0,
    )
    assert "Cut-offs of the 10 most selective tracks" in out
    assert "Lottery: drawn from seed 5." in out
    assert len((tmp_path / "CUTOFFS.csv").read_text().splitlines()) == 61
    assert len((tmp_path / "EXPLAIN.csv").read_text().splitlines()) == 151
    assert "Assigned 60 of 150 applicants" in out
