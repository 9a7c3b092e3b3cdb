import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tremplin.selection.offers import offers_expire


class Command(BaseCommand):
    help = (
        "Expire the offers whose deadline has passed, free their seats and offer them to the "
        "next in the call order (and fill any seat left free). Run it from cron every minute, "
        "or as a sidecar with --loop."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=60, help="Seconds between sweeps with --loop."
        )

    def handle(self, *args, loop: bool, interval: float, verbosity: int, **options):
        try:
            while True:
                expired = offers_expire()
                if expired or verbosity > 1:
                    self.stdout.write(f"Offers expired: {expired}.")
                if not loop:
                    return
                time.sleep(interval)
                # A long-running sidecar must notice dropped connections, as a request would.
                close_old_connections()
        except KeyboardInterrupt:
            return
