"""Staff pages to import applications from a spreadsheet: the upload form, the job's progress
and report, and the template to download."""

import uuid
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from tremplin.admissions.access import access_intake
from tremplin.admissions.exporting import CONTENT_TYPES, template_workbook
from tremplin.admissions.import_tasks import import_job_enqueue
from tremplin.admissions.importing import describe_error
from tremplin.admissions.models import ImportJob, Intake
from tremplin.admissions.uploads import safe_original_name
from tremplin.core.decorators import school_view
from tremplin.core.permissions import APPLICATIONS_MANAGE

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
EXTENSIONS = (".csv", ".xlsx")
REPORT_SHOWN = 500


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("An Excel workbook (.xlsx) or a CSV file, 20 MB at most."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("If some rows have errors"),
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check the file and show what would happen, import nothing"),
        required=False,
        initial=True,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = Path(upload.name or "").suffix.lower()
        if extension not in EXTENSIONS:
            raise ValidationError(_("Only .xlsx and .csv files are accepted."), code="bad_type")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("This file is too large (at most 20 MB)."), code="too_large")
        upload.seek(0)
        head = upload.read(4)
        upload.seek(0)
        if extension == ".xlsx" and head != b"PK\x03\x04":
            raise ValidationError(_("This file is not an Excel workbook."), code="bad_type")
        return upload


def _job(intake: Intake, job_id: int) -> ImportJob:
    try:
        return ImportJob.objects.select_related("created_by").get(pk=job_id, intake=intake)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@school_view(APPLICATIONS_MANAGE)
@require_http_methods(["GET", "POST"])
def import_form(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob(
            intake=intake,
            created_by=request.user,
            original_name=safe_original_name(upload.name),
            mode=form.cleaned_data["mode"],
            dry_run=form.cleaned_data["dry_run"],
        )
        # A random name: the uploaded name is metadata, never a path.
        extension = Path(upload.name).suffix.lower()
        job.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
        job.save()
        import_job_enqueue(job)
        return redirect("admissions:import_detail", request.access.school.slug, intake.slug, job.pk)
    jobs = ImportJob.objects.filter(intake=intake).select_related("created_by")[:10]
    return render(
        request,
        "admissions/import_form.html",
        {"school": intake.school, "intake": intake, "form": form, "jobs": jobs},
        status=400 if form.is_bound else 200,
    )


def _can_run_for_real(job: ImportJob) -> bool:
    """A finished dry run whose real import would create something."""
    blocked = job.mode == ImportJob.Mode.ALL_OR_NOTHING and job.error_count
    done = job.dry_run and job.status == ImportJob.Status.DONE
    return bool(done and job.created_count and not blocked)


@school_view(APPLICATIONS_MANAGE)
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, intake_slug: str, job_id: int) -> HttpResponse:
    """The job's progress (polled by htmx while it runs) then its report. A POST after a
    finished dry run imports the same file, in the same mode, for real."""
    intake = access_intake(request, intake_slug)
    job = _job(intake, job_id)
    if request.method == "POST":
        if not _can_run_for_real(job):
            raise Http404
        real = ImportJob.objects.create(
            intake=intake,
            created_by=request.user,
            file=job.file.name,
            original_name=job.original_name,
            mode=job.mode,
            dry_run=False,
        )
        import_job_enqueue(real)
        return redirect(
            "admissions:import_detail", request.access.school.slug, intake.slug, real.pk
        )
    running = job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
    context = {
        "school": intake.school,
        "intake": intake,
        "job": job,
        "running": running,
        "can_run": _can_run_for_real(job),
        "problems": [
            {**entry, "reason": describe_error(entry)} for entry in job.report[:REPORT_SHOWN]
        ],
        "more_problems": max(0, len(job.report) - REPORT_SHOWN),
    }
    template = "admissions/import_status.html" if request.headers.get("HX-Request") else None
    response = render(request, template or "admissions/import_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@school_view(APPLICATIONS_MANAGE)
@require_GET
def import_template(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    response = HttpResponse(template_workbook(intake), content_type=CONTENT_TYPES["xlsx"])
    filename = f"{intake.slug}-template.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
