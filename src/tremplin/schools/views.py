"""Public school pages, the staff dashboard, the team, the audit log and the coordinator view."""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django_scopes import scope, scopes_disabled

from tremplin.admissions import selectors
from tremplin.admissions.models import Intake
from tremplin.core.access import access_membership, coordinated_schools
from tremplin.core.decorators import login_verified, school_view
from tremplin.core.forms import RevokeForm, TeamMemberForm
from tremplin.core.models import AuditEvent, Membership
from tremplin.core.permissions import (
    APPLICATIONS_VIEW,
    AUDIT_VIEW,
    BUDGET_VIEW,
    JURY_SCORE,
    LEARNER_SPACE,
    OUTBOX_MANAGE,
    RANKING_MANAGE,
    SCHOOL_CHANGE,
    SCHOOL_VIEW,
    TEAM_MANAGE,
    TEAM_VIEW,
)
from tremplin.core.text import typed_search
from tremplin.notify.models import Message
from tremplin.notify.selectors import OutboxFilters, outbox_retryable_counts
from tremplin.notify.services import retry_since
from tremplin.schools import services
from tremplin.schools.forms import SchoolProfileForm
from tremplin.schools.models import BudgetLine, Grant, School, SchoolPartner, Track
from tremplin.selection.interviews import juror_slots


@require_safe  # HEAD too: link checkers, previews of a shared link
def index(request: HttpRequest) -> HttpResponse:
    schools = list(School.objects.filter(is_active=True).select_related("commune__province"))
    if len(schools) == 1:
        return redirect(schools[0])
    return render(request, "schools/index.html", {"schools": schools})


@require_safe
def school_public(request: HttpRequest, school_slug: str) -> HttpResponse:
    school = get_object_or_404(
        School.objects.select_related("commune__province__region"), slug=school_slug, is_active=True
    )
    with scope(school=school):
        tracks = list(Track.objects.filter(school=school, is_active=True))
        partners = list(SchoolPartner.objects.filter(school=school).select_related("partner"))
        open_intakes = list(
            Intake.objects.filter(
                school=school, status=Intake.Status.OPEN, closes_at__gt=timezone.now()
            ).select_related("school")
        )
    return render(
        request,
        "schools/public.html",
        {
            "school": school,
            **_split(tracks),
            "partners": partners,
            "open_intakes": open_intakes,
        },
    )


def _split(tracks: list[Track]) -> dict[str, list[Track]]:
    return {
        "tracks": [t for t in tracks if t.kind == Track.Kind.TRACK],
        "programmes": [t for t in tracks if t.kind == Track.Kind.PROGRAMME],
    }


def _team(school: School) -> list[Membership]:
    return list(
        Membership.objects.filter(school=school, is_active=True)
        .select_related("user")
        .order_by("role", "user__last_name", "user__first_name")
    )


@school_view(SCHOOL_VIEW)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """What needs the user now (calls, offers, their interviews), then the school's profile;
    the grants and budget lines only for those who may see the budget."""
    access = request.access
    school = access.school
    grants = _grants(school) if access.can(BUDGET_VIEW) else None
    tracks = list(Track.objects.filter(school=school))
    return render(
        request,
        "schools/dashboard.html",
        {
            "school": school,
            "partners": list(SchoolPartner.objects.filter(school=school).select_related("partner")),
            "grants": grants,
            "budget_total": sum((g.total for g in grants), start=0) if grants is not None else None,
            **_split(tracks),
            "team": _team(school) if access.can(TEAM_VIEW) else None,
            # A coordinator reads the school; nothing in it waits for them.
            "needs_you": _needs_you(request) if access.roles or access.is_platform_admin else None,
        },
    )


def _grants(school: School) -> list[Grant]:
    return list(
        Grant.objects.filter(school=school)
        .select_related("funder")
        .prefetch_related(Prefetch("lines", queryset=BudgetLine.objects.order_by("kind")))
    )


def _needs_you(request: HttpRequest) -> dict:
    """The calls, offers, interviews and failed messages waiting for the user, each only if
    their role may act on it: three queries at most, whatever the number of calls."""
    access = request.access
    calls = selectors.calls_waiting(
        access.school,
        review=access.can(APPLICATIONS_VIEW),
        offers=access.can(RANKING_MANAGE),
    )
    days = _interview_days(request.user, access.school) if access.can(JURY_SCORE) else []
    failed = 0
    if access.can(OUTBOX_MANAGE):
        # What the outbox's "send the failed messages again" button counts on the page the
        # card leads to: those written in the last week that can still go.
        failed, _too_old = outbox_retryable_counts(
            school=access.school,
            filters=OutboxFilters(status=Message.Status.FAILED),
            since=retry_since(),
        )
    return {
        "calls": calls,
        "interview_days": days,
        "interview_count": sum(day["count"] for day in days),
        "failed_messages": failed,
        "today": timezone.localdate(),
        "empty": not calls and not days and not failed,
    }


