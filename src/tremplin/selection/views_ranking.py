"""Staff pages of the scheme and of ranking runs: run, follow, compare, publish, export."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tremplin.admissions import export_tasks
from tremplin.admissions.access import access_intake
from tremplin.admissions.models import ExportJob, Intake, IntakeTrack
from tremplin.admissions.services import identity_search_record
from tremplin.core.decorators import school_view
from tremplin.core.feedback import refused
from tremplin.core.permissions import (
    APPLICATIONS_EXPORT,
    IDENTITY_VIEW,
    RANKING_MANAGE,
    SELECTION_MANAGE,
)
from tremplin.core.text import parse_id
from tremplin.selection import ranking_results
from tremplin.selection.forms_ranking import PublishForm, SchemeForms
from tremplin.selection.models import RankingResult, RankingRun
from tremplin.selection.offers import OfferError
from tremplin.selection.ranking import publication_blockers, ranking_publish, ranking_run_start
from tremplin.selection.ranking_compare import compare_runs
from tremplin.selection.schemes import (
    published_run,
    scheme_draw_seed,
    scheme_get_or_create,
    scheme_save,
)

PAGE_SIZE = 100


def access_run(intake: Intake, run_number: int) -> RankingRun:
    """The run `run_number` of `intake` (already fetched in the school's scope); 404 else."""
    try:
        run = RankingRun.objects.select_related("created_by", "published_by").get(
            intake=intake, number=run_number
        )
    except RankingRun.DoesNotExist:
        raise Http404 from None
    run.intake = intake
    return run


def _tracks(intake: Intake) -> list[IntakeTrack]:
    return list(IntakeTrack.objects.filter(intake=intake).select_related("track"))


# --- The scheme --------------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def scheme(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    selection = scheme_get_or_create(intake)
    locked_by = published_run(intake)
    tracks = _tracks(intake)
    data = request.POST if request.method == "POST" else None
    forms = SchemeForms(data, scheme=selection, tracks=tracks, disabled=locked_by is not None)
    errors: list[str] = []
    if request.method == "POST":
        if locked_by is not None:
            errors.append(_("The scheme can no longer change: a run is published."))
        elif forms.is_valid():
            try:
                scheme_save(scheme=selection, actor=request.user, **forms.save_kwargs())
            except ValidationError as error:
                errors += error.messages
            else:
                messages.success(request, _("The selection scheme is saved."))
                return redirect("selection:scheme", intake.school.slug, intake.slug)
    return render(
        request,
        "selection/ranking/scheme.html",
        {
            "school": intake.school,
            "intake": intake,
            "scheme": selection,
            "forms": forms,
            "errors": errors,
            "locked_by": locked_by,
            "several": len(tracks) > 1,
            "can_rank": request.access.can(RANKING_MANAGE),
        },
        status=400 if request.method == "POST" else 200,
    )


@school_view(SELECTION_MANAGE)
@require_POST
def scheme_seed(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    try:
        scheme_draw_seed(scheme=scheme_get_or_create(intake), actor=request.user)
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(request, _("A new lottery seed is drawn."))
    return redirect("selection:scheme", intake.school.slug, intake.slug)


# --- Runs --------------------------------------------------------------------------------


@school_view(RANKING_MANAGE)
@require_GET
def rankings(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    runs = RankingRun.objects.filter(intake=intake).select_related("created_by", "published_by")
    return render(
        request,
        "selection/ranking/runs.html",
        {
            "school": intake.school,
            "intake": intake,
            "runs": runs,
            "scheme": scheme_get_or_create(intake),
            "can_scheme": request.access.can(SELECTION_MANAGE),
        },
    )


@school_view(RANKING_MANAGE)
@require_POST
def ranking_start(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    run = ranking_run_start(intake=intake, actor=request.user)
    return redirect("selection:ranking_run", intake.school.slug, intake.slug, run.number)


def _running(run: RankingRun) -> bool:
    return run.status in (RankingRun.Status.PENDING, RankingRun.Status.RUNNING)


@school_view(RANKING_MANAGE)
@require_GET
def ranking_run(request: HttpRequest, intake_slug: str, run_number: int) -> HttpResponse:
    """The run: its progress while it runs (polled by htmx), then its results table."""
    intake = access_intake(request, intake_slug)
    run = access_run(intake, run_number)
    context = {"school": intake.school, "intake": intake, "run": run, "running": _running(run)}
    if request.headers.get("HX-Request"):
        response = render(request, "selection/ranking/_run_status.html", context)
        if not _running(run):
            response["HX-Refresh"] = "true"  # the finished page has the results
        patch_vary_headers(response, ["HX-Request"])
        return response
    if run.status == RankingRun.Status.DONE:
        context.update(_results_context(request, intake, run))
    response = render(request, "selection/ranking/run.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _mark(value: str | None) -> Decimal | str | None:
    """A stored mark ("12.50", "absent" or None) as something the template localises."""
    return Decimal(value) if value not in (None, "absent") else value


def _results_context(request: HttpRequest, intake: Intake, run: RankingRun) -> dict:
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    identity_search_record(intake=intake, search=params.get("q"), actor=request.user)
    results = ranking_results.results_filtered(run, params)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    tracks = ranking_results.track_names(run)
    columns = ranking_results.component_columns(run)
    rows = [
        {
            "result": r,
            "marks": [(c.name, _mark(r.marks.get(c.code))) for c in columns],
            "reason": ranking_results.reason_label(r.reason),
            "track": tracks.get(r.track_id, ""),
            "quota": ranking_results.QUOTA_LABELS.get(r.called_by_quota, r.called_by_quota),
        }
        for r in page
    ]
    summary = run.summary
    cutoffs = [
        {
            "name": tracks.get(int(key), "") if key else "",
            "seats": summary.get("seats", {}).get(key),
            "waitlist": summary.get("waitlist", {}).get(key),
            "cutoff": _mark(cutoff),
            "quota": {
                ranking_results.QUOTA_LABELS.get(g, g): _mark(v)
                for g, v in summary.get("quota_cutoffs", {}).get(key, {}).items()
            },
        }
        for key, cutoff in summary.get("cutoffs", {}).items()
    ]
    checks = [
        {**c, "label": ranking_results.CHECK_LABELS.get(c["name"], c["name"])} for c in run.checks
    ]
    previous = (
        RankingRun.objects.filter(intake=intake, number__lt=run.number, status="done")
        .values_list("number", flat=True)
        .first()
    )
    return {
        "page": page,
        "rows": rows,
        "columns": columns,
        "params": params,
        "query": urlencode(params),
        "outcomes": RankingResult.Outcome.choices,
        "counts": summary.get("counts", {}),
        "cutoffs": cutoffs,
        "checks": checks,
        "several": run.parameters.get("mode") == "several",
        "track_choices": sorted(tracks.items(), key=lambda t: t[1]),
        "previous": previous,
        "blockers": publication_blockers(run),
        **_export_context(request, intake, run),
    }


def _export_context(request: HttpRequest, intake: Intake, run: RankingRun) -> dict:
    """The run's export button, and the reader's exports of its table still running or kept."""
    if not request.access.can(APPLICATIONS_EXPORT):
        return {"can_export": False}
    return {
        "can_export": True,
        # Larger, its workbook is written by a task (export_tasks).
        "workbook_in_request": ranking_results.results_count(run) <= export_tasks.IN_REQUEST,
        "exports": export_tasks.exports_recent(intake, request.user, ranking_run=run),
    }


@school_view(RANKING_MANAGE)
@require_GET
def ranking_compare(request: HttpRequest, intake_slug: str, run_number: int) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    run = access_run(intake, run_number)
    done = list(
        RankingRun.objects.filter(intake=intake, status=RankingRun.Status.DONE)
        .exclude(pk=run.pk)
        .values_list("number", flat=True)
    )
    wanted = request.GET.get("with", "")
    if parse_id(wanted) in done:
        other_number = int(wanted)
    else:
        earlier = [n for n in done if n < run.number]
        other_number = max(earlier) if earlier else (max(done) if done else None)
    context = {
        "school": intake.school,
        "intake": intake,
        "run": run,
        "choices": done,
        # Changed only, unless asked for everyone (the box sends 1 over a hidden 0).
        "changed_only": request.GET.get("changed", "1") != "0",
    }
    if other_number is not None and run.status == RankingRun.Status.DONE:
        other = access_run(intake, other_number)
        changes, movements = compare_runs(run, other)
        shown = [m for m in movements if m.changed] if context["changed_only"] else movements
        context.update(
            {
                "other": other,
                "changes": changes,
                "movements": shown,
                "changed_count": sum(1 for m in movements if m.changed),
                "total": len(movements),
                "outcomes": dict(RankingResult.Outcome.choices),
            }
        )
    return render(request, "selection/ranking/compare.html", context)


@school_view(RANKING_MANAGE)
@require_http_methods(["GET", "POST"])
def ranking_publish_view(request: HttpRequest, intake_slug: str, run_number: int) -> HttpResponse:
    """Confirm (counts and seed), then publish with a comment, in the officer's name."""
    intake = access_intake(request, intake_slug)
    run = access_run(intake, run_number)
    form = PublishForm(request.POST or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            ranking_publish(run=run, actor=request.user, comment=form.cleaned_data["comment"])
        except ValidationError as error:
            errors = error.messages
        except OfferError as error:  # the offers could not open: nothing was published
            errors = [str(error)]
        else:
            messages.success(
                request,
                _("Run #%(number)s is published: offers are open and the decisions are sent.")
                % {"number": run.number},
            )
            return redirect("selection:ranking_run", intake.school.slug, intake.slug, run.number)
    return render(
        request,
        "selection/ranking/publish.html",
        {
            "school": intake.school,
            "intake": intake,
            "run": run,
            "form": form,
            "errors": errors,
            "blockers": publication_blockers(run),
            "counts": run.summary.get("counts", {}),
        },
        status=400 if request.method == "POST" else 200,
    )


def _exportable_run(
    request: HttpRequest, intake_slug: str, run_number: int
) -> tuple[Intake, RankingRun]:
    """The call and its finished run whose table the reader may export (else 404)."""
    if not request.access.can(APPLICATIONS_EXPORT):
        raise Http404
    intake = access_intake(request, intake_slug)
    run = access_run(intake, run_number)
    if run.status != RankingRun.Status.DONE:
        raise Http404
    return intake, run


@school_view(RANKING_MANAGE)
@require_GET
def ranking_export(request: HttpRequest, intake_slug: str, run_number: int) -> HttpResponse:
    """The run's table as a workbook, audited; the CIN in full only for the roles that may
    see it. A table of more than ``export_tasks.IN_REQUEST`` rows is written by a task: this
    page then says so and offers to ask for it."""
    intake, run = _exportable_run(request, intake_slug, run_number)
    if (count := ranking_results.results_count(run)) > export_tasks.IN_REQUEST:
        return render(
            request,
            "selection/ranking/export_large.html",
            {"intake": intake, "school": intake.school, "run": run, "count": count},
        )
    response = HttpResponse(content_type=ranking_results.XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="{ranking_results.export_filename(run)}"'
    )
    ranking_results.results_export(
        run=run,
        include_identity=request.access.can(IDENTITY_VIEW),
        actor=request.user,
        out=response,
    )
    return response


@school_view(RANKING_MANAGE)
@require_POST
def ranking_export_create(request: HttpRequest, intake_slug: str, run_number: int) -> HttpResponse:
    """Ask for the run's table to be written by a task; the export's page follows."""
    intake, run = _exportable_run(request, intake_slug, run_number)
    job, started = export_tasks.export_job_start(
        intake=intake,
        actor=request.user,
        fmt=ExportJob.Format.XLSX,
        filters={},
        include_identity=request.access.can(IDENTITY_VIEW),
        ranking_run=run,
    )
    if not started:
        messages.info(request, _("This export was already asked for: here is how it goes."))
    return redirect("admissions:export_detail", intake.school.slug, intake.slug, job.pk)
