"""Exports (data minimisation, audit, a round trip back into an import) and the commands."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv, make_import_intake
from tremplin.admissions.exporting import applications_export, template_csv
from tremplin.admissions.importing import import_applications
from tremplin.admissions.models import Application
from tremplin.core.models import AuditEvent


def load(intake, rows):
    result = import_applications(
        intake=intake, fileobj=io.BytesIO(canonical_csv(rows)), filename="a.csv", mode="all",
        dry_run=False,
    )  # fmt: skip
    assert result.created == len(rows), result.report


def export(intake, fmt="csv", *, include_identity, actor=None, labels=False) -> bytes:
    """The export, its columns by their canonical names unless ``labels`` (as staff get
    it: in their language)."""
    out = io.BytesIO()
    with scopes_disabled():
        queryset = Application.objects.filter(intake=intake).order_by("number")
    applications_export(
        intake=intake, queryset=queryset, fmt=fmt, include_identity=include_identity,
        actor=actor, out=out, filters={"eligibility": "eligible"}, labels=labels,
    )  # fmt: skip
    return out.getvalue()


def csv_rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def intake(world):
    intake = make_import_intake(world.smara)
    load(
        intake,
        [
            applicant(0, needs_accommodation="1", accommodation_consent="1"),
            applicant(1, diploma="=cmd|' /C calc'!A0", last_name_ar="العروسي"),
        ],
    )
    return intake


@pytest.mark.django_db
def test_an_export_without_identity_masks_the_cin_and_leaves_out_accommodation(world, intake):
    with translation.override("fr"):
        rows = csv_rows(export(intake, include_identity=False, actor=world.users["admissions"]))
    assert [r["cin"] for r in rows] == ["JA****00", "JA****01"]
    assert "needs_accommodation" not in rows[0] and "accommodation_consent" not in rows[0]
    assert rows[0]["reference"].startswith("SMA-")
    assert rows[0]["phone"] == "06 61 00 00 00"
    assert rows[0]["birth_date"] == "21/03/2003"
    assert rows[1]["last_name_ar"] == "العروسي"
    # Typed text that Excel would run as a formula stays text.
    assert rows[1]["diploma"] == "'=cmd|' /C calc'!A0"
    with scopes_disabled():
        event = AuditEvent.objects.select_related("actor", "school").get(
            action="tremplin.applications.exported"
        )
    assert event.actor == world.users["admissions"] and event.school == world.smara
    assert event.data == {
        "format": "csv", "count": 2, "identity": False, "filters": {"eligibility": "eligible"}
    }  # fmt: skip


@pytest.mark.django_db
def test_an_export_of_a_search_records_that_it_was_searched_not_for_whom(world, intake):
    """The audit log outlives an erasure: a CIN or a name typed in the search box must not
    stay in it."""
    from django.urls import reverse

    from tests.conftest import verified_client

    client = verified_client(world.users["admissions"])
    url = reverse("admissions:application_export", args=["smara", intake.slug, "csv"])
    for search, cins in (
        ("JA100000", ["JA100000"]),
        ("Fatima El Idrissi", ["JA100000", "JA100001"]),
    ):
        response = client.get(url, {"q": search, "sex": "F", "commune": ""})
        assert response.status_code == 200
        assert sorted(row["CIN"] for row in csv_rows(response.getvalue())) == cins
    with scopes_disabled():
        events = list(AuditEvent.objects.filter(action="tremplin.applications.exported"))
    assert [event.data["filters"] for event in events] == [{"q": "*", "sex": "F"}] * 2
    assert not any("JA100000" in str(e.data) or "Fatima" in str(e.data) for e in events)


@pytest.mark.django_db
def test_an_export_with_identity_shows_the_cin_and_accommodation(world, intake):
    with translation.override("en"):
        rows = csv_rows(export(intake, include_identity=True))
    assert [r["cin"] for r in rows] == ["JA100000", "JA100001"]
    assert (rows[0]["needs_accommodation"], rows[1]["needs_accommodation"]) == ("yes", "no")


@pytest.mark.django_db
def test_the_xlsx_export_has_dates_and_arabic_and_no_identity(world, intake):
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export(intake, "xlsx", include_identity=False))).active
    header, _first, second = list(sheet.iter_rows(values_only=True))
    row = dict(zip(header, second, strict=True))
    assert row["cin"] == "JA****01" and "needs_accommodation" not in header
    assert row["birth_date"].date().isoformat() == "2003-03-21"
    assert row["last_name_ar"] == "العروسي"
    assert row["diploma"] == "=cmd|' /C calc'!A0"  # as typed, in a text cell (below)


def xlsx_sheet(data: bytes):
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    return sheet, header


@pytest.mark.django_db
def test_the_xlsx_export_keeps_formula_like_text_as_typed_in_text_cells(world, intake):
    load(intake, [applicant(2, last_name="-Bakr")])
    sheet, header = xlsx_sheet(export(intake, "xlsx", include_identity=True))
    for row, column, value in ((3, "diploma", "=cmd|' /C calc'!A0"), (4, "last_name", "-Bakr")):
        cell = sheet.cell(row=row, column=header.index(column) + 1)
        assert (cell.value, cell.data_type) == (value, "s")  # never a formula
        assert cell.quotePrefix  # nor once someone edits it in Excel
    # The CSV export keeps the apostrophe (a CSV has no cell types), which the import removes.
    assert csv_rows(export(intake, include_identity=True))[2]["last_name"] == "'-Bakr"
    again = make_import_intake(world.smara, slug="promo-2027")
    for fmt, data in (("csv", export(intake, include_identity=True)),
                      ("xlsx", export(intake, "xlsx", include_identity=True))):  # fmt: skip
        result = import_applications(
            intake=again, fileobj=io.BytesIO(data), filename=f"export.{fmt}", mode="all",
            dry_run=True,
        )  # fmt: skip
        assert (result.valid, result.invalid) == (3, 0), result.report
    load_into = import_applications(
        intake=again, fileobj=io.BytesIO(export(intake, include_identity=True)),
        filename="export.csv", mode="all", dry_run=False,
    )  # fmt: skip
    assert load_into.created == 3
    with scopes_disabled():
        names = set(Application.objects.filter(intake=again).values_list("last_name", flat=True))
        diplomas = set(Application.objects.filter(intake=again).values_list("diploma", flat=True))
    assert "-Bakr" in names and "=cmd|' /C calc'!A0" in diplomas


@pytest.mark.django_db
def test_the_xlsx_export_writes_dates_and_times_as_such(world, intake):
    import datetime
    import zoneinfo

    sheet, header = xlsx_sheet(export(intake, "xlsx", include_identity=False))
    submitted = sheet.cell(row=2, column=header.index("submitted_at") + 1)
    born = sheet.cell(row=2, column=header.index("birth_date") + 1)
    with scopes_disabled():
        created_at = Application.objects.order_by("number").first().created_at
    local = created_at.astimezone(zoneinfo.ZoneInfo("Africa/Casablanca")).replace(tzinfo=None)
    assert isinstance(submitted.value, datetime.datetime)  # Excel's own time, without zone
    assert abs(submitted.value - local) < datetime.timedelta(seconds=1)
    assert submitted.number_format == "dd/mm/yyyy hh:mm"
    assert (born.value, born.number_format) == (datetime.datetime(2003, 3, 21), "dd/mm/yyyy")


# What staff read at the top of each column, in their language.
HEADERS = {
    "fr": ["Référence", "Déposée le", "Statut de la candidature", "Éligibilité",
           "Conditions non remplies", "CIN", "Nom (lettres latines)", "Prénom (lettres latines)",
           "Nom (lettres arabes)", "Prénom (lettres arabes)", "Date de naissance", "Sexe",
           "Téléphone mobile", "E-mail", "Commune", "Niveau d'études", "Diplôme",
           "Situation professionnelle", "Motivation", "A besoin d'un aménagement",
           "Accepte l'utilisation du besoin d'aménagement",
           "Accepte le suivi d'insertion professionnelle", "Langue"],
    "ar": ["المرجع", "تاريخ التقديم", "حالة الترشيح", "الأهلية", "الشروط غير المستوفاة",
           "رقم البطاقة الوطنية", "الاسم العائلي (بالحروف اللاتينية)",
           "الاسم الشخصي (بالحروف اللاتينية)", "الاسم العائلي (بالحروف العربية)",
           "الاسم الشخصي (بالحروف العربية)", "تاريخ الازدياد", "الجنس", "الهاتف المحمول",
           "البريد الإلكتروني", "الجماعة", "المستوى الدراسي", "الدبلوم", "الوضعية المهنية",
           "الدافع", "يحتاج إلى ترتيبات خاصة", "يوافق على استعمال الحاجة إلى ترتيبات خاصة",
           "يوافق على تتبع الإدماج المهني", "اللغة"],
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "fmt"), [("fr", "csv"), ("ar", "xlsx"), ("en", "csv")])
def test_an_export_in_any_language_imports_back_into_another_call(world, intake, language, fmt):
    """Staff read the columns in their language; corrected in a spreadsheet, the file goes
    back into an import whoever exported it, every answer read from its own column."""
    again = make_import_intake(world.smara, slug="promo-2027")
    with translation.override(language):
        data = export(intake, fmt, include_identity=True, labels=True)
    header = (
        next(iter(xlsx_sheet(data)[0].iter_rows(values_only=True)))
        if fmt == "xlsx"
        else next(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    )
    if language in HEADERS:
        assert list(header) == HEADERS[language]
    result = import_applications(
        intake=again, fileobj=io.BytesIO(data), filename=f"export.{fmt}", mode="all",
        dry_run=False,
    )  # fmt: skip
    assert (result.created, result.invalid) == (2, 0), result.report
    # The export's own columns (reference, status…) are left out, and nothing else.
    assert result.ignored_columns == list(header[:5])
    fields = ("cin", "last_name", "first_name", "last_name_ar", "first_name_ar", "birth_date",
              "sex", "phone", "email", "commune_id", "education_level", "diploma",
              "employment", "needs_accommodation", "accommodation_consent",
              "follow_up_consent", "language")  # fmt: skip
    with scopes_disabled():
        before, after = (
            list(Application.objects.filter(intake=call).order_by("cin").values(*fields))
            for call in (intake, again)
        )
    assert after == before


@pytest.mark.django_db
def test_the_export_command_keeps_the_canonical_column_names(world, intake, tmp_path):
    """Scripts read the command's files: their header does not depend on a language."""
    out = tmp_path / "export.csv"
    with translation.override("ar"):
        call_command("export_applications", "--intake", intake.slug, "-o", str(out))
    header = next(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert header[:6] == ["reference", "submitted_at", "status", "eligibility",
                          "eligibility_reasons", "cin"]  # fmt: skip


@pytest.mark.django_db
def test_export_queries_do_not_grow_with_the_applications(world, intake):
    with CaptureQueriesContext(connection) as small:
        export(intake, include_identity=True)
    load(intake, [applicant(n) for n in range(10, 40)])
    with CaptureQueriesContext(connection) as large:
        export(intake, include_identity=True)
    assert len(large) == len(small)


def test_the_csv_template_has_the_canonical_columns_and_an_example():
    rows = csv_rows(template_csv())
    assert rows[0]["cin"] == "AB123456" and rows[0]["birth_date"] == "21/03/2003"


# --- Commands -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_import_command_dry_run_prints_counts_and_writes_the_report(world, tmp_path):
    make_import_intake(world.smara)
    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv([applicant(0), applicant(1, phone="1")]))
    out = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="Nothing would be"):
        # All or nothing (the default), the valid row is held back by the other's error.
        call_command("import_applications", str(path), "--intake", "promo-2026", "--dry-run",
                     "--language", "en", stdout=out)  # fmt: skip
    assert (
        "2 rows: 0 applications would be created (1 valid rows held back: all or nothing), "
        "0 duplicates skipped, 1 rows with errors."
    ) in out.getvalue()
    out = io.StringIO()
    call_command("import_applications", str(path), "--intake", "promo-2026", "--dry-run",
                 "--valid-only", "--language", "en", stdout=out)  # fmt: skip
    assert "2 rows: 1 applications would be created, 0 duplicates skipped, 1 rows with errors" in (
        out.getvalue()
    )
    with (tmp_path / "candidats.report.csv").open(encoding="utf-8-sig") as report:
        lines = list(csv.reader(report, delimiter=";"))
    assert lines == [
        ["Line", "Column", "Code", "Reason"],
        ["3", "phone", "phone_invalid", "Not a Moroccan mobile number (e.g. 06 61 23 45 67)."],
    ]
    with scopes_disabled():
        assert not Application.objects.exists()


