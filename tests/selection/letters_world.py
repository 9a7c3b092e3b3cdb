"""What letters are about, built directly (unscoped, like tests/factories.py): applicants
convened to a test session and to interview slots, and a published ranking run with offers.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django_scopes import scopes_disabled

from tests.selection.builders import make_closed_intake, make_scheme
from tremplin.admissions.models import Application, Intake
from tremplin.selection.models import (
    Component,
    InterviewSlot,
    Offer,
    Panel,
    RankingResult,
    RankingRun,
    SeatPool,
    TestSession,
    TestSitting,
)

CASABLANCA = ZoneInfo("Africa/Casablanca")
TEST_START = datetime.datetime(2025, 9, 12, 9, 0, tzinfo=CASABLANCA)


def selection_intake(school, *, n=6, slug="promo-2025") -> Intake:
    """A closed call with `n` applications (even numbers in French, odd in Arabic) and the
    test + interview scheme."""
    intake = make_closed_intake(school, slug=slug, n=n, seats=2, waitlist=2)
    make_scheme(intake)
    return intake


def applications(intake) -> list[Application]:
    with scopes_disabled():
        return list(intake.applications.order_by("number"))


def convene_to_test(
    intake, apps=None, *, place="Salle polyvalente", place_ar="القاعة متعددة الاختصاصات"
):
    with scopes_disabled():
        component = Component.objects.get(scheme__intake=intake, code="test")
        session = TestSession.objects.create(
            component=component,
            starts_at=TEST_START,
            ends_at=TEST_START + datetime.timedelta(hours=2),
            place=place,
            place_ar=place_ar,
            capacity=100,
            instructions="Un stylo bleu\nUne calculatrice",
            instructions_ar="قلم أزرق\nآلة حاسبة",
        )
        for i, application in enumerate(apps or applications(intake), start=1):
            TestSitting.objects.create(
                session=session, component=component, application=application, candidate_number=i
            )
    return session


def convene_to_interview(intake, apps=None):
    with scopes_disabled():
        component = Component.objects.get(scheme__intake=intake, code="interview")
        panel = Panel.objects.create(
            component=component, name="Jury A", place="Bureau 2", place_ar="المكتب 2"
        )
        start = datetime.datetime(2025, 9, 20, 10, 0, tzinfo=CASABLANCA)
        for i, application in enumerate(apps or applications(intake)):
            begins = start + datetime.timedelta(minutes=25 * i)
            InterviewSlot.objects.create(
                panel=panel,
                component=component,
                starts_at=begins,
                ends_at=begins + datetime.timedelta(minutes=20),
                application=application,
            )
    return panel


def publish_run(intake, user) -> RankingRun:
    """A published run over the intake's applications in number order: the first two are
    admitted (the first with a live offer, the second accepted it), the next two wait, the
    rest are not retained; the last is ineligible."""
    apps = applications(intake)
    now = timezone.now()
    with scopes_disabled():
        number = RankingRun.objects.filter(intake=intake).count() + 1
        run = RankingRun.objects.create(
            intake=intake,
            number=number,
            status=RankingRun.Status.DONE,
            created_by=user,
            finished_at=now,
            summary={"seats": {"": 2}, "cutoffs": {"": "14.00"}, "counts": {}},
            published_at=now,
            published_by=user,
        )
        pool, _ = SeatPool.objects.get_or_create(intake=intake, track=None, defaults={"seats": 2})
        n = len(apps)
        for i, application in enumerate(apps):
            test, interview = Decimal(16) - i, Decimal("15.5") - i
            composite = ((test + 2 * interview) / 3).quantize(Decimal("0.01"))
            if i < 2:
                outcome, reason = RankingResult.Outcome.ADMITTED, ""
            elif i < 4:
                outcome, reason = RankingResult.Outcome.WAITLISTED, ""
            elif i == n - 1:
                outcome, reason = RankingResult.Outcome.INELIGIBLE, "ineligible"
            else:
                outcome, reason = RankingResult.Outcome.NOT_RETAINED, "beyond_waitlist"
            ranked = outcome != RankingResult.Outcome.INELIGIBLE
            RankingResult.objects.create(
                run=run,
                application=application,
                marks={"test": str(test), "interview": str(interview)} if ranked else {},
                composite=composite if ranked else None,
                outcome=outcome,
                reason=reason,
                merit_rank=i + 1 if ranked else None,
                call_rank=i + 1 if ranked else None,
                waitlist_position=i - 1 if outcome == RankingResult.Outcome.WAITLISTED else None,
                lottery=1000 + i,
            )
        deadline = now + datetime.timedelta(hours=72)
        Offer.objects.create(
            pool=pool, application=apps[0], run=run, origin=Offer.Origin.RANKING, deadline=deadline
        )
        Offer.objects.create(
            pool=pool,
            application=apps[1],
            run=run,
            origin=Offer.Origin.RANKING,
            deadline=deadline,
            status=Offer.Status.ACCEPTED,
            answered_at=now,
            channel=Offer.Channel.APPLICANT,
        )
        SeatPool.objects.filter(pk=pool.pk).update(live=1, accepted=1)
    return run
