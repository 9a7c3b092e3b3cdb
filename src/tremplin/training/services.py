"""Training workflows. For now only what selection needs: an accepted offer becomes an
enrolment in the intake's cohort."""

from django.db import transaction

from tremplin.selection.models import Offer
from tremplin.training.models import Cohort, Enrolment


@transaction.atomic
def enrolment_create(*, offer: Offer) -> Enrolment:
    """The enrolment of the applicant who accepted `offer`, in the cohort of the offer's
    intake (created, named after the intake, with the first enrolment).

    Idempotent: the enrolment of an offer is created once (the offer and the application
    are both one-to-one on the enrolment, so the database refuses a second one).
    """
    if offer.status != Offer.Status.ACCEPTED:
        raise ValueError("Only an accepted offer becomes an enrolment.")
    pool = offer.pool
    intake = pool.intake
    cohort, _ = Cohort.objects.get_or_create(
        intake=intake, defaults={"school_id": intake.school_id, "name": intake.title}
    )
    enrolment, _ = Enrolment.objects.get_or_create(
        offer=offer,
        defaults={
            "cohort": cohort,
            "application_id": offer.application_id,
            "track_id": pool.track.track_id if pool.track_id else None,
        },
    )
    return enrolment