@pytest.mark.django_db
def test_the_import_command_all_or_nothing_refuses_a_file_with_errors(world, tmp_path):
    make_import_intake(world.smara)
    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv([applicant(0), applicant(1, phone="1")]))
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_applications", str(path), "--intake", "promo-2026",
                     "--report", str(tmp_path / "r.csv"), stdout=io.StringIO())  # fmt: skip
    assert (tmp_path / "r.csv").exists()
    with scopes_disabled():
        assert not Application.objects.exists()
    call_command("import_applications", str(path), "--intake", "promo-2026", "--valid-only",
                 "--school", "smara", stdout=io.StringIO())  # fmt: skip
    with scopes_disabled():
        assert list(Application.objects.values_list("cin", flat=True)) == ["JA100000"]


@pytest.mark.django_db
def test_the_import_command_names_an_unknown_intake(world, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(canonical_csv([applicant(0)]))
    with pytest.raises(CommandError, match="No intake 'nope'"):
        call_command("import_applications", str(path), "--intake", "nope")


@pytest.mark.django_db
def test_the_export_command_includes_identity_and_is_audited(world, intake, tmp_path):
    path = tmp_path / "export.xlsx"
    out = io.StringIO()
    call_command("export_applications", "--intake", "promo-2026", "--format", "xlsx",
                 "-o", str(path), stdout=out)  # fmt: skip
    assert f"2 applications written to {path}" in out.getvalue()
    from openpyxl import load_workbook

    header, first, _second = list(load_workbook(path).active.iter_rows(values_only=True))
    assert dict(zip(header, first, strict=True))["cin"] == "JA100000"
    with scopes_disabled():
        event = AuditEvent.objects.select_related("actor", "school").get(
            action="tremplin.applications.exported"
        )
    assert event.actor is None
    assert event.data["identity"] is True and event.data["format"] == "xlsx"


@pytest.mark.parametrize(
    ("language", "separator", "last"), [("fr", ", ", " ou "), ("ar", " أو ", " أو ")]
)
def test_the_template_lists_the_allowed_values_in_the_readers_language(language, separator, last):
    from tremplin.admissions.exporting import _column_help

    with translation.override(language):
        help_of = dict(_column_help())
    values = help_of["employment"]
    assert separator in values and last in values
    if language == "ar":
        assert ", " not in values  # no Latin comma between Arabic words


@pytest.mark.django_db
def test_a_file_refused_as_a_whole_prints_no_counts_of_rows_never_read(world, tmp_path):
    """A file without a required column (or a call with a published ranking) was refused
    after "1 rows: 0 applications would be created, 0 duplicates skipped, 0 rows with
    errors", which reads as if its row had been looked at and found a duplicate."""
    from tests.admissions.builders import csv_bytes, make_import_intake

    make_import_intake(world.smara)
    path = tmp_path / "candidats.csv"
    path.write_bytes(csv_bytes(["cin", "last_name"], [["AB123456", "El Idrissi"]]))
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_applications", str(path), intake="promo-2026", language="en", stdout=out
        )
    assert "The required column “First name (Latin script)” is missing." in str(refused.value)
    assert "rows:" not in out.getvalue()
    assert (tmp_path / "candidats.report.csv").exists()  # the report is still written


@pytest.mark.django_db
def test_rows_written_before_a_ranking_was_published_mid_import_are_still_counted(
    world, tmp_path, monkeypatch
):
    """--valid-only keeps the batches written before the publication: the command says how
    many, then why the rest was not written (not the refusal alone, as if none were)."""
    from tests.admissions.builders import make_import_intake
    from tremplin.admissions.importing import ImportResult, problem
    from tremplin.admissions.management.commands import import_applications as command

    make_import_intake(world.smara)
    interrupted = ImportResult(mode="valid", dry_run=False, rows=900, valid=500, created=500)
    interrupted.report.append(problem(0, "", "ranking_published"))
    monkeypatch.setattr(command, "import_applications", lambda **kwargs: interrupted)
    path = tmp_path / "candidats.csv"
    path.write_bytes(b"cin\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="ranking"):
        call_command(
            "import_applications", str(path), intake="promo-2026", valid_only=True,
            language="en", stdout=out,
        )  # fmt: skip
    assert "900 rows: 500 applications created" in out.getvalue()
