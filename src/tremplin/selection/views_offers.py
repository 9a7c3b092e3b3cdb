"""Offers pages: the applicant accepts or declines in their space; staff follow the seats,
record answers given by phone, take offers back, promote from the waiting list and fill
freed seats."""

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tremplin.admissions.access import access_application, access_intake
from tremplin.admissions.models import Application, Intake
from tremplin.admissions.views_portal import applicant_required
from tremplin.core.decorators import school_view
from tremplin.core.formatting import format_list
from tremplin.core.permissions import RANKING_MANAGE
from tremplin.selection.models import Offer, RankingResult, SeatPool
from tremplin.selection.offers import (
    HOLDING,
    OfferAnswer,
    OfferError,
    offer_accept,
    offer_decline,
    offer_withdraw,
)
from tremplin.selection.schemes import published_run
from tremplin.selection.waitlist import waitlist_fill, waitlist_promote

STATUS_ORDER = [s.value for s in Offer.Status]


# --- The applicant -----------------------------------------------------------------------


def _applicant_offer(application: Application, offer_id: int) -> Offer:
    """The applicant's own offer; 404 for anyone else's."""
    offer = Offer.objects.filter(pk=offer_id, application=application).first()
    if offer is None:
        raise Http404
    return offer


def _tell_applicant(request: HttpRequest, answer: OfferAnswer) -> None:
    status = answer.offer.status
    if answer.changed and status == Offer.Status.ACCEPTED:
        messages.success(request, _("Your place is confirmed. Welcome!"))
    elif answer.changed:
        messages.success(
            request,
            _(
                "You declined the offer. Thank you for telling us: your seat goes to the next "
                "person waiting."
            ),
        )
    elif status == Offer.Status.ACCEPTED:
        messages.info(request, _("You have already accepted this offer: your place is confirmed."))
    elif status == Offer.Status.DECLINED:
        messages.info(request, _("You have already declined this offer."))
    elif status == Offer.Status.CANCELLED:
        messages.error(request, _("This offer was withdrawn."))
    else:  # expired, or live past its deadline and not yet swept
        messages.error(request, _("The time to answer this offer has passed."))


@applicant_required
@require_POST
def applicant_offer_accept(request: HttpRequest, application: Application, offer_id: int):
    offer = _applicant_offer(application, offer_id)
    try:
        answer = offer_accept(offer=offer, channel=Offer.Channel.APPLICANT)
    except OfferError as error:
        messages.error(request, str(error))
    else:
        _tell_applicant(request, answer)
    return redirect("portal:space")


@applicant_required
@require_http_methods(["GET", "POST"])
def applicant_offer_decline(request: HttpRequest, application: Application, offer_id: int):
    """A page that asks to confirm (the form in the space confirms in place without it)."""
    offer = _applicant_offer(application, offer_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            answer = offer_decline(offer=offer, channel=Offer.Channel.APPLICANT)
        except OfferError as error:
            messages.error(request, str(error))
        else:
            _tell_applicant(request, answer)
        return redirect("portal:space")
    if offer.status != Offer.Status.LIVE:
        return redirect("portal:space")
    return render(
        request,
        "selection/offers/decline_confirm.html",
        {"offer": offer, "application": application, "intake": application.intake},
    )


# --- Staff -------------------------------------------------------------------------------


class PhoneAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=gettext_lazy("Answer"),
        choices=[("accept", gettext_lazy("accepts")), ("decline", gettext_lazy("declines"))],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("Who called, when, and what they said."),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy(
            "For example false information, or an offer made by mistake. The applicant is "
            "told by SMS (and email) that the seat is withdrawn, not this reason."
        ),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )


class PromoteForm(forms.Form):
    # A select of who waits now, but any reference is let through to the service, which
    # says clearly why someone cannot be promoted (e.g. an offer made a moment ago).
    reference = forms.CharField(
        label=gettext_lazy("Applicant on the waiting list"), widget=forms.Select
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("Why this applicant, before the call order does it."),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, waiting: list[RankingResult], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference"].widget.choices = [("", "—")] + [
            (r.application.reference, f"{r.application.reference} · {r.application.full_name}")
            for r in waiting
        ]


def access_offer(request: HttpRequest, offer_id: int) -> Offer:
    """An offer of the current school (call inside a `school_view`); 404 otherwise."""
    offer = (
        Offer.objects.select_related("pool__intake__school", "application")
        .filter(pk=offer_id, pool__intake__school=request.access.school)
        .first()
    )
    if offer is None:
        raise Http404
    return offer


def _waiting(intake: Intake, run) -> list[RankingResult]:
    """Who still waits, in the published order: on the waiting list, no offer held or
    answered, application not withdrawn."""
    if run is None:
        return []
    had_offer = Offer.objects.filter(pool__intake=intake).values("application")
    return list(
        RankingResult.objects.filter(
            run=run,
            outcome=RankingResult.Outcome.WAITLISTED,
            application__status=Application.Status.SUBMITTED,
        )
        .exclude(application__in=had_offer)
        .select_related("application", "track__track")
        .order_by("track_id", "waitlist_position", "call_rank", "pk")
    )


