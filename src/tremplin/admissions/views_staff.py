"""Staff pages of admissions: calls, privacy notices, the list of applications, screening."""

import datetime
import functools
import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tremplin.admissions import (
    eligibility,
    export_tasks,
    importing,
    intakes,
    personal_data,
    recheck_tasks,
    retention,
    screening,
    selectors,
    services,
)
from tremplin.admissions.access import access_application, access_intake
from tremplin.admissions.eligibility import describe_for_staff
from tremplin.admissions.history import application_history
from tremplin.admissions.imported_references import references_count
from tremplin.admissions.models import (
    Application,
    Document,
    EligibilityRecheck,
    ExportJob,
    Intake,
    PrivacyNotice,
)
from tremplin.admissions.staff_forms import (
    ContactForm,
    EligibilityDecisionForm,
    ErasureForm,
    IntakeForm,
    PrivacyNoticeForm,
)
from tremplin.core.decorators import school_view
from tremplin.core.feedback import refused
from tremplin.core.formatting import format_datetime
from tremplin.core.identifiers import format_phone, mask_cin, mask_phone
from tremplin.core.permissions import (
    APPLICATIONS_EXPORT,
    APPLICATIONS_MANAGE,
    APPLICATIONS_VIEW,
    IDENTITY_VIEW,
    INTAKES_MANAGE,
    OUTBOX_VIEW,
)
from tremplin.core.text import parse_id


@school_view(APPLICATIONS_VIEW)
@require_GET
def intake_list(request: HttpRequest) -> HttpResponse:
    calls = list(
        Intake.objects.filter(school=request.access.school)
        .annotate(
            applied=Count("applications", distinct=True),
            eligible=Count(
                "applications",
                filter=Q(applications__eligibility="eligible", applications__status="submitted"),
                distinct=True,
            ),
        )
        .order_by("-opens_at")
    )
    now = timezone.now()
    for call in calls:
        call.closed_since = _closed_since(call, now)
    notices = PrivacyNotice.objects.filter(school=request.access.school)
    latest, older = selectors.intakes_on_an_older_notice(request.access.school)
    return render(
        request,
        "admissions/staff/intake_list.html",
        {
            "intakes": calls,
            "notices": notices,
            "school": request.access.school,
            "latest_notice": latest,
            "older_notice_calls": older,
        },
    )


