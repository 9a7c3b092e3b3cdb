"""Two-factor rules: who must use it, and whether this session has passed it."""

from django.conf import settings
from django_otp import user_has_device


def two_factor_required(user) -> bool:
    """Platform admins and funder coordinators must use 2FA (unless the demo relaxes it)."""
    if not settings.TWO_FACTOR_REQUIRED:
        return False
    return bool(user.is_superuser or user.coordinator_scopes.exists())


def needs_verification(user) -> bool:
    """The user has a device but this session has not yet been verified with it."""
    return user_has_device(user, confirmed=True) and not user.is_verified()


def needs_enrolment(user) -> bool:
    return two_factor_required(user) and not user_has_device(user, confirmed=True)