def _interview_days(user, school: School) -> list[dict]:
    """The user's interviews from today on, by day (those of selection's "My interviews"
    page), counted per day with the first time."""
    today = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time()))
    slots = (
        juror_slots(user, school)
        .filter(starts_at__gte=today)
        .select_related("panel")
        .order_by("starts_at", "panel__name")
    )
    days: dict = {}
    for slot in slots:
        day = days.setdefault(
            timezone.localtime(slot.starts_at).date(),
            {"count": 0, "first": slot.starts_at, "panels": []},
        )
        day["count"] += 1
        if slot.panel.name not in day["panels"]:
            day["panels"].append(slot.panel.name)
    return [{"day": day, **summary} for day, summary in days.items()]


@school_view(SCHOOL_CHANGE)
@require_http_methods(["GET", "POST"])
def school_profile(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    form = SchoolProfileForm(request.POST or None, instance=school)
    if request.method == "POST" and form.is_valid():
        services.school_update_profile(
            school=School.objects.get(pk=school.pk), actor=request.user, data=form.cleaned_data
        )
        messages.success(request, _("The school's public page is updated."))
        return redirect("schools:dashboard", school_slug=school.slug)
    return render(request, "schools/profile_form.html", {"school": school, "form": form})


@school_view(TEAM_VIEW)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    return render(
        request,
        "schools/team.html",
        {
            "school": school,
            "team": _team(school),
            "form": TeamMemberForm() if request.access.can(TEAM_MANAGE) else None,
            "revoke_form": RevokeForm(),
        },
    )


@school_view(TEAM_MANAGE)
@require_POST
def team_add(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    form = TeamMemberForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "schools/team.html",
            {"school": school, "team": _team(school), "form": form, "revoke_form": RevokeForm()},
            status=400,
        )
    membership = services.membership_grant(
        school=school,
        actor=request.user,
        site_url=request.build_absolute_uri("/"),
        **form.cleaned_data,
    )
    messages.success(
        request,
        _("%(person)s now has the role: %(role)s.")
        % {"person": membership.user, "role": membership.get_role_display()},
    )
    return redirect("schools:team", school_slug=school.slug)


@school_view(TEAM_MANAGE)
@require_POST
def team_revoke(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = access_membership(request.access, membership_id)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for withdrawing this role."))
    else:
        try:
            services.membership_revoke(
                membership=membership, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("The role is withdrawn."))
    return redirect("schools:team", school_slug=request.access.school.slug)


@school_view(AUDIT_VIEW)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    events = AuditEvent.objects.filter(school=school).select_related("actor")
    action = typed_search(request.GET.get("action"))
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request, "schools/audit_log.html", {"school": school, "page": page, "action": action}
    )


@school_view(LEARNER_SPACE)
@require_GET
def learner_space(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    tracks = list(Track.objects.filter(school=school, is_active=True))
    contacts = [m for m in _team(school) if m.role in ("director", "trainer")]
    return render(
        request,
        "schools/learner_space.html",
        {
            "school": school,
            **_split(tracks),
            "contacts": contacts,
        },
    )


@login_verified
@require_GET
def coordinator(request: HttpRequest) -> HttpResponse:
    """The schools of the coordinator's area, read-only, with their headline figures."""
    schools = (
        coordinated_schools(request.user)
        .select_related("commune__province__region")
        .order_by("commune__province__region__code", "name")
    )
    with scopes_disabled():
        schools = list(
            schools.annotate(
                track_count=Count("tracks", filter=Q(tracks__kind=Track.Kind.TRACK), distinct=True),
                # A subquery: summed over the join with the tracks, each line would count
                # once per track.
                budget_total=Subquery(
                    BudgetLine.objects.filter(grant__school=OuterRef("pk"))
                    .values("grant__school")
                    .annotate(total=Sum("amount"))
                    .values("total"),
                    output_field=BudgetLine._meta.get_field("amount"),
                ),
            )
        )
    if not schools and not request.user.coordinator_scopes.exists():
        from django.http import Http404

        raise Http404
    return render(request, "schools/coordinator.html", {"schools": schools})
