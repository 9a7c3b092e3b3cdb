"""People, their roles per school, coordinators' scopes, and the audit log."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class User(AbstractUser):
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=settings.LANGUAGES, default="fr"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=~models.Q(email=""),
                name="user_unique_email_ci",
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    DIRECTOR = "director", _("school director")
    ADMISSIONS = "admissions", _("admissions officer")
    JUROR = "juror", _("juror")
    TRAINER = "trainer", _("trainer")
    LEARNER = "learner", _("learner")


class Membership(models.Model):
    """A role held by a person in one school. A person may hold several, in several schools."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    school = models.ForeignKey(
        "schools.School",
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("school"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["school", "role", "user__last_name"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "school", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.school}"


class CoordinatorScope(models.Model):
    """Read-only access for a funder coordinator over every school of an area."""

    class Level(models.TextChoices):
        NATION = "nation", _("the whole country")
        REGION = "region", _("a region")
        PROVINCE = "province", _("a province")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="coordinator_scopes",
        verbose_name=_("user"),
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    region = models.ForeignKey(
        "schools.Region",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("region"),
    )
    province = models.ForeignKey(
        "schools.Province",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("province"),
    )

    class Meta:
        verbose_name = _("coordinator scope")
        verbose_name_plural = _("coordinator scopes")
        constraints = [
            models.CheckConstraint(
                name="coordinatorscope_area_matches_level",
                condition=(
                    models.Q(level="nation", region__isnull=True, province__isnull=True)
                    | models.Q(level="region", region__isnull=False, province__isnull=True)
                    | models.Q(level="province", region__isnull=True, province__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        area = self.province or self.region or self.get_level_display()
        return f"{self.user} — {area}"

    def clean(self) -> None:
        if self.level == self.Level.REGION and not self.region_id:
            raise ValidationError({"region": _("Choose the region.")})
        if self.level == self.Level.PROVINCE and not self.province_id:
            raise ValidationError({"province": _("Choose the province.")})
        if self.level != self.Level.REGION:
            self.region = None
        if self.level != self.Level.PROVINCE:
            self.province = None

    def school_filter(self) -> models.Q:
        if self.level == self.Level.NATION:
            return models.Q()
        if self.level == self.Level.REGION:
            return models.Q(commune__province__region_id=self.region_id)
        return models.Q(commune__province_id=self.province_id)


class AuditEvent(models.Model):
    """One domain event: who did what, to which object, why, from where, when.

    Written in the same transaction as the change it records (see ``log_action``), so the
    log never claims a change that rolled back nor misses one that committed.
    """

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    school = models.ForeignKey(
        "schools.School",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("school"),
        db_index=False,  # the index (school, -created_at) serves
    )
    action = models.CharField(_("action"), max_length=100, db_index=True)
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the index (content_type, object_id) serves
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["school", "-created_at"], name="audit_school_time"),
            # The history of one object (an application's page, its erasure, the codes sent
            # to it in the last hour), in a log that grows by millions of rows a year.
            models.Index(fields=["content_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"
