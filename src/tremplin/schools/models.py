"""Schools (the tenant), their partners, grants, budget lines and tracks; the reference
geography of Morocco."""

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

from tremplin.core.i18n import localized


class Region(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name (French)"), max_length=120)
    name_ar = models.CharField(_("name (Arabic)"), max_length=120)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return localized(self, "name")


class Province(models.Model):
    class Kind(models.TextChoices):
        PROVINCE = "province", _("province")
        PREFECTURE = "prefecture", _("prefecture")

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="provinces", verbose_name=_("region")
    )
    code = models.CharField(_("code"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name (French)"), max_length=120)
    name_ar = models.CharField(_("name (Arabic)"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return localized(self, "name")


class Commune(models.Model):
    class Kind(models.TextChoices):
        URBAN = "urban", _("urban commune")
        RURAL = "rural", _("rural commune")

    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="communes", verbose_name=_("province")
    )
    code = models.CharField(_("code"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name (French)"), max_length=120)
    name_ar = models.CharField(_("name (Arabic)"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("commune")
        verbose_name_plural = _("communes")

    def __str__(self) -> str:
        return localized(self, "name")


class School(models.Model):
    """The tenant: every piece of school data hangs from one school."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    code = models.CharField(
        _("reference prefix"),
        max_length=5,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,5}$", _("Two to five capital letters."))],
        help_text=_("Starts every application reference, e.g. SMA for SMA-25-0042."),
    )
    name = models.CharField(_("name (French)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, related_name="schools", verbose_name=_("commune")
    )
    address = models.CharField(_("address (French)"), max_length=300, blank=True)
    address_ar = models.CharField(_("address (Arabic)"), max_length=300, blank=True)
    description = models.TextField(_("description (French)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def __str__(self) -> str:
        return localized(self, "name")

    def get_absolute_url(self) -> str:
        return reverse("public:school", kwargs={"school_slug": self.slug})


class Partner(models.Model):
    """An organisation working with one or more schools (INDH, ANAPEC, an operator...)."""

    class Kind(models.TextChoices):
        FUNDER = "funder", _("funder")
        HOST = "host", _("host organisation")
        OPERATOR = "operator", _("technical operator")
        EMPLOYMENT_AGENCY = "employment_agency", _("employment agency")
        EMPLOYER = "employer", _("employer")

    name = models.CharField(_("name (French)"), max_length=200, unique=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    website = models.URLField(_("website"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")

    def __str__(self) -> str:
        return self.acronym or localized(self, "name")


class SchoolPartner(models.Model):
    """The part a partner plays for one school (a funder may also employ graduates)."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="partnerships", verbose_name=_("school")
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="partnerships", verbose_name=_("partner")
    )
    role = models.CharField(_("role"), max_length=30, choices=Partner.Kind.choices)
    since = models.DateField(_("since"), null=True, blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["role", "partner__name"]
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "partner", "role"], name="schoolpartner_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} ({self.get_role_display()})"


class Grant(models.Model):
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="grants", verbose_name=_("school")
    )
    funder = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="grants", verbose_name=_("funder")
    )
    reference = models.CharField(_("reference"), max_length=60, blank=True)
    title = models.CharField(_("title (French)"), max_length=200)
    title_ar = models.CharField(_("title (Arabic)"), max_length=200, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="grant_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return localized(self, "title")

    @property
    def total(self) -> Decimal:
        # Uses the prefetched lines when the caller prefetched them (dashboards do).
        return sum((line.amount for line in self.lines.all()), Decimal("0"))


class BudgetLine(models.Model):
    class Kind(models.TextChoices):
        EQUIPMENT = "equipment", pgettext_lazy("budget line", "equipment")
        TRAINING = "training", pgettext_lazy("budget line", "training")
        OPERATIONS = "operations", pgettext_lazy("budget line", "operations")
        OTHER = "other", pgettext_lazy("budget line", "other")

    grant = models.ForeignKey(
        Grant, on_delete=models.CASCADE, related_name="lines", verbose_name=_("grant")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    label = models.CharField(_("label (French)"), max_length=200)
    label_ar = models.CharField(_("label (Arabic)"), max_length=200, blank=True)
    amount = models.DecimalField(
        _("amount (MAD)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )

    objects = ScopedManager(school="grant__school")

    class Meta:
        ordering = ["grant", "kind"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="budgetline_amount_not_negative"
            )
        ]

    def __str__(self) -> str:
        return localized(self, "label")


class Track(models.Model):
    """A trade the school trains for (web development...) or a cross-cutting programme
    (life skills, languages) that every learner follows."""

    class Kind(models.TextChoices):
        TRACK = "track", _("track")
        PROGRAMME = "programme", _("cross-cutting programme")

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="tracks", verbose_name=_("school")
    )
    code = models.SlugField(_("code"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TRACK)
    name = models.CharField(_("name (French)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    description = models.TextField(_("description (French)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    duration_months = models.PositiveSmallIntegerField(
        _("duration (months)"), null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("track")
        verbose_name_plural = _("tracks")
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="track_unique_code")]

    def __str__(self) -> str:
        return localized(self, "name")
