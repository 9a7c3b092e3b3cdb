"""Ranking runs: immutable snapshots of inputs, parameters, results and checks."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class RankingRun(models.Model):
    """One run of the engine over an intake. Its inputs and results never change once done.

    A named person publishes a run with a comment; at most one run of an intake is published.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    intake = models.ForeignKey(
        "admissions.Intake",
        on_delete=models.CASCADE,
        related_name="ranking_runs",
        verbose_name=_("intake"),
    )
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    # When a worker took it: a run still running long after lost its worker.
    claimed_at = models.DateTimeField(_("taken by a worker at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Components, weights, thresholds, absence rules, tie-break keys, quotas, seats, seed.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    # Counts per outcome, cut-offs per track.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # The engine's self-checks, each with its result.
    checks = models.JSONField(_("checks"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    publication_comment = models.TextField(_("publication comment"), blank=True)

    objects = ScopedManager(school="intake__school")

    class Meta:
        ordering = ["intake", "-number"]
        verbose_name = _("ranking run")
        verbose_name_plural = _("ranking runs")
        constraints = [
            models.UniqueConstraint(fields=["intake", "number"], name="run_unique_number"),
            models.UniqueConstraint(
                fields=["intake"],
                condition=Q(published_at__isnull=False),
                name="run_one_published_per_intake",
            ),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(status="done"),
                name="run_published_only_when_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.intake} #{self.number}"

    @property
    def published(self) -> bool:
        return self.published_at is not None


class RankingResult(models.Model):
    """One applicant's result in a run (and in one track, when the intake has several)."""

    class Outcome(models.TextChoices):
        ADMITTED = "admitted", _("admitted")
        WAITLISTED = "waitlisted", _("on the waiting list")
        NOT_RETAINED = "not_retained", _("not retained")
        INELIGIBLE = "ineligible", _("not eligible")

    run = models.ForeignKey(
        RankingRun, on_delete=models.CASCADE, related_name="results", verbose_name=_("run")
    )
    application = models.ForeignKey(
        "admissions.Application",
        on_delete=models.CASCADE,
        related_name="ranking_results",
        verbose_name=_("application"),
    )
    # The track the outcome is about (the one admitted to, or the first wish); empty for a
    # single-track intake.
    track = models.ForeignKey(
        "admissions.IntakeTrack",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("track"),
    )
    # {"component code": "12.50" | null, ...} as used by the run; "absent" for a no-show.
    marks = models.JSONField(_("marks"), default=dict)
    composite = models.DecimalField(
        _("composite"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)
    # The engine's reason code name (e.g. "below_threshold", "beyond_waitlist"), or "".
    reason = models.CharField(_("reason"), max_length=30, blank=True)
    merit_rank = models.PositiveIntegerField(_("merit rank"), null=True, blank=True)
    call_rank = models.PositiveIntegerField(_("call rank"), null=True, blank=True)
    waitlist_position = models.PositiveIntegerField(_("waitlist position"), null=True, blank=True)
    # The quota that called the applicant before their merit turn, if any.
    called_by_quota = models.CharField(_("called by quota"), max_length=10, blank=True)
    lottery = models.BigIntegerField(_("lottery number"))
    # Per-wish outcomes and the explanation, as the engine gave them.
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)

    objects = ScopedManager(school="run__intake__school")

    class Meta:
        ordering = ["run", "call_rank", "merit_rank", "application"]
        verbose_name = _("ranking result")
        verbose_name_plural = _("ranking results")
        constraints = [
            models.UniqueConstraint(fields=["run", "application"], name="result_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.application_id}: {self.outcome}"
