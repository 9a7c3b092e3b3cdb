"""Absolute links for messages sent outside a request (a task, a sweep)."""

from django.conf import settings
from django.urls import reverse


def site_url(view_name: str, **kwargs) -> str:
    """The address of ``view_name`` on the public site (``SITE_URL``), or "" when the site's
    address is not configured: a message then names the page without a link."""
    if not settings.SITE_URL:
        return ""
    return settings.SITE_URL + reverse(view_name, kwargs=kwargs or None)
