"""What an applicant is told about their selection: the decision and its explanation.

One read model, used by the applicant space, the decision letters and the staff pages, so
that all three say the same thing. It reads the published ranking run and the offers;
nothing here writes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from tremplin.admissions.models import Application, Intake
from tremplin.core.i18n import localized
from tremplin.selection.models import Component, Offer, RankingResult, RankingRun
from tremplin.selection.schemes import published_run

# The engine's reasons (RankingResult.reason), as an applicant reads them.
REASON_TEXTS = {
    "ineligible": _("Your application does not meet the conditions of the call."),
    "absent": _("You were absent from a compulsory part of the selection."),
    "below_threshold": _("A mark is below the eliminatory threshold of its part."),
    "beyond_waitlist": _(
        "Your rank comes after the admitted applicants and the waiting list, which are full."
    ),
    "below_cutoffs": _("Your composite is below the cut-off of each track you asked for."),
    "no_wishes": _("You did not ask for any track."),
    "declined": _("You declined the offer or did not answer it in time."),
    "withdrawn": _("You withdrew your application."),
    "missing_marks": _("A mark is missing from your file."),
}

# Quota groups, as an applicant reads them.
QUOTA_TEXTS = {"women": _("women"), "neet": _("young people neither working nor studying")}


class Status:
    """Where the applicant stands now (the published outcome, moved on by the offers)."""

    OFFER = "offer"  # an offer awaits their answer
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WAITLISTED = "waitlisted"
    TAKEN_BACK = "taken_back"  # staff took the offer back (offers.offer_withdraw)
    NOT_RETAINED = "not_retained"
    INELIGIBLE = "ineligible"


_OFFER_STATUS = {
    Offer.Status.LIVE: Status.OFFER,
    Offer.Status.ACCEPTED: Status.ACCEPTED,
    Offer.Status.DECLINED: Status.DECLINED,
    Offer.Status.EXPIRED: Status.EXPIRED,
}

# The statuses in which the applicant holds the seat offered.
_HOLDING = (Status.OFFER, Status.ACCEPTED)


@dataclass(frozen=True)
class MarkLine:
    component: Component
    value: Decimal | None
    absent: bool

    @property
    def name(self) -> str:
        return localized(self.component, "name")

    @property
    def below_threshold(self) -> bool:
        threshold = self.component.threshold
        return threshold is not None and self.value is not None and self.value < threshold


@dataclass(frozen=True)
class WishLine:
    """One wish of a several-track call, as the run saw it."""

    track: object  # schools.Track
    preference: int
    rank: int | None  # in that track's ranking
    outcome: str  # assigned / waiting / not_needed / accepted_earlier


@dataclass(frozen=True)
class Decision:
    application: Application
    run: RankingRun
    result: RankingResult
    status: str  # a Status value
    offer: Offer | None  # the latest offer that counts (not cancelled)
    marks: tuple[MarkLine, ...]
    composite: Decimal | None
    rank: int | None  # merit rank among those ranked (1 = best)
    ranked: int  # how many applicants were ranked
    cutoff: Decimal | None  # composite of the last admitted at publication
    seats: int
    waitlist_position: int | None  # at publication
    ahead: int | None  # still waiting before them on the waitlist, now
    wishes: tuple[WishLine, ...] = ()  # several tracks: each wish and where it stood

    @property
    def reason_text(self) -> str:
        return str(REASON_TEXTS.get(self.result.reason, "")) if self.result.reason else ""

    @property
    def track(self):
        """The track the decision is about (None for a single-track call): that of the seat
        offered, once there is an offer; else the one the run ranked them for. Someone
        called from a track's waiting list may be offered a seat of another of their wishes
        (`waitlist._plan_tracks` solves the wishes again)."""
        if self.offer is not None:
            pool = self.offer.pool
            return pool.track.track if pool.track_id else None
        return self.result.track.track if self.result.track_id else None

    @property
    def seed(self) -> int | None:
        """The published lottery seed that broke the remaining ties."""
        return self.run.parameters.get("seed")

    @property
    def letters(self) -> list:
        """The applicant's letters (the decision letter among them, once rendered)."""
        from tremplin.selection.letters import letters_of

        return letters_of(self.application)

    @property
    def quota_text(self) -> str:
        """The group whose minimum share called the applicant before their merit turn."""
        group = self.result.called_by_quota
        return str(QUOTA_TEXTS.get(group, group)) if group else ""

    @property
    def current_position(self) -> int | None:
        return None if self.ahead is None else self.ahead + 1


