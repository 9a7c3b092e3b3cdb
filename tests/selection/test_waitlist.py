"""The waitlist: freed seats go to the next in the call order, respecting quotas; staff
promote by hand with a reason."""

import pytest
from django.db.models import F
from django_scopes import scopes_disabled

from tests.selection.offers_world import (
    COMPOSITES,
    app,
    closed_intake,
    offer_of,
    pool_of,
    publish_single,
    publish_tracks,
)
from tremplin.core.models import AuditEvent
from tremplin.selection.models import Offer, SeatPool
from tremplin.selection.offers import OfferError, offer_accept, offer_decline
from tremplin.selection.waitlist import waitlist_fill, waitlist_promote

# Application numbers 1..10, odd numbers are women. Merit: 2, 4, 1, 6, 3, 8, 5, 10, 7, 9.
# With at least 50 % women the call order is 1, 2, 3, 4 | 5, 6, 7, 8 | 9, 10.


@pytest.fixture
def quota_intake(world, letters):
    intake = closed_intake(world, n=10, seats=4, waitlist=4)
    publish_single(
        intake,
        actor=world.users["director"],
        composites=COMPOSITES,
        seats=4,
        waitlist=4,
        women_share=50,
    )
    return intake


def holders(intake) -> list[int]:
    with scopes_disabled():
        return sorted(
            Offer.objects.filter(pool__intake=intake, status__in=["live", "accepted"]).values_list(
                "application__number", flat=True
            )
        )


def free_a_seat(intake) -> None:
    """One more seat in the pool (as when a fill was lost), without calling anyone."""
    with scopes_disabled():
        SeatPool.objects.filter(intake=intake).update(seats=F("seats") + 1)


def test_publication_with_a_quota_offers_seats_in_the_call_order(quota_intake):
    assert holders(quota_intake) == [1, 2, 3, 4]


def test_a_woman_declining_calls_a_woman_before_a_better_ranked_man(quota_intake):
    # Without 5, the women would hold 1 of the first 4 places called (2, 3, 4 and 6)
    # against the 2 the quota requires: 5 is called before 6, who has a better composite.
    offer_decline(offer=offer_of(app(quota_intake, 1)), channel="applicant")
    assert holders(quota_intake) == [2, 3, 4, 5]
    assert offer_of(app(quota_intake, 5)).origin == "waitlist"


def test_a_man_declining_calls_the_best_ranked_waiting_when_the_quota_holds(quota_intake):
    offer_decline(offer=offer_of(app(quota_intake, 2)), channel="applicant")
    assert holders(quota_intake) == [1, 3, 4, 6]


def test_accepted_offers_keep_their_seat_when_the_call_order_is_solved_again(quota_intake):
    offer_accept(offer=offer_of(app(quota_intake, 3)), channel="applicant")
    for number in (1, 2, 4):
        offer_decline(offer=offer_of(app(quota_intake, number)), channel="applicant")
    # 1 out: 5 (quota); 2 out: 6 (merit, 2 women of 4 already); 4 out: 8 (merit again).
    assert holders(quota_intake) == [3, 5, 6, 8]
    assert offer_of(app(quota_intake, 3)).status == "accepted"


def test_nobody_beyond_the_published_waitlist_is_called(quota_intake):
    for number in (1, 2, 3, 4, 5, 6, 7, 8):
        offer = offer_of(app(quota_intake, number))
        offer_decline(offer=offer, channel="applicant")
    assert holders(quota_intake) == []
    pool = pool_of(quota_intake)
    assert (pool.live, pool.accepted) == (0, 0)


def test_fill_does_nothing_while_every_seat_is_taken(quota_intake, letters):
    assert waitlist_fill(intake=quota_intake) == []
    assert letters.calls == []


def test_a_fill_offers_a_freed_seat_and_notifies_once(quota_intake, letters):
    free_a_seat(quota_intake)
    [offer] = waitlist_fill(intake=quota_intake)
    assert offer.application.number == 5 and offer.origin == "waitlist"
    assert waitlist_fill(intake=quota_intake) == []
    assert letters.application_ids == [offer.application_id]


def test_staff_promote_a_waitlisted_applicant_by_hand_with_a_reason(world, quota_intake, letters):
    free_a_seat(quota_intake)
    officer = world.users["admissions"]
    offer = waitlist_promote(
        application=app(quota_intake, 8), actor=officer, reason="Jury decision, minutes of 3 Oct"
    )
    assert offer.origin == "manual" and offer.created_by == officer and offer.status == "live"
    assert letters.application_ids == [offer.application_id]
    with scopes_disabled():
        event = AuditEvent.objects.get(
            action="tremplin.selection.offer_made", data__origin="manual"
        )
    assert event.actor == officer and event.reason == "Jury decision, minutes of 3 Oct"
    assert pool_of(quota_intake).free == 0


