"""Import applications from the spreadsheets people really have: Google Forms and Excel
exports, CSV or XLSX, headers in French, English or Arabic.

``read_table`` turns a file into a header and rows of text; ``import_applications`` reads
whole columns first (the order of the dates, the latest answer of each CIN: see
``importing_columns``), then checks every row (identifiers, dates, closed lists, communes,
track wishes, duplicates), evaluates eligibility and inserts the valid ones in batches. Each
problem is reported as ``{"line", "column", "code", "params"}`` and rendered in the reader's
language by ``describe_error``.

Speed matters (a national call is a million rows): a row is checked with plain Python and
dictionaries built once per import, never with a form, and rows are written a batch at a time
with a fixed number of queries per batch (see ``importing_writer.Writer``).
"""

import difflib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import count, islice
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_scopes import scope
from openpyxl.utils import get_column_letter

from tremplin.admissions import importing_headers as cols
from tremplin.admissions.choices import EducationLevel, Employment, Sex
from tremplin.admissions.eligibility import Rules, evaluate
from tremplin.admissions.importing_columns import DateOrder, date_order, parse_date, replaced_rows
from tremplin.admissions.importing_headers import (
    DIGITS,
    TEMPLATE_EXAMPLE,
    UNREADABLE,
    Lookup,
    Table,
    TableError,
    boolean,
    choice_lookup,
    fold,
    folded,
    read_table,
)
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
from tremplin.admissions.importing_writer import RankingPublished, Writer
from tremplin.admissions.models import Application, ImportJob, Intake, IntakeTrack
from tremplin.core.audit import log_action
from tremplin.core.identifiers import normalize_cin, normalize_phone
from tremplin.core.text import is_name_in
from tremplin.schools.models import Commune

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


# --- Checking rows ------------------------------------------------------------------------

_SPLIT_WISHES = re.compile(r"\s*[,;|\n]\s*")
# Addresses that Django's EmailValidator accepts for sure, checked without it (it is the
# slowest check of a row); anything else goes through it.
_PHONE_SEPARATORS = re.compile(r"[\s.\-]+")
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z"
)
# What a database or a spreadsheet cannot hold, and nobody types on purpose (tab and newlines
# are fine): PostgreSQL refuses NUL, XLSX files refuse the others. As the portal does. And,
# searched for at the same time, what was left of bytes that could not be decoded.
_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{UNREADABLE}]")
# What our CSV export puts before a text that a spreadsheet would take for a formula.
_QUOTED_FORMULA = ("'=", "'+", "'-", "'@")

ELIGIBLE = str(Application.Eligibility.ELIGIBLE)
INELIGIBLE = str(Application.Eligibility.INELIGIBLE)
TEXT_LIMITS = {
    "first_name": 80,
    "last_name": 80,
    "first_name_ar": 80,
    "last_name_ar": 80,
    "diploma": 200,
    "motivation": 2000,
    "email": 254,
}
# The fields of a row in the order the validator reads them, then the wish columns.
ROW_FIELDS = cols.CANONICAL_COLUMNS

AMBIGUOUS = "ambiguous"
# Unknown communes for which close names are suggested (each distinct value once): enough
# for the odd spelling, bounded for a file of random text.
MAX_SUGGESTED = 200
_ARTICLES = frozenset("al el es ez ed et er".split())  # noqa: SIM905
_DOUBLED = re.compile(r"(\w)\1+")


def commune_key(name: str) -> str:
    """A commune's name as spelt loosely: without a leading article (al-, el-, es-, ez-, ed-,
    et-, er-, ال), spaces, hyphens, doubled letters, and the vowels spelt most variously (e,
    ai). « Es-Semara », « Es Smara », « Essemara » (whose article doubles the s), « Smara »
    give ``smara``; « السمارة » and « سمارة » give ``سماره``."""
    words = fold(name).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    text = "".join(words)
    if text.startswith("ال") and len(text) > 4:
        text = text[2:]
    text = _DOUBLED.sub(r"\1", text).replace("ai", "e").replace("e", "")
    return _DOUBLED.sub(r"\1", text)


