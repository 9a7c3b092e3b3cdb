from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django_scopes import scopes_disabled

from tremplin.admissions.exporting import write_csv
from tremplin.admissions.importing import (
    describe_error,
    describe_note,
    field_label,
    import_applications,
    report_header,
    report_rows,
)
from tremplin.admissions.management.commands._intake import find_intake
from tremplin.admissions.models import ImportJob
from tremplin.core.links import site_url


class Command(BaseCommand):
    help = (
        "Import applications into an intake from an XLSX or CSV file (Google Forms, Excel). "
        "All or nothing unless --valid-only: a row with an error fails the run (a dry run "
        "too), and nothing is written. Prints the counts and how each column of the "
        "file was read, then always writes the report (line, column, code, reason; only its "
        "header row when nothing went wrong, so that no report of an earlier run is left "
        "behind) as CSV next to the file or to --report, in --language."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .csv or .xlsx file.")
        parser.add_argument("--intake", required=True, help="The intake's slug.")
        parser.add_argument("--school", help="The school's slug, when several have that intake.")
        parser.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")
        parser.add_argument(
            "--valid-only", action="store_true", help="Import the valid rows, skip the others."
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help="Send each new applicant their reference by SMS (and email when given), with "
            "the link to the applicant space (SITE_URL): the online form's confirmation.",
        )
        parser.add_argument(
            "--consent-collected",
            action="store_true",
            help="Attest that the school collected each applicant's consent to the call's "
            "privacy notice (law 09-08), as the staff page asks; the import's audit event "
            "records it.",
        )
        parser.add_argument(
            "--report", help="Where to write the report (CSV); default: FILE.report.csv."
        )
        parser.add_argument(
            "--applicants-language",
            choices=[code for code, _name in settings.LANGUAGES],
            default="fr",
            help="The language of the applicants whose row gives none (no language column, "
            "or an empty cell): that of their messages and space (default: fr).",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=None,
            help="The language of the report's header and reasons (default: LANGUAGE_CODE).",
        )

    def handle(
        self, *args, file, intake, school, dry_run, valid_only, notify, report, language, **opts
    ):
        applicants_language = opts["applicants_language"]
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        notify_url = site_url("portal:access") if notify else ""
        if notify and not notify_url:
            raise CommandError(
                "--notify needs SITE_URL (the site's public address): the messages give the "
                "link to the applicant space. Nothing was imported."
            )
        mode = ImportJob.Mode.VALID_ONLY if valid_only else ImportJob.Mode.ALL_OR_NOTHING
        with scopes_disabled():
            target = find_intake(intake, school)
            with path.open("rb") as fileobj:
                result = import_applications(
                    intake=target,
                    fileobj=fileobj,
                    filename=path.name,
                    mode=mode,
                    dry_run=dry_run,
                    notify_url=notify_url,
                    language=applicants_language,
                    consent_attested=opts["consent_collected"],
                )
        report_path = Path(report) if report else path.with_name(f"{path.stem}.report.csv")
        with translation.override(language or settings.LANGUAGE_CODE):
            file_problems = " ".join(describe_error(e) for e in result.file_problems)
        if file_problems and not (result.valid or result.invalid or result.duplicates):
            # Refused before a row was read: no counts of rows it never looked at. (A ranking
            # published in the middle of a --valid-only import keeps the rows written: said.)
            with translation.override(language or settings.LANGUAGE_CODE):
                self._report(result, report_path)
            raise CommandError(file_problems)
        # All or nothing, one row with an error holds back every valid one.
        held_back = bool(result.invalid) and mode == ImportJob.Mode.ALL_OR_NOTHING
        if dry_run:
            created = 0 if held_back else result.valid
            verb = "would be created"
            if held_back and result.valid:
                verb += f" ({result.valid} valid rows held back: all or nothing)"
        else:
            created, verb = result.created, "created"
        self.stdout.write(
            f"{result.rows} rows: {created} applications {verb}, "
            f"{result.duplicates} duplicates skipped, {result.invalid} rows with errors."
        )
        if created and not dry_run and not opts["consent_collected"]:
            self.stdout.write(
                "Not attested (--consent-collected): that the school collected each "
                "applicant's consent to the privacy notice. Their pages say so."
            )
        if notify and created:
            told = "would be sent" if dry_run else "are being sent (the outbox sends them)"
            self.stdout.write(
                f"The new applicants {told} their reference by SMS, and by email when given."
            )
        with translation.override(language or settings.LANGUAGE_CODE):
            self._columns(result)
            self._report(result, report_path)
        if file_problems:
            raise CommandError(file_problems)
        if held_back:
            raise CommandError(
                f"Nothing {'would be' if dry_run else 'was'} imported (all or nothing): "
                "fix the rows or use --valid-only."
            )

    def _columns(self, result) -> None:
        if result.columns:
            self.stdout.write("Columns read:")
            for name, header in result.columns.items():
                note = describe_note(result.notes.get(name))
                note = f": {note}" if note else ""
                self.stdout.write(f"  {header} -> {name} ({field_label(name)}){note}")
        if result.ignored_columns:
            self.stdout.write("Columns ignored (rename them if they hold a field):")
            for header in result.ignored_columns:
                self.stdout.write(f"  {header}")

    def _report(self, result, report_path: Path) -> None:
        try:
            with report_path.open("wb") as out:
                write_csv(report_rows(result.report), report_header(), out)
        except OSError as exc:
            raise CommandError(
                f"Cannot write the report to {report_path}: {exc.strerror or exc}. "
                "Choose another place with --report."
            ) from exc
        self.stdout.write(f"Report: {report_path} ({len(result.report)} problems)")
