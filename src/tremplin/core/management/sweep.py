"""The loop shared by the sweeps that run beside the server (`--loop`) or from cron."""

import argparse
import logging
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand
from django.db import close_old_connections

logger = logging.getLogger(__name__)


def positive(kind: Callable[[str], int | float]) -> Callable[[str], int | float]:
    """An argument type: a number above zero (a batch of 0 messages would loop for ever, a
    negative interval stops the loop with a traceback)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above zero: {text!r}")
        return value

    return parse


class SweepCommand(BaseCommand):
    """Run `sweep()` once, or every `--interval` seconds with `--loop` until interrupted.

    Looping, a sweep that fails (the database restarting, SQLite busy past its timeout) is
    logged and the next one runs as planned: the sidecar is what sends the portal's
    confirmations, and nothing watches it. Run once, it fails as a command does (cron
    reports it)."""

    interval = 60.0

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval",
            type=positive(float),
            default=self.interval,
            help="Seconds between sweeps with --loop.",
        )

    def handle(self, *args, loop: bool, interval: float, verbosity: int, **options):
        if not loop:
            return self.sweep(verbose=verbosity > 1, **options)
        name = type(self).__module__.rsplit(".", 1)[-1]
        try:
            while True:
                try:
                    self.sweep(verbose=verbosity > 1, **options)
                except Exception:
                    logger.exception("%s: the sweep failed; the next one runs as planned", name)
                time.sleep(interval)
                # A long-running sidecar must notice dropped connections, as a request would.
                close_old_connections()
        except KeyboardInterrupt:
            return

    def sweep(self, *, verbose: bool, **options) -> None:
        raise NotImplementedError
