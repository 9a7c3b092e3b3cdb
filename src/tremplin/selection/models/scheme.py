"""How an intake selects: its components, weights, thresholds, tie-breaks, quotas and seed."""

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tremplin.core.i18n import localized

MARK_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(20))]


def new_lottery_seed() -> int:
    # Positive and within a signed 63-bit column on every database.
    return secrets.randbits(62)


class SelectionScheme(models.Model):
    """The published rules of the selection of one intake."""

    intake = models.OneToOneField(
        "admissions.Intake",
        on_delete=models.CASCADE,
        related_name="scheme",
        verbose_name=_("intake"),
    )
    # Component codes, compared in this order when composites are equal; higher wins.
    tie_break = models.JSONField(_("tie-break keys"), default=list, blank=True)
    lottery_seed = models.BigIntegerField(
        _("lottery seed"),
        default=new_lottery_seed,
        help_text=_("Published with the results: the same seed gives the same draw."),
    )
    offer_hours = models.PositiveIntegerField(
        _("time to answer an offer (hours)"),
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
    )
    anonymous_marking = models.BooleanField(
        _("anonymous marking"),
        default=False,
        help_text=_("Markers of the written test see candidate numbers, not names."),
    )
    severity_correction = models.BooleanField(
        _("correct juror severity"),
        default=False,
        help_text=_("Put each juror's marks on the common scale (z-score per juror)."),
    )
    disagreement_threshold = models.DecimalField(
        _("disagreement flag above (points)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal(4),
        validators=MARK_VALIDATORS,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(school="intake__school")

    class Meta:
        verbose_name = _("selection scheme")
        verbose_name_plural = _("selection schemes")

    def __str__(self) -> str:
        return str(self.intake)


class Component(models.Model):
    """One marked part of the selection, out of 20, with its weight in the composite."""

    class Kind(models.TextChoices):
        WRITTEN_TEST = "test", _("written test")
        INTERVIEW = "interview", _("interview")
        FILE_REVIEW = "file", _("file review")
        OTHER = "other", _("other assessment")

    class Absence(models.TextChoices):
        ELIMINATES = "eliminates", _("absence eliminates")
        ZERO = "zero", _("absence counts as 0")

    scheme = models.ForeignKey(
        SelectionScheme,
        on_delete=models.CASCADE,
        related_name="components",
        verbose_name=_("selection scheme"),
    )
    code = models.SlugField(_("code"), max_length=20)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name (French)"), max_length=100)
    name_ar = models.CharField(_("name (Arabic)"), max_length=100)
    weight = models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    threshold = models.DecimalField(
        _("eliminatory below"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=MARK_VALIDATORS,
    )
    absence = models.CharField(
        _("absence"), max_length=12, choices=Absence.choices, default=Absence.ELIMINATES
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = ScopedManager(school="scheme__intake__school")

    class Meta:
        ordering = ["scheme", "position", "id"]
        verbose_name = _("component")
        verbose_name_plural = _("components")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="component_unique_code"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="component_weight_positive"),
            models.CheckConstraint(
                condition=Q(threshold__isnull=True) | Q(threshold__gte=0, threshold__lte=20),
                name="component_threshold_out_of_20",
            ),
        ]

    def __str__(self) -> str:
        return localized(self, "name")


class Quota(models.Model):
    """A minimum share of a group among those called (e.g. at least 50 % women)."""

    class Group(models.TextChoices):
        WOMEN = "women", _("women")
        NEET = "neet", _("neither working nor studying (NEET)")

    scheme = models.ForeignKey(
        SelectionScheme,
        on_delete=models.CASCADE,
        related_name="quotas",
        verbose_name=_("selection scheme"),
    )
    group = models.CharField(_("group"), max_length=10, choices=Group.choices)
    share = models.DecimalField(
        _("minimum share (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    # Empty for every track of the intake.
    track = models.ForeignKey(
        "admissions.IntakeTrack",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quotas",
        verbose_name=_("track"),
    )

    objects = ScopedManager(school="scheme__intake__school")

    class Meta:
        ordering = ["scheme", "id"]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "group", "track"], name="quota_unique_group_track"
            ),
            models.UniqueConstraint(
                fields=["scheme", "group"],
                condition=Q(track__isnull=True),
                name="quota_unique_group",
            ),
            models.CheckConstraint(
                condition=Q(share__gte=0, share__lte=100), name="quota_share_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()} ≥ {self.share} %"
