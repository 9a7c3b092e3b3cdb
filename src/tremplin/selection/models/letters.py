"""PDF letters (convocations and decisions), rendered in tasks and stored privately."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


def _letter_path(letter: "Letter", filename: str) -> str:
    return f"private/letters/{uuid.uuid4().hex}.pdf"


class LetterKind(models.TextChoices):
    TEST_CONVOCATION = "test_convocation", _("convocation to the written test")
    INTERVIEW_CONVOCATION = "interview_convocation", _("convocation to the interview")
    DECISION = "decision", _("decision")


class LetterBatch(models.Model):
    """A batch of letters of one kind for an intake, with its progress."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    intake = models.ForeignKey(
        "admissions.Intake",
        on_delete=models.CASCADE,
        related_name="letter_batches",
        verbose_name=_("intake"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=LetterKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("letters"), default=0)
    done = models.PositiveIntegerField(_("letters rendered"), default=0)
    # What the batch renders: kept on the row so that the task takes only the batch's id
    # and a re-run renders (and notifies) exactly the same applications.
    application_ids = models.JSONField(_("applications"), default=list, blank=True)
    notify = models.BooleanField(_("send by SMS and email"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Moves with every chunk: a running batch that stops moving lost its worker.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = ScopedManager(school="intake__school")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("batch of letters")
        verbose_name_plural = _("batches of letters")

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d}"

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


class Letter(models.Model):
    Kind = LetterKind

    application = models.ForeignKey(
        "admissions.Application",
        on_delete=models.CASCADE,
        related_name="letters",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    batch = models.ForeignKey(
        LetterBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="letters",
        verbose_name=_("batch"),
    )
    language = models.CharField(_("language"), max_length=5)
    file = models.FileField(_("file"), upload_to=_letter_path, max_length=200, blank=True)
    pages = models.PositiveSmallIntegerField(_("pages"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        constraints = [
            # The latest letter of a kind replaces the previous one.
            models.UniqueConstraint(fields=["application", "kind"], name="letter_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.application_id}"
