"""Export applications to CSV or XLSX, and the template of the import, with the same column
names as the importer reads (``importing_headers.CANONICAL_COLUMNS``), so an export can be
corrected in a spreadsheet and imported into another call.

Data minimisation: the CIN is masked and the accommodation columns are left out unless the
caller passes ``include_identity=True`` (a role holding ``applications.identity``, or a
command). ``applications_export`` records every export in the audit log.
"""

import csv
import datetime
import io
import itertools
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_scopes import scope

from tremplin.admissions import importing_headers as cols
from tremplin.admissions.eligibility import describe_for_staff
from tremplin.admissions.importing_report import field_label
from tremplin.admissions.models import Application, Intake, IntakeTrack, Wish
from tremplin.admissions.selectors import SEARCH
from tremplin.core.audit import log_action
from tremplin.core.formatting import format_list
from tremplin.core.i18n import localized
from tremplin.core.identifiers import format_phone, mask_cin
from tremplin.schools.models import Commune, Track

logger = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Columns only exports have (the importer ignores them).
EXPORT_ONLY_COLUMNS = ("reference", "submitted_at", "status", "eligibility", "eligibility_reasons")
CHUNK = 2000
# A cell starting with one of these is a formula for Excel and LibreOffice. In a CSV, exported
# text is prefixed with an apostrophe so that a name such as "=HYPERLINK(...)" stays text (the
# importer removes it); in a workbook, the cell is marked as text instead (see ``write_xlsx``),
# and shows the name as it is.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"


def track_columns(intake: Intake) -> int:
    """How many wish columns the intake's files have: none when it has a single track (every
    applicant then asks for it)."""
    with scope(school=intake.school):
        count = IntakeTrack.objects.filter(intake=intake).count()
    return count if count > 1 else 0


def export_only_label(name: str) -> str:
    """The header of a column only exports have, in the active language: none of them may be
    read by the importer as one of its fields (a test checks it in every language), so an
    export corrected in a spreadsheet imports as it is."""
    labels = {
        "reference": _("Reference"),
        "submitted_at": _("Submitted on"),
        "status": pgettext("export column", "Application status"),
        "eligibility": _("Eligibility"),
        "eligibility_reasons": _("Rules not met"),
    }
    return labels[name]


def column_label(name: str) -> str:
    """A column of the exports as the reader calls it (``Date de naissance``, « تاريخ
    الازدياد »): the importer reads it back (``importing_headers.header_field``)."""
    return export_only_label(name) if name in EXPORT_ONLY_COLUMNS else str(field_label(name))


def export_columns(*, include_identity: bool, wishes: int) -> list[str]:
    hidden = () if include_identity else cols.ACCOMMODATION_COLUMNS
    return [
        *EXPORT_ONLY_COLUMNS,
        *(name for name in cols.CANONICAL_COLUMNS if name not in hidden),
        *(cols.wish_column(rank) for rank in range(1, wishes + 1)),
    ]


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _same(value):
    return value


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


# What an export reads of each application: one row of values, not a model instance. Building
# 100,000 instances, their communes, and a queryset per application for its wishes was most
# of the time of an export, and loading the four times of each row a quarter of the rest.
_READ = (
    "id", "reference", "created_at", "status", "eligibility", "eligibility_reasons",
    "eligibility_overridden", "override_reason", "cin", "last_name", "first_name",
    "last_name_ar", "first_name_ar", "birth_date", "sex", "phone", "email", "commune_id",
    "education_level", "diploma", "employment", "motivation", "needs_accommodation",
    "accommodation_consent", "follow_up_consent", "language", "erased",
)  # fmt: skip


def application_rows(
    applications: Iterable[tuple], *, include_identity: bool, wishes: int, typed: bool
) -> Iterator[list]:
    """One list of cells per application (each as ``_for_export`` gives it), in
    ``export_columns`` order: for a CSV (``typed`` false) all text, for a workbook dates and
    times as such (local time, without its zone, which a spreadsheet cannot hold) and text as
    typed."""
    text = _same if typed else _csv_text
    # Each label translated once per export, not once per cell: ``get_FOO_display`` builds
    # and translates its list of choices at each call (half the time of an export).
    label = {
        name: {value: str(shown) for value, shown in Application._meta.get_field(name).flatchoices}
        for name in ("status", "eligibility", "sex", "education_level", "employment")
    }
    status, eligibility, sex = label["status"], label["eligibility"], label["sex"]
    education, employment = label["education_level"], label["employment"]
    yes_no = {True: _yes_no(True), False: _yes_no(False)}
    described: dict[str, str] = {}
    for a, commune, tracks in applications:
        submitted = timezone.localtime(a.created_at)
        row = [
            a.reference,
            submitted.replace(tzinfo=None) if typed else submitted.strftime("%d/%m/%Y %H:%M"),
            status.get(a.status, a.status),
            eligibility.get(a.eligibility, a.eligibility),
            text(_eligibility_reasons(a, described)),
            a.cin if include_identity else mask_cin(a.cin),
            text(a.last_name),
            text(a.first_name),
            text(a.last_name_ar),
            text(a.first_name_ar),
            _birth_date(a, typed),
            sex.get(a.sex, a.sex),
            format_phone(a.phone),
            text(a.email),
            commune,
            education.get(a.education_level, a.education_level),
            text(a.diploma),
            employment.get(a.employment, a.employment),
            text(a.motivation),
        ]
        if include_identity:
            row += [yes_no[bool(a.needs_accommodation)], yes_no[bool(a.accommodation_consent)]]
        row += [yes_no[bool(a.follow_up_consent)], a.language]
        tracks = tracks[:wishes]
        row += tracks + [""] * (wishes - len(tracks))
        yield row


