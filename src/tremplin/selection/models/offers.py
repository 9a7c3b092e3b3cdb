"""Offers of a seat, and the seat pools that keep them within capacity."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class SeatPool(models.Model):
    """The seats of an intake (or of one of its tracks) and how many are taken.

    `live` counts offers awaiting an answer and `accepted` the accepted ones; both only move
    by conditional updates, and the check constraint makes over-booking impossible whatever
    the code does.
    """

    intake = models.ForeignKey(
        "admissions.Intake",
        on_delete=models.CASCADE,
        related_name="seat_pools",
        verbose_name=_("intake"),
    )
    track = models.OneToOneField(
        "admissions.IntakeTrack",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="seat_pool",
        verbose_name=_("track"),
    )
    seats = models.PositiveIntegerField(_("seats"))
    live = models.PositiveIntegerField(_("offers awaiting an answer"), default=0)
    accepted = models.PositiveIntegerField(_("accepted offers"), default=0)

    objects = ScopedManager(school="intake__school")

    class Meta:
        verbose_name = _("seat pool")
        verbose_name_plural = _("seat pools")
        constraints = [
            models.CheckConstraint(
                condition=Q(live__gte=0, accepted__gte=0) & Q(accepted__lte=F("seats") - F("live")),
                name="seatpool_never_overbooked",
            ),
            models.UniqueConstraint(
                fields=["intake"], condition=Q(track__isnull=True), name="seatpool_one_per_intake"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.accepted}+{self.live}/{self.seats}"

    @property
    def free(self) -> int:
        return self.seats - self.live - self.accepted


class Offer(models.Model):
    """A seat offered to an applicant, with a deadline to answer."""

    class Status(models.TextChoices):
        LIVE = "live", _("awaiting an answer")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        EXPIRED = "expired", _("expired")
        CANCELLED = "cancelled", _("cancelled")

    class Origin(models.TextChoices):
        RANKING = "ranking", _("published ranking")
        WAITLIST = "waitlist", _("called from the waiting list")
        MANUAL = "manual", _("promoted by staff")

    class Channel(models.TextChoices):
        APPLICANT = "applicant", _("applicant space")
        PHONE = "phone", _("by phone, recorded by staff")
        SYSTEM = "system", _("deadline passed")

    pool = models.ForeignKey(
        SeatPool, on_delete=models.PROTECT, related_name="offers", verbose_name=_("seat pool")
    )
    application = models.ForeignKey(
        "admissions.Application",
        on_delete=models.CASCADE,
        related_name="offers",
        verbose_name=_("application"),
    )
    run = models.ForeignKey(
        "selection.RankingRun",
        on_delete=models.PROTECT,
        related_name="offers",
        verbose_name=_("ranking run"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.LIVE
    )
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    created_at = models.DateTimeField(_("offered at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offered by"),
    )
    deadline = models.DateTimeField(_("answer by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    channel = models.CharField(
        _("answered through"), max_length=10, choices=Channel.choices, blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    reason = models.TextField(_("reason"), blank=True)

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [
            # Nobody holds two live or accepted offers in the same intake.
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status__in=["live", "accepted"]),
                name="offer_one_live_per_applicant",
            ),
            models.CheckConstraint(
                condition=Q(status="live") | Q(answered_at__isnull=False),
                name="offer_answered_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="offer_due"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.status}"
