"""Permission cases of this part of selection, merged into tests/test_permissions.py.

`CASES` maps URL names to their expected answers per persona; `url_values` gives the values
of the URL parameters this part owns, building the objects it needs for Smara (`objects`
holds the open intake and its application built by the `smara_objects` fixture).

The staff pages need RANKING_MANAGE (directors and admissions officers of Smara); the
applicant's answers need an applicant's session, which no persona has (redirect to the
access page). The offer answered by phone or taken back belongs to a call of its own, so
that the shared open call stays free of offers for the other parts.
"""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from tests.permission_case import Case, everyone, staff

CASES: dict = {
    "selection:offers": Case(expect=staff(200)),
    # No applicant chosen and no reason: the form says so.
    "selection:offer_promote": Case(method="post", expect=staff(400)),
    "selection:offer_fill": Case(method="post", expect=staff(302)),
    "selection:offer_answer": Case(
        method="post",
        expect=staff(302),
        data={"answer": "decline", "reason": "Called the school on Monday"},
    ),
    "selection:offer_withdrawal": Case(
        method="post", expect=staff(302), data={"reason": "Gave a false address"}
    ),
    "selection:applicant_offer_accept": everyone(302, method="post"),
    "selection:applicant_offer_decline": everyone(302),
}


def url_values(world, objects: dict) -> dict:
    from tests.selection.builders import make_closed_intake
    from tremplin.selection.models import Offer, RankingRun, SeatPool

    intake = make_closed_intake(world.smara, slug="perm-offers", n=1)
    with scopes_disabled():
        run = RankingRun.objects.create(
            intake=intake, number=1, status=RankingRun.Status.DONE,
            created_by=world.users["director"],
        )  # fmt: skip
        pool = SeatPool.objects.create(intake=intake, seats=1, live=1)
        offer = Offer.objects.create(
            pool=pool, application=intake.applications.get(), run=run, origin="ranking",
            deadline=timezone.now() + datetime.timedelta(hours=72),
        )  # fmt: skip
    return {"offer_id": offer.pk}
