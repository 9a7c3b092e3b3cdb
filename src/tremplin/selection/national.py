"""The national allocation files: reading WISHES, TRACKS and APPLICANTS.

Pure Python and numpy, no Django, no pandas. A million applicants is a few million rows:
the big files go through numpy's C CSV parser in one call and are validated with
vectorised checks. When the parser refuses a file, a slow line-by-line pass runs to name
the first bad line; only the error path pays for it.

- WISHES.csv: `applicant,rank,track,score`, one row per wish, rank 1 = first choice,
  score = the applicant's composite for that track, higher is better.
- TRACKS.csv: `track,seats` and optionally `quota_group,quota_share`; the group's
  reserved seats are ceil(share * seats), computed exactly.
- APPLICANTS.csv (optional): `applicant`, optionally `lottery` (lower wins a tie, all
  different) and `group` (labels separated by ";"); with no lottery, one is drawn from the
  seed, keyed by identifier so that reordering the file changes nothing.

Identifiers are kept as the file's bytes (read as latin-1, which maps byte to byte), so any
UTF-8 identifier comes back out unchanged. Columns may come in any order; extra columns are
ignored, but every row must have as many fields as the header. Writing the results is in
`national_results`.
"""

from __future__ import annotations

import csv
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from tremplin.selection.engine import Tracks, Wishes
from tremplin.selection.ordering import draw_lottery_for_ids

Progress = Callable[[str], None]

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_KIND_DTYPE = {"int": "i8", "number": "f8"}
_SCORE_WIDTH = 24  # a score is kept as text too, to be written back exactly as given


