from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tremplin.core.admin import ReadOnlyAdmin
from tremplin.notify.models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "school",
        "channel",
        "masked_recipient",
        "template",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "channel", "template", "school")
    search_fields = ("recipient", "dedupe_key", "object_id")
    date_hierarchy = "created_at"
    list_select_related = ("school",)
    # No body: it may hold an applicant's one-time code; nor the subject or the last error
    # of such a message.
    fields = (
        "school",
        "channel",
        "recipient",
        "language",
        "template",
        "subject_shown",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "failure",
        "last_error_shown",
        "created_at",
        "content_type",
        "object_id",
        "dedupe_key",
    )
    readonly_fields = fields

    # The outbox is written by services only; the admin is for looking.

    @admin.display(description=_("subject"))
    def subject_shown(self, obj: Message) -> str:
        """A message carrying a one-time code (``Message.holds_a_code``) has it in its
        subject too."""
        return _("(hidden: it holds a one-time code)") if obj.holds_a_code else obj.subject

    @admin.display(description=_("last error"))
    def last_error_shown(self, obj: Message) -> str:
        """A gateway may quote the text it refused, and with it the code."""
        if obj.holds_a_code and obj.last_error:
            return _("(hidden: it holds a one-time code)")
        return obj.last_error

    @admin.display(description=_("recipient"))
    def masked_recipient(self, obj: Message) -> str:
        return obj.recipient_masked