@school_view(APPLICATIONS_VIEW)
@require_GET
def intake_detail(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    funnel = selectors.funnel(intake)
    rules_frozen = _rules_frozen(intake)
    recheck = recheck_tasks.recheck_latest(intake)
    # Until a re-check, what the funnel counts of them was decided under the former rules.
    rules_changed_at, decided_before = (
        (None, 0) if rules_frozen else selectors.decided_before_the_rules(intake)
    )
    return render(
        request,
        "admissions/staff/intake_detail.html",
        {
            "intake": intake,
            "school": intake.school,
            "funnel": funnel,
            "funnel_tables": [
                (_("By sex"), funnel["by_sex"]),
                (_("By age band (on the reference date)"), funnel["by_age"]),
            ],
            "tracks": list(intake.intake_tracks.select_related("track")),
            "review_count": selectors.applications_filtered(intake, {"queue": "review"}).count(),
            "deletion_count": selectors.applications_filtered(
                intake, {"queue": "deletion"}
            ).count(),
            "statuses": Intake.Status,
            "next_statuses": intakes.next_statuses(intake),
            "refusals": _refusals(intake),
            "closed_since": _closed_since(intake, timezone.now()),
            # Closing before the closing date turns applicants away: asked twice.
            "closes_early": intake.closes_at > timezone.now(),
            "conditions": eligibility.conditions(intake),
            "rules_frozen": rules_frozen,
            **_recheck_context(recheck, intake),
            "rules_changed_at": rules_changed_at,
            "decided_before": decided_before,
            "import_refusal": importing.import_refusal(intake),
            "references_unsent": (
                references_count(intake) if request.access.can(APPLICATIONS_MANAGE) else 0
            ),
            "erasure_date": retention.erasure_date(intake),
            "retention_months": retention.retention_months(),
        },
    )


def _refusals(intake: Intake) -> list[str]:
    """Why each move from the call's status is not offered now: a draft whose closing date
    has passed has no "Open" button, and staff need to know what to change."""
    now = timezone.now()
    moves = sorted(after for before, after in intakes.TRANSITIONS if before == intake.status)
    refusals = (intakes.transition_refusal(intake, after, now) for after in moves)
    return [refusal for refusal in refusals if refusal]


def _rules_frozen(intake: Intake) -> str | None:
    """Why the rules are not checked again, once a ranking of the call is published."""
    published = _published(intake)
    return intakes.rules_frozen(published) if published is not None else None


def _closed_since(intake: Intake, now: datetime.datetime) -> datetime.datetime | None:
    """The closing date of an open call once it has passed: the call takes no application
    since, though its status stays open until staff close it."""
    if intake.status == Intake.Status.OPEN and intake.closes_at <= now:
        return intake.closes_at
    return None


def _intake_form_page(request: HttpRequest, intake: Intake) -> HttpResponse:
    school = request.access.school
    address = intake.slug  # as stored: the form writes the one sent on the instance
    form = IntakeForm(request.POST or None, instance=intake, school=school)
    # The call as this page first showed it (kept through a form sent back with errors),
    # and the page itself: its form sent twice is told apart from a colleague's change.
    version = request.POST.get("version") or (intakes.intake_version(intake) if intake.pk else "")
    page = request.POST.get("page") or secrets.token_urlsafe(12)
    if request.method == "POST" and form.is_valid():
        try:
            saved = intakes.intake_save(
                school=school,
                actor=request.user,
                intake=form.save(commit=False),
                provinces=form.cleaned_data["provinces"],
                communes=form.cleaned_data["communes"],
                tracks=form.track_places(),
                version=version or None,
                page=page,
            )
        except ValidationError as error:
            if getattr(error, "code", None) != "changed_since_shown":
                _refused_on(form, error)
            else:
                # The call as it is now, for the changes to be made again on it.
                messages.error(request, error.messages[0])
                return redirect("admissions:intake_edit", school.slug, address)
        else:
            messages.success(request, _("The call is saved."))
            target = reverse("admissions:intake_detail", args=[school.slug, saved.intake.slug])
            # The rules apply to new applications at once; those already received are
            # decided again only when staff ask (the re-check on the call's page).
            stale = saved.rules_changed and selectors.applications_to_recheck(saved.intake).count()
            if stale:
                messages.warning(
                    request,
                    ngettext(
                        "The eligibility rules changed, but the application already received "
                        "was not checked again. To apply the new rules to it, use “See what "
                        "the current rules would change” below, then apply what it finds.",
                        "The eligibility rules changed, but the %(n)s applications already "
                        "received were not checked again. To apply the new rules to them, use "
                        "“See what the current rules would change” below, then apply what it "
                        "finds.",
                        stale,
                    )
                    % {"n": stale},
                )
            # To the top of the page, where this says why the button below is needed.
            return redirect(target)
    return render(
        request,
        "admissions/staff/intake_form.html",
        {"form": form, "intake": intake, "school": school, "version": version, "page": page},
        status=400 if request.method == "POST" else 200,
    )


def _refused_on(form, error: ValidationError) -> None:
    """A refusal of the service shown on the form: each message on its field when the form
    has that field, at the top otherwise (the call's own checks name model fields, such as
    its total seats, that the form computes rather than shows)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@school_view(INTAKES_MANAGE)
@require_http_methods(["GET", "POST"])
def intake_create(request: HttpRequest) -> HttpResponse:
    return _intake_form_page(request, Intake(school=request.access.school))


@school_view(INTAKES_MANAGE)
@require_http_methods(["GET", "POST"])
def intake_edit(request: HttpRequest, intake_slug: str) -> HttpResponse:
    return _intake_form_page(request, access_intake(request, intake_slug))


@school_view(INTAKES_MANAGE)
@require_POST
def intake_status(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    status = request.POST.get("status")
    if status not in Intake.Status.values:
        raise Http404
    try:
        intakes.intake_set_status(intake=intake, actor=request.user, status=status)
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(
            request, _("The call is now %(status)s.") % {"status": Intake.Status(status).label}
        )
    return redirect("admissions:intake_detail", intake.school.slug, intake.slug)


@school_view(APPLICATIONS_MANAGE)
@require_POST
def intake_recheck(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """Ask what the current rules would change (a preview, which changes nothing), or, with
    the ``preview`` shown, apply it: each run by a task, the call's page saying how it goes,
    then what it found or changed."""
    intake = access_intake(request, intake_slug)
    preview_id = request.POST.get("preview")
    try:
        if preview_id is None:
            _recheck, started = recheck_tasks.eligibility_recheck_preview(
                intake=intake, actor=request.user
            )
        else:
            preview = get_object_or_404(EligibilityRecheck, intake=intake, pk=parse_id(preview_id))
            _recheck, started = recheck_tasks.eligibility_recheck_start(
                intake=intake, actor=request.user, preview=preview
            )
    except ValidationError as error:
        refused(request, error)
    else:
        if not started:
            messages.info(
                request,
                _("Eligibility is already being checked again for this call: this page says "
                  "when it is done."),
            )  # fmt: skip
    detail = reverse("admissions:intake_detail", args=[intake.school.slug, intake.slug])
    return redirect(f"{detail}#recheck")


@school_view(APPLICATIONS_VIEW)
@require_GET
def intake_recheck_status(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """The call page's re-check region, polled by htmx while a re-check runs: nothing new
    (204) until it ends, then its result, which ends the polling (286), with what can be
    done next swapped in beside it. Without htmx, the call's page."""
    intake = access_intake(request, intake_slug)
    if not request.headers.get("HX-Request"):
        detail = reverse("admissions:intake_detail", args=[intake.school.slug, intake.slug])
        return redirect(f"{detail}#recheck")
    recheck = recheck_tasks.recheck_latest(intake)
    if recheck is not None and recheck.active:
        return HttpResponse(status=204)
    return render(
        request,
        "admissions/staff/_recheck_status.html",
        {
            "intake": intake,
            "school": intake.school,
            "rules_frozen": _rules_frozen(intake),
            "finished_now": True,
            **_recheck_context(recheck, intake),
        },
        status=286,
    )


def _recheck_context(recheck: EligibilityRecheck | None, intake: Intake) -> dict:
    """What the call's page says of its last re-check or preview, and what it offers next."""
    context = {"recheck": recheck, "recheck_said": _recheck_said(recheck)}
    if recheck is None or not recheck.preview or recheck.status != EligibilityRecheck.Status.DONE:
        return context
    context["preview_refusal"] = recheck_tasks.preview_refusal(recheck, intake)
    if context["preview_refusal"]:  # not shown: what it found no longer holds
        return context
    labels = dict(Application.Eligibility.choices)
    context["preview_changes"] = [
        {
            "application": change.application,
            "now": labels[change.now],
            "now_reasons": [describe_for_staff(reason) for reason in change.now_reasons],
            "then": labels[change.then],
            "reasons": [describe_for_staff(reason) for reason in change.reasons],
            "unchanged": (change.then, change.reasons) == (change.now, change.now_reasons),
            "reasons_only": change.then == change.now and change.reasons != change.now_reasons,
        }
        for change in screening.preview_changes(intake, recheck.changes)
    ]
    context["preview_unlisted"] = recheck.changed - len(recheck.changes)
    if context["preview_changes"]:  # said by the live region, which does not read them
        context["recheck_said"].append(_("The changes are listed below."))
    return context


def _recheck_said(recheck: EligibilityRecheck | None) -> list[str]:
    """What a finished re-check did, or a finished preview found, in sentences: the results
    that moved (eligible or not), then the reasons that moved alone, then whom it told."""
    if recheck is None or recheck.status != EligibilityRecheck.Status.DONE:
        return []
    if recheck.preview:
        return _preview_said(recheck)
    checked = ngettext(
        "Eligibility checked again for %(n)s application.",
        "Eligibility checked again for %(n)s applications.",
        recheck.checked,
    ) % {"n": recheck.checked}
    if recheck.told is None:  # run before it counted which way they moved: all it knew
        moved = recheck.changed
    else:
        moved = recheck.became_eligible + recheck.became_ineligible
    changed = (
        ngettext("%(n)s result changed.", "%(n)s results changed.", moved) % {"n": moved}
        if moved
        else _("No result changed.")
    )
    if recheck.told is None:
        return [checked, changed, *_staff_decided_said(recheck)]
    said = [checked, changed, *_moves_said(recheck)]
    if recheck.told:
        said.append(
            ngettext("%(n)s applicant was told.", "%(n)s applicants were told.", recheck.told)
            % {"n": recheck.told}
        )
    return [*said, *_staff_decided_said(recheck)]


def _staff_decided_said(recheck: EligibilityRecheck) -> list[str]:
    if not recheck.staff_decided:
        return []
    return [
        ngettext(
            "%(n)s decision taken by staff stands: its page says what the rules say now.",
            "%(n)s decisions taken by staff stand: their pages say what the rules say now.",
            recheck.staff_decided,
        )
        % {"n": recheck.staff_decided}
    ]


def _preview_said(preview: EligibilityRecheck) -> list[str]:
    checked = ngettext(
        "%(n)s application checked with the current rules.",
        "%(n)s applications checked with the current rules.",
        preview.checked,
    ) % {"n": preview.checked}
    if not preview.changed:
        return [checked, _("No result would change.")]
    moved = preview.became_eligible + preview.became_ineligible
    said = [
        checked,
        ngettext("%(n)s result would change.", "%(n)s results would change.", moved) % {"n": moved}
        if moved
        else _("No result would change."),
        *_moves_said(preview),
        ngettext(
            "%(n)s applicant would be told, by SMS and by email when they gave one.",
            "%(n)s applicants would be told, by SMS and by email when they gave one.",
            preview.told,
        )
        % {"n": preview.told}
        if preview.told
        else _("No applicant would be told."),
    ]
    if preview.staff_decided:
        said.append(
            ngettext(
                "%(n)s decision taken by staff would stand.",
                "%(n)s decisions taken by staff would stand.",
                preview.staff_decided,
            )
            % {"n": preview.staff_decided}
        )
    said.append(_("Nothing has been changed yet."))
    return said


def _moves_said(recheck: EligibilityRecheck) -> list[str]:
    """How the results moved, for a re-check or its preview."""
    said = []
    if recheck.became_eligible:
        said.append(
            (
                ngettext(
                    "%(n)s application would become eligible.",
                    "%(n)s applications would become eligible.",
                    recheck.became_eligible,
                )
                if recheck.preview
                else ngettext(
                    "%(n)s application became eligible.",
                    "%(n)s applications became eligible.",
                    recheck.became_eligible,
                )
            )
            % {"n": recheck.became_eligible}
        )
    if recheck.became_ineligible:
        said.append(
            (
                ngettext(
                    "%(n)s application would no longer be eligible.",
                    "%(n)s applications would no longer be eligible.",
                    recheck.became_ineligible,
                )
                if recheck.preview
                else ngettext(
                    "%(n)s application is no longer eligible.",
                    "%(n)s applications are no longer eligible.",
                    recheck.became_ineligible,
                )
            )
            % {"n": recheck.became_ineligible}
        )
    reasons_only = recheck.changed - recheck.became_eligible - recheck.became_ineligible
    if reasons_only:
        said.append(
            (
                ngettext(
                    "The reasons of %(n)s application would change, not its result.",
                    "The reasons of %(n)s applications would change, not their result.",
                    reasons_only,
                )
                if recheck.preview
                else ngettext(
                    "The reasons of %(n)s application changed, not its result.",
                    "The reasons of %(n)s applications changed, not their result.",
                    reasons_only,
                )
            )
            % {"n": reasons_only}
        )
    return said


@school_view(INTAKES_MANAGE)
@require_http_methods(["GET", "POST"])
def notice_create(request: HttpRequest) -> HttpResponse:
    school = request.access.school
    latest = PrivacyNotice.objects.filter(school=school).first()
    initial = {}
    if latest:
        initial = {
            "cndp_authorisation": latest.cndp_authorisation,
            "text": latest.text,
            "text_ar": latest.text_ar,
        }
    form = PrivacyNoticeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        notice = intakes.privacy_notice_publish(
            school=school, actor=request.user, notice=form.save(commit=False)
        )
        messages.success(
            request, _("Version %(v)s of the privacy notice is published.") % {"v": notice.version}
        )
        return redirect("admissions:intake_list", school.slug)
    latest, older = selectors.intakes_on_an_older_notice(school)
    return render(
        request,
        "admissions/staff/notice_form.html",
        {"form": form, "school": school, "latest_notice": latest, "older_notice_calls": older},
        status=400 if request.method == "POST" else 200,
    )


@school_view(APPLICATIONS_VIEW)
@require_GET
def notice_detail(request: HttpRequest, version: int) -> HttpResponse:
    """A published version of the privacy notice as applicants read it, in French and in
    Arabic, with the calls that use it: what those who accepted it agreed to."""
    school = request.access.school
    notice = PrivacyNotice.objects.filter(school=school, version=version).first()
    if notice is None:
        raise Http404
    return render(
        request,
        "admissions/staff/notice_detail.html",
        {
            "school": school,
            "notice": notice,
            "calls": list(Intake.objects.filter(school=school, privacy_notice=notice)),
            # Erased ones too: their row, without the person, keeps what was accepted.
            "accepted": Application.objects.filter(
                intake__school=school, privacy_notice=notice, source=Application.Source.PORTAL
            ).count(),
            "latest": PrivacyNotice.objects.filter(school=school).first(),
        },
    )


@school_view(APPLICATIONS_VIEW)
@require_GET
def application_list(request: HttpRequest, intake_slug: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    services.identity_search_record(
        intake=intake, search=request.GET.get(selectors.SEARCH), actor=request.user
    )
    qs = selectors.applications_filtered(intake, request.GET).select_related("commune")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    facets = selectors.facets(intake, request.GET)
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    # Clearing the filters stays in the queue shown, and in its order.
    kept = {k: v for k, v in params.items() if k in ("queue", "sort")}
    # An application's page leads back to the list as it was left: filters, order and page,
    # not the search (a name or a CIN has no business in the session table).
    request.session[_list_key(intake)] = urlencode(
        {
            **{k: v for k, v in params.items() if k != selectors.SEARCH},
            **({"page": page.number} if page.number > 1 else {}),
        }
    )
    return render(
        request,
        "admissions/staff/application_list.html",
        {
            "intake": intake,
            "school": intake.school,
            "page": page,
            "facets": facets,
            "params": params,
            "query": urlencode(params),
            # What narrows the list: a value that names nothing does not (see the facets).
            "filtered": bool(params.get(selectors.SEARCH)) or any(f.selected for f in facets),
            "clear_query": urlencode(kept),
            # What the list is sorted by, which the menu shows chosen (and a search keeps).
            "sort": request.GET.get("sort")
            if request.GET.get("sort") in selectors.SORTS
            else "number",
            "sorts": selectors.SORT_LABELS.items(),
            "show_identity": request.access.can(IDENTITY_VIEW),
            "published": _published(intake) if params.get("queue") == "review" else None,
            "workbook_in_request": page.paginator.count <= export_tasks.IN_REQUEST,
            "exports": _exports(request, intake),
        },
    )


def _exports(request: HttpRequest, intake: Intake) -> list[tuple[ExportJob, str]]:
    """The reader's exports of the call still running or kept, each with what it is now."""
    if not request.access.can(APPLICATIONS_EXPORT):
        return []
    return export_tasks.exports_recent(intake, request.user)


def _selection(application: Application) -> dict | None:
    """Where the selection left the application, as staff read it: the published outcome
    moved on by the offers (``selection.decisions``), and the training it led to."""
    from tremplin.selection.decisions import Status, decision_for
    from tremplin.training.models import Enrolment

    decision = None if application.erased_at else decision_for(application)
    if decision is None:
        return None
    offer = decision.offer
    labels = {
        Status.OFFER: _("Seat offered: the answer is awaited until %(deadline)s.")
        % {"deadline": format_datetime(offer.deadline, "short") if offer else ""},
        Status.ACCEPTED: _("Seat accepted."),
        Status.DECLINED: _("Seat declined."),
        Status.EXPIRED: _("Offer expired without an answer."),
        Status.WAITLISTED: _("On the waiting list: position %(position)s now.")
        % {"position": decision.current_position},
        Status.TAKEN_BACK: _("Offer taken back by the school."),
        Status.NOT_RETAINED: _("Ranked, not retained."),
        Status.INELIGIBLE: _("Not eligible when the ranking was published."),
    }
    enrolment = Enrolment.objects.filter(application=application).select_related("cohort").first()
    return {
        "status": labels.get(decision.status, ""),
        "rank": decision.rank,
        "ranked": decision.ranked,
        "enrolment": enrolment,
    }


def _seat(application: Application) -> str:
    return "" if application.erased_at else personal_data.seat_held(application)


def _list_key(intake: Intake) -> str:
    return f"tremplin.applications.list.{intake.pk}"


def _published(intake: Intake):
    from tremplin.selection.schemes import published_run

    return published_run(intake)


@school_view(APPLICATIONS_VIEW)
@require_GET
def application_detail(request: HttpRequest, intake_slug: str, reference: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    application = access_application(request, intake, reference)
    # Shown once, after "Show": the page reloaded or opened again has it masked.
    revealed = request.session.pop(SESSION_REVEALED, None) == application.pk
    return _detail(request, application, reveal=revealed)


# The application whose CIN the next view of its page shows (``application_identity``).
SESSION_REVEALED = "tremplin.revealed_cin"


def _form_of_the_application(view):
    """A form's address on an application's page, which answers its POST. A GET of it (the
    language switched, or the page reloaded, after a refused form was shown there) leads to
    the application's page instead of "method not allowed"."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, intake_slug: str, reference: str) -> HttpResponse:
        if request.method != "POST":
            return redirect(
                "admissions:application_detail", request.access.school.slug, intake_slug, reference
            )
        return view(request, intake_slug, reference)

    return require_http_methods(["GET", "POST"])(wrapper)


def _to_the_page(intake: Intake, reference: str) -> HttpResponse:
    """The application's page from the top of its content, where the message is: without a
    fragment of its own, the browser would keep the form's (#decision, #contact, #erase) and
    open the page screens below the message."""
    detail = reverse(
        "admissions:application_detail", args=[intake.school.slug, intake.slug, reference]
    )
    return redirect(f"{detail}#main")


def _consents(application: Application) -> list[str]:
    version = {"v": application.privacy_notice.version}
    if application.source == Application.Source.IMPORT:
        # The import records the call's notice; nobody accepted it here: staff must not take
        # the line for the applicant's consent (law 09-08). Whoever imported may have
        # attested that the school collected it.
        if application.consent_attested:
            said = _(
                "privacy notice v%(v)s: consent collected by the school, as attested at the "
                "import (not given on this platform)"
            )
        else:
            said = _("privacy notice v%(v)s, recorded by the import: not accepted on this platform")
        consents = [said % version]
    else:
        consents = [_("privacy notice v%(v)s") % version]
    if application.follow_up_consent:
        consents.append(_("job-placement follow-up"))
    return consents


def _detail(
    request,
    application,
    *,
    form: EligibilityDecisionForm | None = None,
    contact_form: ContactForm | None = None,
    erase_form: ErasureForm | None = None,
    reveal: bool = False,
    status: int = 200,
) -> HttpResponse:
    eligibility_frozen = screening.eligibility_frozen_reason(application)
    return render(
        request,
        "admissions/staff/application_detail.html",
        {
            "intake": application.intake,
            "school": application.intake.school,
            "application": application,
            "cin": application.cin if reveal else mask_cin(application.cin),
            "revealed": reveal,
            "phone": format_phone(application.phone)
            if request.access.can(IDENTITY_VIEW)
            else mask_phone(application.phone),
            "can_identity": request.access.can(IDENTITY_VIEW),
            "can_manage": request.access.can(APPLICATIONS_MANAGE),
            "reasons": [describe_for_staff(r) for r in application.eligibility_reasons],
            # Staff made eligible someone the rules turned away: the rules no longer apply.
            "rules_overridden": application.eligibility_overridden
            and application.eligibility == Application.Eligibility.ELIGIBLE,
            "wishes": list(application.wishes.select_related("track")),
            "documents": list(application.documents.all()),
            "history": application_history(application),
            "consents": _consents(application),
            "form": form
            or EligibilityDecisionForm(
                decided_by_staff=application.eligibility_overridden,
                frozen=bool(eligibility_frozen),
            ),
            "erase_form": erase_form or ErasureForm(),
            "contact_form": contact_form
            or ContactForm(
                initial={"phone": format_phone(application.phone), "email": application.email}
            ),
            "can_outbox": request.access.can(OUTBOX_VIEW),
            "list_query": request.session.get(_list_key(application.intake), ""),
            "seat": _seat(application),
            "selection": _selection(application),
            "eligibility_frozen": eligibility_frozen,
        },
        status=status,
    )


@school_view(IDENTITY_VIEW)
@_form_of_the_application
def application_identity(request: HttpRequest, intake_slug: str, reference: str) -> HttpResponse:
    """Show the CIN, audited; then the page, so that reloading it shows no POST again (and
    records no second reveal)."""
    intake = access_intake(request, intake_slug)
    application = access_application(request, intake, reference)
    services.identity_reveal(application=application, actor=request.user)
    request.session[SESSION_REVEALED] = application.pk
    return redirect("admissions:application_detail", intake.school.slug, intake.slug, reference)


@school_view(APPLICATIONS_MANAGE)
@_form_of_the_application
def application_eligibility(request: HttpRequest, intake_slug: str, reference: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    application = access_application(request, intake, reference)
    form = EligibilityDecisionForm(
        request.POST,
        decided_by_staff=application.eligibility_overridden,
        frozen=bool(screening.eligibility_frozen_reason(application)),
    )
    if not form.is_valid():
        return _detail(request, application, form=form, status=400)
    decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
    try:
        if decision == "rules":
            if not screening.eligibility_restore_rules(
                application=application, actor=request.user, reason=reason
            ):
                messages.info(request, _("The rules already decide for this application."))
                return _to_the_page(intake, reference)
        else:
            screening.eligibility_override(
                application=application,
                actor=request.user,
                eligible=decision == "eligible",
                reason=reason,
            )
    except ValidationError as error:
        form.add_error(None, error)
        return _detail(request, application, form=form, status=400)
    messages.success(request, _("The decision is recorded."))
    return _to_the_page(intake, reference)


@school_view(APPLICATIONS_MANAGE)
@_form_of_the_application
def application_contact(request: HttpRequest, intake_slug: str, reference: str) -> HttpResponse:
    """Correct the phone or the email, for the roles that see them (``IDENTITY_VIEW``)."""
    intake = access_intake(request, intake_slug)
    application = access_application(request, intake, reference)
    if not request.access.can(IDENTITY_VIEW):
        raise Http404
    form = ContactForm(request.POST)
    if not form.is_valid():
        return _detail(request, application, contact_form=form, status=400)
    try:
        corrected = services.application_contact_correct(
            application=application, actor=request.user, **form.cleaned_data
        )
    except ValidationError as error:  # erased meanwhile: the form is no longer shown
        refused(request, error)
        return _to_the_page(intake, reference)
    if not corrected.changed:
        messages.info(request, _("The phone and the email were already these: nothing changed."))
    elif corrected.resent:
        messages.success(
            request,
            ngettext(
                "The contact details are corrected; %(count)d message that had not gone out "
                "goes to the new ones.",
                "The contact details are corrected; %(count)d messages that had not gone out "
                "go to the new ones.",
                corrected.resent,
            )
            % {"count": corrected.resent},
        )
    else:
        messages.success(request, _("The contact details are corrected."))
    return _to_the_page(intake, reference)


@school_view(APPLICATIONS_MANAGE)
@_form_of_the_application
def application_erase(request: HttpRequest, intake_slug: str, reference: str) -> HttpResponse:
    intake = access_intake(request, intake_slug)
    application = access_application(request, intake, reference)
    form = ErasureForm(request.POST)
    if not form.is_valid():
        return _detail(request, application, erase_form=form, status=400)
    try:
        personal_data.application_erase(
            application=application, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(request, _("The personal data of this application is erased."))
    return _to_the_page(intake, reference)


@school_view(IDENTITY_VIEW)
@require_GET
def application_document(
    request: HttpRequest, intake_slug: str, reference: str, document_id: int
) -> HttpResponse:
    """A private file, served only through this permission-checked view."""
    intake = access_intake(request, intake_slug)
    application = access_application(request, intake, reference)
    try:
        document = Document.objects.get(pk=document_id, application=application)
    except Document.DoesNotExist:
        raise Http404 from None
    from tremplin.core.audit import log_action

    log_action(
        "tremplin.applications.document_viewed",
        actor=request.user,
        school=intake.school,
        obj=application,
        data={"kind": document.kind},
    )
    response = FileResponse(document.file.open("rb"), content_type=document.content_type)
    response["Content-Disposition"] = f'inline; filename="{application.reference}-{document.kind}"'
    response["Cache-Control"] = "private, no-store"
    return response
