"""Staff sign-in: password (throttled by django-axes), then the second factor."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login

from tremplin.core import services
from tremplin.core.twofactor import needs_enrolment


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


def lockout_response(request: HttpRequest, credentials: dict, *args, **kwargs) -> HttpResponse:
    """Shown instead of the login form while the account is cooling off (django-axes)."""
    return render(
        request,
        "core/locked_out.html",
        {"cooloff_minutes": settings.AXES_COOLOFF_MINUTES},
        status=429,
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    from tremplin.core.forms import OTPTokenForm

    if request.user.is_verified() or not user_has_device(request.user, confirmed=True):
        return redirect(_safe_next(request))
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.otp_match(user=request.user, token=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_safe_next(request))
        form.add_error("token", _("This code is not valid. Try the current code again."))
    return render(
        request, "core/otp_verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the QR code, confirm with one code, then show the
    recovery codes once."""
    from tremplin.core.forms import OTPSetupForm

    if any(devices_for_user(request.user, confirmed=True)) and not request.user.is_verified():
        return redirect("core:otp_verify")
    device = services.otp_pending_device(user=request.user)
    form = OTPSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.otp_confirm(
            user=request.user, device=device, token=form.cleaned_data["token"]
        )
        if codes is not None:
            otp_login(request, device)
            return render(request, "core/otp_recovery_codes.html", {"codes": codes})
        form.add_error("token", _("This code is not valid. Check your phone's clock and retry."))
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)
    return render(
        request,
        "core/otp_setup.html",
        {
            "form": form,
            "qr_svg": qr_svg,
            "secret": services.otp_secret_b32(device),
            "required": needs_enrolment(request.user),
        },
    )


@login_required
@require_http_methods(["POST"])
def otp_recovery_codes(request: HttpRequest) -> HttpResponse:
    if not request.user.is_verified():
        return redirect("core:otp_verify")
    codes = services.recovery_codes_regenerate(user=request.user)
    return render(request, "core/otp_recovery_codes.html", {"codes": codes})


@login_required
@require_http_methods(["POST"])
def otp_disable(request: HttpRequest) -> HttpResponse:
    if not request.user.is_verified():
        return redirect("core:otp_verify")
    if not services.otp_disable(user=request.user):
        messages.error(request, _("Two-factor authentication is required for your account."))
    else:
        messages.success(request, _("Two-factor authentication is turned off."))
    return redirect("core:account")
