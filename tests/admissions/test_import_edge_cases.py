"""Files that broke the import: month-first dates from a US-locale export, a person who sent a
Google Form twice, and a real import asked for once the dry run's file is gone."""

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from tests.admissions.builders import (
    CONSENT,
    GOOGLE_FORMS_HEADERS,
    applicant,
    canonical_csv,
    csv_bytes,
    excel_serial,
    google_forms_row,
    make_import_intake,
    xlsx_bytes,
)
from tremplin.admissions import import_tasks
from tremplin.admissions.importing import describe_error, import_applications
from tremplin.admissions.models import Application, ImportJob


@pytest.fixture
def intake(world):
    return make_import_intake(world.smara)


def url(name: str, *args) -> str:
    return reverse(f"admissions:{name}", args=["smara", "promo-2026", *args])


def run(intake, data: bytes, *, filename="candidats.csv", mode="all", dry_run=False):
    return import_applications(
        intake=intake, fileobj=io.BytesIO(data), filename=filename, mode=mode, dry_run=dry_run
    )


def born(intake) -> dict[str, datetime.date]:
    with scopes_disabled():
        return dict(Application.objects.filter(intake=intake).values_list("cin", "birth_date"))


def staff(world):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    return client


def dry_run(client, data: bytes, capture, *, mode="all") -> str:
    """Upload ``data`` for a dry run, as staff do; the page of its result."""
    upload = SimpleUploadedFile("candidats.csv", data, content_type="text/csv")
    with capture(execute=True):
        response = client.post(url("import_form"), {"file": upload, "mode": mode, "dry_run": "on"})
    return client.get(response["Location"]).content.decode()


def reasons(result) -> list[tuple[int, str]]:
    with translation.override("en"):
        return [(entry["line"], describe_error(entry)) for entry in result.report]


# --- Dates written month first ---------------------------------------------------------------

# A Google Forms export from a US-locale account: English questions, month/day/year.
US_HEADERS = ["Timestamp", "CIN", "Last name", "First name", "Date of birth", "Sex", "Phone",
              "Commune", "Education level", "Employment situation"]  # fmt: skip


def us_row(n: int, birth_date: str, answered: str = "9/1/2025 10:15:32") -> list[str]:
    row = applicant(n)
    return [answered, row["cin"], row["last_name"], row["first_name"], birth_date, "F",
            row["phone"], row["commune"], "bac", "neet"]  # fmt: skip


@pytest.mark.django_db
def test_a_us_export_is_read_month_first_and_the_dry_run_says_so(
    world, intake, django_capture_on_commit_callbacks
):
    data = csv_bytes(US_HEADERS, [us_row(0, "04/05/2003"), us_row(1, "03/25/2003")])
    page = dry_run(staff(world), data, django_capture_on_commit_callbacks)
    assert "Rows with errors" in page and "Not a date" not in page
    assert (
        '<bdi>Date of birth</bdi></td><td data-label="Read as">Date of birth<br>'
        '<span class="small text-body-secondary">dates read as month/day/year, as the file '
        "writes them (e.g. line 3)</span>"
    ) in page
    assert "Import for real" in page

    result = run(intake, data)
    assert (result.created, result.invalid) == (2, 0), result.report
    # 04/05 is the 5th of April: the whole column is month first, not only 03/25.
    assert born(intake) == {
        "JA100000": datetime.date(2003, 4, 5),
        "JA100001": datetime.date(2003, 3, 25),
    }


@pytest.mark.django_db
def test_a_month_first_column_says_so_when_a_date_is_wrong(intake):
    data = csv_bytes(
        US_HEADERS,
        [us_row(0, "03/25/2003"), us_row(1, "03/2003"), us_row(2, "02/30/2003")],
    )
    result = run(intake, data, dry_run=True)
    assert reasons(result) == [
        (3, "Not a date: this column writes dates month first, mm/dd/yyyy (e.g. 03/15/2001)."),
        # Written in the column's order, with a day its month lacks.
        (4, "This date does not exist: check the day and the month."),
    ]


