"""What the importer decides from whole columns before it checks the rows one by one: the
order a column writes its ``03/04/2001`` dates in (and the dates themselves, ``parse_date``),
and which row is kept when someone answered a form twice.

A spreadsheet from a US-locale Excel or Google Forms writes month/day/year; Morocco writes
day/month/year. A single ``03/04/2001`` cannot tell, a column can: one ``03/25/2001`` (and no
``25/03/2001``) says month first. A column with both kinds is read the way most of them are
when the others are a few strays (a typo, one applicant typing on a US phone): those rows are
errors, its dates that read either way are read the majority's way. When neither way clearly
dominates the column was typed by hand in both ways: its dates that read either way are
refused, not guessed.

Google Forms appends a new row each time someone sends the form again, usually to correct an
answer: the latest row of a CIN is kept, by the answer time (the « Horodateur » column) when
every row of that CIN has one, else by its place in the file.
"""

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tremplin.admissions.importing_headers import DIGITS, Lookup
from tremplin.core.identifiers import normalize_cin

Rows = Sequence[tuple[int, list[str]]]

# --- Dates ----------------------------------------------------------------------------------

_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T]|$)")
_YMD = re.compile(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[ T]|$)")
_SERIAL = re.compile(r"\d{3,5}(?:\.\d*)?$")
_YEAR = re.compile(r"(?:19|20)\d\d$")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_OLDEST = datetime.date(1900, 1, 1)
# A number is taken for an Excel serial only if it gives a plausible date of birth: "2001" or
# "450" are not dates, whatever Excel would make of them.
_OLDEST_SERIAL = datetime.date(1930, 1, 1)


# The order of a column's ``03/04/2001`` dates (see ``date_order``): day first, month first (a
# US-locale export), or both in one column: then a date that reads either way is refused
# rather than guessed. EITHER: one date that reads both ways.
DAY_FIRST, MONTH_FIRST, MIXED, EITHER = "day_first", "month_first", "mixed", "either"

# A column is read one way despite a few dates that only read the other way ("strays": a typo,
# one applicant typing on a US phone) when they are at most 1 in STRAY_SHARE (5 %) of its dates
# that read one way only, and at most MAX_STRAYS rows. Each stray's row is reported, but the
# same people's dates that read both ways (about 3 for every 5 strays: a day up to the 12th)
# are read the majority's way, wrongly and without a word. Up to 5 in a file, that is the odd
# mistake, and far better than refusing a third of the file. Past that, or past 1 in 20 in a
# small file (19 dates of one kind outvote one of the other), the column was typed both ways,
# by another source or another clerk: its ambiguous dates are refused (MIXED), so that someone
# looks, rather than dozens read wrongly.
STRAY_SHARE = 20
MAX_STRAYS = 5


def parse_date(value: str, today: datetime.date, order: str = DAY_FIRST) -> datetime.date | str:
    """A date from ``dd/mm/yyyy`` (``mm/dd/yyyy`` in a MONTH_FIRST column; and ``-``, ``.``),
    ISO, or an Excel serial number that gives a plausible date of birth; otherwise the error
    code."""
    if not value.isascii():
        value = value.translate(DIGITS)
    try:
        if match := _DMY.match(value):
            day, month, year = (int(g) for g in match.groups())
            if order == MONTH_FIRST or (order == MIXED and day <= 12 < month):
                day, month = month, day
            if order == MIXED and day != month and month <= 12 and day <= 12:
                return "date_order_unclear"
            if len(match.group(3)) == 2:
                year += 2000 if 2000 + year <= today.year else 1900
            result = _day(year, month, day)
        elif match := _YMD.match(value):
            year, month, day = (int(g) for g in match.groups())
            result = _day(year, month, day)
        elif _SERIAL.match(value):
            if _YEAR.match(value) and int(value) <= today.year:
                return "date_year_only"
            result = _EXCEL_EPOCH + datetime.timedelta(days=int(float(value)))
            if not _OLDEST_SERIAL <= result <= today:
                return "date_invalid"
        else:
            return "date_invalid"
    except (ValueError, OverflowError):
        return "date_invalid"
    if isinstance(result, str):  # an error's code
        return result
    if not _OLDEST <= result <= today:
        return "date_out_of_range"
    return result


def _day(year: int, month: int, day: int) -> datetime.date | str:
    """The date, or "date_no_such_day" for a day its month lacks (31/02): written in the
    right order, it is the day and month to check, not the format."""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        if 1 <= month <= 12 and 1 <= day <= 31 and datetime.MINYEAR <= year <= datetime.MAXYEAR:
            return "date_no_such_day"
        raise


