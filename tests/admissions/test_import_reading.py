"""Reading files as Excel saves them: CSV in the encoding of the Windows that saved it, and
workbooks whose applicants are not on the first sheet."""

import io

import pytest
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv, csv_bytes, make_import_intake
from tremplin.admissions.importing import describe_error, import_applications
from tremplin.admissions.importing_files import TableError, decode, read_table
from tremplin.admissions.models import Application

ARABIC_CSV = "الاسم العائلي;النسب;Nom;Prénom;Ville\r\nالعلمي;ولد سيدي;Aït Baha;Hélène;Laâyoune\r\n"
FRENCH_CSV = "Nom;Prénom;École\r\nÉCOLE;Équipe;Ça été créé à Noël\r\n"


def test_a_csv_from_excel_on_an_arabic_windows_is_read_as_windows_1256():
    assert decode(ARABIC_CSV.encode("cp1256")) == ARABIC_CSV


def test_a_csv_from_excel_on_a_french_windows_keeps_its_capital_accents():
    assert decode(FRENCH_CSV.encode("cp1252")) == FRENCH_CSV


def test_a_csv_in_no_encoding_we_can_tell_asks_for_csv_utf8():
    # Bytes that Windows-1252 does not define, and no Arabic word under Windows-1256.
    with pytest.raises(TableError) as raised:
        decode(b"Nom;Pr\x81nom\r\nA;B\x8d\r\n")
    assert raised.value.code == "file_encoding"
    with translation.override("en"):
        message = describe_error({"line": 0, "column": "", "code": "file_encoding"})
    assert "“CSV UTF-8”" in message


@pytest.mark.django_db
def test_an_arabic_windows_csv_is_imported_with_its_arabic_names(world):
    intake = make_import_intake(world.smara)
    row = applicant(0, last_name_ar="العلمي", first_name_ar="هند", commune="السمارة")
    data = csv_bytes(list(row), [list(row.values())], delimiter=";", encoding="cp1256")
    result = import_applications(
        intake=intake, fileobj=io.BytesIO(data), filename="c.csv", mode="all", dry_run=True
    )
    assert (result.valid, result.invalid) == (1, 0), result.report


def workbook(*sheets: tuple[str, list[list]], active: int = 0) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.active = active
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["CIN", "Nom", "Prénom", "Date de naissance", "Sexe", "Téléphone"]


def test_the_sheet_whose_header_names_the_most_fields_is_read():
    data = workbook(
        ("Consignes", [["Remplir une ligne par candidat"], ["Nom", "Date"]]),
        ("Candidats", [HEADER, ["AB1", "A", "B", "01/01/2000", "F", "0661"]]),
    )
    table = read_table(io.BytesIO(data), "c.xlsx")
    assert table.headers == HEADER
    assert table.rows == [(2, ["AB1", "A", "B", "01/01/2000", "F", "0661"])]


def test_on_a_tie_the_active_sheet_then_the_first_is_read():
    first = ("Janvier", [HEADER, ["AB1"]])
    second = ("Février", [HEADER, ["AB2"]])
    assert read_table(io.BytesIO(workbook(first, second, active=1)), "c.xlsx").rows[0][1][0] == (
        "AB2"
    )
    blank = ("Vide", [["rien"]])
    data = workbook(blank, first, second, active=0)
    assert read_table(io.BytesIO(data), "c.xlsx").rows[0][1][0] == "AB1"


UTF8_ROWS = [applicant(0, last_name="Hélène"), applicant(1, first_name="Zoé"), applicant(2)]


def with_stray_byte(data: bytes, name: bytes) -> bytes:
    """``data`` with one byte that UTF-8 does not accept (« é » in Windows-1252) in ``name``."""
    assert name in data
    return data.replace(name, name[:-1] + b"\xe9", 1)


def test_a_utf8_file_with_one_stray_byte_stays_utf8():
    data = with_stray_byte(canonical_csv(UTF8_ROWS), b"El Idrissi")
    text = decode(data)
    assert "Hélène" in text and "Zoé" in text  # not « HÃ©lÃ¨ne »
    assert "El Idriss\ufffd" in text


def test_an_arabic_windows_file_whose_bytes_happen_to_hold_utf8_pairs_stays_windows_1256():
    # « ا؟ » is C7 BF in Windows-1256: a valid UTF-8 pair, among Arabic words that are not.
    text = "الاسم;السؤال\r\nهند;لماذا؟ نعم\r\n"
    data = text.encode("cp1256")
    assert b"\xc7\xbf" in data
    assert decode(data) == text


@pytest.mark.django_db
@pytest.mark.parametrize("bom", [False, True])
def test_the_lines_that_do_not_decode_are_reported_and_the_others_imported(world, bom):
    intake = make_import_intake(world.smara)
    data = with_stray_byte(canonical_csv(UTF8_ROWS, bom=bom), b"El Idrissi")
    result = import_applications(
        intake=intake, fileobj=io.BytesIO(data), filename="c.csv", mode="valid", dry_run=False
    )
    assert [(e["line"], e["column"], e["code"]) for e in result.report] == [
        (3, "last_name", "encoding_invalid")
    ]
    assert (result.created, result.invalid) == (2, 1)
    with scopes_disabled():
        assert sorted(Application.objects.values_list("last_name", flat=True)) == [
            "El Idrissi", "Hélène"
        ]  # fmt: skip
    with translation.override("en"):
        assert "not in UTF-8" in describe_error(result.report[0])
