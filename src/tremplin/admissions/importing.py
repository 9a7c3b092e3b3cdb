"""Import applications from the spreadsheets people really have: Google Forms and Excel
exports, CSV or XLSX, headers in French, English or Arabic.

``read_table`` turns a file into a header and rows of text; ``import_applications`` reads
whole columns first (the order of the dates, the latest answer of each CIN: see
``importing_columns``), then checks every row (identifiers, dates, closed lists, communes,
track wishes, duplicates: ``importing_rows``), evaluates eligibility and inserts the valid
ones in batches. Each problem is reported as ``{"line", "column", "code", "params"}`` and
rendered in the reader's language by ``describe_error``.

Speed matters (a national call is a million rows): a row is checked with plain Python and
dictionaries built once per import, never with a form, and rows are written a batch at a time
with a fixed number of queries per batch (see ``importing_writer.Writer``).
"""

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import count, islice

from django.db import DatabaseError, transaction
from django_scopes import scope
from openpyxl.utils import get_column_letter

from tremplin.admissions import importing_headers as cols
from tremplin.admissions.importing_columns import date_order, replaced_rows
from tremplin.admissions.importing_files import Table, TableError, read_table
from tremplin.admissions.importing_headers import fold
from tremplin.admissions.importing_report import (
    DUPLICATE_CODES,
    FILE_PROBLEMS,
    REPEATED_CODES,
    SKIPPED_CODES,
    describe_error,
    describe_note,
    field_label,
    problem,
    report_header,
    report_rows,
)
from tremplin.admissions.importing_rows import GridColumn, Validator, track_keys
from tremplin.admissions.importing_writer import ELIGIBILITY_AT, RankingPublished, Writer
from tremplin.admissions.models import Application, ImportJob, Intake
from tremplin.core.audit import log_action

__all__ = [
    "ImportResult",
    "Table",
    "describe_error",
    "describe_note",
    "field_label",
    "import_applications",
    "import_refusal",
    "read_table",
    "report_header",
    "report_rows",
]


BATCH_SIZE = 2000
# Unrecognised headers named next to a missing column, so that one can be renamed.
MISSING_HINTS = 30
MODES = (ImportJob.Mode.ALL_OR_NOTHING, ImportJob.Mode.VALID_ONLY)

Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    mode: str
    dry_run: bool
    rows: int = 0
    valid: int = 0
    created: int = 0
    # Of the valid rows, and of the applications created, those the call's rules find
    # ineligible: the page says how many (and a dry run, before any is created).
    ineligible_valid: int = 0
    ineligible_created: int = 0
    # Rows skipped as duplicates: already in the call, or repeating a CIN of the file (of
    # which ``repeated``: an earlier answer of a CIN answered again, or the same CIN again).
    duplicates: int = 0
    repeated: int = 0
    # Rows left out without being errors: the template's example row.
    skipped: int = 0
    invalid: int = 0
    # Bad rows, duplicates and skipped rows, in file order: {"line", "column", "code", "params"}.
    report: list[dict] = field(default_factory=list)
    # Canonical field -> the header it was read from; headers we do not use.
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    # Canonical field -> how its values were read: {"code", "params"} (see describe_note),
    # with "also", the note given before, when there are two.
    notes: dict[str, dict] = field(default_factory=dict)

    def note(self, name: str, code: str, /, **params) -> None:
        """Say how the values of field ``name`` were read; a note already there stays, told
        first (two columns of answer times: the one read, and that the latest answer is
        kept)."""
        note = {"code": code, "params": params}
        if name in self.notes:
            note["also"] = self.notes[name]
        self.notes[name] = note

    @property
    def written(self) -> bool:
        return self.created > 0

    @property
    def already_present(self) -> int:
        """The duplicates already in the call (imported before, or applied on the portal)."""
        return self.duplicates - self.repeated

    @property
    def file_problems(self) -> list[dict]:
        """What kept the whole file from being read (missing columns, unreadable file...)."""
        return [e for e in self.report if e["code"] in FILE_PROBLEMS]

    @property
    def column_mapping(self) -> dict:
        """How the headers were read, as an ``ImportJob`` keeps it: ``read`` lists
        ``[header, field]`` in file order, ``ignored`` the headers not imported, ``notes``
        how the values of some fields were read (the order of the dates)."""
        read = [[header, name] for name, header in self.columns.items()]
        return {"read": read, "ignored": self.ignored_columns, "notes": self.notes}


