"""Staff pages of the written test: the selection overview of an intake, sessions, seating,
convocations, attendance, the keyboard grid of marks and the import of marks."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tremplin.admissions.access import access_intake
from tremplin.admissions.uploads import safe_original_name
from tremplin.core.decorators import school_view
from tremplin.core.feedback import refused
from tremplin.core.permissions import SELECTION_MANAGE
from tremplin.core.text import parse_id
from tremplin.selection import assessment
from tremplin.selection.access_assessment import (
    access_session,
    access_sitting,
    access_test_component,
)
from tremplin.selection.assessment_marks import format_mark, marks_record, parse_mark
from tremplin.selection.forms_assessment import MarksImportForm, SittingMoveForm, TestSessionForm
from tremplin.selection.marks_import import marks_import, marks_stash, marks_unstash
from tremplin.selection.models import (
    Component,
    InterviewSlot,
    Mark,
    ScoreSheet,
    SelectionScheme,
    TestSession,
    TestSitting,
)


def scheme_url(intake) -> str | None:
    """The scheme page (owned by the ranking part), when it exists."""
    try:
        return reverse("selection:scheme", args=[intake.school.slug, intake.slug])
    except NoReverseMatch:
        return None


def _test(request: HttpRequest, intake_slug: str, test_code: str):
    intake = access_intake(request, intake_slug)
    return intake, access_test_component(intake, test_code)


def _context(intake, component: Component | None = None, **extra) -> dict:
    return {"intake": intake, "school": intake.school, "component": component, **extra}


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Overview -------------------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_GET
def assessment_home(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """The written tests and interviews of an intake, with where each stands."""
    intake = access_intake(request, intake_slug)
    scheme = SelectionScheme.objects.filter(intake=intake).first()
    components = []
    if scheme is not None:
        components = list(
            Component.objects.filter(
                scheme=scheme, kind__in=[Component.Kind.WRITTEN_TEST, Component.Kind.INTERVIEW]
            ).annotate(
                # distinct: the joins with the sessions and panels repeat each mark.
                n_marks=Count(
                    "marks",
                    filter=Q(marks__value__isnull=False) | Q(marks__absent=True),
                    distinct=True,
                ),
                n_sessions=Count("sessions", distinct=True),
                n_panels=Count("panels", distinct=True),
            )
        )
        seated = dict(
            TestSitting.objects.filter(component__scheme=scheme)
            .values_list("component_id")
            .annotate(n=Count("id"))
        )
        booked = dict(
            InterviewSlot.objects.filter(component__scheme=scheme, application__isnull=False)
            .values_list("component_id")
            .annotate(n=Count("id"))
        )
        submitted = dict(
            ScoreSheet.objects.filter(component__scheme=scheme, status=ScoreSheet.Status.SUBMITTED)
            .values_list("component_id")
            .annotate(n=Count("id"))
        )
        for c in components:
            c.n_seated = seated.get(c.pk, 0)
            c.n_booked = booked.get(c.pk, 0)
            c.n_submitted = submitted.get(c.pk, 0)
    return render(
        request,
        "selection/assessment/home.html",
        _context(
            intake,
            scheme=scheme,
            components=components,
            scheme_url=scheme_url(intake),
            candidates=assessment.candidates_of_intake(intake).count(),
        ),
    )


# --- Sessions -------------------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_GET
def test_sessions(request: HttpRequest, intake_slug: str, test_code: str) -> HttpResponse:
    intake, component = _test(request, intake_slug, test_code)
    sessions = list(
        assessment.sessions_with_counts(component).annotate(
            convened=Count("sittings", filter=Q(sittings__convened_at__isnull=False)),
            present=Count("sittings", filter=Q(sittings__present=True)),
            absent=Count("sittings", filter=Q(sittings__present=False)),
        )
    )
    seated = sum(s.seated for s in sessions)
    candidates = assessment.test_candidates(component)
    waiting = candidates.exclude(sittings__component=component).count()
    return render(
        request,
        "selection/assessment/sessions.html",
        _context(
            intake,
            component,
            sessions=sessions,
            seated=seated,
            capacity=sum(s.capacity for s in sessions),
            waiting=waiting,
            unconvened=TestSitting.objects.filter(
                component=component, convened_at__isnull=True
            ).count(),
            marked=Mark.objects.filter(component=component)
            .filter(Q(value__isnull=False) | Q(absent=True))
            .count(),
        ),
    )


def _session_form_page(request, intake, component, session: TestSession) -> HttpResponse:
    form = TestSessionForm(request.POST or None, instance=session)
    if request.method == "POST" and form.is_valid():
        try:
            assessment.test_session_save(session=form.save(commit=False), actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The session is saved."))
            return redirect(
                "selection:test_sessions", intake.school.slug, intake.slug, component.code
            )
    return render(
        request,
        "selection/assessment/session_form.html",
        _context(intake, component, form=form, session=session),
        status=400 if request.method == "POST" else 200,
    )


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def test_session_create(request: HttpRequest, intake_slug: str, test_code: str) -> HttpResponse:
    intake, component = _test(request, intake_slug, test_code)
    return _session_form_page(request, intake, component, TestSession(component=component))


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def test_session_edit(
    request: HttpRequest, intake_slug: str, test_code: str, session_id: int
) -> HttpResponse:
    intake, component = _test(request, intake_slug, test_code)
    return _session_form_page(request, intake, component, access_session(component, session_id))


@school_view(SELECTION_MANAGE)
@require_POST
def test_session_delete(
    request: HttpRequest, intake_slug: str, test_code: str, session_id: int
) -> HttpResponse:
    intake, component = _test(request, intake_slug, test_code)
    session = access_session(component, session_id)
    try:
        assessment.test_session_delete(session=session, actor=request.user)
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(request, _("The session is deleted."))
    return redirect("selection:test_sessions", intake.school.slug, intake.slug, component.code)


@school_view(SELECTION_MANAGE)
@require_POST
def test_assign(request: HttpRequest, intake_slug: str, test_code: str) -> HttpResponse:
    intake, component = _test(request, intake_slug, test_code)
    try:
        result = assessment.sittings_assign(component=component, actor=request.user)
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(
            request,
            ngettext("%(n)s applicant seated.", "%(n)s applicants seated.", result.placed)
            % {"n": result.placed},
        )
    return redirect("selection:test_sessions", intake.school.slug, intake.slug, component.code)


@school_view(SELECTION_MANAGE)
@require_POST
def test_convene(request: HttpRequest, intake_slug: str, test_code: str) -> HttpResponse:
    intake, component = _test(request, intake_slug, test_code)
    try:
        count = assessment.test_convocations_send(
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
    return redirect("selection:test_sessions", intake.school.slug, intake.slug, component.code)


# --- One session: who sits it, moves --------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_GET
def test_session(
    request: HttpRequest, intake_slug: str, test_code: str, session_id: int
) -> HttpResponse:
    intake, component = _test(request, intake_slug, test_code)
    session = access_session(component, session_id)
    sittings = list(
        TestSitting.objects.filter(session=session)
        .select_related("application")
        .order_by("candidate_number")
    )
    return render(
        request,
        "selection/assessment/session.html",
        _context(
            intake,
            component,
            session=session,
            sittings=sittings,
            sessions=list(assessment.sessions_with_counts(component)),
        ),
    )


@school_view(SELECTION_MANAGE)
@require_POST
def test_sitting_move(
    request: HttpRequest, intake_slug: str, test_code: str, sitting_id: int
) -> HttpResponse:
    intake, component = _test(request, intake_slug, test_code)
    sitting = access_sitting(component, sitting_id)
    form = SittingMoveForm(request.POST, component=component)
    if form.is_valid():
        try:
            assessment.sitting_move(
                sitting=sitting, session=form.cleaned_data["session"], actor=request.user
            )
        except ValidationError as error:
            refused(request, error)
        else:
            messages.success(
                request,
                _("Candidate %(n)s moved: convene them again.") % {"n": sitting.candidate_number},
            )
    else:
        messages.error(request, _("Choose a session."))
    return redirect(
        "selection:test_session",
        intake.school.slug,
        intake.slug,
        component.code,
        sitting.session_id,
    )


# --- Attendance -----------------------------------------------------------------------------

PRESENCE = {"1": True, "0": False, "": None}


def _attendance_rows(session: TestSession, only: list[int] | None = None):
    sittings = TestSitting.objects.filter(session=session).select_related("application")
    if only is not None:
        sittings = sittings.filter(pk__in=only)
    return list(sittings.order_by("candidate_number"))


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def test_attendance(
    request: HttpRequest, intake_slug: str, test_code: str, session_id: int
) -> HttpResponse:
    """Who came, ticked on a phone: one row per applicant, saved per row with htmx or all at
    once without JavaScript."""
    intake, component = _test(request, intake_slug, test_code)
    session = access_session(component, session_id)
    error = None
    if request.method == "POST":
        presence = {}
        for key, value in request.POST.items():
            sitting_id = parse_id(key[1:]) if key.startswith("p") else None
            if sitting_id is not None and value in PRESENCE:
                presence[sitting_id] = PRESENCE[value]
        try:
            count = assessment.sittings_attendance_set(
                session=session, presence=presence, actor=request.user
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if not _htmx(request):
                messages.success(
                    request,
                    ngettext("%(n)s change saved.", "%(n)s changes saved.", count) % {"n": count},
                )
                return redirect(request.path)
        if _htmx(request):
            rows = _attendance_rows(session, only=list(presence))
            response = render(
                request,
                "selection/assessment/attendance_row.html",
                _context(
                    intake,
                    component,
                    s=rows[0] if rows else None,
                    row_error=error,
                    saved=not error,
                ),
            )
            patch_vary_headers(response, ["HX-Request"])
            return response
    response = render(
        request,
        "selection/assessment/attendance.html",
        _context(
            intake, component, session=session, sittings=_attendance_rows(session), error=error
        ),
        status=400 if error else 200,
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- The grid of marks ----------------------------------------------------------------------


class GridRow:
    def __init__(self, sitting: TestSitting, mark: Mark | None):
        self.sitting = sitting
        self.mark = mark
        self.absent = sitting.present is False or (mark is not None and mark.absent)
        self.text = format_mark(mark.value) if mark is not None else ""
        self.error = ""
        self.saved = False

    @property
    def field(self) -> str:
        return f"m{self.sitting.pk}"


def _grid_rows(component: Component, session: TestSession, only=None) -> list[GridRow]:
    sittings = TestSitting.objects.filter(session=session).order_by("candidate_number")
    if not component.scheme.anonymous_marking:
        sittings = sittings.select_related("application")
    if only is not None:
        sittings = sittings.filter(pk__in=only)
    sittings = list(sittings)
    marks = {
        m.application_id: m
        for m in Mark.objects.filter(
            component=component, application_id__in=[s.application_id for s in sittings]
        )
    }
    return [GridRow(s, marks.get(s.application_id)) for s in sittings]


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def test_grid(
    request: HttpRequest, intake_slug: str, test_code: str, session_id: int
) -> HttpResponse:
    """Marks of one session in a keyboard grid: one input per row, Enter goes down. Saved per
    row with htmx, or the whole form without JavaScript (all or nothing)."""
    intake, component = _test(request, intake_slug, test_code)
    session = access_session(component, session_id)
    posted = {}
    if request.method == "POST":
        for key, value in request.POST.items():
            sitting_id = parse_id(key[1:]) if key.startswith("m") else None
            if sitting_id is not None:
                posted[sitting_id] = value
    rows = _grid_rows(component, session, only=list(posted) if _htmx(request) else None)
    status, bad = 200, False
    if request.method == "POST":
        values = {}
        for row in rows:
            if row.sitting.pk not in posted or row.absent:
                continue
            row.text = posted[row.sitting.pk].strip()
            try:
                values[row.sitting.application_id] = parse_mark(row.text)
            except ValidationError as error:
                row.error, bad = error.messages[0], True
        if not bad:
            try:
                changes = marks_record(component=component, values=values, actor=request.user)
            except ValidationError as error:
                bad = True
                if _htmx(request) and rows:
                    # Said on the line itself, not on whichever page comes next.
                    rows[0].error = " ".join(error.messages)
                else:
                    messages.error(request, " ".join(error.messages))
            else:
                changed = {c.application_id for c in changes}
                for row in rows:
                    row.saved = row.sitting.application_id in changed
                    if row.sitting.application_id in values:
                        row.text = format_mark(values[row.sitting.application_id])
                if not _htmx(request):
                    messages.success(
                        request,
                        ngettext("%(n)s mark saved.", "%(n)s marks saved.", len(changes))
                        % {"n": len(changes)},
                    )
                    return redirect(request.path)
        if bad:
            status = 200 if _htmx(request) else 400
            if not _htmx(request):
                messages.error(request, _("Nothing was saved: correct the marks in red."))
        if _htmx(request):
            if not rows:
                raise Http404
            response = render(
                request,
                "selection/assessment/grid_row.html",
                _context(
                    intake,
                    component,
                    row=rows[0],
                    session=session,
                    anonymous=component.scheme.anonymous_marking,
                ),
                status=status,
            )
            patch_vary_headers(response, ["HX-Request"])
            return response
    response = render(
        request,
        "selection/assessment/grid.html",
        _context(
            intake,
            component,
            session=session,
            rows=rows,
            anonymous=component.scheme.anonymous_marking,
            has_errors=bad,
        ),
        status=status,
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Import of marks ------------------------------------------------------------------------


@school_view(SELECTION_MANAGE)
@require_http_methods(["GET", "POST"])
def test_import(request: HttpRequest, intake_slug: str, test_code: str) -> HttpResponse:
    """Import marks from a spreadsheet: a dry run shows the changes and the bad lines; the
    marks are recorded only from a file without problems, all at once."""
    intake, component = _test(request, intake_slug, test_code)
    uploading = request.method == "POST" and "token" not in request.POST
    form = MarksImportForm(
        request.POST if uploading else None, request.FILES if uploading else None
    )
    result, token, status = None, None, 200
    if request.method == "POST" and "token" in request.POST:
        stashed = marks_unstash(request.POST["token"], component=component)
        if stashed is None:
            messages.error(request, _("This check has expired: send the file again."))
            return redirect(request.path)
        with default_storage.open(stashed["path"], "rb") as fileobj:
            result = marks_import(
                component=component,
                fileobj=fileobj,
                filename=stashed["name"],
                actor=request.user,
                dry_run=False,
            )
        if result.written:
            default_storage.delete(stashed["path"])
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = marks_import(
            component=component,
            fileobj=upload,
            filename=safe_original_name(upload.name),
            actor=request.user,
            dry_run=form.cleaned_data["dry_run"],
        )
        if result.dry_run and result.changes and not result.problems:
            token = marks_stash(upload, component=component, name=safe_original_name(upload.name))
    elif request.method == "POST":
        status = 400
    if result is not None:
        status = 400 if result.problems else 200
        if result.written:
            messages.success(
                request,
                ngettext("%(n)s mark recorded.", "%(n)s marks recorded.", len(result.changes))
                % {"n": len(result.changes)},
            )
    return render(
        request,
        "selection/assessment/import.html",
        _context(intake, component, form=form, result=result, token=token),
        status=status,
    )
