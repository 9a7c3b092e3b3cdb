import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tremplin.selection.letters import letter_batches_resume


class Command(BaseCommand):
    help = (
        "Start again the batches of letters whose worker stopped mid-way (no progress for ten "
        "minutes). Run it from cron every few minutes, or as a sidecar with --loop."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=120, help="Seconds between sweeps with --loop."
        )

    def handle(self, *args, loop: bool, interval: float, verbosity: int, **options):
        try:
            while True:
                resumed = letter_batches_resume()
                if resumed or verbosity > 1:
                    self.stdout.write(f"Letter batches resumed: {resumed}.")
                if not loop:
                    return
                time.sleep(interval)
                close_old_connections()
        except KeyboardInterrupt:
            return
