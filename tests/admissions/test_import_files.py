"""Reading spreadsheets as people really have them, and importing them."""

import datetime
import io

import pytest
from django_scopes import scopes_disabled

from tests.admissions.builders import (
    GOOGLE_FORMS_HEADERS,
    applicant,
    canonical_csv,
    csv_bytes,
    excel_serial,
    google_forms_row,
    make_import_intake,
    xlsx_bytes,
)
from tremplin.admissions.importing import import_applications
from tremplin.admissions.importing_columns import parse_date
from tremplin.admissions.importing_files import decode, read_table
from tremplin.admissions.importing_headers import header_field
from tremplin.admissions.models import Application

TODAY = datetime.date(2026, 1, 15)


def run(intake, data: bytes, filename="applicants.csv", mode="valid", dry_run=False):
    return import_applications(
        intake=intake, fileobj=io.BytesIO(data), filename=filename, mode=mode, dry_run=dry_run
    )


def applications(intake) -> list[Application]:
    with scopes_disabled():
        return list(
            Application.objects.filter(intake=intake).select_related("commune").order_by("number")
        )


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Numéro de CIN", "cin"),
        ("N° CIN", "cin"),
        ("CNIE", "cin"),
        ("رقم البطاقة الوطنية", "cin"),
        ("Date de naissance (jj/mm/aaaa)", "birth_date"),
        ("Date of birth", "birth_date"),
        ("تاريخ الازدياد", "birth_date"),
        ("  PRÉNOM ", "first_name"),
        ("Prénom en arabe", "first_name_ar"),
        ("الاسم الشخصي", "first_name_ar"),
        ("Téléphone", "phone"),
        ("Numéro de téléphone", "phone"),
        ("GSM", "phone"),
        ("الهاتف", "phone"),
        ("Adresse e-mail", "email"),
        ("Niveau d'études", "education_level"),
        ("المستوى الدراسي", "education_level"),
        ("Situation professionnelle", "employment"),
        ("Vœu 1", "wish_1"),
        ("2ème choix", "wish_2"),
        ("Choix n°3", "wish_3"),
        ("Filière", "wish_1"),
        ("Pourquoi voulez-vous rejoindre l'école ?", "motivation"),
        ("first_name", "first_name"),
        # Not imported: it tells which of two answers of one person is the latest.
        ("Horodateur", "answered_at"),
        ("Timestamp", "answered_at"),
    ],
)
def test_headers_in_french_english_or_arabic_name_the_same_fields(header, field):
    assert header_field(header) == field


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21/03/2003", datetime.date(2003, 3, 21)),
        ("1/3/2003", datetime.date(2003, 3, 1)),
        ("21-03-2003", datetime.date(2003, 3, 21)),
        ("21.03.2003", datetime.date(2003, 3, 21)),
        ("2003-03-21", datetime.date(2003, 3, 21)),
        ("21/03/2003 00:00:00", datetime.date(2003, 3, 21)),
        ("21/03/03", datetime.date(2003, 3, 21)),
        ("21/03/98", datetime.date(1998, 3, 21)),
        ("٢١/٠٣/٢٠٠٣", datetime.date(2003, 3, 21)),
        (str(excel_serial(datetime.date(2003, 3, 21))), datetime.date(2003, 3, 21)),
        ("31/02/2003", "date_no_such_day"),
        ("03/21/2003", "date_invalid"),
        ("demain", "date_invalid"),
        ("21/03/2030", "date_out_of_range"),
        ("01/01/1850", "date_out_of_range"),
    ],
)
def test_dates_are_read_day_first_iso_or_as_excel_serials(text, expected):
    assert parse_date(text, TODAY) == expected


def test_decoding_accepts_utf8_with_or_without_bom_utf16_and_windows_1252():
    text = "Nom;Prénom\r\nEl Idrissi;Aïcha\r\n"
    assert decode(text.encode("utf-8")) == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode(text.encode("utf-16")) == text
    assert decode(text.encode("cp1252")) == text


def test_a_title_above_the_header_is_skipped_and_lines_keep_the_sheet_numbers():
    data = xlsx_bytes(["CIN", "Nom", "Prénom"], [["AB1", "A", "B"], [], ["AB2", "C", "D"]],
                      title="Campagne papier — Smara")  # fmt: skip
    table = read_table(io.BytesIO(data), "campagne.xlsx")
    assert table.header_line == 2
    assert [line for line, _cells in table.rows] == [3, 5]