def written_order(value: str) -> str | None:
    """The order a ``03/25/2001`` date can be read in: DAY_FIRST or MONTH_FIRST when only one
    reading gives a day and a month, EITHER when both do; None for any other value."""
    if not value.isascii():
        value = value.translate(DIGITS)
    match = _DMY.match(value)
    if match is None:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    day_first = 1 <= first <= 31 and 1 <= second <= 12
    month_first = 1 <= first <= 12 and 1 <= second <= 31
    if day_first and month_first:
        return EITHER
    return DAY_FIRST if day_first else MONTH_FIRST if month_first else None


@dataclass(frozen=True)
class DateOrder:
    """How a column writes its text dates. ``day_first_line`` and ``month_first_line``: the
    first line whose date reads only that way (0: none), shown as evidence; ``strays``: the
    rows whose date only reads the other way in a column read DAY_FIRST or MONTH_FIRST."""

    order: str = DAY_FIRST
    written: bool = False  # some dates are written d/m/y or m/d/y (not only ISO or serials)
    day_first_line: int = 0
    month_first_line: int = 0
    strays: int = 0

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
            params = {"line": self.month_first_line}
            if self.strays:
                params |= {"count": self.strays, "stray_line": self.day_first_line}
                return {"code": "dates_month_first_strays", "params": params}
            return {"code": "dates_month_first", "params": params}
        if self.strays:
            params = {"count": self.strays, "stray_line": self.month_first_line}
            return {"code": "dates_day_first_strays", "params": params}
        return {"code": "dates_day_first", "params": {}}

    def error(self, code: str, value: str) -> tuple[str, dict]:
        """The code and params to report for ``value``, a date of this column that
        ``parse_date`` refused with ``code``: with the column's order when it explains why."""
        if code == "date_order_unclear":
            return code, self.lines
        if code != "date_invalid":
            return code, {}
        written = written_order(value) if self.strays else None
        if self.order == DAY_FIRST and written == MONTH_FIRST:
            return "date_not_day_first", {"line": self.day_first_line}
        if self.order == MONTH_FIRST and written == DAY_FIRST:
            return "date_not_month_first", {"line": self.month_first_line}
        if self.order == MONTH_FIRST:
            return "date_invalid_month_first", {}  # not "write it as dd/mm/yyyy"
        return code, {}


def _cell(cells: list[str], at: int) -> str:
    return cells[at].strip() if 0 <= at < len(cells) else ""


def date_order(rows: Rows, at: int) -> DateOrder:
    """The order of the text dates of column ``at``: the order of its dates that read only one
    way, when the others are at most a few strays (see STRAY_SHARE); MIXED when they are more;
    day first when every date reads both ways (Morocco's convention)."""
    counts = {DAY_FIRST: 0, MONTH_FIRST: 0}
    first_line = {DAY_FIRST: 0, MONTH_FIRST: 0}
    orders = Lookup(written_order)  # a column repeats its dates: each is read once
    for line, cells in rows:
        value = _cell(cells, at)
        if not value:
            continue
        order = orders[value]
        if order is None or order == EITHER:
            continue
        counts[order] += 1
        if not first_line[order]:
            first_line[order] = line
        if counts[DAY_FIRST] > MAX_STRAYS and counts[MONTH_FIRST] > MAX_STRAYS:
            break  # MIXED, whatever the other rows hold
    written = any(order is not None for order in orders.values())
    day_first, month_first = first_line[DAY_FIRST], first_line[MONTH_FIRST]
    strays = min(counts.values())
    if not strays:
        order = MONTH_FIRST if month_first else DAY_FIRST
    elif strays <= MAX_STRAYS and strays * STRAY_SHARE <= sum(counts.values()):
        order = DAY_FIRST if counts[DAY_FIRST] > counts[MONTH_FIRST] else MONTH_FIRST
    else:
        order, strays = MIXED, 0
    return DateOrder(order, written, day_first, month_first, strays)


# A zone after the time (« 2:51:31 PM GMT+1 », « UTC+01:00 », « Z », « +01:00 ») is read and
# ignored: the answers of one form share it, and only their order matters.
_TIME = re.compile(
    r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm]|ص|م)?"
    r"(?:\s*(?:GMT|UTC|Z)?\s*(?:[+\-−]\d{1,2}(?::?\d{2})?)?)?$",
    re.IGNORECASE,
)
# An answer time is no birth date: any date up to the end of time is plausible.
_NO_LIMIT = datetime.date.max


def answer_time(value: str, order: str) -> datetime.datetime | None:
    """A form's answer time: ``01/09/2025 10:15:32`` (in the column's date ``order``),
    ``9/1/2025 2:05:09 PM``, ISO; None when it cannot be read."""
    text = value.strip().translate(DIGITS)
    date_text, _space, time_text = text.partition(" ")
    if "T" in date_text:  # ISO: 2025-09-01T10:15:32 (and not the T of « GMT »)
        date_text, _t, clock = date_text.partition("T")
        time_text = f"{clock} {time_text}"
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