def decision_for(application: Application) -> Decision | None:
    """The decision about `application`, or None before a run of its intake is published."""
    return decisions_for(application.intake, [application])[application.pk]


def decisions_for(
    intake: Intake, applications: Sequence[Application]
) -> dict[int, Decision | None]:
    """The decisions about `applications` of `intake`, by application id (None when its
    published run does not rank them, or before one is published), read with a fixed
    number of queries whatever their number: a batch of letters reads them a chunk at a
    time."""
    decided: dict[int, Decision | None] = {a.pk: None for a in applications}
    run = published_run(intake)
    if run is None or not applications:
        return decided
    results = {
        r.application_id: r
        for r in RankingResult.objects.filter(run=run, application__in=applications).select_related(
            "track__track"
        )
    }
    offers: dict[int, Offer] = {}
    taken_back: dict[int, Offer] = {}
    latest_first = Offer.objects.filter(application__in=applications).order_by("-created_at", "-pk")
    for offer in latest_first.select_related("pool__track__track"):
        if offer.status != Offer.Status.CANCELLED:
            offers.setdefault(offer.application_id, offer)  # the latest that counts
        elif offer.answered_by_id is not None:  # cancelled by staff, not by a withdrawal
            taken_back.setdefault(offer.application_id, offer)
    components = list(Component.objects.filter(scheme__intake=intake))
    waiting = (
        _Waiting(run)
        if any(r.outcome == RankingResult.Outcome.WAITLISTED for r in results.values())
        else None
    )
    tracks, counted = _TrackNames(intake), {}
    for application in applications:
        result = results.get(application.pk)
        if result is None:
            continue
        offer = offers.get(application.pk)
        if offer is not None:
            status = _OFFER_STATUS[offer.status]
        elif application.pk in taken_back and application.status != Application.Status.WITHDRAWN:
            # Out of the waiting list too: the fills never call again someone offered once.
            offer, status = taken_back[application.pk], Status.TAKEN_BACK
        else:
            status = _status_of(result, application)
        # The figures are those of the track of the seat offered, which the waiting list
        # may have found among the applicant's other wishes.
        track_id = offer.pool.track_id if offer is not None else result.track_id
        decided[application.pk] = Decision(
            application=application,
            run=run,
            result=result,
            status=status,
            offer=offer,
            marks=tuple(_mark_line(c, result.marks.get(c.code)) for c in components),
            composite=result.composite,
            rank=_rank(result, track_id),
            ranked=_ranked(run, track_id, counted),
            cutoff=_cutoff(run, track_id),
            seats=run.summary.get("seats", {}).get(str(track_id or ""), 0),
            waitlist_position=result.waitlist_position,
            ahead=waiting.ahead(result) if status == Status.WAITLISTED else None,
            wishes=tracks.wishes(result, held=track_id if status in _HOLDING else None),
        )
    return decided


def _rank(result: RankingResult, track_id: int | None) -> int | None:
    """The applicant's merit rank in the ranking of `track_id`: the run's for the track it
    placed them in, else the one of their wish for that track (None if they did not wish
    for it: promoted by hand to another track)."""
    if track_id == result.track_id:
        return result.merit_rank
    for wish in result.explanation.get("wishes") or []:
        if wish.get("track") == track_id:
            return wish.get("rank_in_track")
    return None