def _question(grid: list[GridColumn]) -> str:
    """A ranking grid's question: its first header without the track in brackets."""
    header = grid[0].header
    return header[: header.rindex("[")].strip()


def _map_columns(
    table: Table, track_names: frozenset[str]
) -> tuple[dict[str, int], dict[str, str], list[str], dict, list[list[GridColumn]]]:
    """Where each field is, its header, the headers not read, the fields that several
    headers claim ({field: [headers]}: which one holds it is not for us to guess), and the
    ranking grids (each its columns: a question asked of two tracks or more, one of them
    at least named as a track of the call, ``track_names``, folded: « Choix de filière
    [obligatoire] » and « [facultatif] » are two wish columns, not a grid)."""
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    claimed: dict[str, list[str]] = {}
    questions: dict[str, list[GridColumn]] = {}
    for index, header in enumerate(table.headers):
        found = cols.grid_column(header)
        if found is not None:
            question, track = found
            questions.setdefault(question, []).append(GridColumn(index, header.strip(), track))
    grids = [
        columns
        for columns in questions.values()
        if len(columns) > 1 and any(fold(column.track) in track_names for column in columns)
    ]
    in_grids = {column.index for grid in grids for column in grid}
    for index, header in enumerate(table.headers):
        if index in in_grids:
            if index == grids[0][0].index:  # shown as one column: its question, its tracks
                tracks = " / ".join(column.track for column in grids[0])  # in any script
                headers["wish_grid"] = f"{_question(grids[0])} [{tracks}]"[:200]
            continue
        name = cols.header_field(header)
        if name is None:
            if header.strip():
                ignored.append(header.strip())
            continue
        claimed.setdefault(name, []).append(header.strip()[:60])
        if name not in positions:
            positions[name] = index
            headers[name] = header.strip()[:100]
    repeated = {name: found for name, found in claimed.items() if len(found) > 1}
    return positions, headers, ignored, repeated, grids


# Who the applicant is: read from the wrong one of two columns, a row would be someone else.
# Another field claimed twice (Google Forms' own "Adresse e-mail" beside a question asking
# for the email) is read from its first column, and a note says which was left.
IDENTITY_COLUMNS = frozenset(
    {"cin", "last_name", "first_name", "last_name_ar", "first_name_ar", "birth_date", "phone"}
)


def _column_problems(
    table: Table,
    positions: dict[str, int],
    repeated: dict,
    ignored: list[str],
    tracks: int,
    grids: list[list[GridColumn]],
) -> list[dict]:
    """The file problems of its header: identity fields claimed by several columns, the
    track choices given twice (choice columns and a ranking grid, or two grids), values in
    columns with no header, required columns missing (the first name column missing says
    that a full name must be split)."""
    problems = [
        problem(table.header_line, "", "column_repeated", field=name, columns=found)
        for name, found in repeated.items()
        if name in IDENTITY_COLUMNS
    ]
    wish_columns = [table.headers[at].strip()[:60] for name, at in positions.items()
                    if name.startswith("wish_")]  # fmt: skip
    ways = wish_columns[:1] + [_question(grid)[:100] for grid in grids]
    if len(ways) > 1:
        problems.append(problem(table.header_line, "", "wishes_twice", columns=ways))
    missing = [name for name in cols.REQUIRED_COLUMNS if name not in positions]
    if tracks > 1 and not wish_columns and not grids:
        missing.append(cols.wish_column(1))
    # Values under no header just right of track choices: a header merged over several
    # choices (« Filière souhaitée » over the 1st, 2nd and 3rd), whose later ones would be
    # lost without a word. Refused. Elsewhere (a column of row numbers, a mark added by
    # staff) such a column is left out, as it always was.
    named = {at: name for name, at in positions.items()}
    named.update((column.index, "wish_grid") for grid in grids for column in grid)
    problems += [
        problem(table.header_line, get_column_letter(index + 1), "column_unnamed",
                column=get_column_letter(index + 1), line=line, value=value[:60])
        for index, (line, value) in table.unnamed.items()
        if _left_of(index, table.headers, named).startswith("wish_")
    ]  # fmt: skip
    ignored = [h[:60] for h in ignored[:MISSING_HINTS]]
    hinted = False
    for name in missing:
        params = {"field": name, "ignored": ignored}
        arabic = positions.get(f"{name}_ar")
        if name in ("last_name", "first_name") and arabic is not None:
            # The name is there, in Arabic letters only (an Arabic form): not a full name
            # to split, but the Latin spelling of the identity card to add.
            params["arabic_only"] = table.headers[arabic].strip()[:60]
        elif name in ("last_name", "first_name") and not hinted:
            params["full_name"] = hinted = True
        problems.append(problem(table.header_line, "", "column_missing", **params))
    return problems


