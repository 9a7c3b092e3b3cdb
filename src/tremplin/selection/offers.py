"""Offers of a seat: made at publication, accepted, declined, expired or taken back by
staff; a seat is never given twice.

Locking, in one rule: **every transaction that moves a seat first locks the seat pools of
the intake** (`pools_lock`: ``SELECT … FOR NO KEY UPDATE`` on every pool of the intake, in
id order), then works on offers. Publication, an applicant's answer, a phone answer, the
expiry sweep, a waitlist fill, a promotion and an offer taken back by staff all take that
lock first and in the same order, so they queue behind one another per intake and can never
wait on each other in a cycle (no deadlock). Intakes do not block each other. On SQLite the
lock is a no-op, but every transaction there is ``BEGIN IMMEDIATE``: writers are serialised
anyway.

Under the lock, each change is still a conditional update, so a code path that forgot the
lock could not break the rules either:

- an offer changes status only from live: ``UPDATE offer SET status='accepted' WHERE
  id=… AND status='live' AND deadline > now`` (an expiry uses ``deadline <= now``, so an
  accept and an expiry at the same instant cannot both win);
- a seat is taken only if one is free: ``UPDATE pool SET live=live+1 WHERE id=… AND
  live < seats - accepted``; counters move in the same transaction as the offer;
- the database has the last word: the pool's check constraint (``live + accepted <=
  seats``) and the partial unique constraint on offers (one live-or-accepted offer per
  application) refuse what slipped through, and the transaction rolls back.

A repeated request (a double click, two officers at once) finds the offer already answered:
the conditional update matches no row and the caller is told the current state, calmly.

The waitlist (re-solving the call order after declines and expiries, promotions by hand)
lives in `tremplin.selection.waitlist`; it takes the same lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import scope, scopes_disabled

from tremplin.admissions.models import Application, Intake
from tremplin.core.audit import log_action
from tremplin.core.links import site_url
from tremplin.selection.models import Offer, RankingResult, RankingRun, SeatPool, SelectionScheme

logger = logging.getLogger(__name__)

DEFAULT_OFFER_HOURS = 72
HOLDING = (Offer.Status.LIVE, Offer.Status.ACCEPTED)


class OfferError(Exception):
    """A request that cannot be carried out, with a message for the person who made it."""


@dataclass(frozen=True)
class OfferAnswer:
    """What became of an answer: the offer as it now stands, and whether this call changed
    it (False: it had already been answered, had expired or was cancelled)."""

    offer: Offer
    changed: bool


# --- Seats -----------------------------------------------------------------------------


def pools_lock(intake: Intake) -> dict[int | None, SeatPool]:
    """Lock the seat pools of `intake`, in id order, and return them (fresh) by intake
    track id (None for the pool of a single-track intake). Call inside a transaction, before
    touching any offer of the intake."""
    pools = SeatPool.objects.select_for_update(no_key=True).filter(intake=intake).order_by("pk")
    return {pool.track_id: pool for pool in pools}


def seat_take(pool: SeatPool) -> bool:
    """Count one more live offer in `pool` if a seat is free; False if none is."""
    return bool(
        SeatPool.objects.filter(pk=pool.pk, live__lt=F("seats") - F("accepted")).update(
            live=F("live") + 1
        )
    )


def _seat_release(pool_id: int) -> None:
    """One live offer fewer (declined, expired or cancelled)."""
    if not SeatPool.objects.filter(pk=pool_id, live__gt=0).update(live=F("live") - 1):
        raise RuntimeError(f"Seat pool {pool_id} counts no live offer to release.")


def _accepted_release(pool_id: int) -> None:
    """One accepted offer fewer (the applicant withdrew after accepting)."""
    if not SeatPool.objects.filter(pk=pool_id, accepted__gt=0).update(accepted=F("accepted") - 1):
        raise RuntimeError(f"Seat pool {pool_id} counts no accepted offer to release.")


def _seat_confirm(pool_id: int) -> None:
    """A live offer becomes an accepted one."""
    moved = SeatPool.objects.filter(pk=pool_id, live__gt=0).update(
        live=F("live") - 1, accepted=F("accepted") + 1
    )
    if not moved:
        raise RuntimeError(f"Seat pool {pool_id} counts no live offer to confirm.")


def offer_hours(intake: Intake) -> int:
    hours = SelectionScheme.objects.filter(intake=intake).values_list("offer_hours", flat=True)
    return hours.first() or DEFAULT_OFFER_HOURS


def offer_make(
    *,
    pool: SeatPool,
    application_id: int,
    run: RankingRun,
    origin: str,
    actor=None,
    reason: str = "",
    deadline: datetime,
) -> Offer | None:
    """Take a free seat of `pool` and offer it; None when no seat is free.

    The seat and the offer are written together in a savepoint: if the database refuses the
    offer (the applicant already holds one: IntegrityError, raised to the caller), the seat
    is given back with it. Call with the intake's pools locked.
    """
    with transaction.atomic():
        if not seat_take(pool):
            return None
        offer = Offer.objects.create(
            pool=pool,
            application_id=application_id,
            run=run,
            origin=origin,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            deadline=deadline,
            reason=reason,
        )
    return offer


def offer_audit(offer: Offer, action: str, *, actor=None, reason: str = "", **data) -> None:
    application = offer.application
    log_action(
        f"tremplin.selection.offer_{action}",
        actor=actor,
        school=application.intake.school,
        obj=application,
        data={"offer": offer.pk, "origin": offer.origin, "pool": offer.pool_id, **data},
        reason=reason,
    )


def offers_notify(*, intake: Intake, offers: list[Offer], actor=None) -> None:
    """Tell the applicants of new offers (made after publication): one decision letter with
    its SMS/email per offer, written in this transaction."""
    if not offers:
        return
    # Imported here: the letters depend on the decisions, which read offers.
    from tremplin.selection import letters
    from tremplin.selection.models import Letter

    letters.letter_batch_start(
        intake=intake,
        kind=Letter.Kind.DECISION,
        application_ids=[offer.application_id for offer in offers],
        notify=True,
        actor=actor,
    )


# --- Publication -------------------------------------------------------------------------


def _seats_by_track(run: RankingRun) -> dict[int | None, int]:
    """Seats per intake track (None: the whole intake) as the run used them."""
    seats = (run.summary or {}).get("seats") or {}
    if seats:
        return {(int(key) if key else None): int(n) for key, n in seats.items()}
    intake = run.intake
    tracks = list(intake.intake_tracks.all())
    if len(tracks) > 1:
        return {t.pk: t.seats for t in tracks}
    return {None: intake.seats}


def offers_open(*, run: RankingRun, actor) -> list[Offer]:
    """Create the seat pools of the run's intake and one live offer per admitted applicant,
    answerable for the scheme's `offer_hours`. Called by `ranking_publish` inside its
    transaction; it sends nothing (publication sends every decision letter)."""
    intake = run.intake
    with scope(school=intake.school), transaction.atomic():
        for track_id, seats in _seats_by_track(run).items():
            pool, created = SeatPool.objects.get_or_create(
                intake=intake, track_id=track_id, defaults={"seats": seats}
            )
            if not created and pool.seats != seats:
                if pool.live or pool.accepted:
                    raise OfferError(_("Offers were already made for this call."))
                SeatPool.objects.filter(pk=pool.pk).update(seats=seats)
        pools = pools_lock(intake)
        deadline = timezone.now() + timedelta(hours=offer_hours(intake))
        admitted = list(
            RankingResult.objects.filter(run=run, outcome=RankingResult.Outcome.ADMITTED)
            .select_related("application__intake__school")
            .order_by("call_rank", "merit_rank", "pk")
        )
        made = []
        for result in admitted:
            pool = pools.get(result.track_id) or pools.get(None)
            if pool is None:
                raise OfferError(_("No seats are set for a track of this call."))
            offer = offer_make(
                pool=pool,
                application_id=result.application_id,
                run=run,
                origin=Offer.Origin.RANKING,
                actor=actor,
                deadline=deadline,
            )
            if offer is None:
                raise OfferError(_("The ranking admits more applicants than there are seats."))
            offer.application = result.application
            offer_audit(offer, "made", actor=actor, run=run.number)
            made.append(offer)
    return made


# --- Answers -----------------------------------------------------------------------------


def _check_channel(channel: str, actor, reason: str) -> None:
    if channel == Offer.Channel.PHONE:
        if not getattr(actor, "is_authenticated", False):
            raise OfferError(_("A phone answer is recorded by a member of staff."))
        if not reason.strip():
            raise OfferError(_("Give the reason: who called, when, and what they said."))
    elif channel != Offer.Channel.APPLICANT:
        raise OfferError(_("Unknown answer channel."))


def _intake_of(offer: Offer) -> Intake:
    # Related objects load through the base manager: no scope is needed to find the school.
    return offer.pool.intake


def _answered(offer: Offer) -> Offer:
    return Offer.objects.select_related("pool__intake__school", "application__intake__school").get(
        pk=offer.pk
    )


@transaction.atomic
def offer_accept(*, offer: Offer, channel: str, actor=None, reason: str = "") -> OfferAnswer:
    """The applicant accepts `offer` (channel applicant), or staff record their acceptance
    given by phone (channel phone, with a reason). Only a live offer before its deadline can
    be accepted; the seat moves from live to accepted and the enrolment is created in the
    intake's cohort. Anything else answers with the offer's current state, unchanged."""
    from tremplin.training.services import enrolment_create

    reason = reason.strip()
    _check_channel(channel, actor, reason)
    intake = _intake_of(offer)
    with scope(school=intake.school):
        pools_lock(intake)
        offer = _answered(offer)
        withdrawn = offer.application.status == Application.Status.WITHDRAWN
        if withdrawn and offer.status == Offer.Status.LIVE:
            raise OfferError(
                _("The application was withdrawn: the offer can no longer be accepted.")
            )
        now = timezone.now()
        accepted = Offer.objects.filter(
            pk=offer.pk, status=Offer.Status.LIVE, deadline__gt=now
        ).update(
            status=Offer.Status.ACCEPTED,
            answered_at=now,
            channel=channel,
            answered_by=actor if channel == Offer.Channel.PHONE else None,
            reason=reason,
        )
        offer = _answered(offer)
        if not accepted:
            return OfferAnswer(offer=offer, changed=False)
        _seat_confirm(offer.pool_id)
        # Audited first: the application's history reads the acceptance, then the
        # enrolment it made (dated by its row).
        offer_audit(offer, "accepted", actor=actor, reason=reason, channel=channel)
        _enrolment_resume(offer)
        enrolment_create(offer=offer)
    return OfferAnswer(offer=offer, changed=True)


def _enrolment_resume(offer: Offer) -> None:
    """An applicant whose accepted offer staff took back, promoted again and accepting: their
    enrolment (one per application) moves to the new offer and resumes."""
    from tremplin.training.models import Enrolment

    pool = offer.pool
    Enrolment.objects.filter(
        application_id=offer.application_id, status=Enrolment.Status.DROPPED_OUT
    ).exclude(offer=offer).update(
        offer=offer,
        status=Enrolment.Status.ACTIVE,
        track_id=pool.track.track_id if pool.track_id else None,
    )


@transaction.atomic
def offer_decline(*, offer: Offer, channel: str, actor=None, reason: str = "") -> OfferAnswer:
    """The applicant declines `offer`, or staff record a decline given by phone (with a
    reason). The seat is freed and offered at once to the next in the call order."""
    reason = reason.strip()
    _check_channel(channel, actor, reason)
    intake = _intake_of(offer)
    with scope(school=intake.school):
        pools_lock(intake)
        declined = Offer.objects.filter(pk=offer.pk, status=Offer.Status.LIVE).update(
            status=Offer.Status.DECLINED,
            answered_at=timezone.now(),
            channel=channel,
            answered_by=actor if channel == Offer.Channel.PHONE else None,
            reason=reason,
        )
        offer = _answered(offer)
        if not declined:
            return OfferAnswer(offer=offer, changed=False)
        _seat_release(offer.pool_id)
        offer_audit(offer, "declined", actor=actor, reason=reason, channel=channel)
        _refill(intake, actor)
    return OfferAnswer(offer=offer, changed=True)


@transaction.atomic
def offer_withdraw(*, offer: Offer, actor, reason: str) -> OfferAnswer:
    """Staff take back a live or accepted offer (false information found later, an offer
    made by mistake), always with a reason. The offer is cancelled, its seat freed and
    offered at once to the next in the call order; the enrolment made from an accepted offer
    ends (dropped out). Refused once the learner has completed the training. An offer no
    longer live or accepted (a double click, the applicant's answer first) answers with its
    current state, unchanged. The applicant is told by SMS (and email), in this
    transaction; the reason stays with the school."""
    from tremplin.training.models import Enrolment

    reason = reason.strip()
    if not getattr(actor, "is_authenticated", False):
        raise OfferError(_("An offer is withdrawn by a member of staff."))
    if not reason:
        raise OfferError(_("Give the reason for withdrawing the offer."))
    intake = _intake_of(offer)
    with scope(school=intake.school):
        pools_lock(intake)
        offer = _answered(offer)
        held = offer.status
        if held not in HOLDING:
            return OfferAnswer(offer=offer, changed=False)
        enrolments = Enrolment.objects.filter(offer=offer)
        if enrolments.filter(status=Enrolment.Status.COMPLETED).exists():
            raise OfferError(
                _("This learner has completed the training: the offer can no longer be withdrawn.")
            )
        # `held`, not any holding status: the seat released below is the one the offer held.
        withdrawn = Offer.objects.filter(pk=offer.pk, status=held).update(
            status=Offer.Status.CANCELLED,
            answered_at=timezone.now(),
            channel="",  # no answer channel: the school acted, `answered_by` says who
            answered_by=actor,
            reason=reason,
        )
        offer = _answered(offer)
        if not withdrawn:
            return OfferAnswer(offer=offer, changed=False)
        if held == Offer.Status.LIVE:
            _seat_release(offer.pool_id)
        else:
            _accepted_release(offer.pool_id)
        ended = enrolments.filter(status=Enrolment.Status.ACTIVE).update(
            status=Enrolment.Status.DROPPED_OUT
        )
        offer_audit(
            offer, "withdrawn", actor=actor, reason=reason, held=held, enrolment_ended=bool(ended)
        )
        _tell_taken_back(offer)
        _refill(intake, actor)
    return OfferAnswer(offer=offer, changed=True)


def _tell_taken_back(offer: Offer) -> None:
    """Tell the applicant, on every channel they gave and in their language, that the school
    took back their seat. Not why: the reason is the school's note (it may be a suspicion of
    false information), and the message asks them to contact the school."""
    from tremplin.admissions.services import in_language, notify_applicant

    application = offer.application
    if application.erased_at is not None or application.status != Application.Status.SUBMITTED:
        return  # erased: nobody to tell; withdrawn: she left, the school took nothing back
    intake = application.intake
    arabic = application.language == "ar"
    notify_applicant(
        application,
        "offer_withdrawn",
        {
            "first_name": application.first_name_for_messages,
            "reference": application.reference,
            "intake_title": (arabic and intake.title_ar) or intake.title,
            "school_name": in_language(intake.school, application.language),
            "space_url": site_url("portal:access"),
        },
    )


def _refill(intake: Intake, actor) -> None:
    """Offer the freed seats to the next in line, in a savepoint: a failure of the re-solve
    is logged and leaves the answer recorded; the expiry sweep fills the seats later."""
    from tremplin.selection.waitlist import fill_locked

    try:
        with transaction.atomic():
            fill_locked(intake, actor=actor)
    except Exception:
        logger.exception("Waitlist fill failed for intake %s; the sweep will retry.", intake.pk)


# --- Expiry ------------------------------------------------------------------------------


def offers_expire(*, now: datetime | None = None) -> int:
    """Expire the live offers whose deadline has passed, free their seats and fill them
    from the waitlist; cancel the live or accepted offers of withdrawn applications (an
    early dropout: the enrolment ends and the seat goes on); fill any pool left
    with free seats (a fill that failed or was never run). Returns how many offers expired.

    Idempotent and safe to run beside the applicants and staff: one transaction per intake,
    under the intake's pool lock. Run it every minute (`tremplin expire_offers --loop`)."""
    now = now or timezone.now()
    with scopes_disabled():
        due = Offer.objects.filter(status=Offer.Status.LIVE).filter(
            Q(deadline__lte=now) | Q(application__status=Application.Status.WITHDRAWN)
        )
        withdrawn = Offer.objects.filter(_withdrawn_after_accepting_q())
        intake_ids = set(due.values_list("pool__intake_id", flat=True))
        intake_ids |= set(withdrawn.values_list("pool__intake_id", flat=True))
        intake_ids |= _unfilled_intakes()
    expired = 0
    for intake_id in sorted(intake_ids):
        expired += _expire_intake(intake_id, now)
    return expired


