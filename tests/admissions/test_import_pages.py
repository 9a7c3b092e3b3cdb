"""The staff pages of the import, and the background task behind them."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import (
    CONSENT,
    applicant,
    canonical_csv,
    csv_bytes,
    make_import_intake,
)
from tremplin.admissions import import_tasks, importing
from tremplin.admissions.models import Application, ImportJob, Intake


@pytest.fixture
def intake(world):
    return make_import_intake(world.smara)


def url(name: str, *args) -> str:
    return reverse(f"admissions:{name}", args=["smara", "promo-2026", *args])


def upload(rows, name="candidats.csv", **fields) -> dict:
    return {
        "file": SimpleUploadedFile(name, canonical_csv(rows), content_type="text/csv"),
        "mode": "all",
        **CONSENT,
        **fields,
    }


def count() -> int:
    with scopes_disabled():
        return Application.objects.count()


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
def test_only_the_schools_admissions_staff_reach_the_import(world, intake, persona, status):
    assert world.client(persona).get(url("import_form")).status_code == status


@pytest.mark.django_db
def test_an_unknown_intake_or_another_intakes_job_is_not_found(world, intake):
    other = make_import_intake(world.smara, slug="promo-2027")
    with scopes_disabled():
        job = ImportJob.objects.create(intake=other, original_name="x.csv", mode="all")
    client = world.client("admissions")
    assert client.get(reverse("admissions:import_form", args=["smara", "nope"])).status_code == 404
    assert client.get(url("import_detail", job.pk)).status_code == 404


@pytest.mark.django_db
def test_a_dry_run_then_the_real_import_of_the_same_file(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    rows = [applicant(0), applicant(1), applicant(2, phone="123")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_form"), upload(rows, mode="valid", dry_run="on"))
    with scopes_disabled():
        dry = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == url("import_detail", dry.pk)
    assert (dry.status, dry.dry_run, dry.created_count, dry.error_count) == ("done", True, 2, 1)
    assert dry.created_by == world.users["admissions"]
    assert dry.original_name == "candidats.csv" and "candidats" not in dry.file.name
    assert count() == 0
    stored = dry.file.name

    client.cookies["django_language"] = "en"
    page = client.get(response["Location"]).content.decode()
    assert "Not a Moroccan mobile number" in page
    assert "Import for real" in page and "hx-trigger" not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_detail", dry.pk), CONSENT)
    with scopes_disabled():
        real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert response["Location"] == url("import_detail", real.pk)
    assert (real.dry_run, real.mode) == (False, "valid")
    assert (real.status, real.created_count, real.error_count) == ("done", 2, 1)
    assert count() == 2
    # Imported, the file (full CINs, phones) is deleted, and the dry run offers it no more.
    assert not default_storage.exists(stored)
    with scopes_disabled():
        dry.refresh_from_db()
    assert real.file.name == "" and dry.file.name == ""
    page = client.get(url("import_detail", dry.pk)).content.decode()
    assert "Import for real" not in page and "no longer kept" in page
    # Posted again (a page left open), it asks for the file and imports nothing.
    again = client.post(url("import_detail", dry.pk), CONSENT)
    assert again.status_code == 302 and again["Location"] == url("import_form")
    assert count() == 2
    # A finished real import cannot be run again from its page.
    assert client.post(url("import_detail", real.pk), CONSENT).status_code == 404


@pytest.mark.django_db
def test_a_dry_run_all_or_nothing_with_errors_offers_no_real_import(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("import_form"), upload([applicant(0), applicant(1, sex="?")], dry_run="on")
        )
    page = client.get(response["Location"]).content.decode()
    assert "this file would import nothing" in page and "Import for real" not in page
    # The valid row is held back: neither the figure nor the list says it would be created.
    assert stat(page, "Would be created") == "0"
    assert "1 valid row held back (all or nothing)" in page
    listed = client.get(url("import_form")).content.decode()
    assert "would create 0</span></td>" in listed and "would create 1" not in listed
    with scopes_disabled():
        job = ImportJob.objects.get()
    assert client.post(url("import_detail", job.pk), CONSENT).status_code == 404


@pytest.mark.django_db
def test_recent_imports_say_a_file_refused_as_a_whole_was_not_read(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    file = SimpleUploadedFile("notes.csv", b"Horodateur;Remarque\n01/09/2025;ok\n")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import_form"), {"file": file, "mode": "valid", "dry_run": "on"})
    (row,) = client.get(url("import_form")).content.decode().split("<tr>")[2:]
    cells = [cell.split("</td>")[0] for cell in row.split('data-label="')[3:]]
    assert cells == [
        'Status"><span class="text-danger">file not read</span>',
        'Created" class="text-end">—',
        'Errors" class="text-end">—',
    ]


@pytest.mark.django_db
def test_a_running_job_is_polled_by_htmx_and_has_a_refresh_link(world, intake):
    with scopes_disabled():
        job = ImportJob.objects.create(
            intake=intake, original_name="x.csv", mode="all", status="running",
            total_rows=200, processed_rows=50,
        )  # fmt: skip
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    page = client.get(url("import_detail", job.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert 'value="25"' in page and "50 of 200 rows checked" in page
    assert f'href="{url("import_detail", job.pk)}">Refresh</a>' in page
    fragment = client.get(url("import_detail", job.pk), HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<div id="import-status"')
    assert "<html" not in fragment.content.decode()
    # Before the file is counted, not "0 of 0 rows checked".
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(total_rows=0, processed_rows=0)
    page = client.get(url("import_detail", job.pk)).content.decode()
    assert "Reading the file…" in page and "0 of 0" not in page
    assert "HX-Request" in fragment["Vary"]


@pytest.mark.django_db
def test_the_report_is_shown_in_the_readers_language_and_escaped(world, intake):
    with scopes_disabled():
        job = ImportJob.objects.create(
            intake=intake, original_name="<b>x</b>.csv", mode="valid", status="done",
            report=[{"line": 7, "column": "<script>c</script>", "code": "commune_unknown",
                     "params": {"value": "<script>alert(1)</script>"}}],
        )  # fmt: skip
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    page = client.get(url("import_detail", job.pk)).content.decode()
    assert "<script>alert(1)" not in page and "<script>c" not in page
    assert "Unknown commune “&lt;script&gt;alert(1)&lt;/script&gt;”" in page
    assert "&lt;b&gt;x&lt;/b&gt;.csv" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("candidats.txt", b"cin\n", "Only .xlsx and .csv files are accepted."),
        ("candidats.xlsx", b"<html>not a workbook</html>", "This file is not an Excel workbook."),
        ("../../etc/passwd", b"cin\n", "Only .xlsx and .csv files are accepted."),
    ],
)
def test_other_files_are_refused(world, intake, name, content, message):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    file = SimpleUploadedFile(name, content)
    response = client.post(url("import_form"), {"file": file, "mode": "all"})
    assert response.status_code == 400
    assert message in response.content.decode()
    with scopes_disabled():
        assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_file_over_20_mb_is_refused(world, intake):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    big = SimpleUploadedFile("big.csv", b"x" * (20 * 1024 * 1024 + 1))
    response = client.post(url("import_form"), {"file": big, "mode": "all"})
    assert response.status_code == 400
    assert "at most 20 MB" in response.content.decode()


def template_import(intake, data: bytes):
    return importing.import_applications(
        intake=intake, fileobj=io.BytesIO(data), filename="t.xlsx", mode="all", dry_run=False
    )


@pytest.mark.django_db
def test_the_templates_example_row_is_skipped_not_imported(world, intake):
    from openpyxl import load_workbook

    response = world.client("admissions").get(url("import_template"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="promo-2026-template.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    header = next(book.worksheets[0].iter_rows(values_only=True))
    assert header[:3] == ("cin", "last_name", "first_name")

    result = template_import(intake, response.content)
    assert (result.created, result.skipped, result.invalid) == (0, 1, 0)
    assert [(e["line"], e["column"], e["code"]) for e in result.report] == [
        (2, "cin", "template_example")
    ]
    with translation.override("en"):
        assert importing.describe_error(result.report[0]).startswith("The example row")
    assert count() == 0

    # Filled in over the example, the template imports as it is.
    book.worksheets[0]["A2"] = "JA100000"
    out = io.BytesIO()
    book.save(out)
    result = template_import(intake, out.getvalue())
    assert (result.created, result.skipped) == (1, 0), result.report
    with scopes_disabled():
        assert Application.objects.get().cin == "JA100000"


@pytest.mark.django_db
def test_the_reports_counts_add_up_with_the_example_row_left_in_the_file(
    world, intake, django_capture_on_commit_callbacks
):
    """« 4 rows · 1 valid · 2 with errors »: the example row was counted nowhere."""
    rows = [
        applicant(0, cin="AB123456", first_name="Fatima", last_name="El Idrissi"),  # the example
        applicant(1),
        applicant(2, phone="123"),
    ]
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_form"), upload(rows, mode="valid", dry_run="on"))
    page = client.get(response["Location"]).content.decode()
    assert "including 1 example row of the template, skipped" in page
    with scopes_disabled():
        job = ImportJob.objects.get()
    assert (job.total_rows, job.created_count, job.error_count) == (3, 1, 1)


@pytest.mark.django_db
def test_a_row_with_the_examples_cin_and_names_is_skipped_however_written(intake):
    rows = [applicant(0), applicant(1, cin="ab 123456", last_name="EL IDRISSI")]
    result = importing.import_applications(
        intake=intake, fileobj=io.BytesIO(canonical_csv(rows)), filename="c.csv", mode="all",
        dry_run=False,
    )  # fmt: skip
    assert (result.created, result.skipped, result.invalid) == (1, 1, 0)
    assert [e["code"] for e in result.report] == ["template_example"]


# --- A call whose ranking is published --------------------------------------------------


def publish_a_ranking(world, intake) -> None:
    from django.utils import timezone

    from tremplin.selection.models import RankingRun

    with scopes_disabled():
        RankingRun.objects.create(
            intake=intake, number=1, status=RankingRun.Status.DONE,
            created_by=world.users["director"], published_at=timezone.now(),
        )  # fmt: skip


@pytest.mark.django_db
def test_once_a_ranking_is_published_the_page_says_so_and_takes_no_file(world):
    closed = make_import_intake(world.smara, status="closed")
    assert importing.import_refusal(closed) is None
    publish_a_ranking(world, closed)
    with translation.override("en"):
        refusal = importing.import_refusal(closed)
    assert refusal.startswith("A ranking of this call is published")

    client = world.client("admissions")
    client.cookies["django_language"] = "fr"
    page = client.get(url("import_form")).content.decode()
    with translation.override("fr"):
        assert importing.import_refusal(closed) in page
    assert 'type="file"' not in page
    response = client.post(url("import_form"), upload([applicant(0)]))
    assert response.status_code == 400
    with scopes_disabled():
        assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_dry_run_made_before_the_ranking_was_published_imports_nothing_after(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_form"), upload([applicant(0)], dry_run="on"))
    with scopes_disabled():
        dry = ImportJob.objects.get()
        Intake.objects.filter(pk=intake.pk).update(status="closed")
    publish_a_ranking(world, intake)
    response = client.post(url("import_detail", dry.pk), CONSENT)
    assert response.status_code == 302 and response["Location"] == url("import_form")
    with scopes_disabled():
        assert ImportJob.objects.count() == 1
    assert count() == 0


@pytest.mark.django_db
def test_a_file_refused_as_a_whole_says_why_above_all(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    data = csv_bytes(
        ["CIN", "Nom et prénom", "Téléphone"], [["JA100000", "Fatima Idrissi", "0661"]]
    )
    file = SimpleUploadedFile("candidats.csv", data, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_form"), {"file": file, "mode": "all", **CONSENT})
    page = client.get(response["Location"]).content.decode()
    assert '<div class="alert alert-danger" role="alert">' in page
    assert "The file was not read: nothing was imported." in page
    assert "The required column “Last name (Latin script)” is missing." in page
    assert page.count("split it into two columns, the last name and the first name") == 1
    assert "Rows with errors" not in page  # no counts of rows that were never read


@pytest.mark.django_db
def test_the_task_reports_progress_every_batch(world, intake, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    with scopes_disabled():
        job = ImportJob.objects.create(intake=intake, original_name="x.csv", mode="valid",
                                       dry_run=False)  # fmt: skip
        job.file.save("progress.csv", io.BytesIO(canonical_csv([applicant(n) for n in range(5)])))
    seen = []
    real_import = import_tasks.import_applications

    def watching(**kwargs):
        progress = kwargs.pop("progress")

        def spy(done, total):
            progress(done, total)
            with scopes_disabled():
                job.refresh_from_db()
            seen.append((job.status, job.processed_rows, job.total_rows))

        return real_import(progress=spy, **kwargs)

    monkeypatch.setattr(import_tasks, "import_applications", watching)
    import_tasks.run_import.call(job_id=job.pk)
    assert seen == [("running", 2, 5), ("running", 4, 5), ("running", 5, 5)]
    with scopes_disabled():
        job.refresh_from_db()
    assert (job.status, job.created_count, job.processed_rows) == ("done", 5, 5)
    assert job.finished_at is not None
    # Delivered twice, the task does not import twice.
    import_tasks.run_import.call(job_id=job.pk)
    assert count() == 5


@pytest.mark.django_db
def test_a_task_that_fails_marks_its_job_failed(world, intake, monkeypatch):
    with scopes_disabled():
        job = ImportJob.objects.create(intake=intake, original_name="x.csv", mode="all")
        job.file.save("boom.csv", io.BytesIO(b"cin\n"))

    def boom(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_tasks, "import_applications", boom)
    with pytest.raises(RuntimeError):
        import_tasks.run_import.call(job_id=job.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == "failed" and job.report[0]["code"] == "internal_error"


@pytest.mark.django_db
def test_a_job_whose_worker_died_mid_way_is_queued_again_and_nothing_is_doubled(
    world, intake, monkeypatch, django_capture_on_commit_callbacks
):
    import datetime

    from django.utils import timezone

    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    with scopes_disabled():
        job = ImportJob.objects.create(intake=intake, original_name="x.csv", mode="valid",
                                       dry_run=False)  # fmt: skip
        job.file.save("killed.csv", io.BytesIO(canonical_csv([applicant(n) for n in range(5)])))
    real_import = import_tasks.import_applications

    def killed_after_the_first_batch(**kwargs):
        progress = kwargs.pop("progress")

        def dies(done, total):
            progress(done, total)
            raise SystemExit("SIGKILL")  # not an Exception: nothing marks the job failed

        return real_import(progress=dies, **kwargs)

    monkeypatch.setattr(import_tasks, "import_applications", killed_after_the_first_batch)
    with pytest.raises(SystemExit):
        import_tasks.run_import.call(job_id=job.pk)
    monkeypatch.setattr(import_tasks, "import_applications", real_import)
    with scopes_disabled():
        job.refresh_from_db()
        assert job.status == "running" and count() == 2
        assert import_tasks.import_jobs_resume() == 0  # still moving recently
        ImportJob.objects.filter(pk=job.pk).update(
            heartbeat_at=timezone.now() - datetime.timedelta(minutes=11)
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert import_tasks.import_jobs_resume() == 1
        job.refresh_from_db()
    assert (job.status, job.created_count, job.duplicate_count) == ("done", 3, 2)
    assert count() == 5


def stat(page: str, label: str) -> str:
    """The number a summary card of the job's page shows under ``label``."""
    start = page.index(f'text-body-secondary">{label}</span><span class="tp-stat">')
    return page[start:].split('class="tp-stat">', 1)[1].split("<", 1)[0]


