"""Staff pages to import applications from a spreadsheet: the upload form, the job's progress
and report (the first lines on the page, all of them to download), and the template to
download."""

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tremplin.admissions.access import access_intake
from tremplin.admissions.choices import DocumentKind
from tremplin.admissions.exporting import CONTENT_TYPES, template_workbook, write_csv
from tremplin.admissions.forms import ShownVersionField
from tremplin.admissions.import_tasks import (
    import_file_kept,
    import_job_enqueue,
    import_job_importable,
    import_job_report,
)
from tremplin.admissions.imported_references import references_count, references_send
from tremplin.admissions.importing import (
    attestation_refusal,
    describe_error,
    describe_note,
    field_label,
    import_refusal,
    report_header,
    report_rows,
)
from tremplin.admissions.importing_report import (
    FILE_PROBLEMS,
    SKIPPED_CODES,
    repeated_in_file,
)
from tremplin.admissions.models import ImportJob, Intake, IntakeTrack
from tremplin.admissions.uploads import MAX_STAFF_UPLOAD_BYTES, safe_original_name
from tremplin.core.decorators import school_view
from tremplin.core.formatting import format_list
from tremplin.core.links import site_url
from tremplin.core.permissions import APPLICATIONS_MANAGE, OUTBOX_VIEW
from tremplin.core.templatetags.tremplin import ltr_code

MAX_UPLOAD_BYTES = MAX_STAFF_UPLOAD_BYTES  # what the upload handler lets through
EXTENSIONS = (".csv", ".xlsx")
# The page shows the first problems; the download has them all.
REPORT_SHOWN = 100


CHOOSE_THE_FILE_AGAIN = gettext_lazy(
    "Choose the file again: a page sent back for a correction does not keep it."
)


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
    notify = forms.BooleanField(
        label=gettext_lazy("Send each new applicant their reference"),
        help_text=gettext_lazy(
            "By SMS, and by email when the file gives one, in the applicant's language, with "
            "the link to their applicant space: the message the online form sends. Without "
            "it, imported applicants do not know their reference. Applicants already in this "
            "call get nothing."
        ),
        required=False,
    )

    language = forms.ChoiceField(
        label=gettext_lazy("Language of the applicants whose row does not say"),
        help_text=gettext_lazy(
            "That of their messages and of their applicant space, when the file has no "
            "language column or leaves it empty: Arabic for the answers to a form in Arabic."
        ),
        choices=settings.LANGUAGES,
        required=False,  # not sent (a script, a page from before it): the page's language
    )

    # Law 09-08: the applicants of a file accepted no notice on this platform; whoever
    # imports them attests that the school collected their consent (recorded with the
    # import). A dry run writes nothing, and needs no attestation.
    consent_collected = forms.BooleanField(required=False)
    # The version of the notice the box named when the page was shown (always shown as the
    # current one).
    notice_version = ShownVersionField(required=False)

    def __init__(self, *args, intake: Intake, **kwargs):
        super().__init__(*args, **kwargs)
        self.intake = intake
        self.fields["notice_version"].initial = intake.notice_version
        self.fields["consent_collected"].label = consent_label(intake)
        required = _("Required to import, not for a dry run.")
        self.fields["consent_collected"].help_text = f"{required} {NOT_CONSENTED}"

    def clean(self):
        cleaned = super().clean()
        attested = bool(cleaned.get("consent_collected"))
        refusal = (
            None
            if cleaned.get("dry_run")
            else attestation_refusal(
                self.intake, attested=attested, shown_version=cleaned.get("notice_version")
            )
        )
        if refusal:
            self.add_error("consent_collected", refusal)
            if attested:  # to another version: shown again unticked, for the current one
                self.data = self.data.copy()
                self.data.pop("consent_collected", None)
        return cleaned

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


NOT_CONSENTED = gettext_lazy(
    "Applicants who did not consent must not be imported: they can apply with the online form."
)


def consent_label(intake: Intake) -> str:
    """What whoever imports attests, naming the notice the applications will record."""
    notice = intake.privacy_notice
    if notice is None:  # nothing can be imported (``import_refusal``)
        return _(
            "The school collected the consent of each applicant of this file to the privacy "
            "notice of this call, and keeps it."
        )
    said = _(
        "The school collected the consent of each applicant of this file to the privacy "
        "notice v%(version)s of this call (CNDP authorisation %(number)s), and keeps it."
    )
    # The number whole and left to right, also at the end of a phone's line in Arabic.
    number = ltr_code(notice.cndp_authorisation)
    return mark_safe(escape(said) % {"version": notice.version, "number": number})  # noqa: S308


