"""One track: Parcoursup's call order with minimum-share quotas, then admitted and waitlist.

The call order starts from the merit order and changes it as little as possible so that,
for each quota of share q, among the first k applicants called at least ceil(q * k) belong
to the group, for every k, while any group member remains. Step by step: when a quota
would fall short at the next place, the best remaining member of its group is called;
otherwise the best remaining applicant is. This is the greedy order of Parcoursup's
"ordre d'appel", and the lexicographically closest order to merit that keeps every quota.

Two quotas can conflict: at some place both fall short and nobody remaining belongs to
both groups. The **first** quota wins there, as the scholarship rate does over the
residency rate in Parcoursup: the first quota is meant for the legal, social criterion and
is guaranteed at every place; the second is kept wherever it does not clash with the
first, and catches up at the next place where it can. List the quotas in that order.

Accepted offers kept from an earlier round count as already called: the order continues
after them, with their group members counted, so the guarantee covers the whole sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np

from tremplin.selection.checks import SelfCheckError
from tremplin.selection.explanations import SingleTrackExplanation, explain_single
from tremplin.selection.ordering import lottery_ranks, track_major_order
from tremplin.selection.outcomes import Outcome, Reason


@dataclass(frozen=True)
class Quota:
    """A minimum share of a group among the first k called, for every k."""

    name: str
    share: Fraction | Decimal | str | int | float
    members: np.ndarray  # bool per applicant

    def __post_init__(self) -> None:
        # str() first: a float share means what its shortest decimal says (0.3, not
        # 0.299999999999999988897769753748...).
        exact = Fraction(str(self.share)) if isinstance(self.share, float) else Fraction(self.share)
        if not 0 <= exact <= 1:
            raise ValueError(f"The share of quota {self.name!r} must lie between 0 and 1.")
        object.__setattr__(self, "share", exact)

    def required(self, k: int | np.ndarray) -> int | np.ndarray:
        """ceil(share * k), exactly."""
        share = Fraction(self.share)
        return -((-share.numerator * k) // share.denominator)


@dataclass(frozen=True)
class Candidates:
    """Everyone who applied to the track, one entry per applicant.

    `composite` may hold Decimals (ranked exactly) or numbers, higher is better;
    `tie_keys` are published keys compared in order when composites are equal, higher is
    better; `lottery` breaks what is left, lower first. The masks exclude applicants from
    the call order, with the matching reason.
    """

    composite: np.ndarray
    lottery: np.ndarray
    tie_keys: tuple[np.ndarray, ...] = ()
    ineligible: np.ndarray | None = None
    absent: np.ndarray | None = None
    below_threshold: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class SingleTrackResult:
    """Per-applicant arrays (indexed like the candidates) and the call order itself."""

    order: np.ndarray  # applicants in call order, accepted offers first
    outcome: np.ndarray  # Outcome values
    reason: np.ndarray  # Reason values
    merit_rank: np.ndarray  # 1 = best among those called; 0 if not called
    call_rank: np.ndarray  # place in the call order, from 1; 0 if not called
    waitlist_position: np.ndarray  # from 1; 0 if not on the waitlist
    moved_by: np.ndarray  # index of the quota that called them before their merit turn, -1
    composite: np.ndarray
    seats: int
    waitlist: int
    quotas: tuple[Quota, ...] = field(default=())

    @property
    def last_admitted_rank(self) -> int:
        """The call rank of the last admitted applicant: the track's cut-off."""
        return int(min(self.seats, self.order.size))

    def explain(self, applicant: int) -> SingleTrackExplanation:
        """Why `applicant` is admitted, waiting or not retained."""
        return explain_single(self, applicant)


