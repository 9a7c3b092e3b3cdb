"""The outbox: every email and SMS, written in the transaction of the change that causes it."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_email
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

validate_e164 = RegexValidator(
    r"^\+[1-9][0-9]{7,14}$", _("Enter a phone number in international form (+212…).")
)


def mask_recipient(recipient: str) -> str:
    """``+2126****4567`` or ``a***@example.org``: enough for staff to recognise, not to copy."""
    if "@" in recipient:
        local, _at, domain = recipient.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if len(recipient) < 10:
        return "*" * max(len(recipient) - 2, 0) + recipient[-2:]
    return recipient[:5] + "*" * (len(recipient) - 9) + recipient[-4:]


# The templates of messages carrying a one-time code (``Message.holds_a_code``).
CODE_TEMPLATES = frozenset({"applicant_code"})


class Message(models.Model):
    """One email or SMS to one person.

    Written in the same transaction as the change that causes it, so a message exists if and
    only if its cause committed; then sent by a task, with retries (see ``services``). The
    body is rendered once, at enqueue time, in the recipient's language: a retry sends the
    same text, whatever changed since.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        # Not sent: it arrived at the sender after ``expires_at`` (a one-time code that no
        # longer works would only mislead).
        EXPIRED = "expired", pgettext_lazy("message status", "expired")

    class Failure(models.TextChoices):
        """Why the last attempt failed, as staff can act on it (``services.failure_kind``)."""

        # For good: an unknown number, a mailbox that does not exist. No retry can help.
        REFUSED = "refused", _("recipient or message refused")
        # The gateway's token or the mail server's password: for whoever runs the platform.
        CREDENTIALS = "credentials", _("the platform's credentials refused")
        # No answer, an error of the server, too many messages at once: it passes.
        UNAVAILABLE = "unavailable", _("gateway or mail server unavailable")
        OTHER = "other", _("unexpected error")
        # Not tried: too many confirmations went to this recipient in a day, more than a
        # family sharing a phone needs (``services.CONFIRMATIONS_PER_RECIPIENT``).
        LIMITED = "limited", _("too many confirmations to this recipient")

    school = models.ForeignKey(
        "schools.School",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbox_messages",
        verbose_name=_("school"),
        db_index=False,  # the index (school, -created_at) serves
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    template = models.CharField(_("template"), max_length=100)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("not to be sent after"),
        null=True,
        blank=True,
        help_text=_("A message whose content is worthless later, such as a one-time code."),
    )
    # Staff sent it again past the limit of confirmations to its recipient (one by one,
    # ``services.messages_retry``): the limit does not hold it back again.
    limit_waived = models.BooleanField(_("sent past the limit"), default=False)
    last_error = models.TextField(_("last error"), blank=True)
    failure = models.CharField(_("failure"), max_length=12, choices=Failure.choices, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("object type"),
        db_index=False,  # the index (content_type, object_id) serves
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, blank=True)
    # Files sent with an email: [{"path": storage name, "filename": ..., "mimetype": ...}].
    # The message owns its copies (private/outbox/), so a later change of the source (a
    # letter rendered again) never changes what a retry sends.
    attachments = models.JSONField(_("attachments"), default=list, blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            # A repeated request (double click, retried POST) finds the first message instead
            # of sending a second one.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notify_message_unique_dedupe_key",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "-created_at"], name="notify_school_time"),
            # The messages of one application: its erasure (the retention sweep erases
            # thousands), its data download, the outbox's search by reference.
            models.Index(fields=["content_type", "object_id"], name="notify_object"),
            # How many confirmations a recipient got in a day (``services._over_the_limit``),
            # an email address in whatever case it was typed. Partial: a row enters it when
            # sent, not on the insert of deadline day.
            models.Index(
                Lower("recipient"),
                "sent_at",
                condition=models.Q(status="sent"),
                name="notify_sent_to",
            ),
            # The sweep's query. Partial, so the sent history (nearly every row) stays out.
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="notify_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.template} → {self.recipient_masked}"

    def clean(self) -> None:
        validator = validate_email if self.channel == self.Channel.EMAIL else validate_e164
        try:
            validator(self.recipient)
        except ValidationError as exc:
            raise ValidationError({"recipient": exc.messages}) from None

    @property
    def holds_a_code(self) -> bool:
        """Whether it carries a one-time code, which nobody but its recipient may read: the
        outbox hides its text and its technical detail (a gateway may quote the text refused),
        the admin its subject (it shows no body at all). Every message with an expiry, and
        every code message whenever it was written."""
        return self.expires_at is not None or self.template in CODE_TEMPLATES

    @property
    def recipient_masked(self) -> str:
        return mask_recipient(self.recipient)