def _space_url(request: HttpRequest) -> str:
    """The applicant space's address on the public site (``SITE_URL``), as the letters and
    offers give it: not the address a staff member happens to use (an internal name, a
    tunnel). The request's own where the site's address is not configured."""
    return site_url("portal:access") or request.build_absolute_uri(reverse("portal:access"))


def _job(intake: Intake, job_id: int) -> ImportJob:
    try:
        return ImportJob.objects.select_related("created_by").get(pk=job_id, intake=intake)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@school_view(APPLICATIONS_MANAGE)
@require_http_methods(["GET", "POST"])
def import_form(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """The upload form, or why nothing can be imported into this call (then a POST changes
    nothing)."""
    intake = access_intake(request, intake_slug)
    refusal = import_refusal(intake)
    # The page's language at first: the staff's, often that of the form they ran.
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"language": get_language()},
        intake=intake,
    )
    if request.method == "POST" and refusal is None and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob(
            intake=intake,
            created_by=request.user,
            original_name=safe_original_name(upload.name),
            mode=form.cleaned_data["mode"],
            dry_run=form.cleaned_data["dry_run"],
            notify_url=_space_url(request) if form.cleaned_data["notify"] else "",
            language=form.cleaned_data["language"] or get_language(),
            consent_attested=form.cleaned_data["consent_collected"],
            attested_notice_id=(
                intake.privacy_notice_id if form.cleaned_data["consent_collected"] else None
            ),
        )
        # A random name: the uploaded name is metadata, never a path.
        extension = Path(upload.name).suffix.lower()
        job.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
        job.save()
        import_job_enqueue(job)
        return redirect("admissions:import_detail", request.access.school.slug, intake.slug, job.pk)
    if form.is_bound and "file" not in form.errors and request.FILES:
        # Sent back for another answer: a browser never fills a file field again. (The
        # bound field copied its help text when the form was validated.)
        form["file"].help_text = format_lazy(
            "{} {}", CHOOSE_THE_FILE_AGAIN, form.fields["file"].help_text
        )
    jobs = list(ImportJob.objects.filter(intake=intake).select_related("created_by")[:10])
    for job in jobs:
        # Refused as a whole (a missing column, an unreadable file): no row was counted.
        job.file_refused = any(entry["code"] in FILE_PROBLEMS for entry in job.report)
    return render(
        request,
        "admissions/import_form.html",
        {
            "school": intake.school,
            "intake": intake,
            "form": form,
            "jobs": jobs,
            "refusal": refusal,
            # A spreadsheet carries no documents: the call's make every imported row
            # ineligible until the applicant sends them from her space.
            "documents": format_list(DocumentKind(k).label for k in intake.required_documents),
            "several_tracks": IntakeTrack.objects.filter(intake=intake)[1:2].exists(),
        },
        status=400 if form.is_bound else 200,
    )