@pytest.mark.django_db
def test_a_cin_repeated_in_the_file_is_not_counted_as_already_in_the_call(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    rows = [applicant(n) for n in range(7)] + [applicant(0, first_name="Fatma")]  # lines 2, 9
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_form"), upload(rows, dry_run="on"))
    page = client.get(response["Location"]).content.decode()

    assert stat(page, "Would be created") == "7"
    assert stat(page, "Already in this call") == "0"
    assert stat(page, "Repeated in the file") == "1"
    assert "Replaced by line 9, a later answer with the same CIN" in page
    assert "1 line repeats the CIN of another line of the file" in page  # next to the CIN column

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response["Location"], CONSENT)
    page = client.get(response["Location"]).content.decode()
    assert stat(page, "Applications created") == "7"
    assert stat(page, "Already in this call") == "0"
    assert stat(page, "Repeated in the file") == "1"


@pytest.mark.django_db
def test_recent_imports_say_what_a_dry_run_would_create_not_that_it_created(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("import_form"), upload([applicant(0), applicant(1)], dry_run="on")
        )
    page = client.get(url("import_form")).content.decode()
    assert "would create 2</span></td>" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], CONSENT)
    with scopes_disabled():
        ImportJob.objects.create(intake=intake, original_name="y.csv", mode="all", dry_run=False)
    rows = client.get(url("import_form")).content.decode().split("<tr>")[2:]
    assert [row.split('class="text-end">', 1)[1].split("</td>")[0] for row in rows] == [
        "—",  # still waiting: nothing to count yet
        "2",
        '<span class="text-body-secondary">would create 2</span>',
    ]


