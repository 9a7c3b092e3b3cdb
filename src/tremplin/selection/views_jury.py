"""The jurors' pages: their interviews by day, the score sheet (built for a phone), the
amendment of a submitted sheet, and the declaration of conflicts of interest.

A juror sees only the slots of the panels they sit on, never an applicant they declared a
conflict with, never a CIN, and no other juror's marks before submitting their own sheet.
"""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tremplin.admissions.models import Application
from tremplin.admissions.selectors import names_q
from tremplin.core.decorators import school_view
from tremplin.core.permissions import JURY_SCORE
from tremplin.core.text import fold, parse_id, typed_search
from tremplin.selection.access_assessment import access_juror_slot
from tremplin.selection.forms_assessment import ReasonForm, SheetForm
from tremplin.selection.interviews import conflict_declare, juror_slots
from tremplin.selection.interviews_scoring import sheet_amend, sheet_save
from tremplin.selection.models import Component, ConflictOfInterest, InterviewSlot, ScoreSheet
from tremplin.selection.schemes import published_runs

SEARCH_LIMIT = 20


@school_view(JURY_SCORE)
@require_GET
def jury_home(request: HttpRequest) -> HttpResponse:
    """My interviews, by day, with where my sheet stands."""
    user = request.user
    slots = list(
        juror_slots(user, request.access.school)
        .select_related("panel", "application", "component__scheme__intake")
        .order_by("starts_at", "panel__name")
    )
    sheets = {
        (s.component_id, s.application_id): s
        for s in ScoreSheet.objects.filter(
            juror=user, application_id__in=[s.application_id for s in slots]
        ).only("id", "component_id", "application_id", "status")
    }
    for slot in slots:
        slot.sheet = sheets.get((slot.component_id, slot.application_id))
    days = [
        (day, list(group))
        for day, group in groupby(slots, key=lambda s: timezone.localtime(s.starts_at).date())
    ]
    return render(
        request,
        "selection/jury/home.html",
        {"school": request.access.school, "days": days, "today": timezone.localdate()},
    )


def _sheet_context(request, slot: InterviewSlot, sheet: ScoreSheet | None, form) -> dict:
    others = []
    if sheet is not None and sheet.locked:
        # Only once their own sheet is submitted does a juror see the others' (submitted) marks.
        others = list(
            ScoreSheet.objects.filter(
                component_id=slot.component_id,
                application_id=slot.application_id,
                status=ScoreSheet.Status.SUBMITTED,
            )
            .exclude(juror=request.user)
            .select_related("juror")
        )
    criteria = list(slot.component.criteria.all())
    scores = {s.criterion_id: s.value for s in sheet.scores.all()} if sheet else {}
    return {
        "school": request.access.school,
        "slot": slot,
        "application": slot.application,
        "intake": slot.component.scheme.intake,
        "sheet": sheet,
        "form": form,
        "criteria": criteria,
        "scores": [(c, scores.get(c.pk)) for c in criteria],
        "others": others,
    }


def _my_sheet(slot: InterviewSlot, user) -> ScoreSheet | None:
    return (
        ScoreSheet.objects.filter(
            component_id=slot.component_id, application_id=slot.application_id, juror=user
        )
        .prefetch_related("scores")
        .first()
    )


@school_view(JURY_SCORE)
@require_http_methods(["GET", "POST"])
def jury_sheet(request: HttpRequest, slot_id: int) -> HttpResponse:
    """The score sheet of one interview: each criterion's levels as large choices, a comment,
    save the draft or submit (then it locks)."""
    slot = access_juror_slot(request, slot_id)
    sheet = _my_sheet(slot, request.user)
    criteria = list(slot.component.criteria.all())
    status = 200
    form = None
    if sheet is None or not sheet.locked:
        scores = {s.criterion_id: s.value for s in sheet.scores.all()} if sheet else {}
        form = SheetForm(
            request.POST or None,
            criteria=criteria,
            initial=SheetForm.initial_for(sheet, scores),
        )
    if request.method == "POST":
        if form is None:
            messages.error(request, _("This sheet is submitted: amending it needs a reason."))
            return redirect("selection:jury_sheet", request.access.school.slug, slot.pk)
        if form.is_valid():
            submit = "submit" in request.POST
            try:
                sheet_save(
                    slot=slot,
                    juror=request.user,
                    scores=form.scores(),
                    overall=form.overall_mark(),
                    comment=form.cleaned_data["comment"],
                    submit=submit,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("Your sheet is submitted.") if submit else _("Your draft is saved."),
                )
                return redirect("selection:jury_sheet", request.access.school.slug, slot.pk)
        status = 400
    return render(
        request,
        "selection/jury/sheet.html",
        _sheet_context(request, slot, sheet, form),
        status=status,
    )


