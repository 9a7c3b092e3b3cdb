from django.contrib.sessions.models import Session
from django.utils import timezone

from tremplin.admissions.retention import retention_apply, retention_months
from tremplin.core.management.sweep import SweepCommand
from tremplin.core.private_files import private_orphans_delete


class Command(SweepCommand):
    help = (
        "Erase the personal data kept past its retention period: applicants who did not join "
        "the school, TREMPLIN_RETENTION_MONTHS after their call closed (law 09-08). Each "
        "erasure is audited. Expired sessions are deleted too, and the private files that no "
        "row names, a day after a process killed before its commit left them. Run it daily "
        "from cron, or as a sidecar with --loop."
    )
    interval = 6 * 3600.0

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what is due; erase nothing."
        )

    def sweep(self, *, verbose: bool, dry_run: bool = False, **options) -> None:
        if not dry_run:
            # Expired sessions go too: Django keeps them until told, and they hold what their
            # users did (an applicant's space, the list a staff member left).
            Session.objects.filter(expire_date__lt=timezone.now()).delete()
        run = retention_apply(dry_run=dry_run)
        if run.failed:
            self.stderr.write(f"{run.failed} could not be erased (see the log); next sweep.")
        if run.erased or verbose or dry_run:
            verb = "Would erase" if dry_run else "Erased"
            self.stdout.write(
                f"{verb} the personal data of {run.erased} applications in {run.calls} calls "
                f"(retention: {retention_months()} months after the call closed)."
            )
        orphans = private_orphans_delete(dry_run=dry_run)
        if orphans.failed:
            self.stderr.write(f"{orphans.failed} private files could not be deleted (see the log).")
        if orphans.found or verbose or dry_run:
            verb = "Would delete" if dry_run else "Deleted"
            self.stdout.write(
                f"{verb} {orphans.found if dry_run else orphans.deleted} private files that no "
                "row names (left by a process stopped before its commit)."
            )
