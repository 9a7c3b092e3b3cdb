"""The loop shared by the sweeps that run beside the server (`--loop`) or from cron."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections


class SweepCommand(BaseCommand):
    """Run `sweep()` once, or every `--interval` seconds with `--loop` until interrupted."""

    interval = 60.0

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval",
            type=float,
            default=self.interval,
            help="Seconds between sweeps with --loop.",
        )

    def handle(self, *args, loop: bool, interval: float, verbosity: int, **options):
        try:
            while True:
                self.sweep(verbose=verbosity > 1, **options)
                if not loop:
                    return
                time.sleep(interval)
                # A long-running sidecar must notice dropped connections, as a request would.
                close_old_connections()
        except KeyboardInterrupt:
            return

    def sweep(self, *, verbose: bool, **options) -> None:
        raise NotImplementedError
