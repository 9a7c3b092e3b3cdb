from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from tremplin.admissions.management.commands._intake import find_intake
from tremplin.selection.marks_import import marks_import
from tremplin.selection.models import Component


class Command(BaseCommand):
    help = (
        "Import the marks of a written test from an XLSX or CSV file: one column naming the "
        "applicant (reference, CIN or candidate number), one column “mark” (12,5; abs). "
        "All or nothing; --dry-run checks and prints the changes without recording them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .csv or .xlsx file.")
        parser.add_argument("--intake", required=True, help="The intake's slug.")
        parser.add_argument("--school", help="The school's slug, when several have that intake.")
        parser.add_argument("--test", default="test", help="The test's component code.")
        parser.add_argument("--dry-run", action="store_true", help="Check only; record nothing.")

    def handle(self, *args, file, intake, school, test, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with scopes_disabled():
            target = find_intake(intake, school)
            component = Component.objects.filter(
                scheme__intake=target, code=test, kind=Component.Kind.WRITTEN_TEST
            ).first()
            if component is None:
                raise CommandError(f"The intake has no written test {test!r}.")
            with path.open("rb") as fileobj:
                result = marks_import(
                    component=component,
                    fileobj=fileobj,
                    filename=path.name,
                    actor=None,
                    dry_run=dry_run,
                )
        for problem in result.problems:
            self.stderr.write(f"line {problem['line']}, {problem['column']}: {problem['reason']}")
        verb = "recorded" if result.written else "to record"
        self.stdout.write(
            f"{result.rows} lines: {len(result.changes)} marks {verb}, {result.unchanged} "
            f"unchanged, {result.blank} without a mark, {len(result.problems)} problems."
        )
        if result.problems:
            raise CommandError("Nothing was recorded (all or nothing): fix the lines above.")
