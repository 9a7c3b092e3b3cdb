"""Outcomes and reasons shared by the single-track call order and deferred acceptance.

Arrays carry these as small integers (the enum values); explanations carry the members.
"""

from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    """What happened to an applicant on one track (single track) or overall."""

    NOT_RETAINED = 0
    ADMITTED = 1
    WAITLISTED = 2


class Reason(IntEnum):
    """Why an applicant was not retained; NONE when they were."""

    NONE = 0
    INELIGIBLE = 1  # does not meet an entry condition of the track
    ABSENT = 2  # missed a test or an interview
    BELOW_THRESHOLD = 3  # a component is below its eliminatory threshold
    BEYOND_WAITLIST = 4  # called after the admitted and the waitlist are full
    BELOW_CUTOFFS = 5  # no wish clears its track's cut-offs (several tracks)
    NO_WISHES = 6  # nothing to allocate (several tracks)
    DECLINED = 7  # turned the offer down, or let it expire
    WITHDRAWN = 8  # left the process


class WishOutcome(IntEnum):
    """What became of one wish in a several-track allocation."""

    NOT_NEEDED = 0  # ranked below the wish the applicant obtained
    ASSIGNED = 1  # the applicant holds this track
    WAITING = 2  # preferred to what they hold, but below the cut-offs
    ACCEPTED_EARLIER = 3  # an offer accepted in an earlier round, kept as it was
