"""`tremplin rank`: run a ranking of an intake now, in this process, and report it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope, scopes_disabled

from tremplin.admissions.management.commands._intake import find_intake
from tremplin.selection.models import RankingRun
from tremplin.selection.ranking import ranking_run_execute, ranking_run_start


def find_user(username: str | None):
    """The named user, or the platform's first superuser (a run records who started it)."""
    users = get_user_model().objects.filter(is_active=True)
    user = (
        users.filter(username=username).first()
        if username
        else users.filter(is_superuser=True).order_by("pk").first()
    )
    if user is None:
        raise CommandError(
            f"No active user {username!r}." if username else "Give --by USERNAME: no superuser."
        )
    return user


class Command(BaseCommand):
    # Plain strings: argparse formats help text eagerly (see allocate).
    help = (
        "Rank the applications of an intake with its selection scheme, synchronously, and "
        "print the counts and the checks. The run is stored like one started from the pages."
    )

    def add_arguments(self, parser):
        parser.add_argument("--intake", required=True, help="The intake's slug.")
        parser.add_argument("--school", help="The school's slug, when several have that intake.")
        parser.add_argument(
            "--by", help="Username recorded as having started the run (default: a superuser)."
        )

    def handle(self, *args, intake, school, by, **options):
        with scopes_disabled():
            target = find_intake(intake, school)
            user = find_user(by)
        with scope(school=target.school):
            run = ranking_run_start(intake=target, actor=user, enqueue=False)
        run = ranking_run_execute(run.pk)
        self.stdout.write(f"Run #{run.number} of {target.school.slug}/{target.slug}: {run.status}")
        if run.status != RankingRun.Status.DONE:
            raise CommandError(run.error or "The run did not finish.")
        counts = run.summary.get("counts", {})
        self.stdout.write(
            "  admitted {admitted}, waitlisted {waitlisted}, not retained {not_retained}, "
            "ineligible {ineligible}".format(**{k: counts.get(k, 0) for k in counts})
        )
        codes = {t["key"]: t["code"] for t in run.parameters.get("tracks", [])}
        for key, cutoff in run.summary.get("cutoffs", {}).items():
            seats = run.summary.get("seats", {}).get(key)
            self.stdout.write(
                f"  {codes.get(key) or key or 'intake'}: {seats} seats, cut-off {cutoff or 'none'}"
            )
        self.stdout.write(f"  seed {run.parameters.get('seed')}")
        for check in run.checks:
            mark = "ok  " if check["ok"] else "FAIL"
            self.stdout.write(f"  [{mark}] {check['name']}: {check['detail']}")
