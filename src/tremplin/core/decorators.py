"""View decorators: login + 2FA gate, then the school's scope and a declared permission."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_scopes import scope

from tremplin.core.access import access_school
from tremplin.core.twofactor import needs_enrolment, needs_verification


def _two_factor_gate(request: HttpRequest) -> HttpResponse | None:
    if needs_verification(request.user):
        return redirect_to_login(request.get_full_path(), "core:otp_verify")
    if needs_enrolment(request.user):
        return redirect("core:otp_setup")
    return None


def login_verified(view: Callable) -> Callable:
    """Logged in, and past the second factor when the account has or needs one."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if (response := _two_factor_gate(request)) is not None:
            return response
        return view(request, *args, **kwargs)

    return wrapper


def school_view(permission: str) -> Callable:
    """Resolve ``school_slug`` into ``request.access``, check ``permission`` (404 if not held)
    and run the view inside the school's scope, so no query can leak another school's rows."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, school_slug: str, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if (response := _two_factor_gate(request)) is not None:
                return response
            access = access_school(request.user, school_slug, permission)
            request.access = access
            with scope(school=access.school):
                return view(request, *args, **kwargs)

        wrapper.permission = permission
        return wrapper

    return decorator