@school_view(JURY_SCORE)
@require_http_methods(["GET", "POST"])
def jury_sheet_amend(request: HttpRequest, slot_id: int) -> HttpResponse:
    """Change a submitted sheet: every score again, and the reason (audited)."""
    slot = access_juror_slot(request, slot_id)
    sheet = _my_sheet(slot, request.user)
    if sheet is None or not sheet.locked:
        return redirect("selection:jury_sheet", request.access.school.slug, slot.pk)
    criteria = list(slot.component.criteria.all())
    scores = {s.criterion_id: s.value for s in sheet.scores.all()}
    form = SheetForm(
        request.POST or None,
        criteria=criteria,
        amend=True,
        initial=SheetForm.initial_for(sheet, scores),
    )
    if request.method == "POST" and form.is_valid():
        try:
            sheet_amend(
                sheet=sheet,
                scores=form.scores(),
                overall=form.overall_mark(),
                comment=form.cleaned_data["comment"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your sheet is amended."))
            return redirect("selection:jury_sheet", request.access.school.slug, slot.pk)
    context = _sheet_context(request, slot, sheet, form)
    context["amend"] = True
    return render(
        request,
        "selection/jury/sheet.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


def _declarable(request: HttpRequest):
    """Applications a juror may declare a conflict with: those of the school's calls that
    have an interview and no published ranking yet, still in the running (found ineligible
    after an interview was assigned, she keeps it: the juror may still declare). A juror's
    search is no directory of every applicant the school ever had."""
    intakes = Component.objects.filter(kind=Component.Kind.INTERVIEW).values("scheme__intake_id")
    return Application.objects.filter(
        intake__school=request.access.school,
        intake_id__in=intakes,
        status=Application.Status.SUBMITTED,
    ).exclude(Exists(published_runs(OuterRef("intake_id"))))


@school_view(JURY_SCORE)
@require_http_methods(["GET", "POST"])
def jury_conflicts(request: HttpRequest) -> HttpResponse:
    """Declare that I know an applicant (family, neighbour, former pupil...): I will not
    interview them, and they disappear from my pages."""
    user = request.user
    if request.method == "POST":
        form = ReasonForm(request.POST)
        raw = request.POST.get("application", "")
        application_id = parse_id(raw)
        application = (
            _declarable(request).filter(pk=application_id).first() if application_id else None
        )
        if application is None:
            raise Http404
        if form.is_valid():
            try:
                conflict_declare(
                    juror=user,
                    application=application,
                    reason=form.cleaned_data["reason"],
                    actor=user,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Your conflict of interest is recorded."))
                return redirect("selection:jury_conflicts", request.access.school.slug)
        else:
            messages.error(request, _("Say why, in a few words."))
    query = typed_search(request.GET.get("q"))[:60]
    found = []
    if len(query) >= 2:
        # Each word a name's or the reference; a word of punctuation alone ("-") is no word.
        words = [word for word in query.split() if fold(word)]
        matches = _declarable(request)
        for word in words[:4]:
            matches = matches.filter(names_q(word) | Q(reference__iexact=word))
        found = list(
            matches.exclude(conflicts_of_interest__juror=user)
            .select_related("commune")
            .order_by("last_name", "first_name")[:SEARCH_LIMIT]
        )
    declared = (
        ConflictOfInterest.objects.filter(juror=user)
        .select_related("application")
        .order_by("-declared_at")
    )
    return render(
        request,
        "selection/jury/conflicts.html",
        {
            "school": request.access.school,
            "query": query,
            "found": found,
            "declared": declared,
            "limit": SEARCH_LIMIT,
        },
    )