@pytest.mark.django_db
def test_a_column_with_both_orders_refuses_the_dates_that_read_both_ways(
    world, intake, django_capture_on_commit_callbacks
):
    rows = [
        applicant(0, birth_date="25/03/2003"),  # day first, only
        applicant(1, birth_date="03/26/2003"),  # month first, only
        applicant(2, birth_date="04/05/2003"),  # the 4th of May or the 5th of April?
        applicant(3, birth_date="06/06/2003"),  # the same either way
    ]
    result = run(intake, canonical_csv(rows), mode="valid")
    assert [(e["line"], e["column"], e["code"]) for e in result.report] == [
        (4, "birth_date", "date_order_unclear")
    ]
    assert reasons(result)[0][1] == (
        "This date can be read day first or month first, and the column has both kinds (day "
        "first on line 2, month first on line 3): write all its dates the same way, or this "
        "one as yyyy-mm-dd."
    )
    assert born(intake) == {
        "JA100000": datetime.date(2003, 3, 25),
        "JA100001": datetime.date(2003, 3, 26),
        "JA100003": datetime.date(2003, 6, 6),
    }

    page = dry_run(staff(world), canonical_csv(rows), django_capture_on_commit_callbacks)
    assert (
        "dates written both day first (e.g. line 2) and month first (e.g. line 3): those that "
        "can be read both ways are not imported"
    ) in page
    assert "write all its dates the same way" in page


@pytest.mark.django_db
def test_dates_that_all_read_both_ways_stay_day_first(
    world, intake, django_capture_on_commit_callbacks
):
    rows = [applicant(0, birth_date="04/05/2003"), applicant(1, birth_date="01/02/2004")]
    page = dry_run(staff(world), canonical_csv(rows), django_capture_on_commit_callbacks)
    assert "dates read as day/month/year" in page
    run(intake, canonical_csv(rows))
    assert born(intake) == {
        "JA100000": datetime.date(2003, 5, 4),
        "JA100001": datetime.date(2004, 2, 1),
    }


@pytest.mark.django_db
def test_date_cells_and_excel_serials_are_read_as_they_are_next_to_month_first_text(intake):
    at = US_HEADERS.index("Date of birth")
    rows = [us_row(n, "")[1:] for n in range(3)]  # without the answer time
    rows[0][at - 1] = "03/25/2003"
    rows[1][at - 1] = datetime.datetime(2003, 4, 5)  # a date cell
    rows[2][at - 1] = excel_serial(datetime.date(2003, 11, 2))  # a number cell
    result = run(intake, xlsx_bytes(US_HEADERS[1:], rows), filename="candidats.xlsx")
    assert result.created == 3, result.report
    assert born(intake) == {
        "JA100000": datetime.date(2003, 3, 25),
        "JA100001": datetime.date(2003, 4, 5),
        "JA100002": datetime.date(2003, 11, 2),
    }


@pytest.mark.django_db
def test_the_command_prints_how_the_dates_were_read(intake, tmp_path):
    path = tmp_path / "candidats.csv"
    path.write_bytes(csv_bytes(US_HEADERS, [us_row(0, "04/05/2003"), us_row(1, "03/25/2003")]))
    out = io.StringIO()
    call_command("import_applications", str(path), "--intake", "promo-2026", "--dry-run",
                 "--language", "en", stdout=out)  # fmt: skip
    assert "Date of birth -> birth_date (Date of birth): dates read as month/day/year" in (
        out.getvalue()
    )


# --- A Google Form sent twice ----------------------------------------------------------------

STAMP = GOOGLE_FORMS_HEADERS.index("Horodateur")
PHONE = GOOGLE_FORMS_HEADERS.index("Téléphone")


def form_row(n: int, answered: str, **changes) -> list[str]:
    row = google_forms_row(n, **changes)
    row[STAMP] = answered
    return row


def phones(intake) -> dict[str, str]:
    with scopes_disabled():
        return dict(Application.objects.filter(intake=intake).values_list("cin", "phone"))


