"""What the importer decides from whole columns before it checks the rows one by one: the
order a column writes its ``03/04/2001`` dates in, and which row is kept when someone answered
a form twice.

A spreadsheet from a US-locale Excel or Google Forms writes month/day/year; Morocco writes
day/month/year. A single ``03/04/2001`` cannot tell, a column can: one ``03/25/2001`` (and no
``25/03/2001``) says month first. A column with both kinds was typed by hand in both ways:
its dates that read either way are refused, not guessed.

Google Forms appends a new row each time someone sends the form again, usually to correct an
answer: the latest row of a CIN is kept, by the answer time (the « Horodateur » column) when
every row of that CIN has one, else by its place in the file.
"""

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tremplin.admissions.importing_headers import (
    DAY_FIRST,
    DIGITS,
    EITHER,
    MIXED,
    MONTH_FIRST,
    parse_date,
    written_order,
)
from tremplin.core.identifiers import normalize_cin

Rows = Sequence[tuple[int, list[str]]]


@dataclass(frozen=True)
class DateOrder:
    """How a column writes its text dates. ``day_first_line`` and ``month_first_line``: the
    first line whose date reads only that way (0: none), shown as evidence."""

    order: str = DAY_FIRST
    written: bool = False  # some dates are written d/m/y or m/d/y (not only ISO or serials)
    day_first_line: int = 0
    month_first_line: int = 0

    @property
    def lines(self) -> dict[str, int]:
        return {"day_first_line": self.day_first_line, "month_first_line": self.month_first_line}

    @property
    def note(self) -> dict | None:
        """How the column was read, for the description of the columns (None: nothing to say)."""
        if not self.written:
            return None
        if self.order == MIXED:
            return {"code": "dates_mixed", "params": self.lines}
        if self.order == MONTH_FIRST:
            return {"code": "dates_month_first", "params": {"line": self.month_first_line}}
        return {"code": "dates_day_first", "params": {}}


def _cell(cells: list[str], at: int) -> str:
    return cells[at].strip() if 0 <= at < len(cells) else ""


def date_order(rows: Rows, at: int) -> DateOrder:
    """The order of the text dates of column ``at``: month first when some can only be month
    first and none only day first, MIXED when both kinds appear, else day first (Morocco's
    convention, kept when every date reads both ways)."""
    first_line = {DAY_FIRST: 0, MONTH_FIRST: 0}
    written, seen = False, set()
    for line, cells in rows:
        value = _cell(cells, at)
        if not value or value in seen:
            continue
        seen.add(value)
        order = written_order(value)
        if order is None:
            continue
        written = True
        if order != EITHER and not first_line[order]:
            first_line[order] = line
            if all(first_line.values()):
                break
    day_first, month_first = first_line[DAY_FIRST], first_line[MONTH_FIRST]
    order = MIXED if day_first and month_first else MONTH_FIRST if month_first else DAY_FIRST
    return DateOrder(order, written, day_first, month_first)


_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm]|ص|م)?$")
# An answer time is no birth date: any date up to the end of time is plausible.
_NO_LIMIT = datetime.date.max


def answer_time(value: str, order: str) -> datetime.datetime | None:
    """A form's answer time: ``01/09/2025 10:15:32`` (in the column's date ``order``),
    ``9/1/2025 2:05:09 PM``, ISO; None when it cannot be read."""
    text = value.strip().translate(DIGITS).replace("T", " ", 1)
    date_text, _space, time_text = text.partition(" ")
    day = parse_date(date_text, _NO_LIMIT, order)
    if isinstance(day, str):
        return None
    if not time_text.strip():
        return datetime.datetime.combine(day, datetime.time())
    match = _TIME.match(time_text.strip())
    if match is None:
        return None
    hour, minute, second, half = match.groups()
    hour = int(hour)
    if half:
        hour = hour % 12 + (12 if half.lower() in ("pm", "م") else 0)
    try:
        return datetime.datetime.combine(day, datetime.time(hour, int(minute), int(second or 0)))
    except ValueError:
        return None


def replaced_rows(rows: Rows, cin_at: int, time_at: int) -> dict[int, int]:
    """The rows that a later answer with the same CIN replaces: {line: line of the row kept}.
    ``time_at``: the answer-time column, -1 when the file has none."""
    first: dict[str, int] = {}
    groups: dict[str, list[int]] = {}
    for index, (_line, cells) in enumerate(rows):
        cin = normalize_cin(cells[cin_at]) if cin_at < len(cells) else None
        if cin is not None and first.setdefault(cin, index) != index:
            groups.setdefault(cin, [first[cin]]).append(index)
    if not groups:
        return {}
    order = date_order(rows, time_at).order if time_at >= 0 else DAY_FIRST
    replaced = {}
    for indexes in groups.values():
        kept = rows[_latest(rows, indexes, time_at, order)][0]
        replaced.update((rows[i][0], kept) for i in indexes if rows[i][0] != kept)
    return replaced


def _latest(rows: Rows, indexes: list[int], time_at: int, order: str) -> int:
    """The latest answer among ``indexes``: by answer time when each has one (the file may
    have been sorted since), else the last in the file."""
    if time_at >= 0:
        times = [answer_time(_cell(rows[i][1], time_at), order) for i in indexes]
        if None not in times:
            return max(zip(times, indexes, strict=True))[1]
    return indexes[-1]
