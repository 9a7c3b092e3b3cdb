"""Interviews: panels of jurors, slots, declared conflicts, the rubric and the jurors' sheets."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tremplin.core.i18n import localized
from tremplin.selection.models.scheme import MARK_VALIDATORS


class Panel(models.Model):
    """A jury that interviews applicants together; each juror scores alone."""

    component = models.ForeignKey(
        "selection.Component",
        on_delete=models.CASCADE,
        related_name="panels",
        verbose_name=_("component"),
    )
    name = models.CharField(_("name"), max_length=100)
    place = models.CharField(_("place (French)"), max_length=200, blank=True)
    place_ar = models.CharField(_("place (Arabic)"), max_length=200, blank=True)
    jurors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="panels", blank=True, verbose_name=_("jurors")
    )

    objects = ScopedManager(school="component__scheme__intake__school")

    class Meta:
        ordering = ["component", "name"]
        verbose_name = _("panel")
        verbose_name_plural = _("panels")
        constraints = [
            models.UniqueConstraint(fields=["component", "name"], name="panel_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class InterviewSlot(models.Model):
    """A time with a panel, for at most one applicant."""

    panel = models.ForeignKey(
        Panel, on_delete=models.CASCADE, related_name="slots", verbose_name=_("panel")
    )
    # Denormalised from the panel so that the database keeps one interview per component.
    component = models.ForeignKey("selection.Component", on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    application = models.ForeignKey(
        "admissions.Application",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interview_slots",
        verbose_name=_("application"),
    )
    present = models.BooleanField(_("present"), null=True, blank=True)
    convened_at = models.DateTimeField(_("convened at"), null=True, blank=True)

    objects = ScopedManager(school="component__scheme__intake__school")

    class Meta:
        ordering = ["starts_at", "panel"]
        verbose_name = _("interview slot")
        verbose_name_plural = _("interview slots")
        constraints = [
            models.UniqueConstraint(
                fields=["component", "application"],
                condition=Q(application__isnull=False),
                name="slot_one_interview_per_applicant",
            ),
            models.UniqueConstraint(fields=["panel", "starts_at"], name="slot_unique_time"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.panel} {self.starts_at:%Y-%m-%d %H:%M}"


class ConflictOfInterest(models.Model):
    """A juror who must not interview an applicant (family, neighbour, former pupil...)."""

    juror = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conflicts_of_interest",
        verbose_name=_("juror"),
    )
    application = models.ForeignKey(
        "admissions.Application",
        on_delete=models.CASCADE,
        related_name="conflicts_of_interest",
        verbose_name=_("application"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [
            models.UniqueConstraint(fields=["juror", "application"], name="conflict_unique")
        ]

    def __str__(self) -> str:
        return f"{self.juror} / {self.application_id}"


class Criterion(models.Model):
    """One line of the interview rubric, with its weight and level descriptors.

    `levels` is a list of {"mark": "15", "text": "...", "text_ar": "..."}, marks out of 20.
    """

    component = models.ForeignKey(
        "selection.Component",
        on_delete=models.CASCADE,
        related_name="criteria",
        verbose_name=_("component"),
    )
    label = models.CharField(_("criterion (French)"), max_length=150)
    label_ar = models.CharField(_("criterion (Arabic)"), max_length=150)
    weight = models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    levels = models.JSONField(_("level descriptors"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = ScopedManager(school="component__scheme__intake__school")

    class Meta:
        ordering = ["component", "position", "id"]
        verbose_name = _("rubric criterion")
        verbose_name_plural = _("rubric criteria")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive")
        ]

    def __str__(self) -> str:
        return localized(self, "label")


class ScoreSheet(models.Model):
    """One juror's scores for one applicant. Locked once submitted."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")

    component = models.ForeignKey(
        "selection.Component",
        on_delete=models.CASCADE,
        related_name="sheets",
        verbose_name=_("component"),
    )
    application = models.ForeignKey(
        "admissions.Application",
        on_delete=models.CASCADE,
        related_name="score_sheets",
        verbose_name=_("application"),
    )
    juror = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="score_sheets",
        verbose_name=_("juror"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # The weighted mean of the criteria, out of 20, set on submission.
    mark = models.DecimalField(
        _("mark"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=MARK_VALIDATORS,
    )
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        ordering = ["component", "application", "juror"]
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")
        constraints = [
            models.UniqueConstraint(
                fields=["component", "application", "juror"], name="sheet_one_per_juror"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(mark__isnull=False, submitted_at__isnull=False),
                name="sheet_submitted_has_mark",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.juror} / {self.application_id}"

    @property
    def locked(self) -> bool:
        return self.status == self.Status.SUBMITTED


class CriterionScore(models.Model):
    sheet = models.ForeignKey(
        ScoreSheet, on_delete=models.CASCADE, related_name="scores", verbose_name=_("score sheet")
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.CASCADE, related_name="+", verbose_name=_("criterion")
    )
    value = models.DecimalField(
        _("mark"), max_digits=4, decimal_places=2, validators=MARK_VALIDATORS
    )

    objects = ScopedManager(school="sheet__application__intake__school")

    class Meta:
        verbose_name = _("criterion score")
        verbose_name_plural = _("criterion scores")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "criterion"], name="score_unique"),
            models.CheckConstraint(
                condition=Q(value__gte=0, value__lte=20), name="score_out_of_20"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.value}"
