import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tremplin.notify.services import outbox_flush


class Command(BaseCommand):
    help = (
        "Send every outbox message that is due (pending, or abandoned by a dead worker). "
        "Run it from cron, or as a sidecar with --loop: it catches messages whose task was lost."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=30, help="Seconds between sweeps with --loop."
        )
        parser.add_argument("--limit", type=int, default=500, help="Messages per batch.")

    def handle(self, *args, loop: bool, interval: float, limit: int, verbosity: int, **options):
        try:
            while True:
                self._sweep(limit, verbose=verbosity > 1)
                if not loop:
                    return
                time.sleep(interval)
                # A long-running sidecar must notice dropped connections, as a request would.
                close_old_connections()
        except KeyboardInterrupt:
            return

    def _sweep(self, limit: int, *, verbose: bool) -> None:
        while True:
            outcomes = outbox_flush(limit=limit)
            if outcomes.total() or verbose:
                summary = ", ".join(f"{count} {status}" for status, count in outcomes.items())
                self.stdout.write(f"Outbox: {summary or 'nothing due'}.")
            # A full batch means more may be due: drain before sleeping.
            if outcomes.total() < limit:
                return
