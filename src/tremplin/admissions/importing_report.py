"""The import's report: each problem as ``{"line", "column", "code", "params"}`` (see
``problem``), and its reason in the reader's language (``describe_error``), on the page,
in the downloaded CSV and in the command's report."""

from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from tremplin.admissions import importing_headers as cols
from tremplin.admissions.choices import EducationLevel, Employment, Sex
from tremplin.admissions.models import Application
from tremplin.core.formatting import format_list

_CHOICES = {
    "sex": Sex,
    "education_level": EducationLevel,
    "employment": Employment,
}


def field_label(name: str) -> str:
    """A field of the import as people call it, in the active language."""
    if name == "wish_grid":
        return _("Track choices, ranked in a grid")
    if name.startswith("wish_"):
        return _("Track choice %(rank)s") % {"rank": name.removeprefix("wish_")}
    if name == "answered_at":
        return _("Time of the answer")
    return capfirst(Application._meta.get_field(name).verbose_name)


def _quoted(text: str) -> str:
    return pgettext("quoted text", "“%(text)s”") % {"text": text}


def _column_missing(params: dict) -> str:
    # Reports made before "field" named the missing field "column".
    name = params.get("field") or params.get("column", "")
    label = (
        field_label(name) if name in cols.CANONICAL_COLUMNS or name.startswith("wish_") else name
    )
    message = _("The required column “%(column)s” is missing.") % {"column": label}
    ignored = params.get("ignored")
    if ignored:
        # The label is the new header when the importer reads it, else the canonical name.
        header = label if cols.header_field(label) == name else name
        message += " " + _(
            "Columns of the file that were not recognised: %(columns)s. If one of them holds "
            "this field, rename it “%(header)s”."
        ) % {"columns": ", ".join(_quoted(h) for h in ignored), "header": header}
    if params.get("arabic_only"):
        message += " " + _(
            "The file gives it in Arabic letters only (%(column)s): add a column with it in "
            "Latin letters, as the national identity card writes it."
        ) % {"column": _quoted(params["arabic_only"])}
    if params.get("full_name"):
        message += " " + _(
            "A single column with the full name cannot be read: split it into two columns, "
            "the last name and the first name."
        )
    return message


def _column_unnamed(params: dict) -> str:
    return _(
        "Column %(column)s holds values (line %(line)s: %(value)s) but has no header, so it "
        "cannot be read. Give it one, on the header's row, naming what it holds (a header "
        "written on two rows, a merged cell above sub-headers, must be written on one: "
        "%(example)s, say), or delete the column; then send the file again."
    ) % {
        "example": _quoted(field_label("wish_2")),
        "column": params.get("column", ""),
        "line": params.get("line", ""),
        "value": _quoted(params.get("value", "")),
    }


def _wishes_twice(params: dict) -> str:
    return _(
        "The file gives the track choices twice, in %(columns)s: keep one of them (delete the "
        "other columns) and send the file again."
    ) % {"columns": format_list([_quoted(h) for h in params.get("columns", [])])}


def _column_repeated(params: dict) -> str:
    return _(
        "Several columns of the file hold “%(field)s”: %(columns)s. Keep one of them (delete "
        "or rename the others) and send the file again."
    ) % {
        "field": field_label(params.get("field", "")),
        "columns": ", ".join(_quoted(h) for h in params.get("columns", [])),
    }


def _commune_unknown(params: dict) -> str:
    message = _MESSAGES["commune_unknown"]() % params
    suggestions = params.get("suggestions")
    if suggestions:
        message += " " + _("Did you mean %(names)s?") % {
            "names": format_list([_quoted(name) for name in suggestions], "or")
        }
    return message


def describe_error(error: dict, *, isolated: bool = False) -> str:
    """One reported problem, in the active language. ``isolated``: for a page, each value
    of the file (a reference, a name) isolated in a right-to-left sentence, where
    « SMA-26-0007 » at the end of a phone's line showed as « 0007) … (SMA-26- »; not in
    the downloaded report, whose cells would keep the marks."""
    params = error.get("params") or {}
    code = error.get("code")
    if code == "column_missing":
        return _column_missing(params)
    if code == "column_repeated":
        return _column_repeated(params)
    if code == "column_unnamed":
        return _column_unnamed(params)
    if code == "wishes_twice":
        return _wishes_twice(params)
    if code == "commune_unknown":
        return _commune_unknown(params)
    message = _MESSAGES.get(code)
    if code == "choice_invalid":
        choices = _CHOICES.get(params.get("field"))
        accepted = (
            ", ".join(f"{c.value} ({c.label})" for c in choices)
            if choices
            else ", ".join(language for language, _label in settings.LANGUAGES)
        )
        return _("Unknown value “%(value)s”. Accepted values: %(accepted)s.") % {
            "value": params.get("value", ""),
            "accepted": accepted,
        }
    if message is None:
        return _("This value cannot be imported.")
    if isolated and params and translation.get_language_bidi():
        params = {key: f"\u2068{value}\u2069" for key, value in params.items()}
    return message() % params if params else message()