@pytest.mark.django_db
def test_the_arabic_template_reads_right_to_left_and_its_cells_hold_no_marks_for_browsers(
    world, intake
):
    """Its instructions carried the invisible marks that isolate an example in a web page
    (copied with the phone number), read left to right, said "fr or ar" where "en" is read
    too, and only its first two rows kept the CIN and the phone as text."""
    from openpyxl import load_workbook

    client = world.client("admissions")
    client.cookies["django_language"] = "ar"
    book = load_workbook(io.BytesIO(client.get(url("import_template")).content))
    applications, instructions = book.worksheets
    assert applications.sheet_view.rightToLeft and instructions.sheet_view.rightToLeft
    cells = "".join(str(v) for row in instructions.iter_rows(values_only=True) for v in row)
    assert "06 61 23 45 67" in cells
    assert not set(cells) & {"\u2066", "\u2067", "\u2068", "\u2069"}
    assert all(applications.column_dimensions[c].number_format == "@" for c in "AH")
    client.cookies["django_language"] = "en"
    book = load_workbook(io.BytesIO(client.get(url("import_template")).content))
    assert not book.worksheets[1].sheet_view.rightToLeft
    help_of = {row[0]: row[1] for row in book.worksheets[1].iter_rows(values_only=True)}
    assert help_of["language"].startswith("fr, ar or en")
    assert help_of["language"].endswith("(if empty: the one chosen when importing).")


