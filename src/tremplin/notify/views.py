"""The school's outbox, for the staff who need to know whether applicants were told."""

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from tremplin.core.decorators import school_view
from tremplin.core.formatting import format_datetime
from tremplin.core.permissions import OUTBOX_MANAGE, OUTBOX_VIEW
from tremplin.core.text import parse_id
from tremplin.notify.models import Message
from tremplin.notify.selectors import (
    OutboxFilters,
    outbox_applications,
    outbox_counts,
    outbox_page,
    outbox_retryable_counts,
)
from tremplin.notify.services import (
    MESSAGE_TEMPLATES,
    message_template_label,
    message_try_now,
    messages_retry,
    retry_since,
)

# What staff can do about each kind of failure (``Message.Failure``), under its name.
FAILURE_ADVICE = {
    Message.Failure.REFUSED: _(
        "Refused: the number or the address is probably wrong. Check it with the applicant "
        "and correct it on the application's page: the message then goes to the new one. If "
        "it is right, the gateway refused the message itself: send it again once the cause "
        "is fixed."
    ),
    Message.Failure.CREDENTIALS: _(
        "The SMS gateway or the mail server refused the platform's credentials: whoever runs "
        "the platform must renew them (SMS_GATEWAY_TOKEN, EMAIL_HOST_PASSWORD), then send the "
        "failed messages again."
    ),
    Message.Failure.UNAVAILABLE: _(
        "The SMS gateway or the mail server did not answer or was out of service: the message "
        "is tried again by itself; if it ends as failed, send it again once the service is back."
    ),
    Message.Failure.OTHER: _(
        "An unexpected error: whoever runs the platform can read its technical detail."
    ),
    Message.Failure.LIMITED: _(
        "Not sent: this number or address already received several confirmations in the "
        "last 24 hours, more than a family sharing a phone needs. Someone may be using the "
        "form to flood it with messages. The application itself is recorded. Send it again "
        "if you know it is wanted."
    ),
}

# A message that expired is never tried nor sent again, whatever its last failure was.
EXPIRED_ADVICE = _(
    "Not sent: what it said (a one-time code) was no longer valid when it could go. It is "
    "not sent again; the applicant asks for a new code."
)


@school_view(OUTBOX_VIEW)
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    filters = OutboxFilters.from_params(request.GET)
    page = Paginator(outbox_page(school=school, filters=filters), 50).get_page(
        request.GET.get("page")
    )
    counts = outbox_counts(school=school, filters=filters)
    applications = outbox_applications(page.object_list)
    since = retry_since()
    retryable, too_old = outbox_retryable_counts(school=school, filters=filters, since=since)
    return render(
        request,
        "notify/outbox.html",
        {
            "school": school,
            "page": page,
            "rows": [
                (
                    m,
                    applications.get(m.pk),
                    message_template_label(m.template),
                    EXPIRED_ADVICE
                    if m.status == Message.Status.EXPIRED
                    else FAILURE_ADVICE.get(m.failure, ""),
                )
                for m in page.object_list
            ],
            "filters": filters,
            "filter_fields": filters.params(),
            "previous_page": page.has_previous()
            and filters.query(page=str(page.previous_page_number())),
            "next_page": page.has_next() and filters.query(page=str(page.next_page_number())),
            "statuses": [
                (value, label, counts[value], filters.query(status=value))
                for value, label in Message.Status.choices
            ],
            "all_statuses": filters.query(status=""),
            "channels": Message.Channel.choices,
            "templates": sorted(
                ((name, str(label)) for name, label in MESSAGE_TEMPLATES.items()),
                key=lambda choice: choice[1].casefold(),
            ),
            "total": sum(counts.values()),
            "retryable": retryable,
            "too_old": too_old,
            "retry_since": since,
            "can_retry": request.access.can(OUTBOX_MANAGE),
        },
    )


def _back_to_the_list(school, filters: OutboxFilters) -> HttpResponse:
    back = reverse("notify:outbox", kwargs={"school_slug": school.slug})
    return redirect(back + (filters.query() if filters else ""))


@school_view(OUTBOX_MANAGE)
@require_POST
def outbox_retry(request: HttpRequest) -> HttpResponse:
    """Send failed messages again: one (``message``), or those of the list as filtered
    (``selectors.OutboxFilters``), written in the last days (``services.messages_retry``)."""
    school = request.access.school
    filters = OutboxFilters.from_params(request.POST)
    message_id = parse_id(request.POST.get("message"))
    if "message" in request.POST and message_id is None:
        # One message's button, its id mangled: not the whole list's.
        flash.info(request, gettext("No failed message to send again."))
        return _back_to_the_list(school, filters)
    retried = messages_retry(
        school=school, actor=request.user, message_id=message_id, filters=filters
    )
    if retried.queued:
        said = ngettext(
            "%(count)d message will be sent again within a few seconds.",
            "%(count)d messages will be sent again within a few seconds.",
            retried.queued,
        ) % {"count": retried.queued}
    else:
        said = gettext("No failed message to send again.")
    if retried.too_old:
        said += " " + ngettext(
            "%(count)d failed message written before %(date)s was left as it is: "
            "too old to be sent again.",
            "%(count)d failed messages written before %(date)s were left as they are: "
            "too old to be sent again.",
            retried.too_old,
        ) % {"count": retried.too_old, "date": format_datetime(retried.since)}
    (flash.success if retried.queued else flash.info)(request, said)
    return _back_to_the_list(school, filters)


@school_view(OUTBOX_MANAGE)
@require_POST
def outbox_try_now(request: HttpRequest) -> HttpResponse:
    """Try now one message waiting for its next try (``services.message_try_now``)."""
    school = request.access.school
    message_id = parse_id(request.POST.get("message"))
    if message_id is not None and message_try_now(
        school=school, actor=request.user, message_id=message_id
    ):
        flash.success(request, gettext("The message will be tried again within a few seconds."))
    else:
        flash.info(
            request,
            gettext("This message no longer waits for a try: it was sent or tried meanwhile."),
        )
    return _back_to_the_list(school, OutboxFilters.from_params(request.POST))
