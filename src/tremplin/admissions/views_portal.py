"""The applicant portal: public, no account, works without JavaScript."""

import json
import secrets
import time
from functools import partial, wraps

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django_scopes import scope, scopes_disabled

from tremplin.admissions import (
    codes,
    documents,
    eligibility,
    held_uploads,
    personal_data,
    retention,
    services,
)
from tremplin.admissions.choices import DocumentKind
from tremplin.admissions.eligibility import describe
from tremplin.admissions.forms import (
    FILES_NOT_KEPT_ON_SWITCH,
    AccessForm,
    ApplicationForm,
    CodeForm,
    DocumentForm,
)
from tremplin.admissions.models import Application, Intake
from tremplin.admissions.portal_reads import Geography, call_details, published_call
from tremplin.core.client_ip import client_ip
from tremplin.core.feedback import refused
from tremplin.core.i18n import language_in_a_sentence
from tremplin.core.identifiers import format_phone
from tremplin.core.text import parse_id
from tremplin.schools.models import Track
from tremplin.selection.decisions import decision_for

SESSION_APPLICANT = "applicant_application_id"
SESSION_PENDING = "applicant_code_tries"
SESSION_REQUESTER = "applicant_requester"
# The reference typed at the door, for "Ask for a new code" (what she typed: it says
# nothing of whether it matched).
SESSION_TYPED = "applicant_typed_reference"
SESSION_SEEN = "applicant_seen"  # when the space was last opened, in seconds since the epoch
# Corrections sent after the space closed for want of use: {"application", "answers", "at"},
# given back in the form once a new code opens the same application (``_kept_answers``).
SESSION_KEPT = "applicant_kept_answers"
KEPT_ANSWERS_SECONDS = 3600
# A space that closes with the browser (a shared computer, a cyber café's) closes after this
# long unused too: such browsers are seldom closed, and the next person would find it open.
APPLICANT_IDLE_MINUTES = 30
SUBMITTED_SALT = "tremplin.portal.submitted"
# How long the confirmation page's link shows the reference and the eligibility: enough to
# reload it, not a day for whoever opens the history of a shared computer (a cyber café)
# next. The reference is in the confirmation SMS too.
SUBMITTED_MAX_AGE = 3600
# A browser that opened an applicant's space keeps a random token in this cookie, signed:
# the codes it asks for come from an allowance of its own (``codes.applicant_code_send``).
DEVICE_COOKIE = "tremplin_device"
DEVICE_SALT = "tremplin.portal.device"
# The id of a long form: on its page, the header's language buttons send it (base.html).
ANSWERS_FORM = "tp-answers"


def _intake(school_slug: str, intake_slug: str) -> Intake:
    intake = published_call(school_slug, intake_slug)
    if intake is None:
        raise Http404
    return intake


def _tracks(intake: Intake) -> list[Track]:
    return call_details(intake)[0]


def _space_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("portal:access"))


# --- Changing the language of a long form -----------------------------------------------
# On the application and edit pages the header's language buttons send the page's own form
# with a ``language`` field (HTML's ``form`` and ``formaction`` attributes, no JavaScript):
# the view shows what was typed again, in that language, unchecked and unsaved. Files are
# not sent again (the buttons send the form urlencoded).


def _switches_language(request: HttpRequest) -> bool:
    """Whether this POST is a language button's, not the form's own; the language asked for
    is then active, when it is one of the site's."""
    if request.method != "POST" or "language" not in request.POST:
        return False
    language = _language_asked(request)
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language
    return True


def _language_asked(request: HttpRequest) -> str | None:
    language = request.POST.get("language")
    return language if language in dict(settings.LANGUAGES) else None


def _as_typed(form: ApplicationForm, **kwargs) -> ApplicationForm:
    """A form showing what was typed into ``form``, with no error: nothing was checked. The
    valid files it received are held (``held_uploads``); its other file fields say to
    choose the files again."""
    held = {f"held_{kind}": token for kind, token in form.hold_files().items()}
    typed = {f.name: f.data for f in form if not f.name.startswith("held_")} | held
    shown = ApplicationForm(initial=typed, **kwargs)
    shown.kept = form.kept
    shown.say_kept()
    for name, field in shown.fields.items():
        if name.startswith("document_") and name.removeprefix("document_") not in form.kept:
            field.help_text = format_lazy("{} {}", FILES_NOT_KEPT_ON_SWITCH, field.help_text)
    return shown


