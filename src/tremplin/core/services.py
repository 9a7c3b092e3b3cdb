"""Account workflows: second-factor enrolment, recovery codes, preferences."""

import base64
import secrets

from django.db import transaction
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tremplin.core.audit import log_action
from tremplin.core.models import User
from tremplin.core.twofactor import two_factor_required

RECOVERY_CODE_COUNT = 10


def otp_match(*, user: User, token: str):
    """The confirmed device that accepts ``token`` (TOTP or a single-use recovery code)."""
    device = match_token(user, token)
    if isinstance(device, StaticDevice):
        log_action("tremplin.auth.recovery_code_used", actor=user, obj=user)
    return device


def otp_pending_device(*, user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def otp_secret_b32(device: TOTPDevice) -> str:
    """The secret as people type it into an app that cannot scan (groups of four)."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def otp_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a first code; returns the new recovery codes, or None
    when the code is wrong."""
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    log_action("tremplin.auth.2fa_enabled", actor=user, obj=user)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    log_action("tremplin.auth.recovery_codes_regenerated", actor=user, obj=user)
    return codes


@transaction.atomic
def otp_disable(*, user: User) -> bool:
    """Turn 2FA off, unless the account's role requires it."""
    if two_factor_required(user):
        return False
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    log_action("tremplin.auth.2fa_disabled", actor=user, obj=user)
    return True


def user_set_language(*, user: User, language: str) -> None:
    user.preferred_language = language
    user.full_clean(validate_unique=False, validate_constraints=False)
    user.save(update_fields=["preferred_language"])