def _withdrawn_after_accepting_q() -> Q:
    """Accepted offers whose application was withdrawn (or erased) since, unless their
    training was completed: a finished cohort's seat is never given again, whatever its
    graduate does with the application later."""
    from tremplin.training.models import Enrolment

    return Q(status=Offer.Status.ACCEPTED, application__status=Application.Status.WITHDRAWN) & ~Q(
        enrolment__status=Enrolment.Status.COMPLETED
    )


def _withdrawn_after_accepting(intake: Intake, now: datetime) -> None:
    """Accepted offers of applicants who withdrew since: the seat is freed for the next in
    the call order and the enrolment ends as a dropout. The caller holds the pool lock."""
    from tremplin.training.models import Enrolment

    offers = Offer.objects.filter(_withdrawn_after_accepting_q(), pool__intake=intake).order_by(
        "pk"
    )
    for offer in offers.select_related("application__intake__school"):
        reason = "application withdrawn after accepting"
        if not Offer.objects.filter(pk=offer.pk, status=Offer.Status.ACCEPTED).update(
            status=Offer.Status.CANCELLED, reason=reason
        ):
            continue
        _accepted_release(offer.pool_id)
        Enrolment.objects.filter(offer=offer, status=Enrolment.Status.ACTIVE).update(
            status=Enrolment.Status.DROPPED_OUT
        )
        offer_audit(offer, "cancelled", reason=reason)