def _for_export(queryset: QuerySet[Application], *, wishes: bool) -> Iterator[tuple]:
    """Each application of ``queryset``, in its order, as ``(values, commune, tracks)``: the
    values of ``_READ``, the name of its commune and those of the tracks it asked for in its
    order of preference (none unless ``wishes``), in the active language. The queries grow
    with the chunks of ``CHUNK`` applications, not with the applications: one for the chunk,
    one for its wishes, one for the communes and the tracks not met before."""
    rows = (
        queryset.annotate(erased=ExpressionWrapper(Q(erased_at__isnull=False), BooleanField()))
        .values_list(*_READ, named=True)
        .iterator(chunk_size=CHUNK)
    )
    communes, tracks = _Names(Commune), _Names(Track)
    while chunk := list(itertools.islice(rows, CHUNK)):
        chosen = defaultdict(list)
        if wishes:
            # The base manager: the chunk's applications are the school's already, and the
            # scoped manager would join each wish to its school.
            for application, track in (
                Wish._base_manager.filter(application__in=[a.id for a in chunk])
                .order_by("application", "rank")
                .values_list("application", "track")
            ):
                chosen[application].append(track)
        communes.read({a.commune_id for a in chunk})
        tracks.read({track for each in chosen.values() for track in each})
        for a in chunk:
            yield a, communes.names[a.commune_id], [tracks.names[t] for t in chosen[a.id]]


class _Names:
    """The names of a model's rows in the active language (``localized``), each read once."""

    def __init__(self, model):
        self.model = model
        self.names: dict[int, str] = {}

    def read(self, ids: set[int]) -> None:
        if missing := ids - self.names.keys():
            rows = self.model._base_manager.filter(pk__in=missing).only("name", "name_ar")
            self.names.update((each.pk, localized(each, "name")) for each in rows)


def csv_chunks(rows: Iterable[list], header: list[str]) -> Generator[bytes, None, int]:
    """The CSV in pieces of ``CHUNK`` rows: UTF-8 with a BOM (so Excel shows Arabic) and ``;``
    (Excel's separator in French). Returns the number of rows."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    count = 0
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
    return count


def write_csv(rows: Iterable[list], header: list[str], out) -> int:
    """``csv_chunks`` written to ``out`` (which takes bytes). Returns the number of rows."""
    chunks = csv_chunks(rows, header)
    while True:
        try:
            out.write(next(chunks))
        except StopIteration as done:
            return done.value


def write_xlsx(rows: Iterable[list], header: list[str], out, *, title: str = "") -> int:
    """A workbook written in openpyxl's write-only mode (rows streamed, not kept). Text that
    a spreadsheet would take for a formula is written as a text cell (never evaluated, also
    once edited), dates and times with a day/month/year format."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or _("applications"))[:31])
    sheet.freeze_panes = "A2"  # the header stays in view while scrolling
    sheet.sheet_view.rightToLeft = translation.get_language_bidi()  # as the pages read
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)

    def typed(value):
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if not value.startswith(_FORMULA_START):
                return value
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # openpyxl would write "=..." as a formula
            cell.quotePrefix = True  # and Excel would evaluate it once the cell is edited
            return cell
        if isinstance(value, datetime.date):
            cell = WriteOnlyCell(sheet, value=value)
            is_time = isinstance(value, datetime.datetime)
            cell.number_format = DATETIME_FORMAT if is_time else DATE_FORMAT
            return cell
        return value

    count = 0
    for count, row in enumerate(rows, start=1):  # noqa: B007
        sheet.append([typed(v) for v in row])
    workbook.save(out)
    return count


