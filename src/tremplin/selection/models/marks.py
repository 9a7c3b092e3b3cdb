"""Marks out of 20 per applicant and component, and the written test's sessions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tremplin.core.i18n import localized
from tremplin.selection.models.scheme import MARK_VALIDATORS


class Mark(models.Model):
    """An applicant's mark in one component: entered, imported, or aggregated from a jury.

    `value` is empty while nothing is recorded; `absent` records a no-show (what it means is
    the component's absence rule).
    """

    class Source(models.TextChoices):
        ENTRY = "entry", _("entered")
        IMPORT = "import", _("imported")
        JURY = "jury", _("jury")

    application = models.ForeignKey(
        "admissions.Application",
        on_delete=models.CASCADE,
        related_name="marks",
        verbose_name=_("application"),
    )
    component = models.ForeignKey(
        "selection.Component",
        on_delete=models.CASCADE,
        related_name="marks",
        verbose_name=_("component"),
    )
    value = models.DecimalField(
        _("mark"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=MARK_VALIDATORS,
    )
    absent = models.BooleanField(_("absent"), default=False)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    # Jury aggregation: the jurors' marks disagree by more than the scheme's threshold.
    disagreement = models.BooleanField(_("jurors disagree"), default=False)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        ordering = ["component", "application"]
        verbose_name = _("mark")
        verbose_name_plural = _("marks")
        constraints = [
            models.UniqueConstraint(fields=["application", "component"], name="mark_unique"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0, value__lte=20),
                name="mark_out_of_20",
            ),
            models.CheckConstraint(
                condition=Q(absent=False) | Q(value__isnull=True), name="mark_absent_has_no_value"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.component}: {self.value}"


class TestSession(models.Model):
    """A sitting of the written test: when, where, how many seats, what to bring."""

    component = models.ForeignKey(
        "selection.Component",
        on_delete=models.CASCADE,
        related_name="sessions",
        verbose_name=_("component"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place (French)"), max_length=200)
    place_ar = models.CharField(_("place (Arabic)"), max_length=200)
    capacity = models.PositiveIntegerField(_("capacity"))
    instructions = models.TextField(_("what to bring (French)"), blank=True)
    instructions_ar = models.TextField(_("what to bring (Arabic)"), blank=True)

    objects = ScopedManager(school="component__scheme__intake__school")

    class Meta:
        ordering = ["component", "starts_at", "id"]
        verbose_name = _("test session")
        verbose_name_plural = _("test sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="session_capacity"),
        ]

    def __str__(self) -> str:
        return f"{localized(self, 'place')} {self.starts_at:%Y-%m-%d %H:%M}"


class TestSitting(models.Model):
    """An applicant convened to a session, with their candidate number and attendance."""

    session = models.ForeignKey(
        TestSession, on_delete=models.CASCADE, related_name="sittings", verbose_name=_("session")
    )
    # Denormalised from the session so that the database keeps one sitting per component.
    component = models.ForeignKey("selection.Component", on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(
        "admissions.Application",
        on_delete=models.CASCADE,
        related_name="sittings",
        verbose_name=_("application"),
    )
    candidate_number = models.PositiveIntegerField(_("candidate number"))
    # None: not recorded yet.
    present = models.BooleanField(_("present"), null=True, blank=True)
    convened_at = models.DateTimeField(_("convened at"), null=True, blank=True)

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        ordering = ["session", "candidate_number"]
        verbose_name = _("sitting")
        verbose_name_plural = _("sittings")
        constraints = [
            models.UniqueConstraint(
                fields=["component", "application"], name="sitting_one_per_component"
            ),
            models.UniqueConstraint(
                fields=["component", "candidate_number"], name="sitting_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.candidate_number}"
