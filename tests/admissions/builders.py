"""Builders for admissions tests: an open intake of a school, and spreadsheets of applicants
as people really send them (Google Forms CSV, Excel CSV in Windows-1252, XLSX)."""

import csv
import datetime
import io

from django_scopes import scopes_disabled

from tests.admissions.open_intake import make_open_intake
from tremplin.admissions.models import Intake

# The import form's attestation that the school collected the applicants' consent to the
# call's privacy notice (law 09-08): needed by every real import from the staff pages.
CONSENT = {"consent_collected": "on", "notice_version": "1"}

# Google Forms in French: a timestamp column, questions as headers.
GOOGLE_FORMS_HEADERS = [
    "Horodateur",
    "Adresse e-mail",
    "Numéro de CIN",
    "Nom",
    "Prénom",
    "Nom en arabe",
    "Prénom en arabe",
    "Date de naissance (jj/mm/aaaa)",
    "Sexe",
    "Téléphone",
    "Commune de résidence",
    "Niveau d'études",
    "Situation professionnelle",
    "Pourquoi voulez-vous rejoindre l'école ?",
]


def applicant(n: int = 0, **changes) -> dict[str, str]:
    """One applicant as a row of canonical columns, different for each ``n``."""
    row = {
        "cin": f"JA{100000 + n}",
        "last_name": "El Idrissi",
        "first_name": "Fatima",
        "last_name_ar": "الإدريسي",
        "first_name_ar": "فاطمة",
        "birth_date": "21/03/2003",
        "sex": "F",
        "phone": f"06 61 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}",
        "email": "",
        "commune": "Es-Semara",
        "education_level": "bac",
        "diploma": "",
        "employment": "neet",
        "motivation": "",
    }
    row.update(changes)
    return row


def google_forms_row(n: int = 0, **changes) -> list[str]:
    row = applicant(n, **changes)
    return [
        "01/09/2025 10:15:32",
        row["email"],
        row["cin"],
        row["last_name"],
        row["first_name"],
        row["last_name_ar"],
        row["first_name_ar"],
        row["birth_date"],
        {"F": "Femme", "M": "Homme"}.get(row["sex"], row["sex"]),
        row["phone"],
        row["commune"],
        {"bac": "Baccalauréat", "licence": "Licence"}.get(
            row["education_level"], row["education_level"]
        ),
        {"neet": "Sans emploi", "student": "Étudiant"}.get(row["employment"], row["employment"]),
        row["motivation"],
    ]


def csv_bytes(
    headers: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def canonical_csv(rows: list[dict], **options) -> bytes:
    headers = list(rows[0]) if rows else list(applicant())
    return csv_bytes(headers, [[row.get(h, "") for h in headers] for row in rows], **options)


def xlsx_bytes(headers: list, rows: list[list], *, title: str | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_import_intake(school, *, slug="promo-2026", tracks=("dev-web",), **overrides) -> Intake:
    """An open intake (notice, tracks, age 18–35 on 1 Sept 2026, province of Es-Semara),
    reloaded so that its school and commune are at hand."""
    intake = make_open_intake(school, slug=slug, tracks=tracks, **overrides)
    with scopes_disabled():
        return Intake.objects.select_related("school__commune").get(pk=intake.pk)


def excel_serial(day: datetime.date) -> int:
    return (day - datetime.date(1899, 12, 30)).days


def by_column(rows: list[dict]) -> list[dict]:
    """Rows of an export keyed by the canonical column names (``cin``, ``wish_1``), whatever
    the language of its header."""
    from django.conf import settings
    from django.utils import translation

    from tremplin.admissions.exporting import column_label, export_columns

    names = export_columns(include_identity=True, wishes=9)
    canonical = {name: name for name in names}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            canonical.update((column_label(name), name) for name in names)
    return [{canonical.get(key, key): value for key, value in row.items()} for row in rows]