def _unfilled_intakes() -> set[int]:
    """Intakes with a free seat and someone the published run listed who was never offered
    one: a fill failed or never ran. (Checked in one query, so that intakes whose waiting
    list is exhausted are not solved again every minute.)"""
    free = SeatPool.objects.filter(live__lt=F("seats") - F("accepted")).values("intake_id")
    never_offered = RankingResult.objects.filter(
        run__published_at__isnull=False,
        run__intake_id__in=free,
        outcome__in=[RankingResult.Outcome.ADMITTED, RankingResult.Outcome.WAITLISTED],
        application__status=Application.Status.SUBMITTED,
    ).exclude(application__offers__isnull=False)
    return set(never_offered.values_list("run__intake_id", flat=True).distinct())


@transaction.atomic
def _expire_intake(intake_id: int, now: datetime) -> int:
    with scopes_disabled():
        intake = Intake.objects.select_related("school").get(pk=intake_id)
    with scope(school=intake.school):
        pools_lock(intake)
        due = list(
            Offer.objects.filter(pool__intake=intake, status=Offer.Status.LIVE)
            .filter(Q(deadline__lte=now) | Q(application__status=Application.Status.WITHDRAWN))
            .select_related("application__intake__school")
            .order_by("pk")
        )
        expired = 0
        for offer in due:
            withdrawn = offer.application.status == Application.Status.WITHDRAWN
            status = Offer.Status.CANCELLED if withdrawn else Offer.Status.EXPIRED
            reason = "application withdrawn" if withdrawn else ""
            changed = (
                Offer.objects.filter(pk=offer.pk, status=Offer.Status.LIVE)
                .filter(Q(deadline__lte=now) | Q(application__status=Application.Status.WITHDRAWN))
                .update(status=status, answered_at=now, channel=Offer.Channel.SYSTEM, reason=reason)
            )
            if not changed:
                continue
            _seat_release(offer.pool_id)
            offer_audit(offer, "cancelled" if withdrawn else "expired", reason=reason)
            expired += not withdrawn
        _withdrawn_after_accepting(intake, now)
        _refill(intake, actor=None)
    return expired
