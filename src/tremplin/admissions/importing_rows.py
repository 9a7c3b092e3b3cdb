"""Checking the rows of an import (``Validator``): identifiers, dates, closed lists,
communes spelt loosely (``commune_key``), track wishes in columns, in one cell or in a form's
ranking grid, duplicates in the call and in the file, and eligibility. Each problem is a
``{"line", "column", "code", "params"}`` that ``importing_report.describe_error`` renders.

Built once per import, with every lookup its rows need, then called for each row with plain
Python (never a form: a national call is a million rows); ``importing`` reads the file's
columns and drives it.
"""

import difflib
import json
import re
from collections.abc import Sequence
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from tremplin.admissions import importing_headers as cols
from tremplin.admissions.choices import EducationLevel, Employment, Sex
from tremplin.admissions.eligibility import Rules, evaluate
from tremplin.admissions.importing_columns import DateOrder, parse_date
from tremplin.admissions.importing_files import UNREADABLE
from tremplin.admissions.importing_headers import (
    DIGITS,
    TEMPLATE_EXAMPLE,
    Lookup,
    boolean,
    choice_lookup,
    fold,
    folded,
)
from tremplin.admissions.importing_report import problem
from tremplin.admissions.models import Application, Intake, IntakeTrack
from tremplin.core.identifiers import normalize_cin, normalize_phone
from tremplin.core.text import is_name_in
from tremplin.schools.models import Commune

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


def track_keys(intake: Intake) -> tuple[dict[str, int], list[int]]:
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


class Validator:
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
        mapping, ids = track_keys(self.intake)
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
