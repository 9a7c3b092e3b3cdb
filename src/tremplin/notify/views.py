"""The school's outbox, for the staff who need to know whether applicants were told."""

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from tremplin.core.decorators import school_view
from tremplin.core.permissions import OUTBOX_MANAGE, OUTBOX_VIEW
from tremplin.notify.models import Message
from tremplin.notify.selectors import outbox_applications, outbox_counts, outbox_list
from tremplin.notify.services import messages_retry


@school_view(OUTBOX_VIEW)
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    status = request.GET.get("status", "")
    if status not in Message.Status.values:
        status = ""
    reference = request.GET.get("ref", "").strip()[:40]
    page = Paginator(outbox_list(school=school, status=status, reference=reference), 50).get_page(
        request.GET.get("page")
    )
    counts = outbox_counts(school=school)
    applications = outbox_applications(page.object_list)
    return render(
        request,
        "notify/outbox.html",
        {
            "school": school,
            "page": page,
            "rows": [(m, applications.get(m.pk)) for m in page.object_list],
            "status": status,
            "reference": reference,
            "statuses": [(value, label, counts[value]) for value, label in Message.Status.choices],
            "total": sum(counts.values()),
            "failed": counts[Message.Status.FAILED],
            "can_retry": request.access.can(OUTBOX_MANAGE),
        },
    )


@school_view(OUTBOX_MANAGE)
@require_POST
def outbox_retry(request: HttpRequest) -> HttpResponse:
    """Send failed messages again: one (``message``) or every failed one of the school."""
    school = request.access.school
    message_id = request.POST.get("message", "")
    count = messages_retry(
        school=school,
        actor=request.user,
        message_id=int(message_id) if message_id.isdigit() else None,
    )
    if count:
        flash.success(
            request,
            ngettext(
                "%(count)d message will be sent again within a few seconds.",
                "%(count)d messages will be sent again within a few seconds.",
                count,
            )
            % {"count": count},
        )
    else:
        flash.info(request, gettext("No failed message to send again."))
    return redirect("notify:outbox", school_slug=school.slug)
