"""Cohorts and enrolments: what an accepted offer becomes.

Only what selection needs for now; groups, timetables and attendance come with training.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Cohort(models.Model):
    """The learners of one intake, who start together."""

    intake = models.OneToOneField(
        "admissions.Intake",
        on_delete=models.PROTECT,
        related_name="cohort",
        verbose_name=_("intake"),
    )
    school = models.ForeignKey(
        "schools.School",
        on_delete=models.CASCADE,
        related_name="cohorts",
        verbose_name=_("school"),
    )
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")

    def __str__(self) -> str:
        return self.name


class Enrolment(models.Model):
    """An applicant who accepted their offer, now a learner of the cohort."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("in training")
        DROPPED_OUT = "dropped_out", _("dropped out")
        COMPLETED = "completed", _("completed")

    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, related_name="enrolments", verbose_name=_("cohort")
    )
    application = models.OneToOneField(
        "admissions.Application",
        on_delete=models.PROTECT,
        related_name="enrolment",
        verbose_name=_("application"),
    )
    track = models.ForeignKey(
        "schools.Track",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("track"),
    )
    offer = models.OneToOneField(
        "selection.Offer",
        on_delete=models.PROTECT,
        related_name="enrolment",
        verbose_name=_("offer"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)

    objects = ScopedManager(school="cohort__school")

    class Meta:
        ordering = ["cohort", "application"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")

    def __str__(self) -> str:
        return f"{self.cohort}: {self.application_id}"