def rank_single_track(
    candidates: Candidates,
    *,
    seats: int,
    waitlist: int,
    quotas: Sequence[Quota] = (),
    accepted: np.ndarray | None = None,
    declined: np.ndarray | None = None,
    withdrawn: np.ndarray | None = None,
) -> SingleTrackResult:
    """Call order, admitted (the first `seats`), waitlist (the next `waitlist`), the rest.

    For a re-solve, `accepted` marks applicants who accepted their offer: they keep their
    seat and count as called first; `declined` and `withdrawn` take applicants out. The
    result is checked before it is returned (see `_verify`); a failure raises
    `SelfCheckError`.
    """
    n = candidates.lottery.size
    if len(quotas) > 2:
        raise ValueError("A track has at most two quotas.")
    if seats < 0 or waitlist < 0:
        raise ValueError("Seats and waitlist must be non-negative.")
    composite = np.asarray(candidates.composite)
    if composite.shape != (n,):
        raise ValueError("Give one composite and one lottery number per applicant.")
    if composite.dtype.kind == "f" and not np.isfinite(composite).all():
        raise ValueError("Composites must be finite numbers.")
    reason = np.zeros(n, dtype=np.int8)
    # Later lines win, so the most decisive reason is written last.
    for mask, why in (
        (candidates.below_threshold, Reason.BELOW_THRESHOLD),
        (candidates.absent, Reason.ABSENT),
        (candidates.ineligible, Reason.INELIGIBLE),
        (declined, Reason.DECLINED),
        (withdrawn, Reason.WITHDRAWN),
    ):
        if mask is not None:
            reason[np.asarray(mask, dtype=bool)] = why
    kept = np.zeros(n, dtype=bool) if accepted is None else np.asarray(accepted, dtype=bool)
    if (kept & (reason != Reason.NONE)).any():
        raise ValueError("An applicant who accepted an offer cannot also be excluded.")
    if int(kept.sum()) > seats:
        raise ValueError("More accepted offers than seats.")

    merit = track_major_order(
        np.zeros(n, dtype=np.int64),
        composite,
        list(candidates.tie_keys),
        lottery_ranks(np.asarray(candidates.lottery)),
        1,
    )
    merit = merit[reason[merit] == Reason.NONE]
    earlier = merit[kept[merit]]
    pool = merit[~kept[merit]]
    members = [np.asarray(q.members, dtype=bool) for q in quotas]
    order, moved = call_order(pool, members, list(quotas), earlier)
    _verify(order, pool, members, list(quotas), earlier)

    full_order = np.concatenate((earlier, order))
    call_rank = np.zeros(n, dtype=np.int64)
    call_rank[full_order] = np.arange(1, full_order.size + 1)
    merit_rank = np.zeros(n, dtype=np.int64)
    merit_rank[merit] = np.arange(1, merit.size + 1)
    moved_by = np.full(n, -1, dtype=np.int8)
    moved_by[order] = moved

    outcome = np.full(n, Outcome.NOT_RETAINED, dtype=np.int8)
    called = call_rank > 0
    outcome[called & (call_rank <= seats)] = Outcome.ADMITTED
    on_waitlist = called & (call_rank > seats) & (call_rank <= seats + waitlist)
    outcome[on_waitlist] = Outcome.WAITLISTED
    reason[called & (call_rank > seats + waitlist)] = Reason.BEYOND_WAITLIST
    waitlist_position = np.where(on_waitlist, call_rank - seats, 0)
    if (np.count_nonzero(outcome == Outcome.ADMITTED) > seats) or (
        np.count_nonzero(on_waitlist) > waitlist
    ):
        raise SelfCheckError("More applicants admitted or waiting than places.")
    return SingleTrackResult(
        order=full_order,
        outcome=outcome,
        reason=reason,
        merit_rank=merit_rank,
        call_rank=call_rank,
        waitlist_position=waitlist_position,
        moved_by=moved_by,
        composite=composite,
        seats=seats,
        waitlist=waitlist,
        quotas=tuple(quotas),
    )


