from tremplin.core.management.sweep import SweepCommand
from tremplin.selection.offers import offers_expire


class Command(SweepCommand):
    help = (
        "Expire the offers whose deadline has passed, free their seats and offer them to the "
        "next in the call order (and fill any seat left free). Run it from cron every minute, "
        "or as a sidecar with --loop."
    )
    interval = 60.0

    def sweep(self, *, verbose: bool, **options) -> None:
        expired = offers_expire()
        if expired or verbose:
            self.stdout.write(f"Offers expired: {expired}.")
