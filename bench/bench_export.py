"""Exporting a call of 100,000 applications, against writing the same rows straight from the
database.

    .venv/bin/python bench/bench_export.py            # SQLite, and PostgreSQL if reachable
    DATABASE_URL=postgres://user@host:5432/postgres .venv/bin/python bench/bench_export.py

Each backend runs in its own process on a fresh database (as bench_import does), where a call
with two tracks receives BENCH_EXPORT_ROWS applications (default 100,000) through the
importer, each asking for one or both tracks. Timed, best of BENCH_EXPORT_REPEATS, the sides
taking turns:

- ours, CSV: the staff list's export (``exporting.applications_export``): labels in the
  page's language, the CIN, phones written as people read them, the eligibility reasons as
  sentences, text a spreadsheet would take for a formula made harmless, and the tracks each
  applicant asked for, in order;
- the floor, CSV: one SQL query of the same application columns and the commune's name,
  written by Python's csv module as the database gives them (no labels, reasons, phones,
  wishes or checks): what any export written in Python must do;
- on PostgreSQL, for scale: COPY of that query to CSV, the database writing its own file;
- ours, CSV by a task (``export_tasks.export_job_execute``, as a large list's workbook is
  written): the same export, plus its progress recorded every 2,000 applications, a
  temporary file and its copy to the private storage; compared with ours in the request;
- ours and the floor as workbooks (openpyxl's write-only mode, which both use), on the first
  BENCH_EXPORT_XLSX_ROWS applications (default 20,000): a workbook's cells cost far more
  than the reading, and the ratio is the same on fewer rows.

No goal is set for exports; the ratios say what our work adds to the least an export costs.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from _workers import measure_on, run_in_new_database, run_worker

ROOT = Path(__file__).resolve().parent.parent
N_ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
XLSX_ROWS = min(N_ROWS, int(os.environ.get("BENCH_EXPORT_XLSX_ROWS", "20000")))
REPEATS = int(os.environ.get("BENCH_EXPORT_REPEATS", "2"))
BENCH_DB = "tremplin_bench_export"

# The floor's query: the columns of an export that are the application's own, and the name
# of its commune.
FLOOR_SQL = (
    "SELECT a.reference, a.created_at, a.status, a.eligibility, a.eligibility_reasons, a.cin, "
    "a.last_name, a.first_name, a.last_name_ar, a.first_name_ar, a.birth_date, a.sex, a.phone, "
    "a.email, c.name, a.education_level, a.diploma, a.employment, a.motivation, "
    "a.needs_accommodation, a.accommodation_consent, a.follow_up_consent, a.language "
    "FROM admissions_application a JOIN schools_commune c ON c.id = a.commune_id "
    "WHERE a.intake_id = %s AND a.number <= %s ORDER BY a.number"
)


def with_wishes(data: bytes, seed: int = 2026) -> bytes:
    """bench_import's file with two wish columns: one track or both, in either order."""
    rng = random.Random(seed)
    lines = data.decode("utf-8-sig").split("\r\n")
    choices = [("dev-web", ""), ("data", ""), ("dev-web", "data"), ("data", "dev-web")]
    out = [lines[0] + ";wish_1;wish_2"]
    out += [f"{line};{';'.join(rng.choice(choices))}" for line in lines[1:] if line]
    return ("\ufeff" + "\r\n".join(out) + "\r\n").encode("utf-8")


# --- The worker: one backend, one process ---------------------------------------------------


def load(data: bytes):
    from django.db import connection
    from django_scopes import scopes_disabled

    from tests.admissions.builders import make_import_intake
    from tests.factories import make_school
    from tremplin.admissions.importing import import_applications

    with scopes_disabled():
        intake = make_import_intake(make_school("smara", "SMA"), tracks=("dev-web", "data"))
    result = import_applications(
        intake=intake, fileobj=io.BytesIO(data), filename="bench.csv", mode="all", dry_run=False
    )
    assert result.created == N_ROWS, result.report[:5]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return intake


def time_ours(intake, fmt: str, rows: int) -> float:
    from tremplin.admissions import exporting
    from tremplin.admissions.models import Application

    queryset = Application._base_manager.filter(number__lte=rows).order_by("number")
    out = io.BytesIO()
    started = time.perf_counter()
    count = exporting.applications_export(
        intake=intake, queryset=queryset, fmt=fmt, include_identity=True, actor=None, out=out
    )
    seconds = time.perf_counter() - started
    assert count == rows, count
    return seconds


def time_floor(intake, fmt: str, rows: int) -> float:
    from django.db import connection

    from tremplin.admissions.exporting import write_csv, write_xlsx

    header = [column.split(".")[-1] for column in FLOOR_SQL[7:].split(" FROM")[0].split(", ")]
    out = io.BytesIO()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, [intake.pk, rows])
        fetched = iter(lambda: cursor.fetchmany(2000), [])
        values = (row for chunk in fetched for row in chunk)
        if fmt == "xlsx":  # a workbook holds no time zone
            values = ((row[0], _naive(row[1]), *row[2:]) for row in values)
        count = (write_xlsx if fmt == "xlsx" else write_csv)(values, header, out)
    seconds = time.perf_counter() - started
    assert count == rows, count
    return seconds


