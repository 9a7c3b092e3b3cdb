"""Staff exports of the applications list: in the request for a CSV and for a workbook of
up to ``export_tasks.IN_REQUEST`` applications; by a task for a larger workbook, with its
page (progress, then the file to download) kept for who asked for it. A large ranking run's
table (``selection.views_ranking``) has the same page."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tremplin.admissions import export_tasks, exporting, selectors, services
from tremplin.admissions.access import access_intake
from tremplin.admissions.export_tasks import (
    export_downloadable,
    export_expires_at,
    export_filters,
    export_job_start,
    export_state,
)
from tremplin.admissions.models import ExportJob, Intake
from tremplin.core.audit import log_action
from tremplin.core.decorators import school_view
from tremplin.core.permissions import APPLICATIONS_EXPORT, IDENTITY_VIEW, RANKING_MANAGE
from tremplin.selection.ranking_results import export_filename as ranking_export_filename


@school_view(APPLICATIONS_EXPORT)
@require_GET
def application_export(request: HttpRequest, intake_slug: str, fmt: str) -> HttpResponse:
    """The list as it is filtered on screen, as CSV or XLSX; identity columns only for the
    roles that may see them. The export is audited. The CSV is streamed: its first bytes
    leave at once, however large the call (100,000 applications take about ten seconds);
    a workbook is whole before it can be sent, so a workbook of more than ``IN_REQUEST``
    applications is written by a task: this page then says so and offers to ask for it."""
    intake = access_intake(request, intake_slug)
    if fmt not in exporting.FORMATS:
        raise Http404
    queryset = selectors.applications_filtered(intake, request.GET)
    if fmt == "xlsx" and (count := queryset.count()) > export_tasks.IN_REQUEST:
        return render(
            request,
            "admissions/staff/export_large.html",
            {
                "intake": intake,
                "school": intake.school,
                "count": count,
                "filters": export_filters(request.GET),
            },
        )
    # Recorded when the list leaves here; that page's button records it when it asks.
    services.identity_search_record(
        intake=intake, search=request.GET.get(selectors.SEARCH), actor=request.user
    )
    export = {
        "intake": intake,
        "queryset": queryset,
        "include_identity": request.access.can(IDENTITY_VIEW),
        "actor": request.user,
        "filters": {k: v for k, v in request.GET.items() if v},
    }
    if fmt == "csv":
        response = StreamingHttpResponse(
            exporting.applications_csv_stream(**export), content_type=exporting.CONTENT_TYPES[fmt]
        )
    else:
        response = HttpResponse(content_type=exporting.CONTENT_TYPES[fmt])
        exporting.applications_export(**export, fmt=fmt, out=response)
    filename = exporting.export_filename(intake, fmt, filters=export_filters(request.GET))
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@school_view(APPLICATIONS_EXPORT)
@require_POST
def export_create(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """Ask for the list as filtered on screen to be written by a task; its page follows."""
    intake = access_intake(request, intake_slug)
    fmt = request.POST.get("format")
    if fmt not in exporting.FORMATS:
        raise Http404
    filters = export_filters(request.POST)
    job, started = export_job_start(
        intake=intake,
        actor=request.user,
        fmt=fmt,
        filters=filters,
        include_identity=request.access.can(IDENTITY_VIEW),
    )
    if started:  # a second click searched nothing more
        services.identity_search_record(
            intake=intake, search=filters.get(selectors.SEARCH), actor=request.user
        )
    else:
        messages.info(request, _("This export was already asked for: here is how it goes."))
    return redirect("admissions:export_detail", intake.school.slug, intake.slug, job.pk)


def _own_export(request: HttpRequest, intake: Intake, export_id: int) -> ExportJob:
    """One of the asker's own exports of ``intake``: a colleague's file is theirs (404)."""
    return get_object_or_404(
        ExportJob.objects.select_related("created_by", "ranking_run__intake"),
        pk=export_id,
        intake=intake,
        created_by=request.user,
    )


@school_view(APPLICATIONS_EXPORT)
@require_GET
def export_detail(request: HttpRequest, intake_slug: str, export_id: int) -> HttpResponse:
    """The export's progress, polled by htmx while it is written, then its file to download
    (until it is deleted), or why it failed."""
    intake = access_intake(request, intake_slug)
    job = _own_export(request, intake, export_id)
    polled = request.headers.get("HX-Request")
    context = {
        "intake": intake,
        "school": intake.school,
        "job": job,
        "run": job.ranking_run,
        "state": export_state(job),
        "expires_at": export_expires_at(job),
        "list_query": _list_query(job),
    }
    template = "admissions/staff/_export_status.html" if polled else None
    response = render(request, template or "admissions/staff/export_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _list_query(job: ExportJob) -> str:
    """The list the export was asked from, as a query string: without its search, which
    the export forgets once written."""
    return urlencode({k: v for k, v in job.filters.items() if k != selectors.SEARCH})


@school_view(APPLICATIONS_EXPORT)
@require_GET
def export_download(request: HttpRequest, intake_slug: str, export_id: int) -> HttpResponse:
    """The written file, to whoever asked for it, while it is kept; each download audited.
    Not written yet, or no longer kept: the export's page, which says why."""
    intake = access_intake(request, intake_slug)
    job = _own_export(request, intake, export_id)
    if job.include_identity and not request.access.can(IDENTITY_VIEW):
        raise PermissionDenied  # the role changed since: the file holds full CINs
    if job.ranking_run_id and not request.access.can(RANKING_MANAGE):
        raise PermissionDenied  # as the run's page, which asked for it
    try:
        stored = job.file.open("rb") if export_downloadable(job) else None
    except FileNotFoundError:  # deleted meanwhile by the sweep, or lost by the storage
        stored = None
    if stored is None:
        return redirect("admissions:export_detail", intake.school.slug, intake.slug, job.pk)
    run = job.ranking_run
    log_action(
        "tremplin.selection.ranking.export_downloaded"
        if run
        else "tremplin.applications.export_downloaded",
        actor=request.user,
        school=intake.school,
        obj=intake,
        data={
            "export": job.pk,
            "format": job.format,
            "count": job.written,
            "identity": job.include_identity,
            **({"ranking_run": run.number} if run else {}),
        },
    )
    return FileResponse(
        stored,
        as_attachment=True,
        filename=(
            ranking_export_filename(run, at=job.finished_at)
            if run
            else exporting.export_filename(
                intake, job.format, at=job.finished_at, filters=job.filters
            )
        ),
        content_type=exporting.CONTENT_TYPES[job.format],
    )
