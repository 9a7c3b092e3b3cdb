from tremplin.core.management.sweep import SweepCommand, positive
from tremplin.notify.services import outbox_flush


class Command(SweepCommand):
    help = (
        "Send every outbox message that is due (pending, or abandoned by a dead worker). "
        "Run it as a sidecar with --loop: it sends the portal's confirmations and the notices "
        "of a re-check of eligibility, which have no task each, and the messages whose task "
        "was lost."
    )
    interval = 5.0

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--limit", type=positive(int), default=500, help="Messages per batch.")

    def sweep(self, *, verbose: bool, limit: int, **options) -> None:
        while True:
            outcomes = outbox_flush(limit=limit)
            if outcomes.total() or verbose:
                summary = ", ".join(f"{count} {status}" for status, count in outcomes.items())
                self.stdout.write(f"Outbox: {summary or 'nothing due'}.")
            # A full batch means more may be due: drain before sleeping.
            if outcomes.total() < limit:
                return