def time_task(intake) -> float:
    from django.core.files.storage import default_storage

    from tremplin.admissions.export_tasks import export_job_execute
    from tremplin.admissions.models import ExportJob

    job = ExportJob.objects.create(
        intake=intake, format="csv", key=os.urandom(8).hex(), expected=N_ROWS
    )
    started = time.perf_counter()
    export_job_execute(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    assert (job.status, job.written) == ("done", N_ROWS), (job.status, job.written)
    default_storage.delete(job.file.name)
    return seconds


def _naive(value):
    return value.replace(tzinfo=None) if hasattr(value, "tzinfo") else value


def time_copy(intake) -> float:
    from django.db import connection

    started = time.perf_counter()
    size = 0
    with connection.cursor() as cursor:
        query = FLOOR_SQL.replace("%s", "{}").format(int(intake.pk), N_ROWS)
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                size += len(block)
    assert size > N_ROWS
    return time.perf_counter() - started


def measure(database_url: str, csv_path: str) -> dict:
    import bench_import

    bench_import.setup_django(database_url)
    from django.db import connection
    from django.utils import translation
    from django_scopes import scopes_disabled

    names = ("ours_csv", "floor_csv", "task_csv", "ours_xlsx", "floor_xlsx")
    figures = {name: float("inf") for name in names}
    try:
        with scopes_disabled(), translation.override("fr"):
            intake = load(Path(csv_path).read_bytes())
            for _ in range(REPEATS):  # taking turns
                figures["ours_csv"] = min(figures["ours_csv"], time_ours(intake, "csv", N_ROWS))
                figures["floor_csv"] = min(figures["floor_csv"], time_floor(intake, "csv", N_ROWS))
                figures["task_csv"] = min(figures["task_csv"], time_task(intake))
                figures["ours_xlsx"] = min(
                    figures["ours_xlsx"], time_ours(intake, "xlsx", XLSX_ROWS)
                )
                figures["floor_xlsx"] = min(
                    figures["floor_xlsx"], time_floor(intake, "xlsx", XLSX_ROWS)
                )
            if connection.vendor == "postgresql":
                figures["copy"] = min(time_copy(intake) for _ in range(REPEATS))
    finally:
        connection.close()
    return figures


# --- The driver ---------------------------------------------------------------------------


def rate(seconds: float, rows: int) -> str:
    return f"{seconds:6.2f} s  {rows / seconds:9,.0f} rows/s  {seconds / rows * 1e6:6.1f} µs/row"


def report(name: str, figures: dict) -> None:
    print(f"\n{name}")
    print(f"  CSV, ours (labels, reasons, wishes)  {rate(figures['ours_csv'], N_ROWS)}")
    print(f"  CSV, the floor (one query, csv)      {rate(figures['floor_csv'], N_ROWS)}")
    if "copy" in figures:
        print(f"  CSV, COPY by the database (scale)    {rate(figures['copy'], N_ROWS)}")
    print(f"  ours {figures['ours_csv'] / figures['floor_csv']:.2f}x the floor's time")
    print(f"  CSV, ours by a task (stored)         {rate(figures['task_csv'], N_ROWS)}")
    print(f"  by a task {figures['task_csv'] / figures['ours_csv']:.2f}x ours in the request")
    print(f"  XLSX, ours                           {rate(figures['ours_xlsx'], XLSX_ROWS)}")
    print(f"  XLSX, the floor (same cells)         {rate(figures['floor_xlsx'], XLSX_ROWS)}")
    print(
        f"  ours {figures['ours_xlsx'] / figures['floor_xlsx']:.2f}x the floor's time; "
        f"{N_ROWS:,} applications would take about "
        f"{figures['ours_xlsx'] * N_ROWS / XLSX_ROWS:.0f} s as a workbook"
    )


def main() -> int:
    import bench_import

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tremplin-bench-export-") as tmp:
        csv_path = str(Path(tmp) / "applications.csv")
        Path(csv_path).write_bytes(with_wishes(bench_import.generate(N_ROWS)))
        print(f"Export of {N_ROWS:,} applications of one call with two tracks (workbooks: "
              f"the first {XLSX_ROWS:,}), best of {REPEATS}")  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        report("SQLite", run_worker(__file__, ["sqlite", csv_path], timeout=1800, env=env))
        admin_url = bench_import.postgres_url()
        if admin_url is None:
            print("\nPostgreSQL: not reachable (set DATABASE_URL), skipped")
        else:
            figures = run_in_new_database(
                __file__, ["postgres", csv_path], admin_url=admin_url, name=BENCH_DB,
                timeout=1800, env=env,
            )  # fmt: skip
            report("PostgreSQL", figures)
    print(f"\n(bench ran in {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(measure_on(sys.argv[2], measure, sys.argv[3])))
        sys.exit(0)
    sys.exit(main())
