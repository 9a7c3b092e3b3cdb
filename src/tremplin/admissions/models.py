"""Calls for applications (intakes), their privacy notices, and the applications."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tremplin.admissions.choices import DocumentKind, EducationLevel, Employment, Sex
from tremplin.core.i18n import localized
from tremplin.core.ordering import Unaccented
from tremplin.core.text import search_key


class PrivacyNotice(models.Model):
    """A version of the notice an applicant consents to (law 09-08). Never edited once
    published: a change is a new version, and each application keeps the one it accepted."""

    school = models.ForeignKey(
        "schools.School",
        on_delete=models.CASCADE,
        related_name="privacy_notices",
        verbose_name=_("school"),
    )
    version = models.PositiveIntegerField(_("version"))
    cndp_authorisation = models.CharField(
        _("CNDP authorisation number"),
        max_length=60,
        help_text=_("The number of the authorisation or declaration receipt from the CNDP."),
    )
    text = models.TextField(_("text (French)"))
    text_ar = models.TextField(_("text (Arabic)"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["school", "-version"]
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")
        constraints = [
            models.UniqueConstraint(fields=["school", "version"], name="privacynotice_version")
        ]

    def __str__(self) -> str:
        return _("Privacy notice v%(version)s") % {"version": self.version}


class Intake(models.Model):
    """A call for applications of one school, for one or several tracks."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    school = models.ForeignKey(
        "schools.School",
        on_delete=models.CASCADE,
        related_name="intakes",
        verbose_name=_("school"),
    )
    slug = models.SlugField(_("slug"), max_length=60)
    title = models.CharField(_("title (French)"), max_length=200)
    title_ar = models.CharField(_("title (Arabic)"), max_length=200)
    description = models.TextField(_("description (French)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    seats = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1)])
    waitlist = models.PositiveIntegerField(_("waitlist size"), default=0)
    # Eligibility rules. Empty lists mean "no restriction".
    reference_date = models.DateField(
        _("age reference date"), help_text=_("Ages are computed on this date.")
    )
    min_age = models.PositiveSmallIntegerField(
        _("minimum age"), default=18, validators=[MaxValueValidator(99)]
    )
    max_age = models.PositiveSmallIntegerField(
        _("maximum age"), default=35, validators=[MaxValueValidator(99)]
    )
    provinces = models.ManyToManyField(
        "schools.Province", blank=True, related_name="+", verbose_name=_("provinces of residence")
    )
    communes = models.ManyToManyField(
        "schools.Commune", blank=True, related_name="+", verbose_name=_("communes of residence")
    )
    education_levels = models.JSONField(_("accepted education levels"), default=list, blank=True)
    employment_situations = models.JSONField(
        _("accepted employment situations"), default=list, blank=True
    )
    required_documents = models.JSONField(_("required documents"), default=list, blank=True)
    privacy_notice = models.ForeignKey(
        PrivacyNotice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="intakes",
        verbose_name=_("privacy notice"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = _("intake")
        verbose_name_plural = _("intakes")
        constraints = [
            models.UniqueConstraint(fields=["school", "slug"], name="intake_unique_slug"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="intake_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(min_age__lte=models.F("max_age")), name="intake_age_band"
            ),
            models.CheckConstraint(
                condition=~Q(status="open") | Q(privacy_notice__isnull=False),
                name="intake_open_needs_notice",
            ),
        ]

    def __str__(self) -> str:
        return localized(self, "title")

    def get_absolute_url(self) -> str:
        return reverse(
            "portal:intake", kwargs={"school_slug": self.school.slug, "intake_slug": self.slug}
        )

    @property
    def notice_version(self) -> int | None:
        """The version of the call's privacy notice, which a consent names (None: none yet)."""
        return None if self.privacy_notice_id is None else self.privacy_notice.version

    def accepts_applications(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.OPEN and self.opens_at <= now < self.closes_at

    def is_closed(self, now=None) -> bool:
        """Takes no more applications: past its closing date, or closed by staff (who may
        still open it again until a ranking is published)."""
        return (now or timezone.now()) >= self.closes_at or self.status == self.Status.CLOSED

    def opens_later(self, now=None) -> bool:
        """Opened by staff ahead of its opening date: it says when, and takes nothing yet."""
        return self.status == self.Status.OPEN and (now or timezone.now()) < self.opens_at


class IntakeTrack(models.Model):
    intake = models.ForeignKey(
        Intake, on_delete=models.CASCADE, related_name="intake_tracks", verbose_name=_("intake")
    )
    track = models.ForeignKey(
        "schools.Track", on_delete=models.PROTECT, related_name="+", verbose_name=_("track")
    )
    seats = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1)])
    waitlist = models.PositiveIntegerField(_("waitlist size"), default=0)

    objects = ScopedManager(school="intake__school")

    class Meta:
        ordering = ["intake", "track__name"]
        verbose_name = _("track of an intake")
        verbose_name_plural = _("tracks of an intake")
        constraints = [
            models.UniqueConstraint(fields=["intake", "track"], name="intaketrack_unique")
        ]

    def __str__(self) -> str:
        return str(self.track)


# The names ``Application.search_name`` is derived from.
NAME_FIELDS = ("first_name", "last_name", "first_name_ar", "last_name_ar")


class Application(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Eligibility(models.TextChoices):
        PENDING = "pending", _("to be checked")
        ELIGIBLE = "eligible", _("eligible")
        INELIGIBLE = "ineligible", _("not eligible")

    class Source(models.TextChoices):
        PORTAL = "portal", _("online form")
        IMPORT = "import", _("import")

    # No index of its own: the composite indexes and constraints below all start with it.
    intake = models.ForeignKey(
        Intake,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("intake"),
        db_index=False,
    )
    number = models.PositiveIntegerField(_("number"))
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    cin = models.CharField(_("CIN"), max_length=10)
    first_name = models.CharField(_("first name (Latin script)"), max_length=80)
    last_name = models.CharField(_("last name (Latin script)"), max_length=80)
    first_name_ar = models.CharField(_("first name (Arabic script)"), max_length=80, blank=True)
    last_name_ar = models.CharField(_("last name (Arabic script)"), max_length=80, blank=True)
    # The four names folded for the staff's search (``refresh_search_name``): derived, so
    # never shown nor exported, and personal data all the same (an erasure empties it). No
    # index: the search looks for words inside it, which a B-tree cannot serve, within one
    # call, whose rows are read anyway for the list's counts. A trigram index (pg_trgm) would
    # serve it, at a cost on every submission of deadline day.
    search_name = models.TextField(_("names, folded for search"), blank=True, editable=False)
    birth_date = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    phone = models.CharField(_("mobile phone"), max_length=16)
    email = models.EmailField(_("email"), blank=True)
    commune = models.ForeignKey(
        "schools.Commune", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune")
    )
    education_level = models.CharField(
        _("education level"), max_length=20, choices=EducationLevel.choices
    )
    diploma = models.CharField(_("diploma"), max_length=200, blank=True)
    employment = models.CharField(
        _("employment situation"), max_length=20, choices=Employment.choices
    )
    motivation = models.TextField(_("motivation"), max_length=2000, blank=True)
    needs_accommodation = models.BooleanField(_("needs an accommodation"), default=False)
    accommodation_consent = models.BooleanField(
        _("consents to the use of the accommodation need"), default=False
    )
    follow_up_consent = models.BooleanField(
        _("consents to the job-placement follow-up"), default=False
    )
    privacy_notice = models.ForeignKey(
        PrivacyNotice,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("privacy notice accepted"),
    )
    privacy_consent_at = models.DateTimeField(_("privacy notice accepted at"))
    # Imported: nobody accepted the notice here. Whoever imported attested that the school
    # collected the applicant's consent to it (law 09-08), or did not (an import by the
    # command without --consent-collected, or before the attestation was asked).
    consent_attested = models.BooleanField(
        # In the table too: a row written by the release before, during a rolling deploy.
        _("consent attested at the import"),
        default=False,
        db_default=False,
    )
    # Imported, and no message with her reference sent to her yet: the box left unticked,
    # the command without --notify, or the message failed. She cannot open her space until
    # staff send it (``imported_references``); the outbox clears it once one is sent.
    reference_unsent = models.BooleanField(
        _("reference not sent since the import"), default=False, db_default=False
    )
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.PORTAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    eligibility = models.CharField(
        _("eligibility"), max_length=12, choices=Eligibility.choices, default=Eligibility.PENDING
    )
    # [{"rule": "age", "params": {...}}, ...]: the rules that failed, rendered in the
    # reader's language by `eligibility.describe`.
    eligibility_reasons = models.JSONField(_("eligibility reasons"), default=list, blank=True)
    eligibility_checked_at = models.DateTimeField(_("eligibility checked at"), null=True)
    eligibility_overridden = models.BooleanField(_("decided by staff"), default=False)
    override_reason = models.TextField(_("reason of the staff decision"), blank=True)
    # The applicant changed what the rules read (date of birth, commune, education,
    # employment, a document) after staff decided: the decision stands, and the application
    # is back in the review queue until staff decide again (``services.decision_to_review``).
    changed_since_decision_at = models.DateTimeField(
        _("changed by the applicant since the staff decision"), null=True, blank=True
    )
    deletion_requested_at = models.DateTimeField(_("deletion requested at"), null=True, blank=True)
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(school="intake__school")

    class Meta:
        ordering = ["intake", "number"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            # One application per person per call, whatever the timing of the requests.
            models.UniqueConstraint(fields=["intake", "cin"], name="application_one_per_cin"),
            models.UniqueConstraint(fields=["intake", "number"], name="application_number"),
        ]
        indexes = [
            models.Index(fields=["intake", "status", "eligibility"], name="application_screen"),
            # The list sorted by name (``selectors.SORTS``).
            models.Index(
                F("intake"),
                Unaccented("last_name", index=True),
                Unaccented("first_name", index=True),
                name="application_name",
            ),
            # The rows ``search_names_backfill`` still has to fill: empty nearly always, so
            # the sweep that looks every two minutes reads a few pages, not the table.
            models.Index(
                fields=["id"],
                condition=models.Q(search_name="", erased_at__isnull=True),
                name="application_no_search_name",
            ),
            # The imported applicants still waiting for their reference: none, nearly
            # always, so the call's page counts them without reading its messages. Those
            # who left (withdrawn, erased, deletion asked) leave it with their application.
            models.Index(
                fields=["intake"],
                condition=models.Q(
                    reference_unsent=True,
                    status="submitted",
                    erased_at__isnull=True,
                    deletion_requested_at__isnull=True,
                ),
                name="application_reference_unsent",
            ),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.reference, self.first_name, self.last_name) if part)

    def save(self, *args, update_fields=None, **kwargs):
        self.refresh_search_name()
        if update_fields is not None and set(update_fields) & set(NAME_FIELDS):
            update_fields = {*update_fields, "search_name"}
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name_ar(self) -> str:
        return f"{self.first_name_ar} {self.last_name_ar}".strip()

    @property
    def first_name_for_messages(self) -> str:
        """The first name a message in the applicant's language greets: in Arabic letters
        when she writes in Arabic and gave it so."""
        return (self.language == "ar" and self.first_name_ar) or self.first_name

    @property
    def accepts_changes(self) -> bool:
        """The applicant may still correct it: submitted, the call still open, and no
        deletion asked for (what she would add now is about to be erased)."""
        return (
            self.status == self.Status.SUBMITTED
            and self.deletion_requested_at is None
            and self.intake.accepts_applications()
        )

    def refresh_search_name(self) -> None:
        """Derive ``search_name`` from the names. ``save()`` calls it; whatever writes rows
        another way (``bulk_create``, COPY, ``insert_family``'s one statement) calls it before
        (the search finds an application by this column only)."""
        self.search_name = search_key(*(getattr(self, name) for name in NAME_FIELDS))


class Wish(models.Model):
    """A track the applicant asks for, in their order of preference (1 = first choice)."""

    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="wishes",
        verbose_name=_("application"),
        db_index=False,  # the unique (application, rank) serves
    )
    track = models.ForeignKey(
        "schools.Track", on_delete=models.PROTECT, related_name="+", verbose_name=_("track")
    )
    rank = models.PositiveSmallIntegerField(_("preference"), validators=[MinValueValidator(1)])

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        ordering = ["application", "rank"]
        verbose_name = _("track wish")
        verbose_name_plural = _("track wishes")
        constraints = [
            models.UniqueConstraint(fields=["application", "rank"], name="wish_unique_rank"),
            models.UniqueConstraint(fields=["application", "track"], name="wish_unique_track"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.track}"


def _document_path(instance: "Document", filename: str) -> str:
    # A random name: the applicant's file name is kept only as metadata, never as a path.
    import uuid

    return f"private/applications/{instance.application.intake_id}/{uuid.uuid4().hex}"


class Document(models.Model):
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    file = models.FileField(_("file"), upload_to=_document_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    original_name = models.CharField(_("original file name"), max_length=120, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        ordering = ["application", "kind"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.get_kind_display()


class ApplicantCode(models.Model):
    """A one-time code that lets an applicant back into their space (no password)."""

    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="codes",
        verbose_name=_("application"),
    )
    code_hash = models.CharField(max_length=128)
    # The browser session that asked for it (a hash of a secret it holds): only there does
    # the code open the space, and only there do wrong tries count against it.
    requester = models.CharField(max_length=64, blank=True)
    # Whose allowance it was sent from (``codes.applicant_code_send``): the known browser
    # that asked (``KnownDevice.key``), or, when blank, the application's shared one, from
    # the connection that asked (the keyed hash of its IPv4 address or IPv6 /64).
    device = models.CharField(max_length=64, blank=True)
    connection = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(school="application__intake__school")

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        # The code page looks a session's codes up by this alone (``codes.applicant_code_verify``).
        indexes = [models.Index(fields=["requester"], name="applicantcode_requester")]

    def __str__(self) -> str:
        return f"{self.application_id} {self.created_at:%Y-%m-%d %H:%M}"


class AccessRequest(models.Model):
    """A reference and a CIN typed on the applicant space's door, matching or not.

    The page answers at once, the same way for every pair; a task then looks the pair up and
    sends a code when it matches (``codes.access_request_process``). So neither the answer
    nor the time it takes says whether a reference and a CIN go together. The rows are also
    the door's throttle (``codes.ACCESS_*``), and are deleted after a day (``tremplin
    resume_stalled``): they hold an IP address.
    """

    created_at = models.DateTimeField(default=timezone.now)
    # Keyed hashes, for counting: of the connection (an IP address, an IPv6 /64; for a
    # remembered browser, its device cookie) and the CIN, and of the connection alone.
    pair_key = models.CharField(max_length=64)
    ip_key = models.CharField(max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    reference = models.CharField(max_length=20)
    cin_hash = models.CharField(max_length=64)  # the CIN typed, never stored as typed
    session_hash = models.CharField(max_length=64)  # as ApplicantCode.requester
    # A keyed hash of the browser's device cookie, blank without one: the task tells by it
    # whether this browser opened the application's space before (``KnownDevice``).
    device_hash = models.CharField(max_length=64, blank=True)
    # Filled by the task when it looked the pair up: each request is processed once.
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("request for a code")
        verbose_name_plural = _("requests for a code")
        indexes = [
            models.Index(fields=["pair_key", "created_at"], name="accessrequest_pair"),
            models.Index(fields=["ip_key", "created_at"], name="accessrequest_ip"),
            models.Index(fields=["device_hash", "created_at"], name="accessrequest_device"),
            models.Index(fields=["created_at"], name="accessrequest_time"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.created_at:%Y-%m-%d %H:%M}"


class KnownDevice(models.Model):
    """A browser that opened an application's space with a code: the codes it asks for come
    from an allowance of its own, which strangers who know the reference and the CIN cannot
    use up (``codes.applicant_code_send``).

    Only a keyed hash of the application and of the browser's device cookie is kept: without
    that cookie, a row says neither which application nor which browser it is about, so it
    may outlive the application's erasure; it is forgotten once the browser has not opened
    the space for ``codes.DEVICE_REMEMBERED``.
    """

    key = models.CharField(max_length=64, unique=True)
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("known browser")
        verbose_name_plural = _("known browsers")

    def __str__(self) -> str:
        return f"{self.key[:8]} {self.opened_at:%Y-%m-%d %H:%M}"


class JobStatus(models.TextChoices):
    """The life of work done by a task: an import, a re-check of eligibility."""

    PENDING = "pending", _("waiting")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class TaskJob(models.Model):
    """Work a task does for staff, on the call it names: who asked, when its task was queued
    (one still waiting long after was lost), when a worker took it and when it ended."""

    Status = JobStatus

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("asked by"),
    )
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )

    class Meta:
        abstract = True

    @property
    def active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)


class ImportJob(models.Model):
    """One upload of a spreadsheet of applications: its dry run or its import, its progress
    and its report (bad rows with line, column and a reason code rendered per reader)."""

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", _("all or nothing")
        VALID_ONLY = "valid", _("import the valid rows")

    Status = JobStatus

    intake = models.ForeignKey(
        Intake, on_delete=models.CASCADE, related_name="import_jobs", verbose_name=_("intake")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="private/imports/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=120)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    dry_run = models.BooleanField(_("dry run"), default=True)
    # The applicant space's address, sent with their reference to each applicant the import
    # creates (the confirmation the portal sends); empty: they are not told. Kept here, as
    # the task that writes the messages has no request to take it from.
    notify_url = models.CharField(_("link sent to the applicants"), max_length=300, blank=True)
    # The language of the applicants whose row does not say (a file with no language
    # column): that of their messages and of their space.
    language = models.CharField(
        _("language of the applicants"), max_length=5, choices=settings.LANGUAGES, default="fr"
    )
    # Whoever asked for it attested that the school collected each applicant's consent to
    # the call's privacy notice (law 09-08): nobody accepted it on this platform.
    consent_attested = models.BooleanField(_("consent attested"), default=False)
    # The notice whose consent was attested: the import refuses to run if the call's
    # notice changed since (its applications would record one nobody attested).
    attested_notice = models.ForeignKey(
        "PrivacyNotice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notice attested"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    # Moves with the progress: a running job that stops moving lost its worker.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    created_count = models.PositiveIntegerField(_("applications created"), default=0)
    # Of those (would be, for a dry run), how many the call's rules find ineligible.
    ineligible_count = models.PositiveIntegerField(
        _("of which ineligible"), default=0, db_default=0
    )
    duplicate_count = models.PositiveIntegerField(_("already there"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    # [{"line": 12, "column": "cin", "code": "cin_invalid", "params": {...}}, ...]: the first
    # entries; all of them are in ``report_file`` when there are more (see import_tasks).
    report = models.JSONField(_("report"), default=list, blank=True)
    report_total = models.PositiveIntegerField(_("problems reported"), default=0)
    report_file = models.FileField(
        _("full report"), upload_to="private/import-reports/", max_length=200, blank=True
    )
    # How the headers were read: {"read": [[header, field], ...], "ignored": [header, ...],
    # "notes": {field: note}} (a note: how a whole column was read, e.g. its dates' order).
    columns = models.JSONField(_("columns"), default=dict, blank=True)

    objects = ScopedManager(school="intake__school")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ExportJob(TaskJob):
    """A list of applications, or the table of a ranking run, written to a file by a task
    (``export_tasks``): the workbook of a large call takes longer than a request may. The
    file holds personal data: only who asked for it downloads it, each download is audited,
    and it is deleted a day after it was written."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel"

    intake = models.ForeignKey(
        Intake, on_delete=models.CASCADE, related_name="export_jobs", verbose_name=_("intake")
    )
    # The ranking run whose table is exported; none: the call's list of applications.
    ranking_run = models.ForeignKey(
        "selection.RankingRun",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ranking run"),
    )
    # Moves with the progress: a running export that stops moving lost its worker. Only
    # the worker that took it (``claimed_at``) may finish it: a resume gives it a new time.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    # The list's filters as they were on screen. The search (a name, a CIN) is kept only
    # until the file is written, then recorded as the audit log records it ("*").
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    # Whether the file holds the full CIN and the accommodation needs (the role's, when
    # asked); downloading it needs that right still.
    include_identity = models.BooleanField(_("with identity"), default=False)
    # The language of its headers' labels, values and sheet direction: the asker's.
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="fr"
    )
    expected = models.PositiveIntegerField(_("applications to write"), default=0)
    written = models.PositiveIntegerField(_("applications written"), default=0)
    file = models.FileField(_("file"), upload_to="private/exports/", max_length=200, blank=True)
    # What was asked for (the call, the format, the filters, the identity): one person's
    # second click gets the export already under way (``export_tasks.export_job_start``).
    # Emptied once it ends: a hash of the search, a CIN, could be reversed by trying them.
    key = models.CharField(_("what was asked for"), max_length=64, blank=True)
    # How many times a worker took it: one that dies each time (a workbook too large for its
    # memory) is not taken for ever.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    objects = ScopedManager(school="intake__school")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "key"],
                condition=Q(status__in=["pending", "running"]),
                name="exportjob_one_active_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.intake_id}.{self.format}: {self.status}"

    @property
    def progress_percent(self) -> int:
        return min(100, int(100 * self.written / self.expected)) if self.expected else 0

    @property
    def narrowed(self) -> bool:
        """Whether the list was narrowed (searched or filtered), not only sorted."""
        return any(name != "sort" for name in self.filters)


class ReferenceCounter(models.Model):
    """The last application number given by a school in a year (see ``references``).

    Internal bookkeeping, not school data anyone reads: it keeps the default manager."""

    school = models.ForeignKey(
        "schools.School", on_delete=models.CASCADE, related_name="+", verbose_name=_("school")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")
        constraints = [
            models.UniqueConstraint(fields=["school", "year"], name="referencecounter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.school_id}-{self.year}: {self.last_number}"


class EligibilityRecheck(TaskJob):
    """Staff asked to evaluate a call's eligibility rules again for its applications: run by
    a task (``recheck_tasks``), as a call of 100,000 applications takes longer than a
    request may. It runs in one transaction, with the counts written in it: all or nothing,
    and a worker that dies leaves the applications as they were and the re-check to run
    again."""

    class Failure(models.TextChoices):
        # A ranking was published between the request and the run: its rules stand.
        RULES_FROZEN = "rules_frozen", _("the rules can no longer be checked again")
        # The rules changed between the preview and the run: not what staff were shown.
        RULES_CHANGED = "rules_changed", _("the rules changed since the preview")
        INTERNAL = "internal", _("internal error")

    intake = models.ForeignKey(
        Intake, on_delete=models.CASCADE, related_name="rechecks", verbose_name=_("intake")
    )
    # A preview evaluates the rules and writes nothing but its own counts and the changes it
    # would make; staff then apply it, which runs the re-check under the same rules.
    preview = models.BooleanField(_("preview"), default=False, db_default=False)
    # The rules evaluated (``eligibility.Rules.digest``): those a preview read, and those
    # the re-check that applies it must find.
    rules_digest = models.CharField(_("rules evaluated"), max_length=64, blank=True)
    # The applications to check when it was asked for: what its progress says it reads.
    expected = models.PositiveIntegerField(_("applications to check"), default=0)
    checked = models.PositiveIntegerField(_("applications checked"), default=0)
    changed = models.PositiveIntegerField(_("results changed"), default=0)
    # Which way the results moved, and the applicants told of their new result (would be,
    # for a preview); unknown (null) for the re-checks run before they were counted.
    became_eligible = models.PositiveIntegerField(_("became eligible"), null=True, default=0)
    became_ineligible = models.PositiveIntegerField(_("became ineligible"), null=True, default=0)
    told = models.PositiveIntegerField(_("applicants told"), null=True, default=0)
    staff_decided = models.PositiveIntegerField(_("decisions taken by staff"), default=0)
    # The ids of the applications of a preview's first ``screening.PREVIEW_LISTED``
    # changes, by number: its page reads them as they are (an erased one is not named).
    changes = models.JSONField(_("changes"), default=list, blank=True, db_default=[])
    failure = models.CharField(_("failure"), max_length=20, choices=Failure.choices, blank=True)

    objects = ScopedManager(school="intake__school")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("eligibility re-check")
        verbose_name_plural = _("eligibility re-checks")
        constraints = [
            # One at a time per call: a second click gets the one already asked for.
            models.UniqueConstraint(
                fields=["intake"],
                condition=Q(status__in=["pending", "running"]),
                name="eligibilityrecheck_one_active_per_intake",
            )
        ]

    def __str__(self) -> str:
        return f"{self.intake_id}: {self.status}"
