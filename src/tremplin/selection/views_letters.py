"""Letters: downloads for the applicant and for staff, and a batch's progress."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tremplin.admissions.access import access_intake
from tremplin.admissions.models import Application
from tremplin.admissions.views_portal import applicant_required
from tremplin.core.decorators import school_view
from tremplin.core.permissions import APPLICATIONS_VIEW, IDENTITY_VIEW, SELECTION_MANAGE
from tremplin.selection.letters import (
    access_letter,
    access_letter_batch,
    letter_batch_retry,
    letter_filename,
)
from tremplin.selection.models import Letter, LetterBatch


def _download(letter: Letter) -> FileResponse:
    response = FileResponse(
        letter.file.open("rb"),
        as_attachment=True,
        filename=letter_filename(letter),
        content_type="application/pdf",
    )
    # Personal data: never kept by a shared cache or the browser's history.
    patch_cache_control(response, private=True, no_store=True)
    return response


@applicant_required
@require_GET
def applicant_letter(request: HttpRequest, application: Application, letter_id: int):
    """One of the applicant's own letters (404 for anyone else's)."""
    letter = (
        Letter.objects.filter(pk=letter_id, application=application)
        .exclude(file="")
        .select_related("application")
        .first()
    )
    if letter is None:
        raise Http404
    return _download(letter)


# Letters print the applicant's CIN: the same permission as seeing it on the pages.
@school_view(IDENTITY_VIEW)
@require_GET
def staff_letter(request: HttpRequest, letter_id: int) -> FileResponse:
    return _download(access_letter(request, letter_id))


@school_view(APPLICATIONS_VIEW)
@require_GET
def batch_list(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """The intake's recent batches of letters."""
    intake = access_intake(request, intake_slug)
    batches = LetterBatch.objects.filter(intake=intake).select_related("created_by")[:50]
    return render(
        request,
        "selection/letters/batch_list.html",
        {"school": intake.school, "intake": intake, "batches": batches},
    )


@school_view(APPLICATIONS_VIEW)
@require_GET
def batch_detail(request: HttpRequest, intake_slug: str, letter_batch_id: int) -> HttpResponse:
    """A batch's progress (polled by htmx while it runs), then its letters."""
    intake = access_intake(request, intake_slug)
    batch = access_letter_batch(request, intake, letter_batch_id)
    running = batch.status in (LetterBatch.Status.PENDING, LetterBatch.Status.RUNNING)
    context = {
        "school": intake.school,
        "intake": intake,
        "batch": batch,
        "running": running,
        "letters": []
        if running
        else list(
            batch.letters.exclude(file="")
            .select_related("application")
            .order_by("application__number")[:500]
        ),
        "can_retry": batch.status == LetterBatch.Status.FAILED
        and SELECTION_MANAGE in request.access.permissions,
    }
    partial = request.headers.get("HX-Request")
    template = "selection/letters/_batch_status.html" if partial else "selection/letters/batch.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@school_view(SELECTION_MANAGE)
@require_POST
def batch_retry(request: HttpRequest, intake_slug: str, letter_batch_id: int) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    batch = access_letter_batch(request, intake, letter_batch_id)
    if letter_batch_retry(batch=batch):
        messages.success(request, _("The batch starts again."))
    return redirect("selection:letter_batch", request.access.school.slug, intake.slug, batch.pk)