@pytest.mark.django_db
def test_a_form_sent_again_keeps_the_latest_answer_and_says_which_it_replaced(
    world, intake, django_capture_on_commit_callbacks
):
    rows = [
        form_row(1, "01/09/2025 10:15:32", phone="06 61 00 00 01"),
        form_row(2, "01/09/2025 11:00:00"),
        form_row(1, "02/09/2025 09:30:00", phone="06 61 99 99 99"),  # the correction
    ]
    data = csv_bytes(GOOGLE_FORMS_HEADERS, rows)
    page = dry_run(staff(world), data, django_capture_on_commit_callbacks)
    assert (
        "Replaced by line 4, a later answer with the same CIN: only the latest answer is imported."
    ) in page
    assert "Import for real" in page  # not an error: all or nothing still imports
    assert (
        '<bdi>Horodateur</bdi></td><td data-label="Read as">Time of the answer<br>'
        '<span class="small text-body-secondary">when a CIN answered more than once, only its '
        "latest answer is imported</span>"
    ) in page

    result = run(intake, data, mode="all")
    assert (result.created, result.duplicates, result.invalid) == (2, 1, 0)
    assert [(e["line"], e["column"], e["code"]) for e in result.report] == [
        (2, "Numéro de CIN", "replaced_later")
    ]
    assert phones(intake) == {"JA100001": "+212661999999", "JA100002": "+212661000002"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("01/09/2025 10:15:32", "01/09/2025 18:40:05"),  # the same day: the time decides
        ("9/1/2025 9:15:32 PM", "9/13/2025 8:40:05 AM"),  # a US-locale export: month first
        ("9/1/2025 9:15:32 AM", "9/1/2025 1:40:05 PM"),
        ("2025-09-01T10:15:32", "2025-09-14T08:00:00"),  # an XLSX export's date cells
        # With the zone of the form's owner, as Google Forms writes it in some locales.
        ("2025/09/01 2:51:31 PM GMT+1", "2025/09/01 3:10:00 PM GMT+1"),
        ("2025/09/01 2:51:31 PM UTC+1", "2025/09/01 3:10:00 PM UTC+1"),
        ("2025-09-01T10:15:32+01:00", "2025-09-01T18:00:00Z"),
    ],
)
def test_the_answer_time_decides_when_the_file_was_sorted(intake, earlier, later):
    # Sorted by name before export: the correction (later answer) now comes first.
    rows = [
        form_row(1, later, last_name="Alaoui", phone="06 61 99 99 99"),
        form_row(2, earlier),
        form_row(1, earlier, last_name="Zahraoui", phone="06 61 00 00 01"),
    ]
    result = run(intake, csv_bytes(GOOGLE_FORMS_HEADERS, rows))
    assert reasons(result) == [
        (4, "Replaced by line 2, a later answer with the same CIN: only the latest answer is "
            "imported.")
    ]  # fmt: skip
    assert phones(intake)["JA100001"] == "+212661999999"


@pytest.mark.django_db
def test_without_an_answer_time_the_later_line_wins(intake):
    rows = [applicant(1, first_name="Fatma"), applicant(1, cin="ja-100001", first_name="Fatima")]
    result = run(intake, canonical_csv(rows))
    assert [(e["line"], e["code"], e["params"]) for e in result.report] == [
        (2, "replaced_later", {"by_line": 3})
    ]
    with scopes_disabled():
        assert Application.objects.get().first_name == "Fatima"


@pytest.mark.django_db
def test_an_earlier_wrong_answer_does_not_block_all_or_nothing(intake):
    rows = [applicant(1, phone="0"), applicant(2), applicant(1)]
    result = run(intake, canonical_csv(rows), mode="all")
    assert (result.created, result.invalid, result.duplicates) == (2, 0, 1)
    assert [e["code"] for e in result.report] == ["replaced_later"]


@pytest.mark.django_db
def test_a_wrong_correction_is_reported_and_the_earlier_answer_is_not_imported_instead(intake):
    rows = [applicant(1), applicant(1, phone="0")]
    result = run(intake, canonical_csv(rows), mode="valid")
    assert [(e["line"], e["code"]) for e in result.report] == [
        (2, "replaced_later"),
        (3, "phone_invalid"),
    ]
    assert (result.created, result.invalid) == (0, 1)


@pytest.mark.django_db
def test_importing_a_form_with_corrections_again_changes_nothing(intake):
    rows = [
        form_row(1, "01/09/2025 10:15:32", phone="06 61 00 00 01"),
        form_row(2, "01/09/2025 11:00:00"),
        form_row(1, "02/09/2025 09:30:00", phone="06 61 99 99 99"),
    ]
    data = csv_bytes(GOOGLE_FORMS_HEADERS, rows)
    assert run(intake, data).created == 2
    with scopes_disabled():
        before = list(Application.objects.order_by("pk").values())

    again = run(intake, data)
    assert (again.created, again.duplicates, again.invalid) == (0, 3, 0)
    assert [(e["line"], e["code"]) for e in again.report] == [
        (2, "replaced_later"),
        (3, "duplicate_existing"),
        (4, "duplicate_existing"),
    ]
    with scopes_disabled():
        assert list(Application.objects.order_by("pk").values()) == before