@school_view(APPLICATIONS_MANAGE)
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, intake_slug: str, job_id: int) -> HttpResponse:
    """The job's progress (polled by htmx while it runs) then its report. A POST after a
    finished dry run imports the same file, in the same mode, for real; once the file is no
    longer kept, it asks for the file again and changes nothing."""
    intake = access_intake(request, intake_slug)
    job = _job(intake, job_id)
    importable = import_job_importable(job)
    file_kept = importable and import_file_kept(job)
    if request.method == "POST":
        if not importable:
            raise Http404
        refusal = import_refusal(intake)
        if refusal is not None:
            messages.error(request, refusal)
            return redirect("admissions:import_form", request.access.school.slug, intake.slug)
        refusal = attestation_refusal(
            intake,
            attested=bool(request.POST.get("consent_collected")),
            shown_version=request.POST.get("notice_version"),
        )
        if refusal:
            messages.error(request, refusal)
            return redirect(
                "admissions:import_detail", request.access.school.slug, intake.slug, job.pk
            )
        if not file_kept:
            messages.error(
                request,
                _(
                    "Nothing was imported: the file of this dry run is no longer kept (it is "
                    "deleted once imported, or a day after its dry run). Upload it again."
                ),
            )
            return redirect("admissions:import_form", request.access.school.slug, intake.slug)
        real = ImportJob.objects.create(
            intake=intake,
            created_by=request.user,
            file=job.file.name,
            original_name=job.original_name,
            mode=job.mode,
            dry_run=False,
            # Asked again with the button: a dry run's choice was made for a dry run.
            notify_url=_space_url(request) if request.POST.get("notify") else "",
            language=job.language,
            consent_attested=True,
            attested_notice_id=intake.privacy_notice_id,
        )
        import_job_enqueue(real)
        return redirect(
            "admissions:import_detail", request.access.school.slug, intake.slug, real.pk
        )
    running = job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
    shown = job.report[:REPORT_SHOWN]
    total = max(job.report_total, len(job.report))  # jobs from before report_total: the list
    # A reason people can act on (the file is gone); a crash stays a generic message.
    failed = job.report[0] if job.status == ImportJob.Status.FAILED and job.report else None
    failure = describe_error(failed) if failed and failed["code"] != "internal_error" else ""
    # What kept the whole file from being read: said above all, not as a row of the list.
    file_problems = [describe_error(e) for e in shown if e["code"] in FILE_PROBLEMS]
    shown = [e for e in shown if e["code"] not in FILE_PROBLEMS]
    # Stopped partway (a ranking published while "valid rows only" was writing): the
    # batches written before stay, and the report says so rather than "nothing imported".
    stopped = bool(file_problems) and job.created_count > 0
    notes = job.columns.get("notes", {})
    # The job keeps one count of duplicates: those of the file itself are told apart.
    repeated = repeated_in_file(notes)
    context = {
        "school": intake.school,
        "intake": intake,
        "job": job,
        "already_present": job.duplicate_count - repeated,
        "repeated": repeated,
        # Counted nowhere else: the rows would not add up (4 rows, 1 valid, 2 errors).
        "skipped": sum(1 for entry in job.report if entry.get("code") in SKIPPED_CODES),
        "running": running,
        "can_run": file_kept,
        "notify_field": ImportForm.base_fields["notify"],
        # Imported without it, by this import or another: they can be sent it now.
        "references_unsent": (
            references_count(intake)
            if not running and not job.dry_run and not job.notify_url and job.created_count
            else 0
        ),
        "consent_label": consent_label(intake) if file_kept else "",
        "notice_version": intake.notice_version,
        "file_gone": importable and not file_kept,
        "problems": [{**entry, "reason": describe_error(entry, isolated=True)} for entry in shown],
        "more_problems": total - len(shown) - len(file_problems),
        "file_problems": file_problems,
        "stopped": stopped,
        "columns_read": [
            (header, field_label(name), describe_note(notes.get(name)))
            for header, name in job.columns.get("read", [])
        ],
        "columns_ignored": job.columns.get("ignored", []),
        "failure": failure,
        "outbox": request.access.can(OUTBOX_VIEW),
    }
    template = "admissions/import_status.html" if request.headers.get("HX-Request") else None
    response = render(request, template or "admissions/import_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@school_view(APPLICATIONS_MANAGE)
@require_POST
def references_send_view(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """Send their reference to the imported applicants of the call who never got it (an
    import run without it); back to the call's page, which says how many were sent."""
    intake = access_intake(request, intake_slug)
    sent, left = references_send(intake=intake, actor=request.user, space_url=_space_url(request))
    if sent:
        messages.success(
            request,
            ngettext(
                "The imported applicant is being sent their reference by SMS, and by email "
                "when the file gave one.",
                "The %(n)s imported applicants are being sent their reference by SMS, and by "
                "email when the file gave one.",
                sent,
            )
            % {"n": sent},
        )
    if left:  # a large call: a click sends a few thousand at most
        messages.info(
            request,
            ngettext(
                "%(n)s more waits for their reference: send it with the button again.",
                "%(n)s more wait for their reference: send it with the button again.",
                left,
            )
            % {"n": left},
        )
    elif not sent:  # sent already: a second click, a colleague's
        messages.info(request, _("Every imported applicant of this call has their reference."))
    return redirect("admissions:intake_detail", request.access.school.slug, intake.slug)


@school_view(APPLICATIONS_MANAGE)
@require_GET
def import_report(request: HttpRequest, intake_slug: str, job_id: int) -> HttpResponse:
    """Every problem of the job's report as CSV (UTF-8 with a BOM, for Excel), in the reader's
    language."""
    intake = access_intake(request, intake_slug)
    job = _job(intake, job_id)
    response = HttpResponse(content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    write_csv(report_rows(import_job_report(job)), report_header(), response)
    return response


@school_view(APPLICATIONS_MANAGE)
@require_GET
def import_template(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    response = HttpResponse(template_workbook(intake), content_type=CONTENT_TYPES["xlsx"])
    filename = f"{intake.slug}-template.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
