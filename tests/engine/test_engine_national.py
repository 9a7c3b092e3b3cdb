"""The national files: fast reading, exact validation messages with line numbers, writing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tremplin.selection.engine import allocate
from tremplin.selection.national import NationalFileError, read_national
from tremplin.selection.national_results import write_cutoffs, write_explanation, write_result

TRACKS = "track,seats,quota_group,quota_share\nDEV,2,scholarship,0.5\nDATA,1,,\n"
APPLICANTS = "applicant,lottery,group\nali,3,scholarship\nsara,1,\nyoussef,2,resident;scholarship\n"
WISHES = (
    "applicant,rank,track,score\n"
    "ali,1,DEV,12.5\n"
    "ali,2,DATA,14\n"
    "sara,1,DEV,15.25\n"
    "youssef,1,DATA,14\n"
    "youssef,2,DEV,11\n"
)


def files(tmp_path: Path, wishes: str = WISHES, tracks: str = TRACKS, applicants=APPLICANTS):
    (tmp_path / "WISHES.csv").write_text(wishes, encoding="utf-8")
    (tmp_path / "TRACKS.csv").write_text(tracks, encoding="utf-8")
    paths = [tmp_path / "WISHES.csv", tmp_path / "TRACKS.csv"]
    if applicants is not None:
        (tmp_path / "APPLICANTS.csv").write_text(applicants, encoding="utf-8")
        paths.append(tmp_path / "APPLICANTS.csv")
    return paths


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_it_reads_the_files_allocates_and_writes_the_result(tmp_path):
    national = read_national(*files(tmp_path))
    assert national.tracks.reserved.tolist() == [1, 0]
    assert national.wishes.in_quota.tolist() == [True, False, False, False, True]
    result = allocate(national.wishes, national.engine_tracks(), national.lottery)
    write_result(tmp_path / "RESULT.csv", national, result)
    assert {r["applicant"]: r["track"] for r in rows(tmp_path / "RESULT.csv")} == {
        "ali": "DEV",
        "sara": "DEV",
        "youssef": "DATA",  # tie with ali at 14 on DATA, and youssef's lottery is lower
    }


def test_it_writes_one_explanation_line_per_wish_and_every_cut_off(tmp_path):
    national = read_national(*files(tmp_path))
    result = allocate(national.wishes, national.engine_tracks(), national.lottery)
    write_explanation(tmp_path / "EXPLAIN.csv", national, result)
    write_cutoffs(tmp_path / "CUTOFFS.csv", national, result)
    explained = rows(tmp_path / "EXPLAIN.csv")
    assert len(explained) == 5
    ali_dev = next(r for r in explained if r["applicant"] == "ali" and r["track"] == "DEV")
    assert ali_dev["outcome"] == "assigned"
    assert ali_dev["thanks_to_quota"] == "0"  # two seats, two applicants: no help needed
    assert ali_dev["score"] == "12.5"  # written back exactly as given
    ali_data = next(r for r in explained if r["applicant"] == "ali" and r["track"] == "DATA")
    assert ali_data["outcome"] == "not_needed"  # ranked below what he got
    assert ali_data["rank_in_track"] == "2"  # youssef ties at 14 with a lower lottery
    assert ali_data["cutoff_rank"] == "1"
    cutoffs = {r["track"]: r for r in rows(tmp_path / "CUTOFFS.csv")}
    assert cutoffs["DATA"]["last_admitted_score"] == "14.0"
    assert cutoffs["DATA"]["quota_rank"] == "-1"


def test_the_explanation_marks_who_got_in_thanks_to_a_quota(tmp_path):
    wishes = "applicant,rank,track,score\nsara,1,DEV,15\namine,1,DEV,14\nali,1,DEV,12\n"
    applicants = "applicant,lottery,group\nali,1,scholarship\nsara,2,\namine,3,\n"
    national = read_national(*files(tmp_path, wishes, applicants=applicants))
    result = allocate(national.wishes, national.engine_tracks(), national.lottery)
    write_explanation(tmp_path / "EXPLAIN.csv", national, result)
    explained = {r["applicant"]: r for r in rows(tmp_path / "EXPLAIN.csv")}
    assert [explained[a]["outcome"] for a in ("sara", "amine", "ali")] == [
        "assigned",
        "waiting",
        "assigned",
    ]
    assert explained["ali"]["thanks_to_quota"] == "1"
    assert explained["ali"]["cutoff_rank"] == "3"  # the quota line: the last group member
    assert explained["amine"]["cutoff_rank"] == "1"  # the open line: sara
    assert explained["amine"]["waitlist_position"] == "1"


def test_without_a_lottery_it_draws_one_from_the_seed_keyed_by_identifier(tmp_path):
    first = read_national(*files(tmp_path, applicants=None), seed=11)
    shuffled = WISHES.splitlines()
    again = read_national(
        *files(tmp_path, "\n".join([shuffled[0], *reversed(shuffled[1:])]) + "\n", applicants=None),
        seed=11,
    )
    by_id = dict(zip(first.applicant_ids.tolist(), first.lottery.tolist(), strict=True))
    assert by_id == dict(zip(again.applicant_ids.tolist(), again.lottery.tolist(), strict=True))
    assert first.seed == 11
    other = read_national(*files(tmp_path, applicants=None), seed=12)
    assert other.lottery.tolist() != first.lottery.tolist() or len(by_id) < 3


@pytest.mark.parametrize(
    ("wishes", "message"),
    [
        ("applicant,rank,track\nali,1,DEV\n", "WISHES.csv, line 1: missing column 'score'"),
        (WISHES + "ali,3,WEB,12\n", "WISHES.csv, line 7: unknown track 'WEB' (not in TRACKS.csv)"),
        (
            WISHES + "ali,3,DEV,12\n",
            "line 7: duplicate wish: applicant 'ali' already gives this track on line 2",
        ),
        (
            WISHES + "sara,1,DATA,12\n",
            "line 7: duplicate wish: applicant 'sara' already gives this rank on line 4",
        ),
        (WISHES.replace("15.25", "15,25"), "line 4: expected 4 fields, found 5"),
        (WISHES.replace("15.25", "high"), "line 4: bad number 'high' in column 'score'"),
        (
            WISHES.replace("youssef,2,DEV", "youssef,two,DEV"),
            "line 6: bad number 'two' in column 'rank'",
        ),
        (WISHES.replace("youssef,2,DEV", "youssef,0,DEV"), "line 6: the rank must be 1 or more"),
        (WISHES.replace("12.5", "nan"), "line 2: the score must be a finite number"),
        (WISHES + "nobody,1,DEV,12\n", "line 7: unknown applicant 'nobody' (not in APPLICANTS)"),
        (
            WISHES.replace("\nsara", "\n\n\nsara") + "ali,3,WEB,1\n",
            "WISHES.csv, line 9: unknown track",
        ),
        ("", "WISHES.csv, line 1: the file is empty"),
    ],
)
def test_it_names_the_line_of_every_problem_in_wishes(tmp_path, wishes, message):
    with pytest.raises(NationalFileError) as error:
        read_national(*files(tmp_path, wishes))
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("tracks", "message"),
    [
        ("track\nDEV\n", "TRACKS.csv, line 1: missing column 'seats' (the header has: track)"),
        ("track,seats\nDEV,2\nDEV,3\n", "line 3: track 'DEV' is already on line 2"),
        ("track,seats\nDEV,two\n", "line 2: bad number 'two' for seats"),
        ("track,seats\nDEV,-1\n", "line 2: seats cannot be negative"),
        ("track,seats,quota_group,quota_share\nDEV,2,scholarship,\n", "give both quota_group"),
        ("track,seats,quota_group,quota_share\nDEV,2,scholarship,1.5\n", "between 0 and 1"),
        ("track,seats\nDEV,2,3\n", "line 2: expected 2 fields, found 3"),
    ],
)
def test_it_names_the_line_of_every_problem_in_tracks(tmp_path, tracks, message):
    with pytest.raises(NationalFileError) as error:
        read_national(*files(tmp_path, tracks=tracks))
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("applicants", "message"),
    [
        (
            "applicant,lottery\nali,1\nali,2\n",
            "APPLICANTS.csv, line 3: applicant 'ali' is already on line 2",
        ),
        (
            "applicant,lottery\nali,1\nsara,1\nyoussef,2\n",
            "line 3: lottery number 1 is already on line 2",
        ),
        ("applicant,lottery\nali,x\n", "line 2: bad number 'x' in column 'lottery'"),
    ],
)
def test_it_names_the_line_of_every_problem_in_applicants(tmp_path, applicants, message):
    with pytest.raises(NationalFileError) as error:
        read_national(*files(tmp_path, applicants=applicants))
    assert message in str(error.value)


def test_identifiers_with_commas_and_accents_come_back_unchanged(tmp_path):
    wishes = 'applicant,rank,track,score\n"Benali, Aïcha",1,"Dév, web",12\nسارة,1,"Dév, web",13\n'
    tracks = 'track,seats\n"Dév, web",5\n'
    national = read_national(*files(tmp_path, wishes, tracks, applicants=None))
    result = allocate(national.wishes, national.engine_tracks(), national.lottery)
    write_result(tmp_path / "RESULT.csv", national, result)
    assert rows(tmp_path / "RESULT.csv") == [
        {"applicant": "Benali, Aïcha", "track": "Dév, web"},
        {"applicant": "سارة", "track": "Dév, web"},
    ]


def test_columns_may_come_in_any_order_with_extra_ones_ignored(tmp_path):
    wishes = "score,note,track,applicant,rank\n12,x,DEV,ali,1\n13,y,DEV,sara,1\n"
    national = read_national(*files(tmp_path, wishes, applicants=None))
    assert national.wishes.score.tolist() == [12.0, 13.0]
    assert national.applicant_ids.tolist() == [b"ali", b"sara"]


def test_a_share_of_0_3_of_10_seats_reserves_exactly_3(tmp_path):
    tracks = "track,seats,quota_group,quota_share\nDEV,10,scholarship,0.3\nDATA,7,resident,0.5\n"
    national = read_national(*files(tmp_path, tracks=tracks))
    assert national.tracks.reserved.tolist() == [3, 4]
    assert national.wishes.in_quota.tolist() == [True, False, False, True, True]