# --- The dry run's file is gone ---------------------------------------------------------------


def finished_dry_run(world, capture) -> ImportJob:
    client = staff(world)
    dry_run(client, canonical_csv([applicant(0), applicant(1)]), capture)
    with scopes_disabled():
        return ImportJob.objects.get()


def jobs_and_applications() -> tuple[int, int]:
    with scopes_disabled():
        return ImportJob.objects.count(), Application.objects.count()


@pytest.mark.django_db
def test_a_dry_run_whose_file_the_storage_lost_asks_for_it_again(
    world, intake, django_capture_on_commit_callbacks
):
    dry = finished_dry_run(world, django_capture_on_commit_callbacks)
    default_storage.delete(dry.file.name)  # the name stayed, the file did not
    client = staff(world)
    page = client.get(url("import_detail", dry.pk)).content.decode()
    assert "Import for real" not in page and "no longer kept" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_detail", dry.pk), CONSENT, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(url("import_form"), 302)]
    assert (
        "Nothing was imported: the file of this dry run is no longer kept (it is deleted once "
        "imported, or a day after its dry run). Upload it again."
    ) in response.content.decode()
    assert jobs_and_applications() == (1, 0)


@pytest.mark.django_db
def test_a_page_left_open_past_the_sweep_asks_for_the_file_again(
    world, intake, django_capture_on_commit_callbacks
):
    dry = finished_dry_run(world, django_capture_on_commit_callbacks)
    client = staff(world)
    assert "Import for real" in client.get(url("import_detail", dry.pk)).content.decode()
    # The next morning: a day has passed and the sweep has deleted the file.
    with scopes_disabled():
        ImportJob.objects.filter(pk=dry.pk).update(
            finished_at=timezone.now() - datetime.timedelta(hours=25)
        )
    assert import_tasks.import_files_forget() == 1

    response = client.post(url("import_detail", dry.pk), CONSENT, follow=True)
    assert response.status_code == 200
    assert "Upload it again." in response.content.decode()
    assert jobs_and_applications() == (1, 0)


@pytest.mark.django_db
def test_a_file_lost_between_the_click_and_the_import_fails_with_a_reason(
    world, intake, django_capture_on_commit_callbacks
):
    dry = finished_dry_run(world, django_capture_on_commit_callbacks)
    client = staff(world)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_detail", dry.pk), CONSENT)
        default_storage.delete(dry.file.name)  # before the task reads it
    with scopes_disabled():
        real = ImportJob.objects.exclude(pk=dry.pk).get()
        dry.refresh_from_db()
    assert response["Location"] == url("import_detail", real.pk)
    assert real.status == "failed" and real.report[0]["code"] == "file_gone"
    assert real.file.name == "" and dry.file.name == ""
    page = client.get(response["Location"]).content.decode()
    assert (
        "The file is no longer kept (it is deleted once imported, or a day after its dry "
        "run): send it again."
    ) in page
    assert "technical team" not in page
    assert jobs_and_applications() == (2, 0)


@pytest.mark.django_db
def test_a_mobile_without_its_zero_is_read_however_it_is_spaced(intake):
    """Typed after a list whose spreadsheet had dropped the 0: "661223346" was read, and
    "6 61 22 33 46" refused as not a Moroccan mobile."""
    typed = ["661223346", "6 61 22 33 47", "6.61.22.33.48", "7-00-11-22-33"]
    rows = [applicant(n, phone=phone) for n, phone in enumerate(typed)]
    result = run(intake, canonical_csv(rows))
    assert (result.created, result.report) == (4, [])
    with scopes_disabled():
        phones = list(Application.objects.order_by("number").values_list("phone", flat=True))
    assert phones == ["+212661223346", "+212661223347", "+212661223348", "+212700112233"]
    # Nine digits not starting as a mobile does are not made one.
    assert run(intake, canonical_csv([applicant(9, phone="5 22 11 22 33")])).invalid == 1
