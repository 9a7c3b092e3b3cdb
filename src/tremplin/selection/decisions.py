"""What an applicant is told about their selection: the decision and its explanation.

One read model, used by the applicant space, the decision letters and the staff pages, so
that all three say the same thing. It reads the published ranking run and the offers;
nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from tremplin.admissions.models import Application
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
    NOT_RETAINED = "not_retained"
    INELIGIBLE = "ineligible"


_OFFER_STATUS = {
    Offer.Status.LIVE: Status.OFFER,
    Offer.Status.ACCEPTED: Status.ACCEPTED,
    Offer.Status.DECLINED: Status.DECLINED,
    Offer.Status.EXPIRED: Status.EXPIRED,
}


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
        """The track the decision is about (None for a single-track call)."""
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
    run = published_run(application.intake)
    if run is None:
        return None
    result = (
        RankingResult.objects.filter(run=run, application=application)
        .select_related("track__track")
        .first()
    )
    if result is None:
        return None
    offer = (
        Offer.objects.filter(application=application)
        .exclude(status=Offer.Status.CANCELLED)
        .order_by("-created_at", "-pk")
        .first()
    )
    status = _OFFER_STATUS[offer.status] if offer else _status_of(result, application)
    components = list(Component.objects.filter(scheme__intake=application.intake))
    marks = tuple(_mark_line(c, result.marks.get(c.code)) for c in components)
    return Decision(
        application=application,
        run=run,
        result=result,
        status=status,
        offer=offer,
        marks=marks,
        composite=result.composite,
        rank=result.merit_rank,
        ranked=_ranked(run, result),
        cutoff=_cutoff(run, result),
        seats=run.summary.get("seats", {}).get(str(result.track_id or ""), 0),
        waitlist_position=result.waitlist_position,
        ahead=_ahead(run, result) if status == Status.WAITLISTED else None,
        wishes=_wishes(result),
    )


def _ranked(run: RankingRun, result: RankingResult) -> int:
    """How many took part in the ranking of the result's track (the run counts them)."""
    ranked = run.summary.get("ranked", {}).get(str(result.track_id or ""))
    if ranked is not None:
        return int(ranked)
    return RankingResult.objects.filter(
        run=run, track=result.track, merit_rank__isnull=False
    ).count()


def _wishes(result: RankingResult) -> tuple[WishLine, ...]:
    wishes = result.explanation.get("wishes") or []
    if not wishes:
        return ()
    from tremplin.admissions.models import IntakeTrack

    tracks = {
        t.pk: t.track
        for t in IntakeTrack.objects.filter(pk__in=[w["track"] for w in wishes]).select_related(
            "track"
        )
    }
    return tuple(
        WishLine(
            track=tracks.get(w["track"]),
            preference=w["preference"],
            rank=w.get("rank_in_track"),
            outcome=w.get("outcome", ""),
        )
        for w in wishes
    )


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


def _cutoff(run: RankingRun, result: RankingResult) -> Decimal | None:
    cutoff = run.summary.get("cutoffs", {}).get(str(result.track_id or ""))
    return None if cutoff is None else Decimal(cutoff)


def _ahead(run: RankingRun, result: RankingResult) -> int:
    """Waitlisted before `result` in the call order, still waiting (no offer, not withdrawn)."""
    return (
        RankingResult.objects.filter(
            run=run,
            track=result.track,
            outcome=RankingResult.Outcome.WAITLISTED,
            call_rank__lt=result.call_rank,
            application__status=Application.Status.SUBMITTED,
        )
        .exclude(
            application__in=Offer.objects.exclude(status=Offer.Status.CANCELLED).values(
                "application"
            )
        )
        .count()
    )