def call_order(
    pool: np.ndarray,
    members: Sequence[np.ndarray],
    quotas: Sequence[Quota],
    earlier: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The call order of `pool` (applicants, best merit first) under one or two quotas.

    Returns the order and, per place, the index of the quota that called that applicant
    before better-ranked ones (-1 when merit alone called them). `earlier` are applicants
    already called (accepted offers), counted but not reordered.
    """
    earlier = np.zeros(0, dtype=np.int64) if earlier is None else earlier
    n = pool.size
    if not quotas:
        return pool.copy(), np.full(n, -1, dtype=np.int8)
    flags = [m[pool] for m in members]
    in_a = flags[0]
    in_b = flags[1] if len(flags) > 1 else np.zeros(n, dtype=bool)
    # Four queues of places in merit order: both groups, first only, second only, neither.
    queues = [
        np.flatnonzero(in_a & in_b).tolist(),
        np.flatnonzero(in_a & ~in_b).tolist(),
        np.flatnonzero(~in_a & in_b).tolist(),
        np.flatnonzero(~in_a & ~in_b).tolist(),
    ]
    heads = [0, 0, 0, 0]
    end = n + 1  # past every place: an empty queue never wins

    def head(q: int) -> int:
        return queues[q][heads[q]] if heads[q] < len(queues[q]) else end

    called = int(earlier.size)
    count = [int(m[earlier].sum()) for m in members] + [0]
    left = [int(in_a.sum()), int(in_b.sum())]
    b_quota = quotas[1] if len(quotas) > 1 else None
    order = np.empty(n, dtype=np.int64)
    moved = np.full(n, -1, dtype=np.int8)
    for place in range(n):
        called += 1
        need_a = left[0] > 0 and count[0] < quotas[0].required(called)
        need_b = b_quota is not None and left[1] > 0 and count[1] < b_quota.required(called)
        if need_a and need_b:
            # Both short: someone in both groups if any, else the first quota wins.
            allowed = (0,) if head(0) < end else (1,)
        elif need_a:
            allowed = (0, 1)
        elif need_b:
            allowed = (0, 2)
        else:
            allowed = (0, 1, 2, 3)
        q = min(allowed, key=head)
        picked = queues[q][heads[q]]
        heads[q] += 1
        if picked != min(head(0), head(1), head(2), head(3), picked):
            moved[place] = 0 if need_a else 1
        order[place] = picked
        a, b = bool(in_a[picked]), bool(in_b[picked])
        count[0] += a
        count[1] += b
        left[0] -= a
        left[1] -= b
    return pool[order], moved


def _verify(
    order: np.ndarray,
    pool: np.ndarray,
    members: Sequence[np.ndarray],
    quotas: Sequence[Quota],
    earlier: np.ndarray,
) -> None:
    """Check the call order against its definition, place by place, without the loop.

    At each place we recompute, from prefix counts alone, which quota falls short and
    hence which group the next applicant must come from, and require that applicant to be
    the best remaining member of it. This is the definition itself, so passing it implies
    the quota guarantee and the "as little change as possible" promise.
    """
    n = pool.size
    if np.sort(order).tolist() != np.sort(pool).tolist():
        raise SelfCheckError("The call order is not a reordering of the eligible applicants.")
    if not quotas or n == 0:
        if not np.array_equal(order, pool):
            raise SelfCheckError("Without quotas the call order must be the merit order.")
        return
    merit_place = np.empty(int(max(pool.max(), order.max())) + 1, dtype=np.int64)
    merit_place[pool] = np.arange(n)
    step = merit_place[order]  # merit place of the applicant called at each place
    in_a = members[0][order]
    in_b = members[1][order] if len(members) > 1 else np.zeros(n, dtype=bool)
    k = earlier.size + np.arange(1, n + 1)
    need = []
    for flags, quota, index in zip((in_a, in_b), quotas, range(2), strict=False):
        before = int(members[index][earlier].sum()) + np.cumsum(flags) - flags
        remaining = int(flags.sum()) - (np.cumsum(flags) - flags)
        need.append((remaining > 0) & (before < quota.required(k)))
    need_a = need[0]
    need_b = need[1] if len(need) > 1 else np.zeros(n, dtype=bool)

    def best_remaining(in_set: np.ndarray) -> np.ndarray:
        # Smallest merit place among set members not yet called, at each place.
        at = np.full(n + 1, n, dtype=np.int64)
        at[np.flatnonzero(in_set)] = step[in_set]
        return np.minimum.accumulate(at[::-1])[::-1][:n]

    both = best_remaining(in_a & in_b)
    expected = best_remaining(np.ones(n, dtype=bool))
    expected = np.where(need_b, best_remaining(in_b), expected)
    expected = np.where(need_a, best_remaining(in_a), expected)
    expected = np.where(need_a & need_b & (both < n), both, expected)
    wrong = np.flatnonzero(expected != step)
    if wrong.size:
        raise SelfCheckError(
            f"The call order breaks its definition at place {int(k[wrong[0]])}: "
            "someone else should have been called there."
        )
    if earlier.size == 0:
        called_a = np.cumsum(in_a)
        if ((called_a < quotas[0].required(k)) & (called_a < in_a.sum())).any():
            raise SelfCheckError(f"The quota {quotas[0].name!r} is not met in the call order.")
