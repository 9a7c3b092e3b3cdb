"""One track: Parcoursup's call order with quotas, admitted, waitlist and reasons."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selection_reference import reference_call_order

from tremplin.selection.engine import Candidates, Outcome, Quota, Reason, rank_single_track

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def schools(draw: st.DrawFn, *, max_applicants: int = 40, max_quotas: int = 2) -> dict:
    n = draw(st.integers(0, max_applicants))
    composite = draw(
        st.lists(st.sampled_from([9.5, 10, 11, 12.25, 14, 16]), min_size=n, max_size=n)
    )
    quotas = [
        Quota(
            name,
            draw(st.sampled_from(["0", "0.1", "0.25", "0.3", "0.5", "2/3", "1"])),
            np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        )
        for name in ["scholarship", "resident"][: draw(st.integers(0, max_quotas))]
    ]
    return {
        "candidates": Candidates(
            composite=np.array(composite, dtype=np.float64),
            lottery=np.array(draw(st.permutations(list(range(1, n + 1)))), dtype=np.int64),
        ),
        "quotas": quotas,
        "seats": draw(st.integers(0, 15)),
        "waitlist": draw(st.integers(0, 15)),
    }


def merit_order(candidates: Candidates) -> list[int]:
    n = candidates.lottery.size
    return sorted(range(n), key=lambda a: (-candidates.composite[a], candidates.lottery[a]))


@PROPERTIES
@given(schools())
def test_the_call_order_matches_a_place_by_place_python_definition(school):
    result = rank_single_track(**school)
    quotas = school["quotas"]
    expected = reference_call_order(
        merit_order(school["candidates"]),
        [set(np.flatnonzero(q.members).tolist()) for q in quotas],
        [Fraction(q.share) for q in quotas],
        [],
    )
    assert result.order.tolist() == expected


@PROPERTIES
@given(schools(max_quotas=1))
def test_among_the_first_k_called_at_least_the_quota_share_belong_to_the_group(school):
    result = rank_single_track(**school)
    for quota in school["quotas"]:
        members = quota.members[result.order]
        called = np.cumsum(members)
        for k in range(1, result.order.size + 1):
            needed = math.ceil(Fraction(quota.share) * k)
            assert called[k - 1] >= min(needed, int(members.sum()))


@PROPERTIES
@given(schools(max_quotas=0))
def test_without_quotas_the_call_order_is_the_merit_order(school):
    assert rank_single_track(**school).order.tolist() == merit_order(school["candidates"])


def test_when_two_quotas_conflict_the_first_one_wins():
    # Nobody belongs to both groups; at the first place both quotas want someone.
    first = np.array([False, False, True, False])
    second = np.array([False, False, False, True])
    result = rank_single_track(
        Candidates(composite=np.array([18.0, 17, 12, 11]), lottery=np.arange(1, 5)),
        seats=1,
        waitlist=3,
        quotas=[Quota("scholarship", "0.5", first), Quota("resident", "0.5", second)],
    )
    assert result.order.tolist() == [2, 3, 0, 1]
    assert result.explain(2).moved_by == "scholarship"
    assert result.explain(3).moved_by == "resident"
    assert result.explain(0).moved_by is None


@PROPERTIES
@given(schools())
def test_the_first_seats_are_admitted_the_next_wait_and_the_rest_are_not_retained(school):
    result = rank_single_track(**school)
    seats, waitlist = school["seats"], school["waitlist"]
    for place, a in enumerate(result.order.tolist(), start=1):
        if place <= seats:
            assert result.outcome[a] == Outcome.ADMITTED
        elif place <= seats + waitlist:
            assert result.outcome[a] == Outcome.WAITLISTED
            assert result.explain(a).waitlist_position == place - seats
            assert result.explain(a).ahead == place - seats - 1
        else:
            assert result.outcome[a] == Outcome.NOT_RETAINED
            assert result.reason[a] == Reason.BEYOND_WAITLIST
        assert result.explain(a).last_admitted_rank == min(seats, result.order.size)


@PROPERTIES
@given(schools(), st.data())
def test_raising_a_composite_never_worsens_the_call_rank(school, data):
    candidates = school["candidates"]
    n = candidates.lottery.size
    if not n:
        return
    a = data.draw(st.integers(0, n - 1))
    before = rank_single_track(**school).call_rank[a]
    raised = candidates.composite.copy()
    raised[a] += data.draw(st.sampled_from([0.25, 1, 5]))
    school["candidates"] = Candidates(composite=raised, lottery=candidates.lottery)
    assert rank_single_track(**school).call_rank[a] <= before


@PROPERTIES
@given(schools(), st.data())
def test_a_re_solve_keeps_accepted_offers_and_calls_them_first(school, data):
    first = rank_single_track(**school)
    n = school["candidates"].lottery.size
    admitted = first.outcome == Outcome.ADMITTED
    accepted = admitted & np.array([data.draw(st.booleans()) for _ in range(n)], dtype=bool)
    declined = admitted & ~accepted
    declined &= np.array([data.draw(st.booleans()) for _ in range(n)], dtype=bool)
    second = rank_single_track(**school, accepted=accepted, declined=declined)
    assert (second.outcome[accepted] == Outcome.ADMITTED).all()
    assert sorted(second.order[: int(accepted.sum())].tolist()) == np.flatnonzero(accepted).tolist()
    assert (second.reason[declined] == Reason.DECLINED).all()
    assert (second.outcome[declined] == Outcome.NOT_RETAINED).all()
    assert int((second.outcome == Outcome.ADMITTED).sum()) <= school["seats"]
    quotas = school["quotas"]
    expected = reference_call_order(
        [a for a in merit_order(school["candidates"]) if not accepted[a] and not declined[a]],
        [set(np.flatnonzero(q.members).tolist()) for q in quotas],
        [Fraction(q.share) for q in quotas],
        [a for a in merit_order(school["candidates"]) if accepted[a]],
    )
    assert second.order[int(accepted.sum()) :].tolist() == expected


def test_excluded_applicants_get_the_most_decisive_reason():
    n = 5
    result = rank_single_track(
        Candidates(
            composite=np.full(n, 12.0),
            lottery=np.arange(1, n + 1),
            ineligible=np.array([1, 0, 0, 0, 0], dtype=bool),
            absent=np.array([1, 1, 0, 0, 0], dtype=bool),
            below_threshold=np.array([1, 1, 1, 0, 0], dtype=bool),
        ),
        seats=1,
        waitlist=0,
    )
    assert [Reason(r) for r in result.reason.tolist()] == [
        Reason.INELIGIBLE,
        Reason.ABSENT,
        Reason.BELOW_THRESHOLD,
        Reason.NONE,
        Reason.BEYOND_WAITLIST,
    ]
    assert result.call_rank.tolist() == [0, 0, 0, 1, 2]
    assert result.explain(0).call_rank is None


def test_decimal_composites_are_ranked_exactly_and_ties_go_to_the_lower_lottery_number():
    composite = np.array([Decimal("14.10"), Decimal("14.1"), Decimal("14.11"), Decimal("9")])
    result = rank_single_track(
        Candidates(composite=composite, lottery=np.array([4, 2, 3, 1])), seats=2, waitlist=1
    )
    assert result.order.tolist() == [2, 1, 0, 3]
    assert result.explain(1).composite == Decimal("14.1")


def test_published_tie_keys_come_before_the_lottery():
    result = rank_single_track(
        Candidates(
            composite=np.array([12.0, 12.0, 12.0]),
            lottery=np.array([1, 2, 3]),
            tie_keys=(np.array([10, 15, 15]),),  # e.g. the interview mark, higher first
        ),
        seats=3,
        waitlist=0,
    )
    assert result.order.tolist() == [1, 2, 0]


def test_it_refuses_three_quotas_and_more_accepted_offers_than_seats():
    candidates = Candidates(composite=np.array([12.0, 11.0]), lottery=np.array([1, 2]))
    members = np.array([True, False])
    with pytest.raises(ValueError, match="at most two quotas"):
        rank_single_track(candidates, seats=1, waitlist=0, quotas=[Quota("q", "0.1", members)] * 3)
    with pytest.raises(ValueError, match="More accepted offers than seats"):
        rank_single_track(candidates, seats=1, waitlist=0, accepted=np.array([True, True]))


def test_a_float_share_means_what_it_says_in_decimal():
    assert Quota("q", 0.3, np.zeros(1, dtype=bool)).required(10) == 3
    with pytest.raises(ValueError, match="between 0 and 1"):
        Quota("q", "1.2", np.zeros(1, dtype=bool))
