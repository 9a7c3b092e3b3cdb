"""Per-applicant explanations: what they got, where the line fell, and why.

Plain frozen records built from the result arrays, so that a view, an email or a CSV can
show an applicant exactly what the engine used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tremplin.selection.outcomes import Outcome, Reason, WishOutcome

if TYPE_CHECKING:
    from tremplin.selection.call_order import SingleTrackResult
    from tremplin.selection.engine import Allocation


@dataclass(frozen=True)
class WishExplanation:
    """One wish of one applicant in a several-track allocation."""

    track: int
    preference: int
    score: object  # the composite for this track, as given to the engine
    rank_in_track: int | None  # 1 = the track's favourite; None if it took no part
    in_quota: bool  # counts for the track's quota group
    # The line that applied to this applicant (the quota line for a group member): they
    # get in at or above it. None when seats were left; -1 when no seat was open to them.
    cutoff_rank: int | None
    outcome: WishOutcome
    waitlist_position: int | None  # among those waiting for this track, from 1

    @property
    def ahead(self) -> int | None:
        """How many applicants wait ahead of this one for this track."""
        return None if self.waitlist_position is None else self.waitlist_position - 1


@dataclass(frozen=True)
class ApplicantExplanation:
    """Everything that decided one applicant's outcome across their wishes."""

    applicant: int
    track: int | None
    preference: int | None
    via_quota: bool  # admitted thanks to a reserve: too low in the ranking without it
    accepted_earlier: bool
    reason: Reason
    wishes: tuple[WishExplanation, ...]


def explain_applicant(allocation: Allocation, applicant: int) -> ApplicantExplanation:
    """Build `applicant`'s explanation from an allocation's arrays."""
    al = allocation
    if not 0 <= applicant < al.n_applicants:
        raise IndexError(f"No applicant {applicant}.")
    start, end = int(al.wish_start[applicant]), int(al.wish_start[applicant + 1])
    held = int(al.assigned_wish[applicant])
    accepted_earlier = bool(al.fixed[applicant] >= 0)
    in_quota = al.in_quota_of_wishes()
    line = al.cutoff_rank_of_wishes(slice(start, end))
    wishes = []
    for w in range(start, end):
        t = int(al.wishes.track[w])
        rank = int(al.rank_in_track[w])
        place = int(al.waitlist_position[w])
        if w == held:
            outcome = WishOutcome.ACCEPTED_EARLIER if accepted_earlier else WishOutcome.ASSIGNED
        else:
            outcome = WishOutcome.WAITING if place else WishOutcome.NOT_NEEDED
        wishes.append(
            WishExplanation(
                track=t,
                preference=int(al.wishes.preference[w]),
                score=al.wishes.score[w].item(),
                rank_in_track=rank or None,
                in_quota=bool(in_quota[w]),
                cutoff_rank=int(line[w - start]) or None,
                outcome=outcome,
                waitlist_position=place or None,
            )
        )
    if held >= 0:
        reason = Reason.NONE
    elif end == start:
        reason = Reason.NO_WISHES
    else:
        reason = Reason.BELOW_CUTOFFS
    return ApplicantExplanation(
        applicant=applicant,
        track=int(al.assigned_track[applicant]) if held >= 0 else None,
        preference=int(al.wishes.preference[held]) if held >= 0 else None,
        via_quota=bool(al.via_quota[applicant]),
        accepted_earlier=accepted_earlier,
        reason=reason,
        wishes=tuple(wishes),
    )


@dataclass(frozen=True)
class SingleTrackExplanation:
    """One applicant's place on a single track."""

    applicant: int
    composite: object
    outcome: Outcome
    reason: Reason
    merit_rank: int | None  # among those called, by composite, keys and lottery
    call_rank: int | None  # place in the call order
    last_admitted_rank: int  # the cut-off: call rank of the last admitted applicant
    waitlist_position: int | None
    moved_by: str | None  # the quota whose rule called them ahead of their merit place

    @property
    def ahead(self) -> int | None:
        """How many applicants wait ahead of this one."""
        return None if self.waitlist_position is None else self.waitlist_position - 1


def explain_single(result: SingleTrackResult, applicant: int) -> SingleTrackExplanation:
    """Build `applicant`'s explanation from a single-track result."""
    r = result
    moved = int(r.moved_by[applicant])
    composite = r.composite[applicant]
    return SingleTrackExplanation(
        applicant=applicant,
        composite=composite.item() if hasattr(composite, "item") else composite,
        outcome=Outcome(int(r.outcome[applicant])),
        reason=Reason(int(r.reason[applicant])),
        merit_rank=int(r.merit_rank[applicant]) or None,
        call_rank=int(r.call_rank[applicant]) or None,
        last_admitted_rank=r.last_admitted_rank,
        waitlist_position=int(r.waitlist_position[applicant]) or None,
        moved_by=r.quotas[moved].name if moved >= 0 else None,
    )