# Callables so that each message is translated when rendered, in the reader's language.
_MESSAGES: dict[str, Callable[[], str]] = {
    "required": lambda: _("This value is required."),
    "too_long": lambda: _("Too long: at most %(max)s characters."),
    "control_characters": lambda: _(
        "Contains invisible control characters (such as NUL), which cannot be stored."
    ),
    "encoding_invalid": lambda: _(
        "Contains characters that could not be read (this line of the file is not in UTF-8): "
        "correct it, or save the file as “CSV UTF-8”, and retry."
    ),
    "template_example": lambda: _(
        "The example row of the template: not imported. Delete it from the file."
    ),
    "latin_letters": lambda: _(
        "Not a name in Latin letters (letters, spaces, hyphens and apostrophes; no digits, "
        "no Arabic letters)."
    ),
    "arabic_letters": lambda: _(
        "Not a name in Arabic letters (letters, spaces, hyphens and apostrophes; no digits, "
        "no Latin letters)."
    ),
    "cin_invalid": lambda: _(
        "Not a CIN number (one or two letters then up to six digits, e.g. AB123456)."
    ),
    "date_invalid": lambda: _("Not a date: write it as dd/mm/yyyy (e.g. 15/03/2001)."),
    "date_no_such_day": lambda: _("This date does not exist: check the day and the month."),
    "date_year_only": lambda: _("Only the year is given: give the full date, dd/mm/yyyy."),
    "date_out_of_range": lambda: _("This date of birth is not plausible."),
    "date_invalid_month_first": lambda: _(
        "Not a date: this column writes dates month first, mm/dd/yyyy (e.g. 03/15/2001)."
    ),
    "date_not_day_first": lambda: _(
        "The column reads its dates as day/month/year (e.g. line %(line)s) and this one does "
        "not fit: it is written month first. Write it as dd/mm/yyyy or yyyy-mm-dd."
    ),
    "date_not_month_first": lambda: _(
        "The column reads its dates as month/day/year (e.g. line %(line)s) and this one does "
        "not fit: it is written day first. Write it as mm/dd/yyyy or yyyy-mm-dd."
    ),
    "date_order_unclear": lambda: _(
        "This date can be read day first or month first, and the column has both kinds "
        "(day first on line %(day_first_line)s, month first on line %(month_first_line)s): "
        "write all its dates the same way, or this one as yyyy-mm-dd."
    ),
    "phone_invalid": lambda: _("Not a Moroccan mobile number (e.g. 06 61 23 45 67)."),
    "email_invalid": lambda: _("Not an email address."),
    "boolean_invalid": lambda: _("Expected yes or no."),
    "commune_unknown": lambda: _("Unknown commune “%(value)s”: use its name or its code."),
    "commune_ambiguous": lambda: _("Several communes are called “%(value)s”: use its code."),
    "track_unknown": lambda: _("“%(value)s” is not a track of this call."),
    "track_repeated": lambda: _("The same track is chosen twice."),
    "rank_unknown": lambda: _(
        "“%(value)s” is not a rank: write 1, 2, 3… (or “1st choice”), or leave the cell empty "
        "for a track not wished."
    ),
    "rank_repeated": lambda: _(
        "Rank %(rank)s is also given to “%(other)s”: each rank goes to one track."
    ),
    "grid_track_unknown": lambda: _(
        "The column “%(column)s” ranks “%(track)s”, which is not a track of this call: write "
        "in its brackets the name of one of the call's tracks, or delete the column, then "
        "send the file again."
    ),
    "wish_required": lambda: _("Choose at least one track."),
    "accommodation_consent_missing": lambda: _(
        "An accommodation need can only be recorded with the applicant's consent to its use."
    ),
    "duplicate_existing": lambda: _(
        "Already applied to this call (%(reference)s): not imported again."
    ),
    # Reports made before a later answer replaced an earlier one kept the first.
    "duplicate_in_file": lambda: _("Same CIN as line %(first_line)s: not imported twice."),
    "replaced_later": lambda: _(
        "Replaced by line %(by_line)s, a later answer with the same CIN: only the latest "
        "answer is imported."
    ),
    "file_unreadable": lambda: _("The file cannot be read: save it as CSV or XLSX and retry."),
    "file_encoding": lambda: _(
        "The characters of this file cannot be read with certainty: in Excel, save it as "
        "“CSV UTF-8” (or as an .xlsx workbook) and retry."
    ),
    "file_empty": lambda: _("The file has no rows to import."),
    "file_gone": lambda: _(
        "The file is no longer kept (it is deleted once imported, or a day after its dry "
        "run): send it again."
    ),
    "notice_changed": lambda: _(
        "The privacy notice of this call changed after the import was asked for: nothing "
        "was imported. Send the file again, and attest the consent to the new version."
    ),
    "no_privacy_notice": lambda: _(
        "This call has no privacy notice yet: add one before importing applications."
    ),
    "ranking_published": lambda: _(
        "A ranking of this call is published: its decisions stand, and applications can no "
        "longer be imported into it."
    ),
    "too_many_rows": lambda: _("The file has more than %(max)s rows: split it."),
}