class NationalFileError(ValueError):
    """A national file is malformed; the message names the file and the line."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path, self.line = path, line
        where = f"{path.name}, line {line}" if line else path.name
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class TrackTable:
    """TRACKS.csv, in file order: the track index is the row."""

    ids: np.ndarray  # bytes
    seats: np.ndarray
    reserved: np.ndarray
    quota_group: np.ndarray  # bytes, b"" for no quota
    quota_share: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class ApplicantTable:
    """APPLICANTS.csv, in file order: the applicant index is the row."""

    ids: np.ndarray  # bytes
    lottery: np.ndarray | None
    by_label: np.ndarray | None  # bool (applicant, label + 1): column 0 means "no quota"
    label_of_track: np.ndarray | None  # per track, its group's column in `by_label`


@dataclass(frozen=True)
class NationalFile:
    """Everything the engine needs, with the identifiers to write the results back."""

    applicant_ids: np.ndarray  # bytes, index = applicant
    tracks: TrackTable
    wishes: Wishes
    lottery: np.ndarray
    seed: int | None  # the seed the lottery was drawn from, None if the file gave it
    score_text: np.ndarray  # per wish, the score as written in WISHES.csv

    def engine_tracks(self) -> Tracks:
        return Tracks(self.tracks.seats, self.tracks.reserved)


def read_national(
    wishes_path: Path,
    tracks_path: Path,
    applicants_path: Path | None = None,
    *,
    seed: int = 0,
    on_progress: Progress | None = None,
) -> NationalFile:
    """Read and validate the files; raise `NationalFileError` at the first problem."""
    say = on_progress or (lambda message: None)
    tracks = read_tracks(Path(tracks_path))
    say(f"Read {tracks.ids.size:,} tracks")
    people = read_applicants(Path(applicants_path), tracks) if applicants_path else None
    if people is not None:
        say(f"Read {people.ids.size:,} applicants")

    path = Path(wishes_path)
    columns = {"applicant": "id", "rank": "int", "track": "id", "score": "text"}
    # Knowing every valid identifier bounds the width numpy must reserve per field; a
    # longer field is cut to one byte past the longest and so can never match by accident.
    widths = {"track": _longest(tracks.ids) + 1, "score": _SCORE_WIDTH}
    if people is not None:
        widths["applicant"] = _longest(people.ids) + 1
    table, rows = _load(path, columns, widths)
    say(f"Read {rows.count:,} wishes")
    # Own copies of what we keep, so the parsed block can be freed before allocating.
    rank = np.ascontiguousarray(table["rank"])
    score_text = table["score"]
    score_text = score_text.astype(f"S{max(_longest(score_text), 1)}")
    score = _numbers(path, rows, score_text)
    rows.require(rank >= 1, lambda i: f"the rank must be 1 or more, not {int(rank[i])}.")
    rows.require(np.isfinite(score), lambda i: "the score must be a finite number.")
    rows.require(table["applicant"] != b"", lambda i: "the applicant identifier is empty.")
    track = _codes_in(tracks.ids, table["track"], rows, "track", "TRACKS.csv")
    if people is None:
        applicant_ids, applicant = _index(table["applicant"])
        lottery, seed_used = draw_lottery_for_ids(seed, applicant_ids), seed
    else:
        applicant_ids = people.ids
        applicant = _codes_in(applicant_ids, table["applicant"], rows, "applicant", "APPLICANTS")
        lottery, seed_used = people.lottery, None
        if lottery is None:
            lottery, seed_used = draw_lottery_for_ids(seed, applicant_ids), seed
    _refuse_duplicates(rows, applicant, track, tracks.ids.size, applicant_ids, "track")
    _refuse_duplicates(rows, applicant, rank, int(rank.max(initial=0)) + 1, applicant_ids, "rank")
    in_quota = None
    if people is not None and people.by_label is not None:
        in_quota = people.by_label[applicant, people.label_of_track[track]]
    return NationalFile(
        applicant_ids=applicant_ids,
        tracks=tracks,
        wishes=Wishes(applicant, track, rank, score, in_quota=in_quota),
        score_text=score_text,
        lottery=lottery,
        seed=seed_used,
    )


def read_tracks(path: Path) -> TrackTable:
    """Read TRACKS.csv (small: the csv module, and exact Decimals for the shares)."""
    header = _read_header(path, ["track", "seats"], ["quota_group", "quota_share"])
    ids, seats, groups, shares, reserved = [], [], [], [], []
    line_of: dict[bytes, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header.names):
                raise NationalFileError(
                    path, line, f"expected {len(header.names)} fields, found {len(row)}."
                )
            value = header.getter(row)
            track = value("track").encode("utf-8")
            if not track:
                raise NationalFileError(path, line, "the track identifier is empty.")
            if track in line_of:
                raise NationalFileError(
                    path, line, f"track {_show(track)} is already on line {line_of[track]}."
                )
            line_of[track] = line
            count = _parse_count(path, line, value("seats"))
            group, share = value("quota_group").strip(), value("quota_share").strip()
            if bool(group) != bool(share):
                raise NationalFileError(
                    path, line, "give both quota_group and quota_share, or neither."
                )
            exact = _parse_share(path, line, share) if share else None
            ids.append(track)
            seats.append(count)
            groups.append(group.encode("utf-8"))
            shares.append(exact)
            # Exact ceiling: a share of 0.3 of 10 seats reserves 3, not the 4 of floats.
            reserved.append(0 if exact is None else math.ceil(exact * count))
    if not ids:
        raise NationalFileError(path, None, "no track is listed.")
    return TrackTable(
        ids=np.array(ids, dtype=bytes),
        seats=np.array(seats, dtype=np.int64),
        reserved=np.array(reserved, dtype=np.int64),
        quota_group=np.array(groups, dtype=bytes),
        quota_share=tuple(shares),
    )


def read_applicants(path: Path, tracks: TrackTable) -> ApplicantTable:
    """Read APPLICANTS.csv, and match its group labels against the tracks' quota groups."""
    header = _read_header(path, ["applicant"], ["lottery", "group"])
    columns = {"applicant": "id"}
    columns.update({name: kind for name, kind in (("lottery", "int"), ("group", "text"))})
    columns = {name: kind for name, kind in columns.items() if name in header.names}
    table, rows = _load(path, columns, {})
    ids = table["applicant"]
    rows.require(ids != b"", lambda i: "the applicant identifier is empty.")
    _refuse_repeats(rows, ids, lambda i: f"applicant {_show(ids[i])}")
    lottery = table.get("lottery")
    if lottery is not None:
        _refuse_repeats(rows, lottery, lambda i: f"lottery number {int(lottery[i])}")
    used = sorted({g for g in tracks.quota_group.tolist() if g})
    if "group" not in table or not used:
        return ApplicantTable(ids=ids, lottery=lottery, by_label=None, label_of_track=None)
    # Bracket every field with ";" so that a label only matches a whole label.
    labels = np.char.add(np.char.add(b";", np.char.replace(table["group"], b" ", b"")), b";")
    by_label = np.zeros((ids.size, len(used) + 1), dtype=bool)
    for column, label in enumerate(used, start=1):
        wanted = b";" + label.replace(b" ", b"") + b";"
        by_label[:, column] = np.char.find(labels, wanted) >= 0
    label_of_track = np.array(
        [used.index(g) + 1 if g else 0 for g in tracks.quota_group.tolist()], dtype=np.int64
    )
    return ApplicantTable(
        ids=ids, lottery=lottery, by_label=by_label, label_of_track=label_of_track
    )


