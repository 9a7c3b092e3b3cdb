"""A stateful property test: any sequence of accepts, declines (by the applicant or by
phone), offers taken back by staff, deadlines passing, expiry sweeps, promotions and fills
keeps the seats and the applicants' states right. On SQLite; the PostgreSQL tests cover
true concurrency."""

import datetime
from unittest import mock

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.selection.offers_world import closed_intake, publish_single, record_letters
from tremplin.admissions.models import Application
from tremplin.selection.decisions import Status, decision_for
from tremplin.selection.models import Offer, RankingResult, SeatPool
from tremplin.selection.offers import (
    OfferError,
    offer_accept,
    offer_decline,
    offer_withdraw,
    offers_expire,
)
from tremplin.selection.waitlist import waitlist_fill, waitlist_promote
from tremplin.training.models import Enrolment

N = 12
SEATS = 4
# Numbers 1..12, odd ones women; composites with ties (broken by the lottery).
COMPOSITES = [15, 18, 15, 17, 12, 16, 14, 16, 11, 13, 10, 13]
number = st.integers(min_value=1, max_value=N)


def build_machine(world, monkeypatch):
    officer = world.users["admissions"]

    class Offers(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = transaction.savepoint()
            self.letters = record_letters(monkeypatch)
            self.intake = closed_intake(world, n=N, seats=SEATS, waitlist=6)
            publish_single(
                self.intake,
                actor=officer,
                composites=COMPOSITES,
                seats=SEATS,
                waitlist=6,
                women_share=50,
            )
            with scopes_disabled():
                self.apps = {a.number: a for a in self.intake.applications.all()}
                self.listed = set(
                    RankingResult.objects.filter(
                        run__intake=self.intake, outcome__in=["admitted", "waitlisted"]
                    ).values_list("application__number", flat=True)
                )
            self.accepted: set[int] = set()  # who accepted: they keep their seat for good
            self.out: set[int] = set()  # declined, expired or cancelled: never called again

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        # --- helpers

        def offer(self, n: int) -> Offer | None:
            with scopes_disabled():
                return (
                    Offer.objects.filter(application=self.apps[n])
                    .select_related("application")
                    .order_by("-created_at", "-pk")
                    .first()
                )

        def pool(self) -> SeatPool:
            with scopes_disabled():
                return SeatPool.objects.get(intake=self.intake)

        def waiting(self) -> set[int]:
            """Listed by the publication, never offered anything, application still in."""
            with scopes_disabled():
                offered = set(
                    Offer.objects.filter(pool__intake=self.intake).values_list(
                        "application__number", flat=True
                    )
                )
                withdrawn = set(
                    Application.objects.filter(intake=self.intake, status="withdrawn").values_list(
                        "number", flat=True
                    )
                )
            return self.listed - offered - withdrawn

        def no_seat_left_while_someone_waits(self) -> None:
            # After a fill: a free seat means nobody listed is left to call.
            assert self.pool().free == 0 or not self.waiting()

        def record_outcome(self, n: int) -> None:
            offer = self.offer(n)
            if offer is not None and offer.status in ("declined", "expired", "cancelled"):
                self.out.add(n)

        # --- rules

        @rule(n=number, by_phone=st.booleans())
        def accept(self, n, by_phone):
            offer = self.offer(n)
            if offer is None:
                return
            live = offer.status == "live" and offer.deadline > timezone.now()
            try:
                answer = offer_accept(
                    offer=offer,
                    channel="phone" if by_phone else "applicant",
                    actor=officer if by_phone else None,
                    reason="Called" if by_phone else "",
                )
            except OfferError:
                assert offer.status == "live" and offer.application.status == "withdrawn"
                return
            assert answer.changed == live
            if answer.changed:
                self.accepted.add(n)

        @rule(n=number, by_phone=st.booleans())
        def decline(self, n, by_phone):
            offer = self.offer(n)
            if offer is None:
                return
            answer = offer_decline(
                offer=offer,
                channel="phone" if by_phone else "applicant",
                actor=officer if by_phone else None,
                reason="Called" if by_phone else "",
            )
            assert answer.changed == (offer.status == "live")
            self.record_outcome(n)
            if answer.changed:  # the freed seat went to the next at once
                self.no_seat_left_while_someone_waits()

        @rule(n=number)
        def take_back(self, n):
            """Staff take back a live or accepted offer: the seat goes on, the enrolment
            ends."""
            offer = self.offer(n)
            if offer is None:
                return
            answer = offer_withdraw(offer=offer, actor=officer, reason="False address")
            assert answer.changed == (offer.status in ("live", "accepted"))
            assert answer.offer.status == ("cancelled" if answer.changed else offer.status)
            self.accepted.discard(n)
            self.record_outcome(n)
            if answer.changed:
                self.no_seat_left_while_someone_waits()

        @rule(n=number)
        def decline_while_the_fill_is_lost(self, n):
            """A decline whose waitlist fill fails: the seat stays free for a promotion,
            a fill or the next sweep."""
            offer = self.offer(n)
            if offer is None:
                return
            with mock.patch("tremplin.selection.offers._refill"):
                offer_decline(offer=offer, channel="applicant")
            self.record_outcome(n)

        @rule(n=number)
        def deadline_passes(self, n):
            with scopes_disabled():
                Offer.objects.filter(application=self.apps[n], status="live").update(
                    deadline=timezone.now() - datetime.timedelta(seconds=1)
                )

        @rule()
        def expire(self):
            offers_expire()
            for n in self.apps:
                self.record_outcome(n)
            self.no_seat_left_while_someone_waits()

        @rule()
        def fill(self):
            waitlist_fill(intake=self.intake)
            self.no_seat_left_while_someone_waits()

        @rule(n=number)
        def promote(self, n):
            free = self.pool().free
            eligible = n in self.waiting() or (
                n in self.listed and n in self.out and self.offer(n).status != "accepted"
            )
            with scopes_disabled():
                waitlisted = RankingResult.objects.filter(
                    run__intake=self.intake, application=self.apps[n], outcome="waitlisted"
                ).exists()
                # Withdrawn after an offer she let go: nobody can bring her back.
                withdrawn = Application.objects.filter(
                    pk=self.apps[n].pk, status="withdrawn"
                ).exists()
            try:
                offer = waitlist_promote(application=self.apps[n], actor=officer, reason="Jury")
            except OfferError:
                assert withdrawn or not (
                    free and waitlisted and eligible and n not in self.accepted
                )
            else:
                assert free and waitlisted and not withdrawn and offer.origin == "manual"
                self.out.discard(n)

        @rule(n=number)
        def withdraw(self, n):
            from tremplin.admissions.services import application_withdraw

            if n in self.accepted:
                return  # a dropout after acceptance is training's business
            with scopes_disabled():
                application_withdraw(application=self.apps[n])

        # --- invariants

        @invariant()
        def seats_are_never_exceeded_and_counters_match(self):
            pool = self.pool()
            with scopes_disabled():
                live = Offer.objects.filter(pool=pool, status="live").count()
                accepted = Offer.objects.filter(pool=pool, status="accepted").count()
            assert (pool.live, pool.accepted) == (live, accepted)
            assert pool.accepted <= pool.seats
            assert pool.live + pool.accepted <= pool.seats

        @invariant()
        def each_applicant_has_exactly_one_current_state(self):
            with scopes_disabled():
                holding = list(
                    Offer.objects.filter(
                        pool__intake=self.intake, status__in=["live", "accepted"]
                    ).values_list("application__number", flat=True)
                )
                assert len(holding) == len(set(holding))
                for n, application in self.apps.items():
                    status = decision_for(application).status
                    offer = self.offer(n)
                    if n in self.accepted:
                        assert status == Status.ACCEPTED
                    elif offer is not None and offer.status == "live":
                        assert status == Status.OFFER
                    elif n in holding:
                        raise AssertionError(f"{n} holds an offer the model does not know")
                    else:
                        assert status not in (Status.OFFER, Status.ACCEPTED)

        @invariant()
        def one_enrolment_per_acceptance(self):
            with scopes_disabled():
                enrolled = sorted(
                    Enrolment.objects.filter(
                        cohort__intake=self.intake, status="active"
                    ).values_list("application__number", flat=True)
                )
                # Every other enrolment ended with an offer taken back.
                assert (
                    not Enrolment.objects.filter(cohort__intake=self.intake)
                    .exclude(status="active")
                    .exclude(offer__status="cancelled")
                )
            assert enrolled == sorted(self.accepted)

        @invariant()
        def each_offer_made_after_publication_is_notified_once(self):
            with scopes_disabled():
                later = sorted(
                    Offer.objects.filter(pool__intake=self.intake)
                    .exclude(origin="ranking")
                    .values_list("application_id", flat=True)
                )
            assert sorted(self.letters.application_ids) == later

    return Offers


def test_any_sequence_of_answers_keeps_seats_and_states_right(world, monkeypatch):
    machine = build_machine(world, monkeypatch)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    machine.TestCase().runTest()