def _track_keys(intake: Intake) -> tuple[dict[str, int], list[int]]:
    """The call's tracks by their code and names, folded ({key: id}), and their ids."""
    tracks = [it.track for it in IntakeTrack.objects.filter(intake=intake).select_related("track")]
    mapping: dict[str, int] = {}
    for track in tracks:
        for key in (track.code, track.name, track.name_ar):
            if key:
                mapping.setdefault(fold(key), track.pk)
    return mapping, [track.pk for track in tracks]


class GridColumn(NamedTuple):
    """A column of a ranking grid: where it is, its header, the track it ranks as written."""

    index: int
    header: str
    track: str


class _Validator:
    """Checks rows of one table for one intake. Built once per import: every lookup the rows
    need (communes, tracks, closed lists, the CINs already there) is loaded here.
    ``date_order``: how the birth dates are written; ``replaced``: the lines that a later
    answer with the same CIN replaces, {line: line kept}."""

    def __init__(
        self,
        intake: Intake,
        columns: dict[str, int],
        width: int,
        *,
        date_order: DateOrder | None = None,
        replaced: dict[int, int] | None = None,
        grid: Sequence[GridColumn] = (),
        language: str = "fr",
    ):
        self.intake = intake
        self.default_language = language
        self.ticked_line = 0  # the first row whose wishes came in one cell
        self.today = timezone.localdate()
        self.rules = Rules.of(intake)
        # Missing optional columns read the empty cell appended to every row (index -1).
        self.positions = [columns.get(name, -1) for name in ROW_FIELDS]
        wish_names = [cols.wish_column(rank) for rank in range(1, cols.MAX_WISHES + 1)]
        self.wish_columns = [(name, columns[name]) for name in wish_names if name in columns]
        self.wish_positions = [at for _name, at in self.wish_columns]
        self.first_wish = self.wish_columns[0][0] if self.wish_columns else "wish_1"
        self.headers = {name: name for name in (*ROW_FIELDS, *wish_names)}
        self.width = width
        self.sex = choice_lookup("sex", Sex.choices)
        self.education = choice_lookup("education_level", EducationLevel.choices)
        self.employment = choice_lookup("employment", Employment.choices)
        self.language = choice_lookup("language", settings.LANGUAGES)
        self.booleans = Lookup(lambda raw: boolean(raw) if raw else False)
        self.date_order = date_order or DateOrder()
        self.dates = Lookup(lambda raw: parse_date(raw, self.today, self.date_order.order))
        self.replaced = replaced or {}
        self.communes = self._commune_lookup()
        self.tracks, self.default_track = self._track_lookup()
        self.single_wish = (self.default_track,)
        # A ranking grid: each column with the track it ranks; those naming no track of the
        # call (which refuse the file).
        self.grid = [(column, self.tracks[column.track]) for column in grid]
        self.grid_unknown = [column for column, track in self.grid if track is None]
        ranked: dict[int, list[str]] = {}
        for column, track in self.grid:
            if track is not None:
                ranked.setdefault(track, []).append(column.header[:60])
        # Two columns ranking one track (« Data », « DATA »): which rank is hers?
        self.grid_repeated = [headers for headers in ranked.values() if len(headers) > 1]
        self.grid_headers = {column.index: column.header for column in grid}
        self.headers.update((column.header, column.header) for column in grid)
        # Every cell of a choice of track, checked for control characters with the fields.
        self.choice_columns = [*self.wish_columns, *((c.header, c.index) for c in grid)]
        self.existing = dict(
            Application.objects.filter(intake=intake).values_list("cin", "reference")
        )
        self.seen: dict[str, int] = {}
        self.example_names = (
            fold(TEMPLATE_EXAMPLE["last_name"]),
            fold(TEMPLATE_EXAMPLE["first_name"]),
        )

    def _commune_lookup(self) -> Lookup:
        """Communes by their code or name, as written (folded), else as spelt loosely (see
        ``commune_key``); an unknown one resolves to the list of close names."""
        by_key: dict[str, list[tuple[int, int]]] = {}
        by_loose: dict[str, set[tuple[int, int]]] = {}
        names: dict[str, str] = {}
        rows = Commune.objects.values_list("pk", "province_id", "code", "name", "name_ar")
        for pk, province_id, code, name, name_ar in rows:
            for key in {fold(code), fold(name), fold(name_ar)}:
                by_key.setdefault(key, []).append((pk, province_id))
            for text in (name, name_ar):
                if text:
                    names.setdefault(fold(text), text)
                    by_loose.setdefault(commune_key(text), set()).add((pk, province_id))
        home_province = self.intake.school.commune.province_id
        resolved: dict[str, object] = {}
        for key, candidates in by_key.items():
            if len(candidates) > 1:
                # The same name in several provinces: the call's area, then the school's.
                preferred = [
                    c
                    for c in candidates
                    if c[0] in self.rules.commune_ids or c[1] in self.rules.province_ids
                ] or [c for c in candidates if c[1] == home_province]
                candidates = preferred if len(preferred) == 1 else candidates
            resolved[key] = candidates[0] if len(candidates) == 1 else AMBIGUOUS
        # A loose spelling guesses nothing: it names one commune, or it is ambiguous.
        loose = {
            key: next(iter(found)) if len(found) == 1 else AMBIGUOUS
            for key, found in by_loose.items()
        }
        known = list(names)
        suggested = 0

        def resolve(raw: str):
            nonlocal suggested
            key = fold(raw)
            found = resolved.get(key) or loose.get(commune_key(raw))
            if found is not None:
                return found
            if suggested >= MAX_SUGGESTED:
                return []
            suggested += 1
            return [names[k] for k in difflib.get_close_matches(key, known, n=3, cutoff=0.75)]

        return Lookup(resolve)

    def _track_lookup(self) -> tuple[Lookup, int | None]:
        mapping, ids = _track_keys(self.intake)
        return folded(mapping), (ids[0] if len(ids) == 1 else None)

    def check(self, line: int, cells: list[str]) -> tuple[tuple | None, list[dict]]:
        """The row as a record for ``Writer`` (None if it has errors or is a duplicate) and
        what to report about it."""
        if len(cells) < self.width:
            cells.extend([""] * (self.width - len(cells)))
        cells.append("")
        values = [cells[i].strip() for i in self.positions]
        joined = "".join(values)
        if "'" in joined and any(v.startswith(_QUOTED_FORMULA) for v in values):
            # Text our CSV export kept from being a formula: « '=cmd » was « =cmd ».
            values = [v[1:] if v.startswith(_QUOTED_FORMULA) else v for v in values]
        (cin, last_name, first_name, last_name_ar, first_name_ar, birth, sex, phone, email,
         commune, education, diploma, employment, motivation, needs, needs_consent,
         follow_up, language) = values  # fmt: skip
        errors: list[dict] = []

        def error(column: str, code: str, **params) -> None:
            errors.append(problem(line, self.headers[column], code, **params))

        if line in self.replaced:
            error("cin", "replaced_later", by_line=self.replaced[line])
            return None, errors
        normalized_cin = normalize_cin(cin)
        if normalized_cin is not None:
            if normalized_cin == TEMPLATE_EXAMPLE["cin"] and self._example(last_name, first_name):
                error("cin", "template_example")
                return None, errors
            if normalized_cin in self.existing:
                reference = self.existing[normalized_cin]
                error("cin", "duplicate_existing", reference=reference)
                return None, errors
            if normalized_cin in self.seen:  # a safety net: ``replaced`` names earlier rows
                error("cin", "duplicate_in_file", first_line=self.seen[normalized_cin])
                return None, errors
        elif cin:
            error("cin", "cin_invalid")
        else:
            error("cin", "required")

        if _CONTROL.search(joined) or any(
            _CONTROL.search(cells[i]) for _n, i in self.choice_columns
        ):
            named = [*zip(ROW_FIELDS, values, strict=True)]
            for name, value in named + [(n, cells[at]) for n, at in self.choice_columns]:
                if _CONTROL.search(value):
                    unreadable = UNREADABLE in value
                    error(name, "encoding_invalid" if unreadable else "control_characters")
            return None, errors

        if not last_name or not first_name or len(last_name) > 80 or len(first_name) > 80:
            for name, value in (("last_name", last_name), ("first_name", first_name)):
                if not value:
                    error(name, "required")
                elif len(value) > 80:
                    error(name, "too_long", max=80)
        for name, value, script in (
            ("last_name", last_name, "latin"),
            ("first_name", first_name, "latin"),
            ("last_name_ar", last_name_ar, "arabic"),
            ("first_name_ar", first_name_ar, "arabic"),
        ):
            if value and not is_name_in(script, value):
                error(name, f"{script}_letters")
        if len(last_name_ar) > 80 or len(first_name_ar) > 80 or len(diploma) > 200:
            for name, value in (
                ("last_name_ar", last_name_ar),
                ("first_name_ar", first_name_ar),
                ("diploma", diploma),
            ):
                if len(value) > TEXT_LIMITS[name]:
                    error(name, "too_long", max=TEXT_LIMITS[name])
        if len(motivation) > 2000:
            error("motivation", "too_long", max=2000)

        birth_date = self.dates[birth] if birth else "required"
        if birth_date.__class__ is str:
            code, params = self.date_order.error(birth_date, birth)
            error("birth_date", code, **params)
        sex_code = self.sex[sex] if sex else None
        if sex_code is None:
            self._choice_error(error, "sex", sex)

        bare = _PHONE_SEPARATORS.sub("", phone)
        if bare.isdigit() and len(bare) == 9 and bare[0] in "67":
            # A spreadsheet that took the number for a number dropped the 0 (and a person
            # who typed it after such a list, in pairs: "6 61 22 33 46").
            phone = "0" + bare
        normalized_phone = normalize_phone(phone if phone.isascii() else phone.translate(DIGITS))
        if normalized_phone is None:
            error("phone", "phone_invalid" if phone else "required")
        if email:
            if len(email) > 254:
                error("email", "too_long", max=254)
            elif not _PLAIN_EMAIL.match(email):
                try:
                    validate_email(email)
                except ValidationError:
                    error("email", "email_invalid")

        place = self.communes[commune] if commune else None
        if place.__class__ is not tuple:
            if not commune:
                error("commune", "required")
            elif place == AMBIGUOUS:
                error("commune", "commune_ambiguous", value=commune[:60])
            elif place:  # close names
                error("commune", "commune_unknown", value=commune[:60], suggestions=place)
            else:
                error("commune", "commune_unknown", value=commune[:60])
        education_code = self.education[education] if education else None
        if education_code is None:
            self._choice_error(error, "education_level", education)
        employment_code = self.employment[employment] if employment else None
        if employment_code is None:
            self._choice_error(error, "employment", employment)

        booleans = self.booleans
        flags = (booleans[needs], booleans[needs_consent], booleans[follow_up])
        if None in flags:
            for name, flag in zip(
                (*cols.ACCOMMODATION_COLUMNS, "follow_up_consent"), flags, strict=False
            ):
                if flag is None:
                    error(name, "boolean_invalid")
        elif flags[0] and not flags[1]:
            error("needs_accommodation", "accommodation_consent_missing")
        language_code = self.language[language] if language else self.default_language
        if language_code is None:
            error("language", "choice_invalid", value=language[:60], field="language")

        wishes = self._wishes(line, cells, error)

        if errors:
            return None, errors
        self.seen[normalized_cin] = line
        reasons = evaluate(
            self.rules,
            birth_date=birth_date,
            commune_id=place[0],
            province_id=place[1],
            education_level=education_code,
            employment=employment_code,
        )
        record = (
            normalized_cin,
            first_name,
            last_name,
            first_name_ar,
            last_name_ar,
            birth_date,
            sex_code,
            normalized_phone,
            email,
            place[0],
            education_code,
            diploma,
            employment_code,
            motivation,
            flags[0],
            flags[1],
            flags[2],
            language_code,
            INELIGIBLE if reasons else ELIGIBLE,
            json.dumps(reasons, ensure_ascii=False) if reasons else "[]",
            wishes,
        )
        return record, errors

    def _example(self, last_name: str, first_name: str) -> bool:
        """Whether a row with the CIN of the template's example also has its names: it is
        the example, left in the file."""
        return (fold(last_name), fold(first_name)) == self.example_names

    def _choice_error(self, error, name: str, value: str) -> None:
        if value:
            error(name, "choice_invalid", value=value[:60], field=name)
        else:
            error(name, "required")

    def _wishes(self, line: int, cells: list[str], error) -> tuple[int, ...]:
        """The tracks wished, each problem reported under the column of its cell."""
        if self.grid:
            return self._ranked(cells, error)
        if not self.wish_positions and self.default_track is not None:
            return self.single_wish
        raw = [(name, value) for name, at in self.wish_columns if (value := cells[at].strip())]
        if len(raw) == 1:
            name, value = raw[0]
            if self.tracks[value] is None and _SPLIT_WISHES.search(value):
                # A checkbox answer: "A, B", in the order of the form's boxes (noted).
                raw = [(name, v) for v in _SPLIT_WISHES.split(value) if v]
                self.ticked_line = self.ticked_line or line
        tracks = []
        for name, value in raw:
            track = self.tracks[value]
            if track is None:
                error(name, "track_unknown", value=value[:60])
            elif track in tracks:
                error(name, "track_repeated")
            else:
                tracks.append(track)
        if not raw:
            if self.default_track is not None:
                return self.single_wish
            error(self.first_wish, "wish_required")
        return tuple(tracks)

    def _ranked(self, cells: list[str], error) -> tuple[int, ...]:
        """The tracks of a ranking grid in the order of the ranks its cells give them (1, 3
        without a 2 is an order too), each problem reported under the column of its cell."""
        ranked, unreadable = [], False
        for column, track in self.grid:
            value = cells[column.index].strip()
            rank = cols.rank_value(value) if value else 0
            if rank is None:
                error(column.header, "rank_unknown", value=value[:60])
                unreadable = True
            elif rank:
                ranked.append((rank, column.index, column.track, track))
        ranked.sort()
        for (rank, at, _name, _track), before in zip(ranked[1:], ranked, strict=False):
            if rank == before[0]:
                error(self.grid_headers[at], "rank_repeated", rank=rank, other=before[2][:60])
        if ranked:
            return tuple(track for *_rest, track in ranked)
        if self.default_track is not None:
            return self.single_wish
        if not unreadable:
            error(self.grid[0][0].header, "wish_required")
        return ()


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
        if name in ("last_name", "first_name") and not hinted:
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
        track_names, track_ids = _track_keys(intake)
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
        writer = None if dry_run else Writer(intake, notify_url=notify_url)
        audit = _auditor(intake, actor, filename, result, dry_run=dry_run)
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
                result.created = 0
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
) -> _Validator:
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
    validator = _Validator(
        intake, positions, len(table.headers), date_order=order, replaced=replaced,
        grid=grid, language=language,
    )  # fmt: skip
    validator.headers.update(result.columns)
    return validator


def _auditor(
    intake: Intake, actor, filename: str, result: ImportResult, *, dry_run: bool
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
            },
        )

    return audit


def _check_chunk(validator: _Validator, chunk: list, result: ImportResult) -> list[tuple]:
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
    return records


def _late_duplicates(skipped: list[tuple], result: ImportResult, validator: _Validator) -> None:
    for record, reference in skipped:
        result.valid -= 1
        result.duplicates += 1
        line, column = validator.seen[record[0]], validator.headers["cin"]
        result.report.append(problem(line, column, "duplicate_existing", reference=reference))


def _import_streaming(validator, writer, table, result, progress, batch_size) -> None:
    done = 0
    for chunk in _chunks(table.rows, batch_size):
        records = _check_chunk(validator, chunk, result)
        if writer is not None and records:
            skipped = writer.write(records)
            result.created += len(records) - len(skipped)
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
                result.created += len(batch) - len(skipped)
                _late_duplicates(skipped, result, validator)
            if result.created:
                audit()
    except BaseException:
        # The numbers back if the database still answers; else a gap stays, as when the
        # process dies (harmless: references identify applications, they do not count them).
        with suppress(DatabaseError):
            writer.numbers_release(first, len(records))
        raise
