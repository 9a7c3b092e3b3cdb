"""The signed-in person's own pages: where they land, and the profile/role switcher."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device

from tremplin.core import services
from tremplin.core.access import coordinated_schools, user_memberships
from tremplin.core.decorators import login_verified
from tremplin.core.forms import LanguageForm
from tremplin.core.models import Role
from tremplin.core.twofactor import two_factor_required


def _landing_urls(user) -> list[str]:
    from django.urls import reverse

    urls = []
    for membership in user_memberships(user):
        name = "schools:learner_space" if membership.role == Role.LEARNER else "schools:dashboard"
        url = reverse(name, kwargs={"school_slug": membership.school.slug})
        if url not in urls:
            urls.append(url)
    if user.coordinator_scopes.exists():
        urls.append(reverse("schools:coordinator"))
    return urls


@login_verified
def home_redirect(request: HttpRequest) -> HttpResponse:
    """Send each person to their own dashboard; people with several go to the switcher."""
    urls = _landing_urls(request.user)
    if len(urls) == 1 and not request.user.is_superuser:
        return redirect(urls[0])
    return redirect("core:account")


@login_verified
@require_http_methods(["GET"])
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "core/account.html",
        {
            "memberships": user_memberships(user),
            "coordinated_count": coordinated_schools(user).count(),
            "has_2fa": user_has_device(user, confirmed=True),
            "requires_2fa": two_factor_required(user),
            "language_form": LanguageForm(initial={"preferred_language": user.preferred_language}),
        },
    )


@login_verified
@require_POST
def account_language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if form.is_valid():
        language = form.cleaned_data["preferred_language"]
        services.user_set_language(user=request.user, language=language)
        translation.activate(language)
        messages.success(request, _("Your language is saved."))
        response = redirect("core:account")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            samesite="Lax",
        )
        return response
    messages.error(request, _("Choose one of the proposed languages."))
    return redirect("core:account")
