"""The report of an import: written by the command, downloaded from the import's page."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv, make_import_intake
from tremplin.admissions import import_tasks
from tremplin.admissions.models import ImportJob


def command(path, *options):
    out = io.StringIO()
    call_command("import_applications", str(path), "--intake", "promo-2026", *options, stdout=out)
    return out.getvalue()


def report_lines(path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig") as report:
        return list(csv.reader(report, delimiter=";"))


@pytest.mark.django_db
def test_the_command_always_writes_its_report_so_no_stale_one_stays(world, tmp_path):
    make_import_intake(world.smara)
    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv([applicant(0), applicant(1, phone="1")]))
    command(path, "--dry-run", "--valid-only", "--language", "en")
    report = tmp_path / "candidats.report.csv"
    assert len(report_lines(report)) == 2
    path.write_bytes(canonical_csv([applicant(0), applicant(1)]))
    printed = command(path, "--dry-run", "--language", "en")
    assert report_lines(report) == [["Line", "Column", "Code", "Reason"]]
    assert f"Report: {report} (0 problems)" in printed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "header", "reason"),
    [
        ("fr", "Ligne", "Ce n'est pas un numéro de mobile marocain (par ex. 06 61 23 45 67)."),
        ("ar", "السطر", None),
    ],
)
def test_the_command_report_is_in_the_language_asked(world, tmp_path, language, header, reason):
    make_import_intake(world.smara)
    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv([applicant(0, phone="1")]))
    command(path, "--dry-run", "--valid-only", "--language", language)
    lines = report_lines(tmp_path / "candidats.report.csv")
    assert lines[0][0] == header
    assert lines[1][:3] == ["2", "phone", "phone_invalid"]
    assert "Not a Moroccan" not in lines[1][3]
    if reason:
        assert lines[1][3] == reason


@pytest.mark.django_db
def test_an_unwritable_report_is_a_clear_error_after_the_counts(world, tmp_path):
    make_import_intake(world.smara)
    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv([applicant(0), applicant(1, phone="1")]))
    out = io.StringIO()
    nowhere = tmp_path / "missing-folder" / "r.csv"
    with pytest.raises(CommandError, match=r"Cannot write the report to .*missing-folder"):
        call_command("import_applications", str(path), "--intake", "promo-2026", "--dry-run",
                     "--report", str(nowhere), stdout=out)  # fmt: skip
    assert "2 rows: 0 applications would be created (1 valid rows held back" in out.getvalue()


# --- The download -------------------------------------------------------------------------


@pytest.fixture
def intake(world):
    return make_import_intake(world.smara)


def report_url(job_id: int) -> str:
    return reverse("admissions:import_report", args=["smara", "promo-2026", job_id])


def phone_problem(line: int) -> dict:
    return {"line": line, "column": "Tél", "code": "phone_invalid", "params": {}}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("director", 200),
        ("admissions", 200),
        ("other_admissions", 404),
        ("coordinator", 404),
        ("learner", 404),
        ("anonymous", 302),
    ],
)
def test_only_those_who_see_the_import_download_its_report(world, intake, persona, status):
    with scopes_disabled():
        job = ImportJob.objects.create(intake=intake, original_name="x.csv", mode="valid",
                                       status="done", report=[phone_problem(2)])  # fmt: skip
    assert world.client(persona).get(report_url(job.pk)).status_code == status


@pytest.mark.django_db
def test_another_intakes_report_is_not_found(world, intake):
    other = make_import_intake(world.smara, slug="promo-2027")
    with scopes_disabled():
        job = ImportJob.objects.create(intake=other, original_name="x.csv", mode="all")
    assert world.client("admissions").get(report_url(job.pk)).status_code == 404


@pytest.mark.django_db
def test_the_downloaded_report_is_utf8_with_bom_in_the_readers_language(world, intake):
    with scopes_disabled():
        job = ImportJob.objects.create(
            intake=intake, original_name="x.csv", mode="valid", status="done",
            report=[phone_problem(2), {"line": 3, "column": "=cmd()", "code": "commune_unknown",
                                       "params": {"value": "طانطان"}}],
            report_total=2,
        )  # fmt: skip
    client = world.client("admissions")
    client.cookies["django_language"] = "ar"
    response = client.get(report_url(job.pk))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}-report.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["السطر", "العمود", "الرمز", "السبب"]
    assert lines[1][:3] == ["2", "Tél", "phone_invalid"]
    assert lines[2][1] == "'=cmd()"  # a header of the file never runs as a formula
    assert "طانطان" in lines[2][3]


@pytest.mark.django_db
def test_a_long_report_is_all_in_the_download_and_counted_on_the_page(world, intake, monkeypatch):
    monkeypatch.setattr(import_tasks, "REPORT_LIMIT", 150)
    rows = [applicant(n, phone="1") for n in range(300)]
    with scopes_disabled():
        job = ImportJob.objects.create(intake=intake, original_name="x.csv", mode="valid")
        job.file.save("long.csv", io.BytesIO(canonical_csv(rows)))
    import_tasks.run_import.call(job_id=job.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert (job.error_count, job.report_total, len(job.report)) == (300, 300, 150)
    assert job.report_file.name.startswith("private/import-reports/")

    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admissions:import_detail", args=["smara", "promo-2026", job.pk]))
    html = page.content.decode()
    assert html.count("Not a Moroccan mobile number") == 100  # a short list on the page
    # Counted from the whole report, not the kept part; problems, not lines (a line may
    # have several).
    assert "And 200 more problems." in html
    assert report_url(job.pk) in html

    lines = list(csv.reader(io.StringIO(client.get(report_url(job.pk)).content.decode("utf-8-sig")),
                            delimiter=";"))  # fmt: skip
    assert len(lines) == 1 + 300
    assert lines[-1][:3] == ["301", "phone", "phone_invalid"]


def test_a_header_quoted_in_an_arabic_message_keeps_its_punctuation_in_place():
    """« Quel est votre niveau d'études ? » in an Arabic sentence: without isolation, its
    "?" and the guillemets jumped to the other end of the line."""
    from tremplin.admissions.importing_report import describe_error, problem

    header = "Quel est votre niveau d'études ?"
    missing = problem(0, "", "column_missing", field="education_level", ignored=[header])
    with translation.override("ar"):
        message = describe_error(missing)
    assert f"«\u2068{header}\u2069»" in message
