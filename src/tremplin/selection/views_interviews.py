"""Staff pages of the interviews: panels, slots, assignment, conflicts of interest,
convocations, attendance, the rubric and the review of the jurors' marks."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tremplin.admissions.access import access_intake
from tremplin.core.decorators import school_view
from tremplin.core.feedback import refused
from tremplin.core.models import User
from tremplin.core.permissions import SELECTION_MANAGE
from tremplin.selection import interviews
from tremplin.selection.access_assessment import (
    access_conflict,
    access_intake_application,
    access_interview_component,
    access_panel,
    access_slot,
)
from tremplin.selection.forms_assessment import (
    CriterionForm,
    CriterionFormSet,
    PanelForm,
    ReasonForm,
    ReferenceForm,
    SlotsGenerateForm,
    StaffConflictForm,
)
from tremplin.selection.interviews_rubric import criteria_save
from tremplin.selection.models import (
    ConflictOfInterest,
    Criterion,
    InterviewSlot,
    Mark,
    Panel,
    ScoreSheet,
)


def _interview(request: HttpRequest, intake_slug: str, interview_code: str):
    intake = access_intake(request, intake_slug)
    return intake, access_interview_component(intake, interview_code)


def _context(intake, component, **extra) -> dict:
    return {"intake": intake, "school": intake.school, "component": component, **extra}


def _back(intake, component, panel_id: int | None = None):
    if panel_id is not None:
        return redirect(
            "selection:interview_slots", intake.school.slug, intake.slug, component.code, panel_id
        )
    return redirect("selection:interview_panels", intake.school.slug, intake.slug, component.code)


# --- Panels ---------------------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_GET
def interview_panels(request: HttpRequest, intake_slug: str, interview_code: str) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    panels = list(
        Panel.objects.filter(component=component)
        .prefetch_related(Prefetch("jurors", queryset=User.objects.order_by("last_name")))
        .annotate(
            n_slots=Count("slots", distinct=True),
            n_booked=Count("slots", filter=Q(slots__application__isnull=False), distinct=True),
        )
    )
    candidates, left_out = interviews.interview_candidates(component)
    booked = set(
        InterviewSlot.objects.filter(component=component, application__isnull=False).values_list(
            "application_id", flat=True
        )
    )
    reasons: dict[str, int] = {}
    for reason in left_out.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    return render(
        request,
        "selection/assessment/interview_panels.html",
        _context(
            intake,
            component,
            panels=panels,
            candidates=len(candidates),
            waiting=sum(1 for a in candidates if a.pk not in booked),
            left_out=[(interviews.REASONS[k], n) for k, n in sorted(reasons.items())],
            unconvened=InterviewSlot.objects.filter(
                component=component, application__isnull=False, convened_at__isnull=True
            ).count(),
        ),
    )


def _panel_form_page(request, intake, component, panel: Panel) -> HttpResponse:
    form = PanelForm(request.POST or None, instance=panel, school=intake.school)
    if request.method == "POST" and form.is_valid():
        try:
            interviews.panel_save(
                panel=form.save(commit=False),
                jurors=list(form.cleaned_data["jurors"]),
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The panel is saved."))
            return _back(intake, component)
    return render(
        request,
        "selection/assessment/interview_panel_form.html",
        _context(intake, component, form=form, panel=panel),
        status=400 if request.method == "POST" else 200,
    )


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def interview_panel_create(
    request: HttpRequest, intake_slug: str, interview_code: str
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    return _panel_form_page(request, intake, component, Panel(component=component))


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def interview_panel_edit(
    request: HttpRequest, intake_slug: str, interview_code: str, panel_id: int
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    return _panel_form_page(request, intake, component, access_panel(component, panel_id))


@school_view(SELECTION_MANAGE)
@require_POST
def interview_panel_delete(
    request: HttpRequest, intake_slug: str, interview_code: str, panel_id: int
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    try:
        interviews.panel_delete(panel=access_panel(component, panel_id), actor=request.user)
    except ValidationError as error:
        refused(request, error)
        return _back(intake, component, panel_id)
    messages.success(request, _("The panel is deleted."))
    return _back(intake, component)


# --- Slots ----------------------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_GET
def interview_slots(
    request: HttpRequest, intake_slug: str, interview_code: str, panel_id: int
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    panel = access_panel(component, panel_id)
    jurors = list(panel.jurors.order_by("last_name"))
    slots = list(
        InterviewSlot.objects.filter(panel=panel)
        .select_related("application")
        .annotate(
            n_submitted=Count(
                "application__score_sheets",
                filter=Q(
                    application__score_sheets__component=component,
                    application__score_sheets__status=ScoreSheet.Status.SUBMITTED,
                ),
            )
        )
        .order_by("starts_at")
    )
    conflicted = set(
        ConflictOfInterest.objects.filter(
            juror__in=jurors, application_id__in=[s.application_id for s in slots]
        ).values_list("application_id", flat=True)
    )
    for slot in slots:
        slot.conflict = slot.application_id in conflicted
        slot.day = timezone.localtime(slot.starts_at).date()
    return render(
        request,
        "selection/assessment/interview_slots.html",
        _context(
            intake,
            component,
            panel=panel,
            jurors=jurors,
            slots=slots,
            form=SlotsGenerateForm(),
            empty=sum(1 for s in slots if s.application_id is None),
        ),
    )


@school_view(SELECTION_MANAGE)
@require_POST
def interview_slots_generate(
    request: HttpRequest, intake_slug: str, interview_code: str, panel_id: int
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    panel = access_panel(component, panel_id)
    form = SlotsGenerateForm(request.POST)
    if form.is_valid():
        try:
            count = interviews.slots_generate(panel=panel, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            refused(request, error)
        else:
            messages.success(
                request,
                ngettext("%(n)s slot created.", "%(n)s slots created.", count) % {"n": count},
            )
    else:
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, message)
    return _back(intake, component, panel.pk)


@school_view(SELECTION_MANAGE)
@require_POST
def interview_slot_delete(
    request: HttpRequest, intake_slug: str, interview_code: str, slot_id: int
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    slot = access_slot(component, slot_id)
    try:
        interviews.slots_delete_empty(panel=slot.panel, slot=slot, actor=request.user)
    except ValidationError as error:
        refused(request, error)
    return _back(intake, component, slot.panel_id)


@school_view(SELECTION_MANAGE)
@require_POST
def interview_slots_delete_empty(
    request: HttpRequest, intake_slug: str, interview_code: str, panel_id: int
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    panel = access_panel(component, panel_id)
    count = interviews.slots_delete_empty(panel=panel, actor=request.user)
    messages.success(
        request, ngettext("%(n)s slot deleted.", "%(n)s slots deleted.", count) % {"n": count}
    )
    return _back(intake, component, panel.pk)


@school_view(SELECTION_MANAGE)
@require_POST
def interview_slot_assign(
    request: HttpRequest, intake_slug: str, interview_code: str, slot_id: int
) -> HttpResponse:
    """Put an applicant (by reference) in a slot, or free it: refused on a conflict."""
    intake, component = _interview(request, intake_slug, interview_code)
    slot = access_slot(component, slot_id)
    form = ReferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("No application of this call has this reference."))
        return _back(intake, component, slot.panel_id)
    reference = form.cleaned_data["reference"]
    application = access_intake_application(intake, reference) if reference else None
    if reference and application is None:
        messages.error(request, _("No application of this call has this reference."))
        return _back(intake, component, slot.panel_id)
    try:
        interviews.slot_assign(slot=slot, application=application, actor=request.user)
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(request, _("The slot is saved: convene the applicant."))
    return _back(intake, component, slot.panel_id)


@school_view(SELECTION_MANAGE)
@require_POST
def interview_slot_attendance(
    request: HttpRequest, intake_slug: str, interview_code: str, slot_id: int
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    slot = access_slot(component, slot_id)
    choices = {"1": True, "0": False, "": None}
    if request.POST.get("present") not in choices:
        return HttpResponseBadRequest()
    present = choices[request.POST["present"]]
    try:
        interviews.slot_attendance_set(slot=slot, present=present, actor=request.user)
    except ValidationError as error:
        refused(request, error)
    return _back(intake, component, slot.panel_id)


@school_view(SELECTION_MANAGE)
@require_POST
def interview_assign(request: HttpRequest, intake_slug: str, interview_code: str) -> HttpResponse:
    """Automatic assignment; the page then reports who could not be placed, and why."""
    intake, component = _interview(request, intake_slug, interview_code)
    result = interviews.interviews_assign(component=component, actor=request.user)
    return render(
        request,
        "selection/assessment/interview_assigned.html",
        _context(
            intake,
            component,
            result=result,
            unplaced=[(a, interviews.REASONS[r]) for a, r in result.unplaced],
        ),
    )


@school_view(SELECTION_MANAGE)
@require_POST
def interview_convene(request: HttpRequest, intake_slug: str, interview_code: str) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    try:
        count = interviews.interview_convocations_send(
            component=component, actor=request.user, again=request.POST.get("again") == "1"
        )
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(
            request,
            ngettext(
                "Convocation on its way to %(n)s applicant.",
                "Convocations on their way to %(n)s applicants.",
                count,
            )
            % {"n": count},
        )
    return _back(intake, component)


# --- Conflicts of interest ------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def interview_conflicts(
    request: HttpRequest, intake_slug: str, interview_code: str
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    form = StaffConflictForm(request.POST or None, school=intake.school)
    if request.method == "POST" and form.is_valid():
        application = access_intake_application(intake, form.cleaned_data["reference"])
        if application is None:
            form.add_error("reference", _("No application of this call has this reference."))
        else:
            try:
                interviews.conflict_declare(
                    juror=form.cleaned_data["juror"],
                    application=application,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The conflict of interest is recorded."))
                return redirect(request.path)
    conflicts = (
        ConflictOfInterest.objects.filter(application__intake=intake)
        .select_related("juror", "application")
        .order_by("juror__last_name", "application__last_name")
    )
    return render(
        request,
        "selection/assessment/interview_conflicts.html",
        _context(intake, component, form=form, conflicts=conflicts, remove_form=ReasonForm()),
        status=400 if request.method == "POST" else 200,
    )


@school_view(SELECTION_MANAGE)
@require_POST
def interview_conflict_delete(
    request: HttpRequest, intake_slug: str, interview_code: str, conflict_id: int
) -> HttpResponse:
    intake, component = _interview(request, intake_slug, interview_code)
    conflict = access_conflict(intake, conflict_id)
    try:
        interviews.conflict_remove(
            conflict=conflict, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(request, _("The conflict of interest is removed."))
    return redirect(
        "selection:interview_conflicts", intake.school.slug, intake.slug, component.code
    )


# --- Rubric ---------------------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def interview_rubric(request: HttpRequest, intake_slug: str, interview_code: str) -> HttpResponse:
    """The criteria of the interview, with weights and level descriptors (fr/ar)."""
    intake, component = _interview(request, intake_slug, interview_code)
    criteria = list(Criterion.objects.filter(component=component))
    locked = ScoreSheet.objects.filter(component=component).exists()
    formset = CriterionFormSet(
        request.POST or None,
        initial=[CriterionForm.initial_for(c) for c in criteria],
        prefix="criteria",
    )
    if request.method == "POST" and not locked and formset.is_valid():
        new = [
            form.criterion()
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            criteria_save(component=component, criteria=new, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The rubric is saved."))
            return redirect(request.path)
    return render(
        request,
        "selection/assessment/interview_rubric.html",
        _context(intake, component, formset=formset, criteria=criteria, locked=locked),
        status=400 if request.method == "POST" else 200,
    )


# --- Review of the marks --------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_GET
def interview_review(request: HttpRequest, intake_slug: str, interview_code: str) -> HttpResponse:
    """Every interview with the jurors' sheets and the aggregated mark; disagreements first."""
    intake, component = _interview(request, intake_slug, interview_code)
    slots = list(
        InterviewSlot.objects.filter(component=component, application__isnull=False)
        .select_related("application", "panel")
        .order_by("starts_at")
    )
    sheets: dict[int, list[ScoreSheet]] = {}
    for sheet in ScoreSheet.objects.filter(component=component).select_related("juror"):
        sheets.setdefault(sheet.application_id, []).append(sheet)
    marks = {m.application_id: m for m in Mark.objects.filter(component=component)}
    jurors = {}
    for panel_id, n in (
        Panel.jurors.through.objects.filter(panel__component=component)
        .values_list("panel_id")
        .annotate(n=Count("user_id"))
    ):
        jurors[panel_id] = n
    # A staff member who also sits on a panel sees no other juror's mark before submitting
    # their own sheet, here as on the jurors' pages.
    my_panels = set(
        Panel.jurors.through.objects.filter(
            panel__component=component, user_id=request.user.pk
        ).values_list("panel_id", flat=True)
    )
    rows = []
    for slot in slots:
        mark = marks.get(slot.application_id)
        mine = sheets.get(slot.application_id, [])
        if slot.panel_id in my_panels and not any(
            s.juror_id == request.user.pk and s.locked for s in mine
        ):
            mark, mine = None, [s for s in mine if s.juror_id == request.user.pk]
        rows.append(
            {
                "slot": slot,
                "sheets": mine,
                "submitted": sum(1 for s in mine if s.locked),
                "jurors": jurors.get(slot.panel_id, 0),
                "mark": mark,
                "flag": bool(mark and mark.disagreement),
            }
        )
    if request.GET.get("flagged"):
        rows = [r for r in rows if r["flag"]]
    rows.sort(key=lambda r: (not r["flag"], r["slot"].starts_at))
    return render(
        request,
        "selection/assessment/interview_review.html",
        _context(
            intake,
            component,
            rows=rows,
            flagged=sum(1 for r in rows if r["flag"]),
            scheme=component.scheme,
        ),
    )
