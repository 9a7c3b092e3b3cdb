import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from tremplin.admissions.importing import describe_error, import_applications
from tremplin.admissions.management.commands._intake import find_intake
from tremplin.admissions.models import ImportJob


class Command(BaseCommand):
    help = (
        "Import applications into an intake from an XLSX or CSV file (Google Forms, Excel). "
        "All or nothing unless --valid-only; prints the counts and writes the bad rows "
        "(line, column, reason) to a CSV report next to the file or to --report."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .csv or .xlsx file.")
        parser.add_argument("--intake", required=True, help="The intake's slug.")
        parser.add_argument("--school", help="The school's slug, when several have that intake.")
        parser.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")
        parser.add_argument(
            "--valid-only", action="store_true", help="Import the valid rows, skip the others."
        )
        parser.add_argument("--report", help="Where to write the report (CSV).")

    def handle(self, *args, file, intake, school, dry_run, valid_only, report, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        mode = ImportJob.Mode.VALID_ONLY if valid_only else ImportJob.Mode.ALL_OR_NOTHING
        with scopes_disabled():
            target = find_intake(intake, school)
            with path.open("rb") as fileobj:
                result = import_applications(
                    intake=target, fileobj=fileobj, filename=path.name, mode=mode, dry_run=dry_run
                )
        report_path = Path(report) if report else path.with_name(f"{path.stem}.report.csv")
        if result.report:
            with report_path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out, delimiter=";")
                writer.writerow(["line", "column", "code", "reason"])
                for error in result.report:
                    writer.writerow(
                        [error["line"], error["column"], error["code"], describe_error(error)]
                    )
        created = result.valid if dry_run else result.created
        verb = "would be created" if dry_run else "created"
        self.stdout.write(
            f"{result.rows} rows: {created} applications {verb}, "
            f"{result.duplicates} duplicates skipped, {result.invalid} rows with errors."
        )
        if result.report:
            self.stdout.write(f"Report: {report_path}")
        if result.file_problems:
            raise CommandError(" ".join(describe_error(e) for e in result.file_problems))
        if result.invalid and mode == ImportJob.Mode.ALL_OR_NOTHING and not dry_run:
            raise CommandError(
                "Nothing was imported (all or nothing): fix the rows or use --valid-only."
            )
