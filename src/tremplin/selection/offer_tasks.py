"""Offer tasks: thin and idempotent, they call the services (see `offers`, `waitlist`).

`tremplin expire_offers --loop` runs the expiry sweep beside the server (scripts/serve); these
tasks let a scheduler or a page hand the same work to the task workers instead.
"""

from django_scopes import scopes_disabled
from django_tasks import task

from tremplin.admissions.models import Intake
from tremplin.selection import offers, waitlist


@task()
def expire_offers() -> int:
    """Expire the offers past their deadline and fill the freed seats; how many expired."""
    return offers.offers_expire()


@task()
def fill_waitlist(intake_id: int) -> int:
    """Offer the free seats of an intake to the next in the call order; how many offers."""
    with scopes_disabled():
        intake = Intake.objects.select_related("school").filter(pk=intake_id).first()
    if intake is None:
        return 0
    return len(waitlist.waitlist_fill(intake=intake))