def _ranked(run: RankingRun, track_id: int | None, counted: dict) -> int:
    """How many took part in the ranking of `track_id`: the run counts them; for a run that
    did not, they are counted once per track (``counted`` keeps the counts)."""
    ranked = run.summary.get("ranked", {}).get(str(track_id or ""))
    if ranked is not None:
        return int(ranked)
    if track_id not in counted:
        counted[track_id] = RankingResult.objects.filter(
            run=run, track=track_id, merit_rank__isnull=False
        ).count()
    return counted[track_id]


class _TrackNames:
    """The tracks of the intake, read once when a decision first names one."""

    def __init__(self, intake: Intake):
        self.intake = intake
        self.by_id: dict[int, object] | None = None

    def wishes(self, result: RankingResult, *, held: int | None = None) -> tuple[WishLine, ...]:
        """Each wish as the run saw it; with `held` (the intake track of the seat the
        applicant holds now), that wish reads as obtained and those after it as not needed,
        whatever the run said: a seat offered from the waiting list moves them on."""
        wishes = result.explanation.get("wishes") or []
        if not wishes:
            return ()
        if self.by_id is None:
            from tremplin.admissions.models import IntakeTrack

            self.by_id = {
                t.pk: t.track
                for t in IntakeTrack.objects.filter(intake=self.intake).select_related("track")
            }
        kept = next((w["preference"] for w in wishes if w["track"] == held), None)
        return tuple(
            WishLine(
                track=self.by_id.get(w["track"]),
                preference=w["preference"],
                rank=w.get("rank_in_track"),
                outcome=_wish_outcome(w, kept),
            )
            for w in wishes
        )


def _wish_outcome(wish: dict, kept: int | None) -> str:
    """The outcome of `wish` now, the applicant holding the wish of preference `kept`."""
    outcome = wish.get("outcome", "")
    if kept is None or outcome == "accepted_earlier":
        return outcome
    if wish["preference"] == kept:
        return "assigned"
    return "not_needed" if wish["preference"] > kept else outcome


def _status_of(result: RankingResult, application: Application) -> str:
    if result.outcome == RankingResult.Outcome.WAITLISTED:
        if application.status == Application.Status.WITHDRAWN:
            return Status.NOT_RETAINED
        return Status.WAITLISTED
    if result.outcome == RankingResult.Outcome.INELIGIBLE:
        return Status.INELIGIBLE
    # Not retained; or admitted without an offer that counts (cancelled by staff, or
    # withdrawn after accepting).
    return Status.NOT_RETAINED


def _mark_line(component: Component, stored) -> MarkLine:
    if stored == "absent":
        return MarkLine(component=component, value=None, absent=True)
    return MarkLine(
        component=component, value=None if stored is None else Decimal(stored), absent=False
    )


def _cutoff(run: RankingRun, track_id: int | None) -> Decimal | None:
    cutoff = run.summary.get("cutoffs", {}).get(str(track_id or ""))
    return None if cutoff is None else Decimal(cutoff)


class _Waiting:
    """Those of the run's waiting list still waiting (no offer, not withdrawn), read once:
    how many of them come before a given applicant in the call order of their track."""

    def __init__(self, run: RankingRun):
        still = (
            RankingResult.objects.filter(
                run=run,
                outcome=RankingResult.Outcome.WAITLISTED,
                application__status=Application.Status.SUBMITTED,
            )
            # Anyone offered a seat once is out of the waiting list, whatever became of the
            # offer (as waitlist._inputs has it); a cancellation by a withdrawal is too.
            .exclude(application__in=Offer.objects.values("application"))
            .values_list("track_id", "call_rank")
        )
        self.ranks: dict[int | None, list[int]] = {}
        for track_id, call_rank in still:
            if call_rank is not None:
                self.ranks.setdefault(track_id, []).append(call_rank)
        for ranks in self.ranks.values():
            ranks.sort()

    def ahead(self, result: RankingResult) -> int:
        """Waitlisted before `result` in the call order, still waiting."""
        if result.call_rank is None:
            return 0
        return bisect_left(self.ranks.get(result.track_id, []), result.call_rank)