def applications_export(
    *,
    intake: Intake,
    queryset: QuerySet[Application],
    fmt: str,
    include_identity: bool,
    actor,
    out,
    filters: dict | None = None,
    progress: Callable[[int], None] | None = None,
    record: bool = True,
    labels: bool = True,
) -> int:
    """Write the applications of ``queryset`` (of ``intake``) to ``out`` (binary) as ``fmt``,
    and record the export in the audit log (unless ``record`` is false: the caller does,
    once the file is kept). Returns the number of applications written. ``progress``, if
    given, is called with the number written so far every ``CHUNK``.

    The header names the columns in the active language (``column_label``), or by their
    canonical names (``cin``, ``birth_date``…) with ``labels=False``, for scripts; the
    importer reads both."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    with scope(school=intake.school):
        header, rows = _export_rows(
            intake, queryset, include_identity, typed=fmt == "xlsx", labels=labels
        )
        if progress is not None:
            rows = reporting(rows, progress)
        count = (write_xlsx if fmt == "xlsx" else write_csv)(rows, header, out)
        if record:
            export_record(intake, fmt, count, include_identity, actor, filters)
    return count


def reporting(rows: Iterator[list], progress: Callable[[int], None]) -> Iterator[list]:
    """``rows`` as they go, calling ``progress`` with how many went every ``CHUNK``."""
    for count, row in enumerate(rows, start=1):
        yield row
        if count % CHUNK == 0:
            progress(count)


def applications_csv_stream(
    *,
    intake: Intake,
    queryset: QuerySet[Application],
    include_identity: bool,
    actor,
    filters: dict | None = None,
) -> Iterator[bytes]:
    """The CSV export as pieces of bytes, for a streamed response: the first leaves at once,
    whatever the number of applications, and each holds ``CHUNK`` of them.

    The export is recorded in the audit log now, before its first byte leaves, with the
    number of applications the list holds now: a download cancelled, or cut by an error, is
    recorded all the same (what left cannot be told), and an application submitted meanwhile
    may be in the file and not in the count. An error once the first bytes have left cannot
    become an error page: the file stops short (browsers say the download failed) and the
    error is logged here, as the server's own log would not say which export it was."""
    with scope(school=intake.school):
        count = queryset.filter(intake=intake).count()
        export_record(intake, "csv", count, include_identity, actor, filters)
    # Read once the view has returned, by the server: in the page's language.
    language = translation.get_language()

    def chunks() -> Iterator[bytes]:
        try:
            with translation.override(language):
                header, rows = _export_rows(
                    intake, queryset, include_identity, typed=False, labels=True
                )
                yield from csv_chunks(rows, header)
        except Exception:
            logger.exception("The CSV export of %s (%s) stopped short", intake.slug, intake.pk)
            raise

    return chunks()


def _export_rows(intake, queryset, include_identity: bool, *, typed: bool, labels: bool):
    wishes = track_columns(intake)
    header = export_columns(include_identity=include_identity, wishes=wishes)
    if labels:
        header = [column_label(name) for name in header]
    applications = _for_export(queryset.filter(intake=intake), wishes=bool(wishes))
    rows = application_rows(
        applications, include_identity=include_identity, wishes=wishes, typed=typed
    )
    return header, rows


def export_record(intake, fmt: str, count: int, include_identity: bool, actor, filters) -> None:
    """The export in the audit log: who, which list (its search not said), how many."""
    log_action(
        "tremplin.applications.exported",
        actor=actor,
        school=intake.school,
        obj=intake,
        data={
            "format": fmt,
            "count": count,
            "identity": include_identity,
            "filters": filters_audited(filters or {}),
        },
    )


def _birth_date(application, typed: bool):
    """Only the year of an erased application's: its day and month were chosen to keep the
    age on the reference date (``personal_data.erased_birth_date``), not the person's."""
    if application.erased:
        return application.birth_date.year
    return application.birth_date if typed else application.birth_date.strftime("%d/%m/%Y")


def _eligibility_reasons(application, described: dict[str, str]) -> str:
    """The rules not met, as staff read them, after the staff decision and its reason when
    staff decided (those rules then no longer apply). ``described`` keeps each sentence met
    before in the export: many applications fail the same rule the same way."""
    reasons = []
    for failed in application.eligibility_reasons:
        key = json.dumps(failed, sort_keys=True)
        if key not in described:
            described[key] = describe_for_staff(failed)
        reasons.append(described[key])
    reason = application.override_reason.strip().rstrip(".")
    if application.eligibility_overridden and reason:  # an erasure empties the reason
        reasons.insert(0, _("Decided by staff: %(reason)s.") % {"reason": reason})
    return " ".join(reasons)


def filters_audited(filters: dict) -> dict:
    """The list's filters as the audit log keeps them: the search box holds names and CINs,
    and the log outlives an erasure, so it records that the list was searched, not for what."""
    return {key: "*" if key == SEARCH else value for key, value in filters.items()}


