"""Import the marks of a written test from a spreadsheet (CSV or XLSX).

Each line names an applicant by application reference, CIN or candidate number, and gives
a mark (``12,5``, ``12.5``, ``abs`` for a no-show; an empty mark is skipped). The file is
read with the admissions import's reader (encodings, delimiters, a title above the header).
The import is all or nothing: one bad line and nothing is recorded; a dry run reports the
bad lines and the changes it would make, and writes nothing.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePath

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tremplin.admissions.importing import describe_error
from tremplin.admissions.importing_files import TableError, decode
from tremplin.admissions.importing_headers import fold_header
from tremplin.admissions.models import Application
from tremplin.core.audit import log_action
from tremplin.core.identifiers import normalize_cin
from tremplin.selection.assessment_marks import ABSENT, mark_label, marks_record, parse_mark
from tremplin.selection.models import Component, Mark, TestSitting

# Header keys (folded like the admissions import's headers) of the columns we read.
KEY_HEADERS = {
    "reference": {"reference", "ref", "reference dossier", "reference candidature",
                  "application reference", "dossier", "المرجع", "مرجع", "رقم الملف"},
    "cin": {"cin", "cnie", "carte nationale", "identity card", "national id",
            "البطاقه الوطنيه", "ب ت و"},
    "number": {"candidate number", "candidat", "numero candidat", "candidate", "numero",
               "number", "n", "رقم المترشح", "المترشح", "رقم الامتحان", "numero examen"},
}  # fmt: skip
MARK_HEADERS = {"mark", "marks", "note", "notes", "score", "note 20", "mark 20", "resultat",
                "result", "النقطه", "العلامه", "النتيجه"}  # fmt: skip
KEYS = ("reference", "cin", "number")
MAX_ROWS = 100_000
MAX_COLUMNS = 50
HEADER_SEARCH = 10

# A file checked by a dry run waits here for its confirmation, an hour at most.
STASH_DIR = "private/imports/marks"
STASH_SALT = "tremplin.selection.marks_import"
STASH_MAX_AGE = timedelta(hours=1)


@dataclass
class MarksImport:
    """What an import did, or for a dry run would do."""

    dry_run: bool
    rows: int = 0
    key: str = ""  # which identifier the file uses
    changes: list[dict] = field(default_factory=list)  # {"line", "label", "old", "new"}
    unchanged: int = 0
    blank: int = 0
    problems: list[dict] = field(default_factory=list)  # {"line", "column", "reason"}
    written: bool = False


def _columns(headers: list[str]) -> tuple[str | None, int | None, int | None]:
    keys = [fold_header(h) for h in headers]
    key = position = mark = None
    for name in KEYS:
        if key is None:
            for i, k in enumerate(keys):
                if k in KEY_HEADERS[name]:
                    key, position = name, i
                    break
    for i, k in enumerate(keys):
        if k in MARK_HEADERS or k.startswith(("note ", "mark ")):
            mark = i
            break
    return key, position, mark


def read_marks_table(fileobj, filename: str) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """The header line, headers and non-blank data rows of a CSV or XLSX file of marks. The
    header is the first of the first rows that names an applicant column and a mark column
    (a title may sit above it); a CSV's delimiter is the one under which such a row appears."""
    data = fileobj.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        candidates = [_xlsx_rows(data)]
    else:
        text = decode(data)
        candidates = [
            list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=d), start=1))
            for d in (";", ",", "\t", "|")
        ]
    for rows in candidates:
        rows = [
            (line, [c.strip() for c in cells]) for line, cells in rows if "".join(cells).strip()
        ]
        if not rows:
            raise TableError("file_empty")
        if len(rows) > MAX_ROWS:
            raise TableError("too_many_rows", max=MAX_ROWS)
        for at, (line, cells) in enumerate(rows[:HEADER_SEARCH]):
            key, _key_at, mark = _columns(cells)
            if key is not None and mark is not None:
                return line, cells, rows[at + 1 :]
    line, cells = rows[0]
    return line, cells, rows[1:]


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    # A damaged workbook fails inside openpyxl in many ways; all mean the same to its sender.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
            return [
                (line, [_cell_text(v) for v in row[:MAX_COLUMNS]])
                for line, row in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        finally:
            workbook.close()
    except Exception as exc:
        raise TableError("file_unreadable") from exc


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _lookup(component: Component, key: str) -> dict[str, Application]:
    applications = Application.objects.filter(intake_id=component.scheme.intake_id).only(
        "id", "reference", "cin", "status", "eligibility", "first_name", "last_name"
    )
    if key == "reference":
        return {a.reference.upper(): a for a in applications}
    if key == "cin":
        return {a.cin: a for a in applications}
    by_id = {a.pk: a for a in applications}
    return {
        str(number): by_id[application_id]
        for number, application_id in TestSitting.objects.filter(component=component).values_list(
            "candidate_number", "application_id"
        )
    }


def _normalise(key: str, raw: str) -> str:
    raw = raw.strip()
    if key == "cin":
        return normalize_cin(raw) or raw.upper()
    if key == "number":
        return raw.removesuffix(".0").lstrip("0") or raw
    return raw.upper()


def marks_import(
    *, component: Component, fileobj, filename: str, actor, dry_run: bool = True
) -> MarksImport:
    """Check a file of marks; unless `dry_run`, record them all, or nothing on any problem."""
    result = MarksImport(dry_run=dry_run)
    try:
        header_line, headers, rows = read_marks_table(fileobj, filename)
    except TableError as error:
        result.problems.append(
            {
                "line": 0,
                "column": "",
                "reason": describe_error({"code": error.code, "params": error.params}),
            }
        )
        return result
    key, key_at, mark_at = _columns(headers)
    if key is None or mark_at is None:
        result.problems.append(
            {
                "line": header_line,
                "column": "",
                "reason": _(
                    "The file needs a column naming the applicant (reference, CIN or candidate "
                    "number) and a column “mark”."
                ),
            }
        )
        return result
    result.key = key
    applicants = _lookup(component, key)
    marks = {m.application_id: m for m in Mark.objects.filter(component=component)}
    absent = set(
        TestSitting.objects.filter(component=component, present=False).values_list(
            "application_id", flat=True
        )
    )
    key_header, mark_header = headers[key_at], headers[mark_at]
    values, seen = {}, {}
    for line, cells in rows:
        result.rows += 1
        cells = cells + [""] * (len(headers) - len(cells))
        raw_key, raw_mark = cells[key_at].strip(), cells[mark_at]

        def problem(column: str, reason: str, line=line) -> None:
            result.problems.append({"line": line, "column": column, "reason": reason})

        application = applicants.get(_normalise(key, raw_key)) if raw_key else None
        if application is None:
            problem(
                key_header,
                _("Nobody of this call has “%(value)s”.") % {"value": raw_key[:30]}
                if raw_key
                else _("This value is required."),
            )
            continue
        if application.pk in seen:
            problem(key_header, _("Already on line %(line)s.") % {"line": seen[application.pk]})
            continue
        seen[application.pk] = line
        if (
            application.status != Application.Status.SUBMITTED
            or application.eligibility != Application.Eligibility.ELIGIBLE
        ):
            problem(key_header, _("This application is withdrawn or not eligible."))
            continue
        try:
            value = parse_mark(raw_mark, allow_absent=True)
        except ValidationError as error:
            problem(mark_header, error.messages[0])
            continue
        if value is None:
            result.blank += 1
            continue
        if value != ABSENT and application.pk in absent:
            problem(mark_header, _("Recorded absent at the test: correct the attendance first."))
            continue
        old = mark_label(marks.get(application.pk))
        new = ABSENT if value == ABSENT else str(value)
        if old == new:
            result.unchanged += 1
            continue
        values[application.pk] = value
        label = raw_key if key != "cin" else application.reference
        result.changes.append({"line": line, "label": label, "old": old, "new": new})
    if result.problems or dry_run or not values:
        return result
    try:
        with transaction.atomic():
            marks_record(component=component, values=values, actor=actor, source=Mark.Source.IMPORT)
            log_action(
                "tremplin.selection.marks.imported",
                actor=actor,
                school=component.scheme.intake.school,
                obj=component,
                data={"component": component.code, "file": filename[:120], "changed": len(values)},
            )
    except ValidationError as error:
        result.problems.append({"line": 0, "column": "", "reason": " ".join(error.messages)})
        return result
    result.written = True
    return result


def marks_stash(upload, *, component: Component, name: str) -> str:
    """Keep a checked file for its confirmation, under a random private name, and return the
    signed token that names it: the confirmation cannot point at another file."""
    upload.seek(0)
    path = default_storage.save(
        f"{STASH_DIR}/{uuid.uuid4().hex}{PurePath(name).suffix.lower()}", upload
    )
    return signing.dumps({"path": path, "component": component.pk, "name": name}, salt=STASH_SALT)


def marks_unstash(token: str, *, component: Component) -> dict | None:
    """The stashed file a token names (``path``, ``name``), or None once it has expired, was
    used, or belongs to another test."""
    try:
        stashed = signing.loads(token, salt=STASH_SALT, max_age=STASH_MAX_AGE)
    except signing.BadSignature:
        return None
    if stashed["component"] != component.pk or not default_storage.exists(stashed["path"]):
        return None
    return stashed


def marks_stashes_forget(*, older_than: timedelta = STASH_MAX_AGE) -> int:
    """Delete the checked files never confirmed (their token has expired): they hold marks
    and identifiers, and nobody can use them any more. Returns how many went."""
    try:
        _dirs, names = default_storage.listdir(STASH_DIR)
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - older_than
    forgotten = 0
    for name in names:
        path = f"{STASH_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                forgotten += 1
        except FileNotFoundError:  # confirmed, or forgotten by another sweep, meanwhile
            continue
    return forgotten
