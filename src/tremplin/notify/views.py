"""The school's outbox, for the staff who need to know whether applicants were told."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tremplin.core.decorators import school_view
from tremplin.core.permissions import OUTBOX_VIEW
from tremplin.notify.models import Message
from tremplin.notify.selectors import outbox_counts, outbox_list


@school_view(OUTBOX_VIEW)
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    status = request.GET.get("status", "")
    if status not in Message.Status.values:
        status = ""
    page = Paginator(outbox_list(school=school, status=status), 50).get_page(
        request.GET.get("page")
    )
    counts = outbox_counts(school=school)
    return render(
        request,
        "notify/outbox.html",
        {
            "school": school,
            "page": page,
            "status": status,
            "statuses": [(value, label, counts[value]) for value, label in Message.Status.choices],
            "total": sum(counts.values()),
        },
    )