def _keep_language(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Remember the language switched to, as Django's ``set_language`` does."""
    language = _language_asked(request)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


@require_safe  # HEAD too: link checkers, previews of a shared link
def intake_page(request: HttpRequest, school_slug: str, intake_slug: str) -> HttpResponse:
    intake = _intake(school_slug, intake_slug)
    with scope(school=intake.school):
        tracks = _tracks(intake)
        conditions = eligibility.conditions(intake)
    return render(
        request,
        "admissions/portal/intake.html",
        {
            "intake": intake,
            "school": intake.school,
            "tracks": tracks,
            **conditions,
            "open": intake.accepts_applications(),
            "not_yet": intake.opens_later(),
        },
    )


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, school_slug: str, intake_slug: str) -> HttpResponse:
    intake = _intake(school_slug, intake_slug)
    if not intake.accepts_applications():
        now = timezone.now()
        return render(
            request,
            "admissions/portal/closed.html",
            {
                "intake": intake,
                "school": intake.school,
                # When she can come back, or since when it is too late.
                "not_yet": intake.opens_later(now),
                "closed": intake.is_closed(now),
                "closed_on": intake.closes_at if now >= intake.closes_at else None,
            },
            # Gone for good past its closing date; closed by staff, it may open again.
            status=410 if now >= intake.closes_at else 403,
        )
    switching = _switches_language(request)
    with scope(school=intake.school):
        tracks, rules = call_details(intake)
        form = ApplicationForm(
            request.POST or None,
            request.FILES or None,
            intake=intake,
            tracks=tracks,
            # Whose documents it may hold (``held_uploads``): only a form that sent some.
            holder=held_uploads.holder_key(codes.connection_of(client_ip(request)))
            if request.FILES
            else "",
        )
        if switching:
            form = _as_typed(form, intake=intake, tracks=tracks)
        elif request.method == "POST" and form.is_valid():
            try:
                submission = services.application_submit(
                    intake=intake,
                    rules=rules,
                    data=form.cleaned_data,
                    wishes=form.cleaned_data["wishes"],
                    documents=form.documents(),
                    language=translation.get_language() or "fr",
                    space_url=_space_url(request),
                )
            except services.ApplicationClosed:
                return redirect(intake.get_absolute_url())
            # Stored with the application (or it existed already): no longer held.
            held_uploads.forget(form.held_used + form.held_superseded)
            # A signed token in the URL rather than a session: no session row to write on the
            # busiest request of the year.
            if submission.application is None:
                # The CIN has an application that may not be this person's: say nothing of it.
                payload = {"cin_taken": intake.pk}
            else:
                payload = [submission.application.pk, submission.created]
            token = signing.dumps(payload, salt=SUBMITTED_SALT)
            return redirect(f"{reverse('portal:submitted')}?t={token}")
    response = render(
        request,
        "admissions/portal/apply.html",
        {
            "intake": intake,
            "school": intake.school,
            "form": form,
            "answers_form": ANSWERS_FORM,
            "erasure_date": retention.erasure_date(intake),
            "retention_months": retention.retention_months(),
        },
        status=400 if form.is_bound else 200,
    )
    return _keep_language(request, response) if switching else response


@require_safe
@never_cache  # the reference and the name, on a computer that may be shared
def submitted(request: HttpRequest) -> HttpResponse:
    try:
        payload = signing.loads(
            request.GET.get("t", ""), salt=SUBMITTED_SALT, max_age=SUBMITTED_MAX_AGE
        )
        if isinstance(payload, dict):
            return _cin_taken(request, intake_id=int(payload["cin_taken"]))
        application_id, created = payload
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        return redirect("portal:access")
    with scopes_disabled():
        application = get_object_or_404(
            Application.objects.select_related("intake__school"), pk=application_id
        )
    return render(
        request,
        "admissions/portal/submitted.html",
        {
            "application": application,
            "intake": application.intake,
            "school": application.intake.school,
            "created": created,
            "reasons": [describe(r) for r in application.eligibility_reasons],
            "can_edit": application.accepts_changes,
            "missing_documents": _missing_documents(application),
        },
    )