DUPLICATE_CODES = frozenset({"duplicate_existing", "duplicate_in_file", "replaced_later"})
# The duplicates found in the file itself, not in the call (their own count on the page).
REPEATED_CODES = frozenset({"duplicate_in_file", "replaced_later"})
# Rows left out that are neither errors nor duplicates.
SKIPPED_CODES = frozenset({"template_example"})
FILE_PROBLEMS = frozenset(
    {
        "column_missing",
        "column_repeated",
        "column_unnamed",
        "wishes_twice",
        "grid_track_unknown",
        "ranking_published",
        "file_unreadable",
        "file_encoding",
        "file_empty",
        "too_many_rows",
        "no_privacy_notice",
    }
)
_NOTES: dict[str, Callable[[], str]] = {
    "dates_day_first": lambda: _("dates read as day/month/year"),
    "wishes_in_one_cell": lambda: _(
        "several tracks in one cell (e.g. line %(line)s) are read as wishes in the order "
        "written: the boxes ticked on a form come in the form's order, not in the "
        "applicant's preference"
    ),
    "dates_month_first": lambda: _(
        "dates read as month/day/year, as the file writes them (e.g. line %(line)s)"
    ),
    "dates_mixed": lambda: _(
        "dates written both day first (e.g. line %(day_first_line)s) and month first (e.g. "
        "line %(month_first_line)s): those that can be read both ways are not imported"
    ),
    "column_repeated": lambda: _(
        "several columns hold it: only the first, “%(used)s”, was read (not %(left)s)"
    ),
    "latest_answer_kept": lambda: _(
        "when a CIN answered more than once, only its latest answer is imported"
    ),
}
# Notes that count rows: given the count, for its plural form.
_COUNTED_NOTES: dict[str, Callable[[int], str]] = {
    "cin_repeated": lambda count: ngettext(
        "%(count)s line repeats the CIN of another line of the file: each CIN is imported once",
        "%(count)s lines repeat the CIN of another line of the file: each CIN is imported once",
        count,
    ),
    "dates_day_first_strays": lambda count: ngettext(
        "dates read as day/month/year; %(count)s date, on line %(stray_line)s, is written "
        "month first: it does not fit and is reported as an error",
        "dates read as day/month/year; %(count)s dates are written month first (e.g. line "
        "%(stray_line)s): they do not fit and are reported as errors",
        count,
    ),
    "dates_month_first_strays": lambda count: ngettext(
        "dates read as month/day/year, as the file writes them (e.g. line %(line)s); "
        "%(count)s date, on line %(stray_line)s, is written day first: it does not fit and "
        "is reported as an error",
        "dates read as month/day/year, as the file writes them (e.g. line %(line)s); "
        "%(count)s dates are written day first (e.g. line %(stray_line)s): they do not fit "
        "and are reported as errors",
        count,
    ),
}


def repeated_in_file(notes: dict) -> int:
    """How many rows an import skipped as repeating a CIN of its file (``ImportResult.repeated``),
    from the notes a job keeps (0 for jobs from before the count)."""
    note = notes.get("cin") or {}
    return note["params"]["count"] if note.get("code") == "cin_repeated" else 0


def describe_note(note: dict | None) -> str:
    """How a column's values were read (see ``ImportResult.notes``), in the active language;
    two notes on one column, the earlier first."""
    earlier = describe_note(note.get("also")) if note else ""
    text = _describe_one(note)
    if earlier and text:
        return pgettext("two notes on a column", "%(first)s; %(then)s") % {
            "first": earlier,
            "then": text,
        }
    return earlier or text


def _describe_one(note: dict | None) -> str:
    code = (note or {}).get("code")
    params = (note or {}).get("params")
    if code in _COUNTED_NOTES:
        return _COUNTED_NOTES[code](params["count"]) % params
    message = _NOTES.get(code)
    if message is None:
        return ""
    if code == "column_repeated":  # the headers left aside, listed in the reader's words
        left = (pgettext("quoted", "“%(text)s”") % {"text": h} for h in params["left"])
        params = {**params, "left": format_list(left, "or")}
    return message() % params if params else message()


# A formula for Excel and LibreOffice: the report's cells from the file stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def report_header() -> list[str]:
    """The report's header row, in the active language."""
    return [_("Line"), _("Column"), _("Code"), _("Reason")]


def report_rows(entries: Iterable[dict]) -> Iterator[list]:
    """The report as rows of cells (see ``report_header``), reasons in the active language."""
    for entry in entries:
        column = entry["column"]
        if column.startswith(_FORMULA_START):
            column = "'" + column
        yield [entry["line"] or "", column, entry["code"], describe_error(entry)]


def problem(line: int, column: str, code: str, /, **params) -> dict:
    """A report entry: ``line`` as the spreadsheet numbers it (0 for the whole file),
    ``column`` as its header reads in the file."""
    return {"line": line, "column": column, "code": code, "params": params}
