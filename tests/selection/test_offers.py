"""Offers: opened at publication, accepted, declined, expired; seats and states stay right."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.selection.offers_world import (
    app,
    offer_of,
    pool_of,
)
from tremplin.core.models import AuditEvent
from tremplin.selection.models import Offer
from tremplin.selection.offers import OfferError, offer_accept, offer_decline, offers_expire
from tremplin.training.models import Cohort, Enrolment


def actions(code: str) -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.filter(action=code).order_by("pk"))


def test_publication_offers_each_admitted_applicant_one_seat_until_the_deadline(intake):
    with scopes_disabled():
        offers = list(Offer.objects.filter(pool__intake=intake).order_by("application__number"))
        pool = pool_of(intake)
    assert [o.application.number for o in offers] == [1, 2, 4, 6]
    assert {o.status for o in offers} == {"live"} and {o.origin for o in offers} == {"ranking"}
    expected = timezone.now() + datetime.timedelta(hours=72)
    assert all(abs(o.deadline - expected) < datetime.timedelta(minutes=1) for o in offers)
    assert (pool.seats, pool.live, pool.accepted) == (4, 4, 0)
    assert len(actions("tremplin.selection.offer_made")) == 4


def test_accepting_moves_the_seat_to_accepted_and_enrols_once(intake):
    offer = offer_of(app(intake, 2))
    first = offer_accept(offer=offer, channel="applicant")
    again = offer_accept(offer=offer, channel="applicant")
    assert first.changed and not again.changed
    assert again.offer.status == "accepted" and again.offer.channel == "applicant"
    pool = pool_of(intake)
    assert (pool.live, pool.accepted) == (3, 1)
    with scopes_disabled():
        enrolment = Enrolment.objects.get(application__number=2, cohort__intake=intake)
        assert enrolment.offer_id == offer.pk
        assert Cohort.objects.get(intake=intake).name == intake.title
        assert Enrolment.objects.filter(cohort__intake=intake).count() == 1
    [event] = actions("tremplin.selection.offer_accepted")
    assert event.data["channel"] == "applicant" and event.data["offer"] == offer.pk


def test_an_offer_past_its_deadline_cannot_be_accepted(intake):
    offer = offer_of(app(intake, 2))
    with scopes_disabled():
        Offer.objects.filter(pk=offer.pk).update(
            deadline=timezone.now() - datetime.timedelta(seconds=1)
        )
    answer = offer_accept(offer=offer, channel="applicant")
    assert not answer.changed and answer.offer.status == "live"
    assert pool_of(intake).accepted == 0
    with scopes_disabled():
        assert not Enrolment.objects.exists()


def test_a_phone_answer_needs_a_reason_and_a_staff_member(world, intake):
    offer = offer_of(app(intake, 2))
    with pytest.raises(OfferError):
        offer_accept(offer=offer, channel="phone", actor=world.users["admissions"], reason=" ")
    with pytest.raises(OfferError):
        offer_accept(offer=offer, channel="phone", actor=None, reason="Called at 10:00")
    assert offer_of(app(intake, 2)).status == "live"
    answer = offer_decline(
        offer=offer, channel="phone", actor=world.users["admissions"], reason="Called at 10:00"
    )
    assert answer.changed
    assert answer.offer.answered_by == world.users["admissions"]
    assert answer.offer.reason == "Called at 10:00" and answer.offer.channel == "phone"
    [event] = actions("tremplin.selection.offer_declined")
    assert event.actor == world.users["admissions"] and event.reason == "Called at 10:00"


def test_declining_frees_the_seat_for_the_next_in_the_call_order(intake, letters):
    offer_decline(offer=offer_of(app(intake, 2)), channel="applicant")
    # Without quotas the call order is the merit order: 3 waits first.
    new = offer_of(app(intake, 3))
    assert new is not None and new.origin == "waitlist" and new.status == "live"
    pool = pool_of(intake)
    assert (pool.live, pool.accepted) == (4, 0)
    assert letters.application_ids == [new.application_id]
    with scopes_disabled():
        declined = Offer.objects.get(application__number=2, pool__intake=intake)
    assert declined.status == "declined" and declined.answered_at is not None


def test_declining_twice_answers_with_the_state_and_calls_only_one_person(intake, letters):
    offer = offer_of(app(intake, 2))
    assert offer_decline(offer=offer, channel="applicant").changed
    again = offer_decline(offer=offer, channel="applicant")
    assert not again.changed and again.offer.status == "declined"
    assert len(letters.application_ids) == 1
    assert pool_of(intake).live == 4


def test_an_accepted_offer_cannot_then_be_declined(intake):
    offer = offer_of(app(intake, 2))
    offer_accept(offer=offer, channel="applicant")
    answer = offer_decline(offer=offer, channel="applicant")
    assert not answer.changed and answer.offer.status == "accepted"
    assert pool_of(intake).accepted == 1


def test_expiry_frees_the_seats_of_late_offers_and_calls_the_next(intake, letters):
    late = offer_of(app(intake, 4))
    with scopes_disabled():
        Offer.objects.filter(pk=late.pk).update(deadline=timezone.now())
    assert offers_expire() == 1
    assert offers_expire() == 0  # idempotent
    with scopes_disabled():
        late.refresh_from_db()
    assert late.status == "expired" and late.channel == "system"
    assert offer_of(app(intake, 3)).origin == "waitlist"
    assert pool_of(intake).live == 4
    assert len(actions("tremplin.selection.offer_expired")) == 1
    assert letters.application_ids == [app(intake, 3).pk]


def test_an_expired_offer_is_not_accepted_by_a_late_click(intake):
    offer = offer_of(app(intake, 4))
    with scopes_disabled():
        Offer.objects.filter(pk=offer.pk).update(deadline=timezone.now())
    offers_expire()
    answer = offer_accept(offer=offer, channel="applicant")
    assert not answer.changed and answer.offer.status == "expired"


def test_a_withdrawn_applicant_cannot_accept_and_the_sweep_frees_their_seat(intake):
    from tremplin.admissions.services import application_withdraw

    application = app(intake, 2)
    with scopes_disabled():
        application_withdraw(application=application)
    offer = offer_of(application)
    with pytest.raises(OfferError):
        offer_accept(offer=offer, channel="applicant")
    assert offers_expire() == 0
    with scopes_disabled():
        offer.refresh_from_db()
    assert offer.status == "cancelled"
    assert offer_of(app(intake, 3)) is not None


def test_the_database_refuses_a_second_live_offer_and_an_overbooked_pool(intake):
    offer = offer_of(app(intake, 2))
    with scopes_disabled(), pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.create(
            pool=offer.pool, application=offer.application, run=offer.run,
            origin="manual", deadline=offer.deadline,
        )  # fmt: skip
    from django.db.models import F

    from tremplin.selection.models import SeatPool

    with scopes_disabled(), pytest.raises(IntegrityError), transaction.atomic():
        SeatPool.objects.filter(pk=offer.pool_id).update(live=F("live") + 1)


def test_the_expire_offers_command_and_task_sweep_late_offers(intake):
    from django.core.management import call_command

    from tremplin.selection.offer_tasks import expire_offers, fill_waitlist

    with scopes_disabled():
        Offer.objects.filter(pool__intake=intake, application__number=4).update(
            deadline=timezone.now()
        )
    call_command("expire_offers", verbosity=0)
    assert offer_of(app(intake, 4)) is None and offer_of(app(intake, 3)) is not None
    assert expire_offers.enqueue().return_value == 0
    assert fill_waitlist.enqueue(intake.pk).return_value == 0


def test_the_sweep_fills_a_seat_a_lost_fill_left_free_and_skips_exhausted_lists(intake, letters):
    from unittest import mock

    from tremplin.selection.offers import _unfilled_intakes

    with mock.patch("tremplin.selection.offers._refill"):
        offer_decline(offer=offer_of(app(intake, 2)), channel="applicant")
    with scopes_disabled():
        assert pool_of(intake).free == 1 and _unfilled_intakes() == {intake.pk}
    assert offers_expire() == 0
    assert offer_of(app(intake, 3)).origin == "waitlist"
    assert letters.application_ids == [app(intake, 3).pk]
    # Everyone listed declines: seats stay free, and the sweep no longer solves this call.
    while True:
        with scopes_disabled():
            live = Offer.objects.filter(pool__intake=intake, status="live").first()
        if live is None:
            break
        offer_decline(offer=live, channel="applicant")
    assert pool_of(intake).free == 4
    with scopes_disabled():
        assert _unfilled_intakes() == set()


def test_an_applicant_who_withdraws_after_accepting_frees_the_seat_for_the_next(intake):
    """An early dropout: the enrolment ends, the seat goes to the next in the call order."""
    from tremplin.admissions.services import application_withdraw

    application = app(intake, 2)
    offer = offer_of(application)
    offer_accept(offer=offer, channel="applicant")
    with scopes_disabled():
        assert Enrolment.objects.get(offer=offer).status == Enrolment.Status.ACTIVE
        application_withdraw(application=application)
    offers_expire()
    with scopes_disabled():
        offer.refresh_from_db()
        enrolment = Enrolment.objects.get(offer=offer)
        pool = pool_of(intake)
    assert offer.status == "cancelled"
    assert enrolment.status == Enrolment.Status.DROPPED_OUT
    assert (pool.live, pool.accepted) == (4, 0)
    assert offer_of(app(intake, 3)).status == "live"  # the next in merit order
    assert [e.reason for e in actions("tremplin.selection.offer_cancelled")] == [
        "application withdrawn after accepting"
    ]
    # A second sweep changes nothing.
    offers_expire()
    with scopes_disabled():
        assert pool_of(intake).live == 4