@pytest.mark.django_db
def test_a_google_forms_csv_with_bom_and_commas_is_imported(world):
    intake = make_import_intake(world.smara)
    rows = [google_forms_row(n) for n in range(3)]
    rows[1][GOOGLE_FORMS_HEADERS.index("Pourquoi voulez-vous rejoindre l'école ?")] = (
        "Apprendre, puis travailler.\nÀ Smara."
    )
    result = run(intake, csv_bytes(GOOGLE_FORMS_HEADERS, rows, bom=True))
    assert (result.created, result.invalid, result.duplicates) == (3, 0, 0)
    assert result.ignored_columns == [] and result.columns["answered_at"] == "Horodateur"
    first, second, _third = applications(intake)
    assert first.reference == f"SMA-{intake.opens_at.year % 100:02d}-0001"
    assert first.cin == "JA100000"
    assert first.first_name_ar == "فاطمة"
    assert first.sex == "F" and first.education_level == "bac" and first.employment == "neet"
    assert first.phone == "+212661000000"
    assert first.commune.code == "221.01.01"
    assert first.source == Application.Source.IMPORT
    assert first.privacy_notice_id == intake.privacy_notice_id
    assert first.language == "fr"
    assert second.motivation == "Apprendre, puis travailler.\nÀ Smara."


@pytest.mark.django_db
def test_an_excel_csv_in_windows_1252_with_semicolons_is_imported(world):
    intake = make_import_intake(world.smara)
    headers = ["CIN", "Nom", "Prénom", "Né(e) le", "Sexe", "Tél", "Commune", "Niveau",
               "Situation", "Diplôme"]  # fmt: skip
    rows = [["ab 123456", "Aït Baha", "Rachid", "05/11/2001", "Homme", "0661234567",
             "Haouza", "Licence", "Étudiant", "Licence en économie"]]  # fmt: skip
    result = run(intake, csv_bytes(headers, rows, delimiter=";", encoding="cp1252"))
    assert result.created == 1, result.report
    (application,) = applications(intake)
    assert application.cin == "AB123456"
    assert application.last_name == "Aït Baha"
    assert application.diploma == "Licence en économie"
    assert application.birth_date == datetime.date(2001, 11, 5)
    assert (application.sex, application.employment) == ("M", "student")
    assert application.commune.name == "Haouza"


@pytest.mark.django_db
def test_an_xlsx_with_arabic_headers_serial_dates_and_numbers_for_phones_is_imported(world):
    intake = make_import_intake(world.smara)
    headers = ["رقم البطاقة الوطنية", "الاسم العائلي بالفرنسية", "الاسم الشخصي بالفرنسية",
               "النسب", "الاسم الشخصي", "تاريخ الازدياد", "الجنس", "الهاتف", "الجماعة",
               "المستوى الدراسي", "الوضعية المهنية", "اللغة"]  # fmt: skip
    born = datetime.date(2004, 7, 9)
    rows = [
        ["JB5521", "Ould Sidi", "Mariam", "ولد سيدي", "مريم", excel_serial(born), "أنثى",
         612345678, "السمارة", "باكالوريا", "عاطل عن العمل", "العربية"],
        ["JB5522", "Laaroussi", "Brahim", "العروسي", "إبراهيم", datetime.datetime(2000, 1, 2),
         "ذكر", "+212 700-112233", "221.03.07", "bac+2", "neet", "ar"],
    ]  # fmt: skip
    result = run(intake, xlsx_bytes(headers, rows), filename="inscriptions.xlsx")
    assert result.created == 2, result.report
    mariam, brahim = applications(intake)
    assert mariam.birth_date == born
    assert mariam.phone == "+212612345678"  # Excel had dropped the leading 0
    assert (mariam.last_name_ar, mariam.first_name_ar) == ("ولد سيدي", "مريم")
    assert mariam.commune.code == "221.01.01"
    assert (mariam.sex, mariam.education_level, mariam.language) == ("F", "bac", "ar")
    assert brahim.birth_date == datetime.date(2000, 1, 2)
    assert brahim.commune.name == "Sidi Ahmed Laâroussi"
    assert brahim.education_level == "bac2"


@pytest.mark.django_db
def test_a_file_that_is_not_a_spreadsheet_is_reported_not_raised(world):
    intake = make_import_intake(world.smara)
    result = run(intake, b"PK\x03\x04 not really a zip", filename="x.xlsx")
    assert [e["code"] for e in result.report] == ["file_unreadable"]
    assert run(intake, b"", filename="empty.csv").report[0]["code"] == "file_empty"


@pytest.mark.django_db
def test_missing_required_columns_are_reported_on_the_header_line(world):
    intake = make_import_intake(world.smara)
    data = canonical_csv([{k: v for k, v in applicant().items() if k not in ("phone", "sex")}])
    result = run(intake, data)
    assert [(e["line"], e["code"], e["params"]["field"]) for e in result.report] == [
        (1, "column_missing", "sex"),
        (1, "column_missing", "phone"),
    ]
    assert result.created == 0