@pytest.mark.parametrize(
    ("number", "reason", "free"),
    [
        (8, "", True),  # no reason
        (9, "Asked", True),  # not on the waitlist
        (1, "Asked", True),  # admitted, already holds an offer
        (8, "Asked", False),  # no seat free
    ],
)
def test_a_promotion_that_breaks_a_rule_is_refused_and_changes_nothing(
    world, quota_intake, letters, number, reason, free
):
    if free:
        free_a_seat(quota_intake)
    before = holders(quota_intake)
    with pytest.raises(OfferError):
        waitlist_promote(
            application=app(quota_intake, number), actor=world.users["admissions"], reason=reason
        )
    assert holders(quota_intake) == before
    assert letters.calls == []


def test_promoting_the_same_applicant_twice_gives_one_offer(world, quota_intake, letters):
    free_a_seat(quota_intake)
    free_a_seat(quota_intake)
    officer = world.users["admissions"]
    waitlist_promote(application=app(quota_intake, 7), actor=officer, reason="Phone call")
    with pytest.raises(OfferError, match="already holds"):
        waitlist_promote(application=app(quota_intake, 7), actor=officer, reason="Phone call")
    with scopes_disabled():
        assert Offer.objects.filter(application__number=7, pool__intake=quota_intake).count() == 1
    assert pool_of(quota_intake).free == 1
    assert len(letters.calls) == 1


def test_several_tracks_a_decline_calls_the_next_who_wished_for_that_track(world, letters):
    intake = closed_intake(world, n=6, seats=4, waitlist=4, slug="multi-25", tracks=("data", "web"))
    # Applicants 1..6 by composite 20, 19, ... ; wishes below; 2 seats per track.
    publish_tracks(
        intake,
        actor=world.users["director"],
        composites=[20, 19, 18, 17, 16, 15],
        wishes=[["web"], ["web", "data"], ["data"], ["web", "data"], ["data"], ["web"]],
        seats={"data": 2, "web": 2},
    )
    # web: 1, 2; data: 3, 4 (web full); waiting: 5 (data), 6 (web).
    assert holders(intake) == [1, 2, 3, 4]
    offer_decline(offer=offer_of(app(intake, 1)), channel="applicant")
    # The web seat goes to 6, the only one still waiting for web (4 holds data, fixed).
    new = offer_of(app(intake, 6))
    assert new is not None and new.pool.track.track.code == "web"
    with scopes_disabled():
        pools = {
            p.track.track.code: (p.live, p.accepted) for p in SeatPool.objects.filter(intake=intake)
        }
    assert pools == {"web": (2, 0), "data": (2, 0)}
    offer_decline(offer=offer_of(app(intake, 3)), channel="applicant")
    assert offer_of(app(intake, 5)).pool.track.track.code == "data"


def test_after_the_real_ranking_and_publication_a_decline_calls_the_next_with_a_letter(world):
    """End to end with the ranking part's run and publication and the letters part's batch."""
    from django_scopes import scope

    from tests.selection.builders import give_marks, make_scheme
    from tremplin.selection.models import LetterBatch, RankingResult
    from tremplin.selection.ranking import ranking_publish, ranking_run_execute, ranking_run_start

    director = world.users["director"]
    intake = closed_intake(world, n=10, seats=3, waitlist=3, slug="real-2025")
    make_scheme(intake, women_share=50, test_threshold=None)
    marks = [18, 20, 16, 19, 14, 17, 12, 15, 10, 13]
    give_marks(intake, {"test": marks, "interview": marks})
    with scope(school=intake.school):
        run = ranking_run_start(intake=intake, actor=director, enqueue=False)
    run = ranking_run_execute(run.pk)
    with scope(school=intake.school):
        ranking_publish(run=run, actor=director, comment="Jury of 3 October")
    with scopes_disabled():
        by_call = list(
            RankingResult.objects.filter(run=run, call_rank__isnull=False)
            .order_by("call_rank")
            .values_list("application__number", flat=True)
        )
    assert holders(intake) == sorted(by_call[:3])
    assert (pool_of(intake).seats, pool_of(intake).live) == (3, 3)

    # 2, a man, declines: the women keep their share (1 and 3), so merit calls 4.
    assert by_call[:4] == [1, 2, 3, 4]
    offer_decline(offer=offer_of(app(intake, 2)), channel="applicant")

    called = offer_of(app(intake, 4))
    assert called is not None and called.origin == "waitlist"
    with scopes_disabled():
        batch = LetterBatch.objects.filter(intake=intake, kind="decision").latest("pk")
    assert batch.application_ids == [called.application_id] and batch.notify
