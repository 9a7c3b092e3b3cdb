"""A published ranking with its offers, built with the engine, for the offer and waitlist
tests; and a recorder standing in for the decision letters.

Unscoped on purpose, like tests/selection/builders.py.
"""

import sys
import threading
import types
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.selection.builders import make_closed_intake, make_scheme
from tremplin.selection.call_order import Candidates, rank_single_track
from tremplin.selection.call_order import Quota as QuotaRule
from tremplin.selection.engine import Tracks, Wishes, allocate, reserved_seats
from tremplin.selection.models import Offer, RankingResult, RankingRun, SeatPool
from tremplin.selection.offers import offers_open
from tremplin.selection.ordering import draw_lottery
from tremplin.selection.outcomes import Outcome

OUTCOMES = {
    Outcome.ADMITTED: RankingResult.Outcome.ADMITTED,
    Outcome.WAITLISTED: RankingResult.Outcome.WAITLISTED,
    Outcome.NOT_RETAINED: RankingResult.Outcome.NOT_RETAINED,
}


def publish_single(
    intake, *, actor, composites, seats, waitlist, women_share=None, number=1
) -> RankingRun:
    """Rank the applications of `intake` (in number order) by `composites` with the engine,
    store the run as published and open its offers. Ties: the interview mark (here equal to
    the composite), then the lottery of seed 2025."""
    make_scheme(intake, women_share=women_share)
    with scopes_disabled():
        apps = list(intake.applications.order_by("number"))
        composite = np.array([Decimal(str(c)) for c in composites], dtype=object)
        lottery = draw_lottery(2025, len(apps))
        women = np.array([a.sex == "F" for a in apps], dtype=bool)
        quotas = (
            [] if women_share is None else [QuotaRule("women", Fraction(women_share, 100), women)]
        )
        solved = rank_single_track(
            Candidates(composite=composite, lottery=lottery, tie_keys=(composite,)),
            seats=seats,
            waitlist=waitlist,
            quotas=quotas,
        )
        run = RankingRun.objects.create(
            intake=intake,
            number=number,
            status=RankingRun.Status.DONE,
            created_by=actor,
            parameters={"tie_break": ["interview"], "seed": 2025},
            summary={"seats": {"": seats}, "cutoffs": {"": None}, "counts": {}},
        )
        RankingResult.objects.bulk_create(
            RankingResult(
                run=run,
                application=a,
                composite=composite[i],
                marks={"test": str(composite[i]), "interview": str(composite[i])},
                outcome=OUTCOMES[Outcome(int(solved.outcome[i]))],
                reason="" if solved.outcome[i] != Outcome.NOT_RETAINED else "beyond_waitlist",
                merit_rank=int(solved.merit_rank[i]) or None,
                call_rank=int(solved.call_rank[i]) or None,
                waitlist_position=int(solved.waitlist_position[i]) or None,
                called_by_quota="women" if solved.moved_by[i] >= 0 else "",
                lottery=int(lottery[i]),
            )
            for i, a in enumerate(apps)
        )
        return _publish(run, actor)


