"""Writing the national results: RESULT.csv, EXPLAIN.csv and CUTOFFS.csv.

Pure numpy, no Django. Millions of lines are built a chunk at a time as one byte matrix
(see `_write`), not one Python string per field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from tremplin.selection.engine import Allocation
from tremplin.selection.national import NationalFile
from tremplin.selection.outcomes import WishOutcome

_CHUNK = 250_000
# Indexed by WishOutcome value: the words are the members' names, in lower case.
_OUTCOME_WORDS = np.array([o.name.lower().encode() for o in sorted(WishOutcome)], dtype=bytes)


def write_result(path: Path, national: NationalFile, allocation: Allocation) -> None:
    """RESULT.csv: `applicant,track`, one line per applicant, track empty if unassigned."""
    applicants = _csv_safe(national.applicant_ids)
    labels = np.append(_csv_safe(national.tracks.ids), b"")  # index -1 is the empty label
    _write(
        Path(path),
        [b"applicant", b"track"],
        applicants.size,
        lambda part: [applicants[part], labels[allocation.assigned_track[part]]],
    )


def write_explanation(path: Path, national: NationalFile, allocation: Allocation) -> None:
    """EXPLAIN.csv: one line per wish, with what decided it.

    `rank_in_track` is the applicant's place in the track's ranking (1 = first);
    `cutoff_rank` the line that applied to them there (the quota line when `in_quota`
    is 1): they get in at or above it; empty when seats were left, -1 when no seat was
    open to them. `outcome` is assigned, waiting, not_needed or accepted_earlier;
    `waitlist_position` the place among those waiting for that track (1 = next in line);
    `thanks_to_quota` is 1 on the wish an applicant obtained only thanks to a reserve.
    """
    al = allocation
    w = al.wishes
    applicants = _csv_safe(national.applicant_ids)
    tracks = _csv_safe(national.tracks.ids)
    flags = np.array([b"0", b"1"])
    outcomes = al.wish_outcomes()
    in_quota = al.in_quota_of_wishes()

    def columns(part: slice) -> list[np.ndarray]:
        # Built a chunk at a time: ten full columns of millions of fields would cost more
        # memory than the allocation itself.
        who = w.applicant[part]
        held = al.assigned_wish[who] == np.arange(part.start, part.stop)
        line = al.cutoff_rank_of_wishes(part)
        return [
            applicants[who],
            _blank_zero(np.asarray(w.preference[part])),
            tracks[w.track[part]],
            national.score_text[part],  # parsed as a number: nothing in it needs quoting
            _blank_zero(al.rank_in_track[part]),
            np.where(line < 0, b"-1", _blank_zero(line)),
            flags[in_quota[part].astype(np.int64)],
            _OUTCOME_WORDS[outcomes[part]],
            _blank_zero(al.waitlist_position[part]),
            flags[(held & al.via_quota[who]).astype(np.int64)],
        ]

    _write(
        Path(path),
        [
            b"applicant",
            b"rank",
            b"track",
            b"score",
            b"rank_in_track",
            b"cutoff_rank",
            b"in_quota",
            b"outcome",
            b"waitlist_position",
            b"thanks_to_quota",
        ],
        w.applicant.size,
        columns,
    )


def write_cutoffs(path: Path, national: NationalFile, allocation: Allocation) -> None:
    """CUTOFFS.csv: per track, seats, who got in and where the lines fell.

    `last_admitted_rank` and `_score`: the last applicant admitted in open competition;
    `quota_rank` and `quota_score`: the line for members of the track's quota group. A
    rank is empty when seats were left (no line) and -1 when there is no such seat.
    """
    cut = allocation.cutoffs
    open_score, quota_score = allocation.cutoff_scores()
    columns = [
        _csv_safe(national.tracks.ids),
        cut.seats.astype(bytes),
        np.asarray(cut.reserved).astype(bytes),
        cut.admitted.astype(bytes),
        cut.quota_admitted.astype(bytes),
        _signed(cut.last_rank),
        _blank_nan(open_score),
        _signed(cut.quota_rank),
        _blank_nan(quota_score),
    ]
    _write(
        Path(path),
        [
            b"track",
            b"seats",
            b"reserved",
            b"admitted",
            b"quota_admitted",
            b"last_admitted_rank",
            b"last_admitted_score",
            b"quota_rank",
            b"quota_score",
        ],
        cut.seats.size,
        lambda part: [c[part] for c in columns],
    )


def _blank_zero(values: np.ndarray) -> np.ndarray:
    """Positive integers as text, zero as an empty field.

    Formatting goes through a table of every value up to the largest: ranks and places
    repeat a lot, and formatting each of millions of integers one by one is what is slow.
    """
    if not values.size:
        return np.zeros(0, dtype="S1")
    values = np.maximum(values, 0)
    table = np.arange(int(values.max()) + 1).astype(bytes)
    table[0] = b""
    return table[values]


def _signed(values: np.ndarray) -> np.ndarray:
    """Like `_blank_zero`, but -1 (no seat of that kind) is written as -1."""
    return np.where(values < 0, b"-1", _blank_zero(values))


def _blank_nan(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), b"", values.astype(bytes))


def _csv_safe(ids: np.ndarray) -> np.ndarray:
    """Identifiers as CSV fields: quoted only where a comma, quote or line break needs it."""
    if not ids.size:
        return ids
    raw = np.ascontiguousarray(ids).view(np.uint8).reshape(ids.size, ids.dtype.itemsize)
    special = ((raw == ord(",")) | (raw == ord('"')) | (raw == ord("\n")) | (raw == ord("\r"))).any(
        axis=1
    )
    if not special.any():
        return ids
    values = ids.tolist()
    for i in np.flatnonzero(special).tolist():
        values[i] = b'"' + values[i].replace(b'"', b'""') + b'"'
    return np.array(values, dtype=bytes)


def _write(
    path: Path,
    header: list[bytes],
    n_rows: int,
    columns: Callable[[slice], list[np.ndarray]],
) -> None:
    """Write `n_rows` CSV rows whose fields `columns(rows)` gives as bytes arrays.

    Each chunk's columns are fixed-width bytes arrays padded with NUL: laid side by side
    with the separators they form one byte matrix, and dropping the NULs leaves the CSV
    text, with no Python loop per row or per field.
    """
    with path.open("wb") as out:
        out.write(b",".join(header) + b"\n")
        for start in range(0, n_rows, _CHUNK):
            part = slice(start, min(start + _CHUNK, n_rows))
            size = part.stop - part.start
            fields = columns(part)
            pieces = []
            for i, column in enumerate(fields):
                column = np.ascontiguousarray(column)
                pieces.append(column.view(np.uint8).reshape(size, column.dtype.itemsize))
                end = b"\n" if i == len(fields) - 1 else b","
                pieces.append(np.full((size, 1), end[0], dtype=np.uint8))
            flat = np.concatenate(pieces, axis=1).ravel()
            out.write(flat[flat != 0].tobytes())
