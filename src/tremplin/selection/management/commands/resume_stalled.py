import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tremplin.admissions.import_tasks import import_jobs_resume
from tremplin.selection.letters import letter_batches_resume
from tremplin.selection.ranking import ranking_runs_resume


class Command(BaseCommand):
    help = (
        "Start again the work whose worker died mid-way: imports and batches of letters "
        "without progress for ten minutes, ranking runs still running after thirty. Run it "
        "from cron every few minutes, or as a sidecar with --loop."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=120, help="Seconds between sweeps with --loop."
        )

    def handle(self, *args, loop: bool, interval: float, verbosity: int, **options):
        try:
            while True:
                imports, letters = import_jobs_resume(), letter_batches_resume()
                runs = ranking_runs_resume()
                if imports or letters or runs or verbosity > 1:
                    self.stdout.write(
                        f"Resumed: {imports} imports, {letters} letter batches, "
                        f"{runs} ranking runs."
                    )
                if not loop:
                    return
                time.sleep(interval)
                close_old_connections()
        except KeyboardInterrupt:
            return