def publish_tracks(intake, *, actor, composites, wishes, seats) -> RankingRun:
    """Several tracks: `wishes[i]` lists the track codes of application i in preference order,
    `seats` maps track codes to seats. Deferred acceptance by the engine, published."""
    with scopes_disabled():
        apps = list(intake.applications.order_by("number"))
        tracks = {it.track.code: it for it in intake.intake_tracks.select_related("track")}
        codes = sorted(tracks)
        for a, codes_of in zip(apps, wishes, strict=True):
            for rank, code in enumerate(codes_of, start=1):
                a.wishes.create(track=tracks[code].track, rank=rank)
        rows = [(i, codes.index(c), r) for i, w in enumerate(wishes) for r, c in enumerate(w, 1)]
        composite = np.array([Decimal(str(c)) for c in composites], dtype=object)
        lottery = draw_lottery(2025, len(apps))
        applicant = np.array([r[0] for r in rows], dtype=np.int64)
        seat_array = np.array([seats[c] for c in codes], dtype=np.int64)
        allocation = allocate(
            Wishes(
                applicant=applicant,
                track=np.array([r[1] for r in rows], dtype=np.int64),
                preference=np.array([r[2] for r in rows], dtype=np.int64),
                score=composite[applicant],
            ),
            Tracks(seats=seat_array, reserved=reserved_seats(seat_array, [0] * len(codes))),
            lottery,
        )
        run = RankingRun.objects.create(
            intake=intake,
            number=1,
            status=RankingRun.Status.DONE,
            created_by=actor,
            summary={"seats": {str(tracks[c].pk): seats[c] for c in codes}},
        )
        results = []
        for i, a in enumerate(apps):
            assigned = int(allocation.assigned_track[i])
            waiting = bool(
                (allocation.waitlist_position[allocation.wishes.applicant == i] > 0).any()
            )
            if assigned >= 0:
                outcome, track = RankingResult.Outcome.ADMITTED, tracks[codes[assigned]]
            else:
                outcome = RankingResult.Outcome.WAITLISTED if waiting else "not_retained"
                track = tracks[wishes[i][0]]
            results.append(
                RankingResult(
                    run=run, application=a, track=track, composite=composite[i],
                    marks={}, outcome=outcome, lottery=int(lottery[i]),
                )
            )  # fmt: skip
        RankingResult.objects.bulk_create(results)
        return _publish(run, actor)


def _publish(run: RankingRun, actor) -> RankingRun:
    with transaction.atomic():
        RankingRun.objects.filter(pk=run.pk).update(published_at=timezone.now(), published_by=actor)
        run.refresh_from_db()
        offers_open(run=run, actor=actor)
    return run


def closed_intake(world, *, n=20, seats=6, waitlist=4, slug="promo-2025", tracks=("dev-web",)):
    return make_closed_intake(
        world.smara, slug=slug, n=n, seats=seats, waitlist=waitlist, tracks=tracks
    )


def published_call(world, monkeypatch):
    """A closed call of 10 whose ranking is published: numbers 1, 2, 4 and 6 hold a live
    offer, 3, 5, 7 and 8 wait (the decision letters are recorded, not rendered)."""
    record_letters(monkeypatch)
    intake = closed_intake(world, n=10, seats=4, waitlist=4)
    publish_single(
        intake, actor=world.users["director"], composites=COMPOSITES, seats=4, waitlist=4
    )
    return intake


def offer_of(application) -> Offer | None:
    with scopes_disabled():
        return (
            Offer.objects.filter(application=application, status__in=["live", "accepted"])
            .select_related("pool__intake")
            .first()
        )


def app(intake, number: int):
    with scopes_disabled():
        return intake.applications.select_related("intake__school").get(number=number)


def pool_of(intake) -> SeatPool:
    with scopes_disabled():
        return SeatPool.objects.get(intake=intake, track=None)


@dataclass
class LetterRecorder:
    """The decision letters asked for, as lists of application ids; with `on_commit`,
    recorded when the transaction that asked for them commits (as the real batch would
    then exist), for tests whose transactions really commit."""

    on_commit: bool = False
    calls: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, *, intake, kind, application_ids, notify, actor=None):
        assert notify and kind == "decision"
        ids = list(application_ids)

        def record():
            with self.lock:
                self.calls.append(ids)

        # Tests inside a rolled-back test transaction never commit: record at once there.
        transaction.on_commit(record) if self.on_commit else record()

    @property
    def application_ids(self) -> list[int]:
        return [i for call in self.calls for i in call]


def record_letters(monkeypatch, *, on_commit: bool = False) -> LetterRecorder:
    """Stand in for `letters.letter_batch_start` (written by the letters part)."""
    recorder = LetterRecorder(on_commit=on_commit)
    try:
        import tremplin.selection.letters as letters
    except ImportError:
        letters = types.ModuleType("tremplin.selection.letters")
        monkeypatch.setitem(sys.modules, "tremplin.selection.letters", letters)
        import tremplin.selection as package

        monkeypatch.setattr(package, "letters", letters, raising=False)
    monkeypatch.setattr(letters, "letter_batch_start", recorder, raising=False)
    return recorder


# Application numbers 1..10, odd numbers are women. Merit: 2, 4, 1, 6, 3, 8, 5, 10, 7, 9.
COMPOSITES = [18, 20, 16, 19, 14, 17, 12, 15, 10, 13]