def _left_of(index: int, headers: list[str], named: dict[int, str]) -> str:
    """The field of the nearest column with a header left of column ``index`` ("" if none,
    or if that header names no field)."""
    for at in range(min(index, len(headers)) - 1, -1, -1):
        if headers[at].strip():
            return named.get(at, "")
    return ""


def _chunks(rows: list, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def import_applications(
    *,
    intake: Intake,
    fileobj,
    filename: str,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dry_run: bool = True,
    actor=None,
    progress: Progress | None = None,
    batch_size: int | None = None,
    notify_url: str = "",
    language: str = "fr",
    consent_attested: bool = False,
) -> ImportResult:
    """Check every row of the file and, unless ``dry_run``, create the valid applications.

    ``mode`` "all" (all or nothing) writes nothing if any row has an error, in one
    transaction; "valid" writes the valid rows, one transaction per batch. Duplicates are
    reported and skipped, never errors: a CIN already in the intake (importing the same file
    twice creates nothing the second time), and the earlier answers of a CIN that answered
    again later in the file (its latest answer is the one checked and imported).
    ``progress(done, total)`` is called outside any transaction after each batch.
    ``notify_url``: the applicant space's address; when given, each application created gets
    the portal's confirmation (its reference and this link), in the same transaction.
    ``language``: the applicants' where their row does not give one.
    ``consent_attested``: whoever imports attests that the school collected each applicant's
    consent to the call's privacy notice (law 09-08), which the import's event records.
    """
    if mode not in MODES:
        raise ValueError(f"unknown import mode {mode!r}")
    batch_size = batch_size or BATCH_SIZE
    result = ImportResult(mode=mode, dry_run=dry_run)
    with scope(school=intake.school):
        intake = Intake.objects.select_related("school__commune").get(pk=intake.pk)
        refusal = _refusal_code(intake)
    if refusal is not None:
        result.report.append(problem(0, "", refusal))
        return result
    try:
        table = read_table(fileobj, filename)
    except TableError as exc:
        result.report.append(problem(0, "", exc.code, **exc.params))
        return result
    result.rows = len(table.rows)
    with scope(school=intake.school):
        track_names, track_ids = track_keys(intake)
        positions, result.columns, result.ignored_columns, repeated, grids = _map_columns(
            table, frozenset(track_names)
        )
        track_count = len(track_ids)
        problems = _column_problems(
            table, positions, repeated, result.ignored_columns, track_count, grids
        )
        if problems:
            result.report.extend(problems)
            return result
        for name, found in repeated.items():  # not identity fields: those refuse the file
            result.note(name, "column_repeated", used=found[0], left=found[1:])
        if not table.rows:
            result.report.append(problem(table.header_line, "", "file_empty"))
            return result
        validator = _validator(
            intake, table, positions, result, grid=grids[0] if grids else [], language=language
        )
        if validator.grid_unknown or validator.grid_repeated:
            result.report.extend(
                problem(table.header_line, column.header[:100], "grid_track_unknown",
                        column=column.header[:100], track=column.track[:60])
                for column in validator.grid_unknown
            )  # fmt: skip
            result.report.extend(
                problem(table.header_line, "", "column_repeated", field="wish_grid", columns=found)
                for found in validator.grid_repeated
            )
            return result
        writer = (
            None
            if dry_run
            else Writer(intake, notify_url=notify_url, consent_attested=consent_attested)
        )
        audit = _auditor(
            intake, actor, filename, result, dry_run=dry_run, consent_attested=consent_attested
        )
        try:
            if mode == ImportJob.Mode.VALID_ONLY or dry_run:
                _import_streaming(validator, writer, table, result, progress, batch_size)
            else:
                _import_all_or_nothing(
                    validator, writer, table, result, progress, batch_size, audit
                )
        except RankingPublished:
            # Published meanwhile: the batches written before stay (valid rows only), the
            # rest is not written; all or nothing wrote nothing.
            if mode != ImportJob.Mode.VALID_ONLY:
                result.created = result.ineligible_created = 0
            result.report.append(problem(0, "", "ranking_published"))
        if validator.ticked_line:
            result.note(validator.first_wish, "wishes_in_one_cell", line=validator.ticked_line)
        if dry_run or mode == ImportJob.Mode.VALID_ONLY or not result.created:
            # All or nothing that created rows recorded it in their transaction.
            with transaction.atomic():
                audit()
    if result.repeated:
        # Kept with the notes (``column_mapping``): the job's page counts them apart.
        result.note("cin", "cin_repeated", count=result.repeated)
    return result


def import_refusal(intake: Intake) -> str | None:
    """Why no application can be imported into ``intake`` now, in the active language, or
    None when they can: it has no privacy notice yet, or a ranking of it is published (its
    decisions stand: an applicant added now was never ranked)."""
    with scope(school=intake.school):
        code = _refusal_code(intake)
    return describe_error(problem(0, "", code)) if code else None


def attestation_refusal(intake: Intake, *, attested: bool, shown_version) -> str | None:
    """Why a real import into ``intake`` cannot go on with this attestation (law 09-08),
    in the active language, or None: whoever imports must attest that the school collected
    the applicants' consent to the call's notice, the version the page showed
    (``shown_version``, as sent back) being still the call's."""
    from django.utils.translation import gettext as _

    if not attested:
        return _(
            "Nothing was imported: tick the box that attests the applicants' consent to the "
            "privacy notice (law 09-08). A dry run needs no attestation."
        )
    if str(shown_version) != str(intake.notice_version):
        return _(
            "Nothing was imported: the privacy notice of this call changed since this page "
            "was shown. Read the box again, and tick it if the applicants consented to this "
            "version."
        )
    return None


def _refusal_code(intake: Intake) -> str | None:
    # Imported here: the selection app builds on the admissions app, not the reverse.
    from tremplin.selection.schemes import published_run

    if intake.privacy_notice_id is None:
        return "no_privacy_notice"
    if published_run(intake) is not None:
        return "ranking_published"
    return None


def _validator(
    intake: Intake,
    table: Table,
    positions: dict[str, int],
    result: ImportResult,
    *,
    grid: list[GridColumn],
    language: str,
) -> Validator:
    """The rows' validator, with what the whole columns tell: the order of the birth dates
    and the rows replaced by a later answer of the same person (noted in ``result``)."""
    time_at = positions.get("answered_at", -1)
    if time_at >= 0:
        result.note("answered_at", "latest_answer_kept")
    replaced = replaced_rows(table.rows, positions["cin"], time_at)
    # Dates are counted over the answers kept: one corrected by answering again is no stray.
    kept = [row for row in table.rows if row[0] not in replaced]
    order = date_order(kept, positions["birth_date"])
    if order.note:
        result.note("birth_date", order.note["code"], **order.note["params"])
    validator = Validator(
        intake, positions, len(table.headers), date_order=order, replaced=replaced,
        grid=grid, language=language,
    )  # fmt: skip
    validator.headers.update(result.columns)
    return validator


def _auditor(
    intake: Intake,
    actor,
    filename: str,
    result: ImportResult,
    *,
    dry_run: bool,
    consent_attested: bool,
) -> Callable[[], None]:
    """The import's one audit event, written once the counts are known. A dry run, and an
    import that created nothing, are recorded too: checking a file matches its CINs with
    the call's applications, and names those it finds (a CIN recovered by trying a file of
    guesses would otherwise leave no trace)."""

    def audit() -> None:
        log_action(
            "tremplin.applications.import_checked" if dry_run else "tremplin.applications.imported",
            actor=actor,
            school=intake.school,
            obj=intake,
            data={
                "file": filename[:120],
                "mode": str(result.mode),
                "rows": result.rows,
                "created": result.created,
                "duplicates": result.duplicates,
                "repeated": result.repeated,
                "invalid": result.invalid,
                "consent_attested": consent_attested,
                # The notice attested to: the call's may change after this import.
                "notice_version": intake.privacy_notice.version,
            },
        )

    return audit


def _check_chunk(validator: Validator, chunk: list, result: ImportResult) -> list[tuple]:
    records = []
    for line, cells in chunk:
        record, problems = validator.check(line, cells)
        if problems:
            result.report.extend(problems)
            code = problems[0]["code"]
            if code in DUPLICATE_CODES:
                result.duplicates += 1
                result.repeated += code in REPEATED_CODES
            elif code in SKIPPED_CODES:
                result.skipped += 1
            else:
                result.invalid += 1
        if record is not None:
            records.append(record)
    result.valid += len(records)
    result.ineligible_valid += _ineligible(records)
    return records


def _ineligible(records) -> int:
    return sum(record[ELIGIBILITY_AT] == Application.Eligibility.INELIGIBLE for record in records)


def _written(result: ImportResult, records: list, skipped: list[tuple]) -> None:
    """Count ``records`` as created, but those ``skipped`` (already in the call)."""
    result.created += len(records) - len(skipped)
    result.ineligible_created += _ineligible(records) - _ineligible(r for r, _ in skipped)


def _late_duplicates(skipped: list[tuple], result: ImportResult, validator: Validator) -> None:
    for record, reference in skipped:
        result.valid -= 1
        result.ineligible_valid -= _ineligible([record])
        result.duplicates += 1
        line, column = validator.seen[record[0]], validator.headers["cin"]
        result.report.append(problem(line, column, "duplicate_existing", reference=reference))


def _import_streaming(validator, writer, table, result, progress, batch_size) -> None:
    done = 0
    for chunk in _chunks(table.rows, batch_size):
        records = _check_chunk(validator, chunk, result)
        if writer is not None and records:
            skipped = writer.write(records)
            _written(result, records, skipped)
            _late_duplicates(skipped, result, validator)
        done += len(chunk)
        if progress is not None:
            progress(done, result.rows)


def _import_all_or_nothing(validator, writer, table, result, progress, batch_size, audit):
    records: list[tuple] = []
    done = 0
    for chunk in _chunks(table.rows, batch_size):
        records.extend(_check_chunk(validator, chunk, result))
        done += len(chunk)
        if progress is not None:
            progress(done, result.rows)
    if result.invalid or not records:
        return
    first = writer.numbers_reserve(len(records))  # before the file's long transaction
    try:
        with transaction.atomic():
            batches = zip(count(0, batch_size), _chunks(records, batch_size), strict=False)
            for at, batch in batches:
                skipped = writer.write(batch, first + at)
                _written(result, batch, skipped)
                _late_duplicates(skipped, result, validator)
            if result.created:
                audit()
    except BaseException:
        # The numbers back if the database still answers; else a gap stays, as when the
        # process dies (harmless: references identify applications, they do not count them).
        with suppress(DatabaseError):
            writer.numbers_release(first, len(records))
        raise