@dataclass(frozen=True)
class _Header:
    names: list[str]

    def getter(self, row: list[str]) -> Callable[[str], str]:
        where = {name: i for i, name in enumerate(self.names)}
        return lambda name: row[where[name]] if name in where else ""


def _read_header(path: Path, required: list[str], optional: list[str]) -> _Header:
    expected = ",".join(required)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = next(csv.reader(handle), None)
    except FileNotFoundError as error:
        raise NationalFileError(path, None, "no such file.") from error
    except UnicodeDecodeError as error:
        raise NationalFileError(path, 1, "the header is not valid UTF-8.") from error
    if not first:
        raise NationalFileError(path, 1, f"the file is empty; expected a header: {expected}.")
    names = [name.strip().lower() for name in first]
    for name in required:
        if name not in names:
            raise NationalFileError(
                path, 1, f"missing column {name!r} (the header has: {', '.join(names)})."
            )
    for name in required + optional:
        if names.count(name) > 1:
            raise NationalFileError(path, 1, f"column {name!r} appears twice.")
    return _Header(names)


class _Rows:
    """Data rows of a big file, and how to name the line of any of them."""

    def __init__(self, path: Path, count: int, blank_lines: bool) -> None:
        self.path, self.count, self._blank_lines = path, count, blank_lines

    def line(self, row: int) -> int:
        if not self._blank_lines:
            return row + 2
        # Empty lines are skipped by the parser; count them only on the error path.
        with self.path.open("rb") as handle:
            handle.readline()
            seen = -1
            for number, text in enumerate(handle, start=2):
                seen += bool(text.strip(b"\r\n"))
                if seen == row:
                    return number
        return row + 2

    def require(self, ok: np.ndarray, message: Callable[[int], str]) -> None:
        bad = np.flatnonzero(~ok)
        if bad.size:
            row = int(bad[0])
            raise NationalFileError(self.path, self.line(row), message(row))