@pytest.mark.django_db
def test_a_reference_in_the_arabic_report_stays_whole_and_in_order(
    world, intake, django_capture_on_commit_callbacks
):
    """« (SMA-26-0007) » at the end of a phone's line showed as « 0007) … (SMA-26- »: on the
    page the values of the file are isolated; the downloaded report keeps them plain."""
    client = world.client("admissions")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import_form"), upload([applicant(0)]))
    with scopes_disabled():
        reference = Application.objects.get().reference
    client.cookies["django_language"] = "ar"
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url("import_form"), upload([applicant(0)], dry_run="on"))
    page = client.get(again["Location"]).content.decode()
    # Isolated (in order), and on one line.
    assert f'\u2068<bdi dir="ltr" class="text-nowrap">{reference}</bdi>\u2069' in page
    with scopes_disabled():
        job = ImportJob.objects.order_by("pk").last()
    report = client.get(url("import_report", job.pk)).getvalue().decode("utf-8-sig")
    assert reference in report and "\u2068" not in report


@pytest.mark.django_db
def test_the_dry_run_and_the_import_say_how_many_the_rules_find_not_eligible(
    world, intake, django_capture_on_commit_callbacks
):
    """Before anything is created, staff see that the file holds applicants the call's rules
    turn away (a form open to everyone, a list from a partner); after, where they are."""
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    too_old = applicant(1, birth_date="01/01/1980")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import_form"), upload([too_old]))  # already in the call
    rows = [applicant(0), too_old, applicant(2, birth_date="02/02/1981"), applicant(3)]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_form"), upload(rows, dry_run="on"))
    page = client.get(response["Location"]).content.decode()
    assert stat(page, "Would be created") == "3"
    assert "of which 1 not eligible by the call's rules" in page  # not the one there
    with scopes_disabled():
        dry = ImportJob.objects.order_by("pk").last()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_detail", dry.pk), CONSENT)
    page = client.get(response["Location"]).content.decode()
    assert stat(page, "Applications created") == "3"
    review = url("application_list") + "?queue=review"
    assert f'<a href="{review}">of which 1 not eligible by the call\'s rules, in the review' in page
    with scopes_disabled():
        assert ImportJob.objects.order_by("pk").last().ineligible_count == 1
        assert Application.objects.filter(eligibility="ineligible").count() == 2