def export_filename(
    intake: Intake, fmt: str, at: datetime.datetime | None = None, *, filters: dict | None = None
) -> str:
    """The file's name: the school, the call, whether the list was narrowed (by ``filters``,
    as ``export_tasks.export_filters`` keeps them: its order alone does not narrow it), and
    when it was written (now, by default). Two files of one call, the whole list and the
    women only, say which is which in a downloads folder."""
    stamp = timezone.localtime(at).strftime("%Y%m%d-%H%M")
    narrowed = any(value for name, value in (filters or {}).items() if name != "sort")
    parts = [intake.school.slug, intake.slug]
    if narrowed:
        parts.append(pgettext("file name", "filtered"))
    return f"{'-'.join(parts)}-{stamp}.{fmt}"


# --- The import template ------------------------------------------------------------------


def _template_header(intake: Intake | None) -> tuple[list[str], list[str]]:
    wishes = track_columns(intake) if intake is not None else 0
    header = [*cols.CANONICAL_COLUMNS, *(cols.wish_column(r) for r in range(1, wishes + 1))]
    commune = intake.school.commune.name if intake is not None else "Es-Semara"
    codes: list[str] = []
    if wishes:
        with scope(school=intake.school):
            codes = list(
                IntakeTrack.objects.filter(intake=intake).values_list("track__code", flat=True)
            )
    example = {
        **cols.TEMPLATE_EXAMPLE,
        "commune": commune,
        **{cols.wish_column(rank): code for rank, code in enumerate(codes, start=1)},
    }
    return header, [example[name] for name in header]


def _column_help() -> list[tuple[str, str]]:
    """What each column holds, in the active language (the template's second sheet)."""
    from tremplin.admissions.choices import EducationLevel, Employment

    return [
        ("cin", _("National identity card number, e.g. AB123456. Required.")),
        ("last_name", _("Last name in Latin script. Required.")),
        ("first_name", _("First name in Latin script. Required.")),
        ("last_name_ar", _("Last name in Arabic script.")),
        ("first_name_ar", _("First name in Arabic script.")),
        ("birth_date", _("Date of birth, dd/mm/yyyy. Required.")),
        ("sex", _("F (woman) or M (man). Required.")),
        ("phone", _("Moroccan mobile number, e.g. 06 61 23 45 67. Required.")),
        ("email", _("Email address.")),
        ("commune", _("Commune of residence: its name in French or Arabic, or its code.")),
        (
            "education_level",
            _("Required. One of: %(values)s.")
            % {"values": format_list([f"{c.value} ({c.label})" for c in EducationLevel], "or")},
        ),
        ("diploma", _("Last diploma obtained.")),
        (
            "employment",
            _("Required. One of: %(values)s.")
            % {"values": format_list([f"{c.value} ({c.label})" for c in Employment], "or")},
        ),
        ("motivation", _("Why the applicant wants to join (2,000 characters at most).")),
        ("needs_accommodation", _("1 if the applicant needs an accommodation, else 0.")),
        ("accommodation_consent", _("1 if the applicant consents to the use of that need.")),
        ("follow_up_consent", _("1 if the applicant consents to the job-placement follow-up.")),
        (
            "language",
            _(
                "fr, ar or en: the language of the messages sent to the applicant (if empty: "
                "the one chosen when importing)."
            ),
        ),
        ("wish_1, wish_2…", _("Tracks in order of preference (code or name).")),
    ]


_ISOLATES = dict.fromkeys(range(0x2066, 0x206A))
_ISOLATED = re.compile("[\u2066-\u2068]([^\u2069]*)\u2069")


def _for_a_cell(text: str) -> str:
    """A page's sentence for a spreadsheet's cell. The marks that isolate an example in it
    (« 06 61 23 45 67 » in Arabic), and the no-break spaces that keep that example on one
    line, are for browsers: a cell shows the marks, or keeps them, and the odd spaces, in
    what is copied from it."""
    return _ISOLATED.sub(lambda m: m.group(1).replace("\u00a0", " "), text).translate(_ISOLATES)


def template_workbook(intake: Intake | None = None) -> bytes:
    """The XLSX to fill in: the canonical columns and one example row, then a sheet that
    explains each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    header, example = _template_header(intake)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("applications")[:31]
    sheet.append(header)
    sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in ("A", "H"):  # CIN and phone stay text: Excel would drop a leading 0
        for cell in sheet[column]:
            cell.number_format = "@"
        sheet.column_dimensions[column].number_format = "@"  # and the rows typed below
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(_("instructions")[:31])
    notes.append([_("column"), _("what to write")])
    for name, text in _column_help():
        notes.append([name, _for_a_cell(text)])
    for each in (sheet, notes):
        each.sheet_view.rightToLeft = translation.get_language_bidi()  # as the pages read
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv(intake: Intake | None = None) -> bytes:
    header, example = _template_header(intake)
    out = io.BytesIO()
    write_csv([example], header, out)
    return out.getvalue()
