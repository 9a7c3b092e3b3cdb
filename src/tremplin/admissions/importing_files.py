"""Reading an applications spreadsheet as text: the file (CSV or XLSX, as exported by Google
Forms, Excel or LibreOffice), its encoding, its delimiter, its sheet and its header row
(the row that names the most of our fields, ``importing_headers.header_field``).

``read_table`` is usable on its own: it returns the header and the rows as text, whatever
the encoding, delimiter or cell types of the file. The import of marks decodes its CSV files
with ``decode``.
"""

import codecs
import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from tremplin.admissions.importing_headers import header_field

MAX_ROWS = 500_000
MAX_COLUMNS = 200
_FIELD_LIMIT = 32 * 1024 * 1024
_HEADER_SEARCH = 10


@dataclass
class Table:
    """A sheet as text: ``rows`` are (line as the spreadsheet numbers it, cells)."""

    headers: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]
    # The columns that hold values under no header (a header merged over two or three
    # columns, a column added at the right): {index: (first line, its value)}. Not read.
    unnamed: dict[int, tuple[int, str]] = field(default_factory=dict)


class TableError(Exception):
    """The file cannot be read as a table; ``code`` and ``params`` as in an import report."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def read_table(fileobj, filename: str) -> Table:
    """The header row and the data rows of a CSV or XLSX file (blank rows skipped)."""
    data = fileobj.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        rows = _xlsx_rows(data)
    else:
        rows = _csv_rows(decode(data))
    return _table(rows)


# Three Arabic letters in a row (tatweel excluded: it is « Ü » in Windows-1252).
_ARABIC_WORD = re.compile("[\u0621-\u063a\u0641-\u064a]{3}")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else the
    single-byte encoding of Excel's "CSV" on Windows: Windows-1256 on an Arabic Windows when
    that reading gives Arabic words, else Windows-1252 (French Windows).

    A UTF-8 file with a few bytes that do not decode (a line pasted from elsewhere, a byte
    lost) stays UTF-8: those bytes become U+FFFD, which the importer reports on their rows
    (``UNREADABLE``), rather than the whole file read as Windows-1252, every accented
    letter turned into two wrong ones.

    The two single-byte encodings share the bytes of French lower-case accented letters, but
    Windows-1252's upper-case ones (« É », « Ç ») are Arabic letters in Windows-1256, alone
    between Latin letters: words of Arabic letters only come from an Arabic file."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        return data.decode("utf-8", errors="replace")
    arabic = data.decode("cp1256")  # every byte has a meaning in Windows-1256
    if _ARABIC_WORD.search(arabic):
        return arabic
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise TableError("file_encoding") from None


# What a character that could not be decoded became (the importer reports the rows holding it).
UNREADABLE = "\ufffd"


def _mostly_utf8(data: bytes) -> bool:
    """Whether the lines that are not plain ASCII are UTF-8 at least as often as not. A line
    of Windows-1252 or Windows-1256 text is almost never valid UTF-8 (an accented or Arabic
    letter is a byte that UTF-8 only accepts followed by specific others), so lines that
    decode are UTF-8 text, and the lines that do not are the exception."""
    valid = invalid = 0
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            invalid += 1
        else:
            valid += 1
    return valid > 0 and valid >= invalid


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    delimiter = _sniff_delimiter(text[:65536])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise TableError("file_unreadable") from exc


def _sniff_delimiter(sample: str) -> str:
    """The delimiter under which the first rows show the most of our headers (then the most
    columns): `;` from Excel in French, `,` from Google Forms, tab from "Unicode text"."""
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t", "|"):
        try:
            rows = list(
                islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), 10)
            )
        except csv.Error:
            continue
        score = max(((_named_fields(row), len(row)) for row in rows), default=(0, 0))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    # A damaged or foreign workbook fails inside openpyxl in many ways (zip, XML, types):
    # every one of them means the same to the person who sent it.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise TableError("file_unreadable") from exc
    try:
        sheet = _header_sheet(workbook)
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell_text(value) for value in row[:MAX_COLUMNS]]
    except Exception as exc:
        raise TableError("file_unreadable") from exc
    finally:
        workbook.close()


def _header_sheet(workbook):
    """The sheet whose header row names the most of our fields (a workbook may hold a cover
    sheet, or the applicants on its second sheet); on a tie the active sheet, then the first."""
    sheets = workbook.worksheets
    active = workbook.active
    best, best_key = None, None
    for index, sheet in enumerate(sheets):
        sheet.reset_dimensions()  # some generators write a wrong size; read what is there
        if len(sheets) == 1:
            return sheet
        rows = (
            (line, [_cell_text(value) for value in row[:MAX_COLUMNS]])
            for line, row in enumerate(sheet.iter_rows(values_only=True, max_row=100), start=1)
        )
        key = (_header_score(rows)[0], sheet is active, -index)
        if best_key is None or key > best_key:
            best, best_key = sheet, key
    if best is None:
        raise TableError("file_empty")
    return best


def _header_score(rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list]:
    """How many of our fields the best header among the first non-blank rows names, and those
    rows (line, cells)."""
    head: list[tuple[int, list[str]]] = []
    for line, cells in rows:
        if "".join(cells).strip():
            head.append((line, cells))
            if len(head) == _HEADER_SEARCH:
                break
    return max((_named_fields(cells) for _line, cells in head), default=0), head


def _named_fields(cells: list[str]) -> int:
    return sum(header_field(c) is not None for c in cells)


def _cell_text(value) -> str:
    """A cell as the text someone would have typed: numbers without a trailing ``.0`` (a phone
    or a CIN stored as a number), dates as ISO (the date parser reads ISO)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _table(rows: Iterator[tuple[int, list[str]]]) -> Table:
    """Find the header among the first non-blank rows (a title may sit above it): the row
    that names the most of our fields, the first one if none does."""
    _best, head = _header_score(rows)
    if not head:
        raise TableError("file_empty")
    scores = [_named_fields(cells) for _line, cells in head]
    at = scores.index(max(scores))
    header_line, headers = head[at]
    width = len(headers)
    blank = [index for index, header in enumerate(headers) if not header.strip()]
    unnamed: dict[int, tuple[int, str]] = {}

    def body_row(line: int, cells: list[str]) -> tuple[int, list[str]]:
        for index in blank:
            if index < len(cells) and cells[index].strip() and index not in unnamed:
                unnamed[index] = (line, cells[index].strip())
        for index in range(width, len(cells)):
            if cells[index].strip() and index not in unnamed:
                unnamed[index] = (line, cells[index].strip())
        return line, cells[:width]

    body = [body_row(line, cells) for line, cells in head[at + 1 :]]
    for line, cells in rows:
        if "".join(cells).strip():
            if len(body) >= MAX_ROWS:
                raise TableError("too_many_rows", max=MAX_ROWS)
            body.append(body_row(line, cells))
    return Table(
        headers=[h.strip() for h in headers],
        header_line=header_line,
        rows=body,
        unnamed=dict(sorted(unnamed.items())),
    )