def _missing_documents(application: Application) -> bool:
    """Whether a document the call asks for is what she lacks (she may send it until the
    closing date)."""
    return any(r["rule"] == "documents" for r in application.eligibility_reasons)


def _cin_taken(request: HttpRequest, *, intake_id: int) -> HttpResponse:
    """The answer to a submission whose CIN has already applied with other details: the
    same page whoever sent it, naming nothing of that application."""
    with scopes_disabled():
        intake = get_object_or_404(Intake.objects.select_related("school"), pk=intake_id)
    return render(
        request,
        "admissions/portal/cin_taken.html",
        {"intake": intake, "school": intake.school},
    )


@require_safe
def communes(request: HttpRequest) -> HttpResponse:
    """The commune options of a province (htmx improves the form with it), and what a screen
    reader says of the new list (an update of the form's ``communes-said``)."""
    province = parse_id(request.GET.get("province", ""))
    options = Geography.communes_of(province) if province is not None else []
    return render(
        request,
        "admissions/portal/_commune_options.html",
        {
            "communes": options,
            "province": Geography.provinces().get(province) if options else None,
        },
    )


# --- The applicant space -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@never_cache  # its redirect to the space: replayed from the cache after leaving, it loops
def access(request: HttpRequest) -> HttpResponse:
    """Step 1: reference and CIN. The answer is the same, and as quick, whether they match
    or not, and whether a code was sent or too many were already: anything else would tell
    a stranger that a reference and a CIN go together. A task looks the pair up and sends
    the code (``codes.access_request_process``)."""
    asked = request.GET.get("reference", "")[:20]
    if request.method == "GET" and _back_to_the_space(request, asked):
        return redirect("portal:space")
    # The reference only, from the confirmation page's link: never the CIN in a URL.
    form = AccessForm(request.POST or None, initial={"reference": asked})
    if request.method == "POST" and form.is_valid():
        try:
            codes.access_request_create(
                reference=form.cleaned_data["reference"],
                cin=form.cleaned_data["cin"],
                ip_address=client_ip(request),
                session_token=_session_token(request),
                device_token=_device_token(request),
            )
        except codes.AccessThrottled as throttled:
            form.add_error(
                None,
                ngettext(
                    "Too many requests for a code came from your connection. Try again in "
                    "%(minutes)d minute.",
                    "Too many requests for a code came from your connection. Try again in "
                    "%(minutes)d minutes.",
                    throttled.minutes,
                )
                % {"minutes": throttled.minutes},
            )
            return render(request, "admissions/portal/access.html", {"form": form}, status=429)
        request.session[SESSION_PENDING] = 0  # wrong codes typed since
        request.session[SESSION_TYPED] = form.cleaned_data["reference"]
        return redirect("portal:code")
    # Only what was typed is refused here (not a reference, not a CIN): never a pair.
    return render(
        request,
        "admissions/portal/access.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def _session_token(request: HttpRequest) -> str:
    """A secret of this browser session: the codes it asks for open the space only here."""
    if SESSION_REQUESTER not in request.session:
        request.session[SESSION_REQUESTER] = secrets.token_urlsafe(24)
    return request.session[SESSION_REQUESTER]


def _device_token(request: HttpRequest) -> str | None:
    """The token of this browser's device cookie, None without a valid one."""
    return request.get_signed_cookie(
        DEVICE_COOKIE, default=None, salt=DEVICE_SALT, max_age=codes.DEVICE_REMEMBERED
    )


def _remember_device(response: HttpResponse, token: str) -> None:
    """Keep the device cookie in the browser for ``codes.DEVICE_REMEMBERED`` more."""
    response.set_signed_cookie(
        DEVICE_COOKIE,
        token,
        salt=DEVICE_SALT,
        max_age=codes.DEVICE_REMEMBERED,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@require_http_methods(["GET", "POST"])
def code(request: HttpRequest) -> HttpResponse:
    """Step 2: the one-time code sent by SMS (and email)."""
    if SESSION_PENDING not in request.session:
        if request.method == "POST" and request.session.is_empty():
            # Sent twice (Enter pressed again, a second tap on a slow line): the first
            # opened the space in a new session and deleted this one. Leave the browser's
            # cookie alone, which the first answer replaced (the session middleware would
            # delete it as the cookie of an empty session): the space opens if it holds
            # the new session, and sends back to the door otherwise.
            request.COOKIES.pop(settings.SESSION_COOKIE_NAME, None)
            return redirect("portal:space")
        return redirect("portal:access")
    # Never ticked beforehand: on a cyber café's computer, the cookie may be someone else's.
    form = CodeForm(request.POST or None, months=codes.DEVICE_REMEMBERED.days // 30)
    if request.method == "POST" and form.is_valid():
        # Wrong tries since the last request for a code, counted in the session: a session
        # whose pair did not match holds no code, and must not try forever either.
        tries = request.session[SESSION_PENDING] or 0
        if tries >= codes.CODE_MAX_ATTEMPTS:
            form.add_error("code", _("Too many wrong codes were typed. Ask for a new code."))
        else:
            # Remembered only when asked: not a cyber café's computer (``KnownDevice``).
            remember = form.cleaned_data["remember"]
            device_token = _device_token(request) or (
                secrets.token_urlsafe(24) if remember else None
            )
            with scopes_disabled():
                application = codes.applicant_code_verify(
                    code=form.cleaned_data["code"],
                    session_token=_session_token(request),
                    device_token=device_token,
                    remember=remember,
                )
            if application is not None:
                request.session.cycle_key()
                request.session.pop(SESSION_PENDING, None)
                request.session.pop(SESSION_TYPED, None)
                request.session[SESSION_APPLICANT] = application.pk
                request.session[SESSION_SEEN] = int(time.time())
                # Perhaps a cyber café's computer: the space closes with the browser. On her
                # own phone, remembered, it lasts as a session does (SESSION_COOKIE_AGE).
                request.session.set_expiry(None if remember else 0)
                # Her corrections kept when the space closed: back to them.
                kept = _kept_answers(request, application.pk, take=False)
                response = redirect("portal:edit" if kept else "portal:space")
                if remember:
                    _remember_device(response, device_token)
                return response
            with scopes_disabled():
                twice = codes.applicant_code_just_used(
                    code=form.cleaned_data["code"], session_token=_session_token(request)
                )
            if twice:
                # Sent twice at once: the first request opened the space in a new session,
                # which the browser holds; this one leaves the session untouched (writing
                # it would fail, the first having deleted it).
                return redirect("portal:space")
            request.session[SESSION_PENDING] = tries + 1
            # The same words whether the pair matched or not: a code typed in another browser
            # than the one that asked for it is refused too (``codes.applicant_code_verify``).
            form.add_error(
                "code",
                _(
                    "This code is not valid or has expired. Check it or ask for a new one. A "
                    "code works only in the browser (on the phone or computer) where it was "
                    "asked for."
                ),
            )
    return render(
        request,
        "admissions/portal/code.html",
        {
            "form": form,
            "codes_per_hour": codes.CODES_PER_HOUR,
            # "Ask for a new code" fills the reference in again; the CIN, never in a URL,
            # is typed again.
            "typed_reference": request.session.get(SESSION_TYPED, ""),
        },
        status=400 if form.errors else 200,  # as every form with errors of the portal
    )


def _back_to_the_space(request: HttpRequest, asked: str) -> bool:
    """Whether the door sends this browser straight back to the space its session holds
    (from the header's "My application"), rather than cost another code: only a browser
    its applicant asked to remember (her phone), not one whose space closes with it (a
    shared computer, where the next person would land in her space); not while a code is
    asked for here (a sister's, on the same phone); not for another reference."""
    application_id = request.session.get(SESSION_APPLICANT)
    if (
        application_id is None
        or request.session.get_expire_at_browser_close()
        or SESSION_PENDING in request.session
    ):
        return False
    with scopes_disabled():
        found = Application.objects.filter(pk=application_id, erased_at__isnull=True)
        opened = found.values_list("reference", flat=True).first()
    return opened is not None and asked in ("", opened)


def applicant_required(view=None, *, keeps_answers: bool = False):
    """Runs the view for the applicant of this session, inside their school's scope. What
    it answers is kept by no cache: on a shared computer, the browser's Back button or
    history must not show the next person someone's application. ``keeps_answers``: what
    the view receives after the space closed for want of use is kept for its form, given
    back once a new code opens the same application (corrections typed for half an hour)."""
    if view is None:
        return partial(applicant_required, keeps_answers=keeps_answers)

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        application_id = request.session.get(SESSION_APPLICANT)
        if application_id is None:
            return redirect("portal:access")
        if _unused_too_long(request):
            request.session.pop(SESSION_APPLICANT, None)
            closed = _(
                "Your space closed after %(minutes)s minutes without use, as it does on a "
                "computer that is not yours. Ask for a new code to open it again."
            ) % {"minutes": APPLICANT_IDLE_MINUTES}
            if keeps_answers and request.method == "POST" and not _switches_language(request):
                request.session[SESSION_KEPT] = {
                    "application": application_id,
                    "answers": {
                        key: request.POST.getlist(key)
                        for key in request.POST
                        if key != "csrfmiddlewaretoken"
                    },
                    "at": int(time.time()),
                }
                # Kept no longer than they are given back: the session row, which holds
                # nothing else now, ends with them (a cyber café's browser left open).
                request.session.set_expiry(KEPT_ANSWERS_SECONDS)
                closed = f"{closed} {KEPT_SAID}"
            messages.info(request, closed)
            return redirect("portal:access")
        with scopes_disabled():
            application = (
                Application.objects.select_related(
                    "intake__school", "commune__province", "privacy_notice"
                )
                .filter(pk=application_id)
                .first()
            )
        if application is None or application.erased_at is not None:
            request.session.pop(SESSION_APPLICANT, None)
            return redirect("portal:access")
        with scope(school=application.intake.school):
            return view(request, application, *args, **kwargs)

    return wrapper


KEPT_SAID = gettext_lazy(
    "The corrections you sent are kept: once your space is open again, they are in the form, "
    "to check and save."
)


def _kept_answers(request: HttpRequest, application_id: int, *, take: bool = True):
    """The corrections kept for this application when its space closed (``SESSION_KEPT``),
    as a form's data, or None: none, too old, or another application's (the next person
    on a shared computer), which are dropped. ``take``: no longer kept once given back."""
    kept = request.session.get(SESSION_KEPT)
    if kept is None:
        return None
    fresh = int(time.time()) - kept["at"] <= KEPT_ANSWERS_SECONDS
    if take or not fresh or kept["application"] != application_id:
        del request.session[SESSION_KEPT]
    if not fresh or kept["application"] != application_id:
        return None
    data = QueryDict(mutable=True)
    for key, values in kept["answers"].items():
        data.setlist(key, values)
    return data


def _unused_too_long(request: HttpRequest) -> bool:
    """Whether a space that closes with the browser was left unused too long; else notes
    this visit (at most once a minute: a session written on every page for nothing). A
    remembered browser (her own phone) keeps it as a session lasts."""
    if not request.session.get_expire_at_browser_close():
        return False
    now = int(time.time())
    seen = request.session.get(SESSION_SEEN, now)
    if now - seen > APPLICANT_IDLE_MINUTES * 60:
        return True
    if now - seen >= 60 or SESSION_SEEN not in request.session:
        request.session[SESSION_SEEN] = now
    return False


@applicant_required
@require_GET
def space(request: HttpRequest, application: Application) -> HttpResponse:
    seat = personal_data.seat_held(application)
    return render(
        request,
        "admissions/portal/space.html",
        {
            "application": application,
            "intake": application.intake,
            "school": application.intake.school,
            "reasons": [describe(r) for r in application.eligibility_reasons],
            "wishes": list(application.wishes.select_related("track")),
            "documents": _documents(application),
            "missing_documents": _missing_documents(application),
            "in_space": True,
            "can_edit": application.accepts_changes,
            "decision": decision_for(application),
            "graduate": seat == personal_data.SEAT_COMPLETED,
            "graduate_kept": personal_data.GRADUATE_KEPT,
            # What withdrawing takes back, said before she confirms.
            "seat_offered": seat == personal_data.SEAT_OFFERED,
            "in_training": seat == personal_data.SEAT_TRAINING,
            # Read in another language than her messages are sent in: offered to change.
            "messages_language": _messages_language(request, application),
        },
    )


def _messages_language(request: HttpRequest, application: Application) -> dict | None:
    page = translation.get_language()
    if application.language == page or page not in dict(settings.LANGUAGES):
        return None
    return {
        "code": page,
        "page": language_in_a_sentence(page),
        "messages": language_in_a_sentence(application.language),
    }


def _documents(application: Application) -> list[tuple[str, str, object]]:
    """(kind, label, the document given or None) for each document the call asks for, then
    any other given (a call whose list changed since)."""
    given = {d.kind: d for d in application.documents.all()}
    kinds = list(application.intake.required_documents)
    kinds += [kind for kind in given if kind not in kinds]
    return [(kind, DocumentKind(kind).label, given.get(kind)) for kind in kinds]


@applicant_required
@require_http_methods(["GET", "POST"])
def document(request: HttpRequest, application: Application, kind: str) -> HttpResponse:
    """Give a document the call asks for, or replace the one given, until the closing date."""
    if kind not in application.intake.required_documents:
        raise Http404
    if not application.accepts_changes:
        return _back_unchanged(request, application)
    form = DocumentForm(request.POST or None, request.FILES or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            documents.application_document_give(
                application=application,
                kind=kind,
                upload=form.cleaned_data["document_file"],
                content_type=form.content_type,
            )
        except services.ApplicationClosed:
            return _back_unchanged(request, application)
        if application.eligibility_overridden:
            messages.success(request, _("Your document is received.") + " " + str(TO_REVIEW))
        elif application.eligibility == Application.Eligibility.INELIGIBLE:
            # Not a green "received" above a red "not eligible" (see ``_say_updated``).
            messages.warning(
                request,
                _(
                    "Your document is received, but your application does not meet the "
                    "conditions of the call yet: the reason is below."
                ),
            )
        else:
            messages.success(request, _("Your document is received."))
        return redirect("portal:space")
    return render(
        request,
        "admissions/portal/document.html",
        {
            "form": form,
            "application": application,
            "intake": application.intake,
            "school": application.intake.school,
            "given": application.documents.filter(kind=kind).first(),
        },
        status=400 if form.errors else 200,
    )


@applicant_required(keeps_answers=True)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, application: Application) -> HttpResponse:
    if not application.accepts_changes:
        # Before the form: answers typed into it would only be thrown away.
        return _back_unchanged(request, application)
    switching = _switches_language(request)
    intake = application.intake
    tracks = _tracks(intake)
    initial = {f: getattr(application, f) for f in services.APPLICANT_FIELDS}
    initial["province"] = application.commune.province
    initial["phone"] = format_phone(application.phone)  # as the applicant typed it
    for wish in application.wishes.all():
        initial[f"wish_{wish.rank}"] = str(wish.track_id)
    # Documents have a page each (``document``): the answers are corrected here.
    fixed = {"intake": intake, "tracks": tracks, "with_identity": False, "with_documents": False}
    form = ApplicationForm(request.POST or None, initial=initial, **fixed)
    kept = _kept_answers(request, application.pk) if request.method == "GET" else None
    if kept is not None:
        form = _as_typed(ApplicationForm(kept, initial=initial, **fixed), **fixed)
        messages.info(
            request,
            _(
                "Here are the corrections you sent when your space had closed: nothing is "
                "saved yet. Check them and save."
            ),
        )
    elif switching:
        form = _as_typed(form, **fixed)
    elif request.method == "POST" and form.is_valid():
        try:
            updated = services.application_update(
                application=application, data=form.cleaned_data, wishes=form.cleaned_data["wishes"]
            )
        except services.ApplicationClosed:
            return _back_unchanged(request, application)
        _say_updated(request, before=application, updated=updated)
        return redirect("portal:space")
    response = render(
        request,
        "admissions/portal/edit.html",
        {
            "form": form,
            "answers_form": ANSWERS_FORM,
            "application": application,
            "intake": intake,
            "school": intake.school,
            # Said beforehand where the space closes when unused (``_unused_too_long``).
            "idle_minutes": APPLICANT_IDLE_MINUTES
            if request.session.get_expire_at_browser_close()
            else None,
        },
        status=400 if form.is_bound else 200,
    )
    return _keep_language(request, response) if switching else response


# Staff decided on eligibility: the rules do not undo it, the applicant's changes send it
# back to them (``services.decision_to_review``).
TO_REVIEW = gettext_lazy(
    "The school decided itself whether your application meets the conditions of the call: "
    "it will look at its decision again with your changes."
)


def _say_updated(request: HttpRequest, *, before: Application, updated: Application) -> None:
    """The correction is saved; said with what it changed to the conditions of the call,
    which the space then explains (a green "updated" above a red "not eligible" read as
    if all was well)."""
    ineligible = Application.Eligibility.INELIGIBLE
    if updated.eligibility_overridden:
        # Not "with these answers it does not meet the conditions": the rules did not say
        # so. Back to the school only if she changed what the rules read (not her email).
        said = _("Your application is updated.")
        if updated.changed_since_decision_at != before.changed_since_decision_at:
            said = f"{said} {TO_REVIEW}"
        messages.success(request, said)
        return
    before, after = before.eligibility, updated.eligibility
    if after == ineligible:
        messages.warning(
            request,
            _(
                "Your application is updated, but with these answers it does not meet the "
                "conditions of the call: the reason is below. You can correct it until the "
                "closing date."
            ),
        )
    elif before == ineligible and after != ineligible:
        messages.success(
            request, _("Your application is updated: it now meets the conditions of the call.")
        )
    else:
        messages.success(request, _("Your application is updated."))


def _back_unchanged(request: HttpRequest, application: Application) -> HttpResponse:
    """Back to the space, saying why the application no longer takes changes."""
    application.refresh_from_db(fields=["status", "deletion_requested_at"])
    messages.error(request, _cannot_change(application))
    return redirect("portal:space")


def _cannot_change(application: Application) -> str:
    if application.status == Application.Status.WITHDRAWN:
        return _("Your application is withdrawn: it can no longer change.")
    if application.deletion_requested_at is not None:
        return _("You asked for your data to be deleted: your application can no longer change.")
    return _("The call is closed: your application can no longer change.")


@applicant_required
@require_POST
def withdraw(request: HttpRequest, application: Application) -> HttpResponse:
    if request.POST.get("confirm") == "yes":
        try:
            services.application_withdraw(application=application)
        except ValidationError as error:
            refused(request, error)
            return redirect("portal:space")
        messages.success(request, _("Your application is withdrawn."))
    return redirect("portal:space")


@applicant_required
@require_POST
def messages_language(request: HttpRequest, application: Application) -> HttpResponse:
    """Send her messages in the language she reads her space in."""
    language = _language_asked(request)
    if language is None:
        return HttpResponseBadRequest()
    if services.application_language_set(application=application, language=language):
        with translation.override(language):
            said = _("Your messages will now be sent in %(language)s.") % {
                "language": language_in_a_sentence(language)
            }
        messages.success(request, said)
    return redirect("portal:space")


@applicant_required
@require_GET
def data_download(request: HttpRequest, application: Application) -> HttpResponse:
    response = HttpResponse(
        json.dumps(personal_data.application_data(application), ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{application.reference}.json"'
    return response


@applicant_required
@require_POST
def request_deletion(request: HttpRequest, application: Application) -> HttpResponse:
    if request.POST.get("confirm") == "yes":
        try:
            personal_data.application_request_deletion(application=application)
        except ValidationError as error:
            refused(request, error)
            return redirect("portal:space")
        messages.success(
            request,
            _(
                "Your request is recorded. The school will delete your data and withdraw your "
                "application; after that, this space will no longer open."
            ),
        )
    return redirect("portal:space")


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """Close the space; with ``forget``, forget this browser too (a shared computer): its
    cookie is deleted and its allowance of codes for this application withdrawn."""
    application_id = request.session.pop(SESSION_APPLICANT, None)
    request.session.pop(SESSION_PENDING, None)
    request.session.pop(SESSION_TYPED, None)
    request.session.pop(SESSION_SEEN, None)
    response = redirect("public:index")
    if request.POST.get("forget"):
        device_token = _device_token(request)
        if device_token and application_id:
            codes.known_device_forget(application_id=application_id, device_token=device_token)
        response.delete_cookie(DEVICE_COOKIE, samesite="Lax")
    return response
