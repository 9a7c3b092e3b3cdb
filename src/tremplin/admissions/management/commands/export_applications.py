import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django_scopes import scopes_disabled

from tremplin.admissions.exporting import FORMATS, applications_export, export_filename
from tremplin.admissions.management.commands._intake import find_intake
from tremplin.admissions.models import Application


class Command(BaseCommand):
    help = (
        "Export the applications of an intake to CSV or XLSX, identity included (CIN, "
        "accommodation needs), with the canonical column names of the import template "
        "(cin, birth_date…), which scripts can rely on. The export is recorded in the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--intake", required=True, help="The intake's slug.")
        parser.add_argument("--school", help="The school's slug, when several have that intake.")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument(
            "-o", "--output", help="The file to write (default: a dated name; '-' for stdout)."
        )

    def handle(self, *args, intake, school, format, output, **options):
        with scopes_disabled():
            target = find_intake(intake, school)
            if output == "-":
                out, path = sys.stdout.buffer, None
            else:
                path = Path(output or export_filename(target, format))
                out = path.open("wb")
            try:
                count = applications_export(
                    intake=target,
                    queryset=Application.objects.filter(intake=target).order_by("number"),
                    fmt=format,
                    include_identity=True,
                    actor=None,
                    out=out,
                    filters={"command": "export_applications"},
                    labels=False,
                )
            finally:
                if path is not None:
                    out.close()
        if path is not None:
            self.stdout.write(f"{count} applications written to {path}")
