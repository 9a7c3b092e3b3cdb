"""The Django admin is for platform admins only, behind the same second factor as the app."""

from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tremplin.core.twofactor import needs_enrolment, needs_verification


def _has_permission(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_superuser
        and not needs_verification(user)
        and not needs_enrolment(user)
    )


def _login(request: HttpRequest, extra_context=None):
    # One sign-in page for everybody: the app's, with throttling and the second factor.
    return redirect_to_login(request.GET.get("next") or request.get_full_path())


def configure_admin(site: AdminSite) -> None:
    site.site_header = _("Tremplin administration")
    site.site_title = _("Tremplin administration")
    site.index_title = _("Platform administration")
    site.has_permission = _has_permission
    site.login = _login