def _offers_page(
    request: HttpRequest,
    intake: Intake,
    *,
    promote_form: PromoteForm | None = None,
    answer_form: PhoneAnswerForm | None = None,
    answer_offer_id: int | None = None,
    withdraw_form: WithdrawForm | None = None,
    withdraw_offer_id: int | None = None,
    status: int = 200,
) -> HttpResponse:
    run = published_run(intake)
    pools = list(
        SeatPool.objects.filter(intake=intake).select_related("track__track").order_by("pk")
    )
    shown = request.GET.get("status", "")
    offers = (
        Offer.objects.filter(pool__intake=intake)
        .select_related("application", "answered_by", "created_by", "pool__track__track")
        .order_by("deadline", "pk")
    )
    counts = dict(offers.order_by().values_list("status").annotate(n=Count("pk")))
    if shown in STATUS_ORDER:
        offers = offers.filter(status=shown)
    offers = sorted(offers, key=lambda o: STATUS_ORDER.index(o.status))
    answer_forms = {
        o.pk: PhoneAnswerForm(auto_id=f"answer{o.pk}_%s")
        for o in offers
        if o.status == Offer.Status.LIVE
    }
    if answer_form is not None:
        answer_forms[answer_offer_id] = answer_form
    withdraw_forms = {
        o.pk: WithdrawForm(auto_id=f"withdraw{o.pk}_%s") for o in offers if o.status in HOLDING
    }
    if withdraw_form is not None:
        withdraw_forms[withdraw_offer_id] = withdraw_form
    waiting = _waiting(intake, run)
    return render(
        request,
        "selection/offers/offer_list.html",
        {
            "intake": intake,
            "school": intake.school,
            "run": run,
            "pools": pools,
            "free": sum(max(p.free, 0) for p in pools),
            "offers": offers,
            "counts": [(s, label, counts.get(s, 0)) for s, label in Offer.Status.choices],
            "total": sum(counts.values()),
            "shown": shown,
            "waiting": waiting,
            "promote_form": promote_form or PromoteForm(waiting=waiting),
            "answer_forms": answer_forms,
            "answer_offer_id": answer_offer_id,
            "withdraw_forms": withdraw_forms,
            "withdraw_offer_id": withdraw_offer_id,
            "several_tracks": any(p.track_id for p in pools),
        },
        status=status,
    )


@school_view(RANKING_MANAGE)
@require_GET
def offer_list(request: HttpRequest, intake_slug: str) -> HttpResponse:
    return _offers_page(request, access_intake(request, intake_slug))


def _back(intake: Intake) -> HttpResponse:
    return redirect("selection:offers", school_slug=intake.school.slug, intake_slug=intake.slug)


@school_view(RANKING_MANAGE)
@require_POST
def offer_answer(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Record an answer the applicant gave by phone, with a reason."""
    offer = access_offer(request, offer_id)
    intake = offer.pool.intake
    form = PhoneAnswerForm(request.POST, auto_id=f"answer{offer.pk}_%s")
    if not form.is_valid():
        return _offers_page(request, intake, answer_form=form, answer_offer_id=offer.pk, status=400)
    service = offer_accept if form.cleaned_data["answer"] == "accept" else offer_decline
    try:
        answer = service(
            offer=offer,
            channel=Offer.Channel.PHONE,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except OfferError as error:
        messages.error(request, str(error))
        return _back(intake)
    _tell(request, answer, _("Answer recorded: the offer of %(reference)s is %(status)s."))
    return _back(intake)


def _tell(request: HttpRequest, answer: OfferAnswer, done: str) -> None:
    """Say what staff's action on an offer did (``done``, with ``%(reference)s`` and
    ``%(status)s``), or that it changed nothing: a double click, an answer given meanwhile."""
    values = {
        "reference": answer.offer.application.reference,
        "status": answer.offer.get_status_display(),
    }
    if answer.changed:
        messages.success(request, done % values)
    else:
        messages.info(
            request,
            _("Nothing changed: the offer of %(reference)s is already %(status)s.") % values,
        )


@school_view(RANKING_MANAGE)
@require_POST
def offer_withdrawal(request: HttpRequest, offer_id: int) -> HttpResponse:
    """The school takes back a live or accepted offer, with a reason."""
    offer = access_offer(request, offer_id)
    intake = offer.pool.intake
    form = WithdrawForm(request.POST, auto_id=f"withdraw{offer.pk}_%s")
    if not form.is_valid():
        return _offers_page(
            request, intake, withdraw_form=form, withdraw_offer_id=offer.pk, status=400
        )
    try:
        answer = offer_withdraw(offer=offer, actor=request.user, reason=form.cleaned_data["reason"])
    except OfferError as error:
        messages.error(request, str(error))
        return _back(intake)
    _tell(
        request,
        answer,
        _(
            "Offer withdrawn: %(reference)s no longer holds a seat, which goes to the next in "
            "the call order. The applicant is told by SMS (and email), without the reason."
        ),
    )
    return _back(intake)


@school_view(RANKING_MANAGE)
@require_POST
def offer_promote(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """Offer a free seat by hand to someone on the waiting list, with a reason."""
    intake = access_intake(request, intake_slug)
    form = PromoteForm(request.POST, waiting=_waiting(intake, published_run(intake)))
    if not form.is_valid():
        return _offers_page(request, intake, promote_form=form, status=400)
    application = access_application(request, intake, form.cleaned_data["reference"])
    try:
        offer = waitlist_promote(
            application=application, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except OfferError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(reference)s is offered a seat and notified.")
            % {"reference": offer.application.reference},
        )
    return _back(intake)


@school_view(RANKING_MANAGE)
@require_POST
def offer_fill(request: HttpRequest, intake_slug: str) -> HttpResponse:
    """Offer the free seats to the next in the call order now (the sweep does it each minute)."""
    intake = access_intake(request, intake_slug)
    made = waitlist_fill(intake=intake, actor=request.user)
    if made:
        messages.success(
            request,
            _("Offers made and notified: %(references)s.")
            % {"references": format_list(o.application.reference for o in made)},
        )
    else:
        messages.info(request, _("No offer to make: no seat is free, or nobody is waiting."))
    return _back(intake)
