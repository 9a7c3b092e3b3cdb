from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django_scopes import scopes_disabled

from tremplin.core.audit import current_ip
from tremplin.core.client_ip import client_ip


class AdminScopeMiddleware:
    """The Django admin is for platform admins, who see every school: it runs unscoped."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/admin/"):
            with scopes_disabled():
                return self.get_response(request)
        return self.get_response(request)


class AuditContextMiddleware:
    """Makes the client's IP available to ``log_action`` during the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class ContentSecurityPolicyMiddleware:
    """Pages load nothing from outside the platform: no CDN, no font, no tracker."""

    POLICY = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'self'; object-src 'none'"
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response


class SignedInPagesMiddleware:
    """What a signed-in person is shown is never kept by the browser or a proxy: the pages of
    staff hold names, CINs revealed once, searches and exports, on computers that may be
    shared. Back after leaving asks the server again (which asks to sign in), and nothing
    stays in the browser's cache on disk. A view that chose its own caching keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The user as the request resolved it (AuthenticationMiddleware keeps it there): a
        # page for a signed-in person always resolves it, and an anonymous request that
        # never did (the portal's submission, on the busiest day) is not made to read its
        # session for this. tests/core/test_signed_in_pages.py holds this to account.
        user = getattr(request, "_cached_user", None)
        if "Cache-Control" not in response.headers and user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