def _load(
    path: Path, columns: dict[str, str], widths: dict[str, int]
) -> tuple[dict[str, np.ndarray], _Rows]:
    """Parse a big CSV file in one call; `columns` maps name to "id", "text", "int" or
    "number"; identifiers and text are returned as bytes arrays."""
    header = _read_header(path, [n for n in columns], [])
    raw = path.read_bytes()
    newlines = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == ord("\n"))
    bounds = np.concatenate(([-1], newlines, [len(raw)]))
    longest = max(int(np.diff(bounds).max()), 2)
    blank_lines = b"\n\n" in raw or b"\n\r\n" in raw
    del raw, newlines, bounds
    # Every header column gets a field so the parser checks each row's field count;
    # columns we do not use are one byte wide.
    dtype = []
    for i, name in enumerate(header.names):
        kind = columns.get(name)
        if kind is None:
            dtype.append((f"_unused{i}", "S1"))
        elif kind in _KIND_DTYPE:
            dtype.append((name, _KIND_DTYPE[kind]))
        else:
            dtype.append((name, f"S{min(widths.get(name, longest), longest)}"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            data = np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                dtype=dtype,
                quotechar='"',
                comments=None,
                encoding="latin-1",
                ndmin=1,
            )
    except ValueError as error:
        raise _diagnose(path, header, columns) or NationalFileError(
            path, None, str(error)
        ) from error
    # Views into the one parsed block: copying each column would double the peak memory.
    table = {name: data[name] for name in columns}
    return table, _Rows(path, int(data.size), blank_lines)


def _diagnose(path: Path, header: _Header, columns: dict[str, str]) -> NationalFileError | None:
    """Find the first line the fast parser refused, reading line by line."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header.names):
                return NationalFileError(
                    path, line, f"expected {len(header.names)} fields, found {len(row)}."
                )
            value = header.getter(row)
            for name, kind in columns.items():
                text = value(name)
                pattern = {"int": _INTEGER, "number": _NUMBER}.get(kind)
                if pattern is not None and not pattern.fullmatch(text):
                    what = "a whole number" if kind == "int" else "a number"
                    return NationalFileError(
                        path, line, f"bad number {text!r} in column {name!r}: expected {what}."
                    )
    return None


def _numbers(path: Path, rows: _Rows, text: np.ndarray) -> np.ndarray:
    """Scores parsed from their text in bulk; a bad one is named with its line."""
    if text.size and int(np.char.str_len(text).max()) >= _SCORE_WIDTH:
        row = int(np.flatnonzero(np.char.str_len(text) >= _SCORE_WIDTH)[0])
        raise NationalFileError(path, rows.line(row), "the score is too long to be a number.")
    try:
        return text.astype(np.float64)
    except ValueError:
        for row in range(text.size):  # the error path: find the culprit
            if not _NUMBER.fullmatch(text[row].decode("latin-1")):
                raise NationalFileError(
                    path,
                    rows.line(row),
                    f"bad number {_show(text[row])} in column 'score': expected a number.",
                ) from None
        raise


def _codes_in(
    ids: np.ndarray, values: np.ndarray, rows: _Rows, what: str, where: str
) -> np.ndarray:
    """The index in `ids` of each value; an unknown value is an error at its line."""
    # Files are usually grouped by applicant: look up each run once, not each row.
    first = np.ones(values.size, dtype=bool)
    first[1:] = values[1:] != values[:-1]
    runs = values[first] if values.size else values
    grouped = runs.size < values.size // 2
    lookup = runs if grouped else values
    width = max(ids.dtype.itemsize, lookup.dtype.itemsize)
    if width <= 8:
        # Up to 8 bytes, an identifier read as a big-endian integer sorts like its bytes:
        # integer comparisons make the search several times faster than string ones.
        ids, lookup = _as_integers(ids), _as_integers(lookup)
    order = np.argsort(ids, kind="stable")
    known = ids[order]
    at = np.minimum(np.searchsorted(known, lookup), max(known.size - 1, 0))
    found = known[at] == lookup if known.size else np.zeros(lookup.size, dtype=bool)
    if not found.all():
        miss = int(np.flatnonzero(~found)[0])
        row = int(np.flatnonzero(first)[miss]) if grouped else miss
        raise NationalFileError(
            rows.path, rows.line(row), f"unknown {what} {_show(values[row])} (not in {where})."
        )
    codes = order[at]
    return (
        np.repeat(codes, np.diff(np.append(np.flatnonzero(first), values.size)))
        if grouped
        else codes
    )


def _as_integers(ids: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(ids.astype("S8")).view(">u8").astype(np.uint64)


def _index(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct identifiers (in order of first appearance when grouped) and codes."""
    if not values.size:
        return values, np.zeros(0, dtype=np.int64)
    first = np.ones(values.size, dtype=bool)
    first[1:] = values[1:] != values[:-1]
    runs = values[first]
    if np.unique(runs).size == runs.size:
        return runs, np.cumsum(first) - 1
    ids, codes = np.unique(values, return_inverse=True)
    return ids, codes.astype(np.int64)


def _refuse_duplicates(
    rows: _Rows,
    applicant: np.ndarray,
    other: np.ndarray,
    span: int,
    applicant_ids: np.ndarray,
    what: str,
) -> None:
    """Refuse an applicant naming the same `other` (track or rank) twice."""
    key = applicant.astype(np.int64) * span + other
    ordered = np.sort(key)
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    if same.size:
        first, again = np.flatnonzero(key == ordered[same[0]])[:2].tolist()
        a = applicant_ids[applicant[again]]
        raise NationalFileError(
            rows.path,
            rows.line(again),
            f"duplicate wish: applicant {_show(a)} already gives this {what} on line "
            f"{rows.line(first)}.",
        )


def _refuse_repeats(rows: _Rows, values: np.ndarray, name: Callable[[int], str]) -> None:
    order = np.argsort(values, kind="stable")
    same = np.flatnonzero(values[order][1:] == values[order][:-1])
    if same.size:
        first, again = sorted((int(order[same[0]]), int(order[same[0] + 1])))
        raise NationalFileError(
            rows.path, rows.line(again), f"{name(again)} is already on line {rows.line(first)}."
        )


def _parse_count(path: Path, line: int, text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise NationalFileError(path, line, f"bad number {text!r} for seats: expected a count.")
    count = int(text)
    if count < 0:
        raise NationalFileError(path, line, "seats cannot be negative.")
    return count


def _parse_share(path: Path, line: int, text: str) -> Decimal:
    try:
        share = Decimal(text)
    except InvalidOperation as error:
        raise NationalFileError(
            path, line, f"bad number {text!r} for quota_share: expected e.g. 0.3."
        ) from error
    if not share.is_finite() or not 0 <= share <= 1:
        raise NationalFileError(path, line, "quota_share must lie between 0 and 1.")
    return share


def _longest(ids: np.ndarray) -> int:
    return int(np.char.str_len(ids).max()) if ids.size else 1


def _show(identifier: bytes | np.bytes_) -> str:
    return repr(bytes(identifier).decode("utf-8", errors="replace"))
