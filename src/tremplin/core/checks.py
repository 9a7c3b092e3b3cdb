"""System checks that protect production from demo conveniences and slow setups."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_demo_relaxations(app_configs, **kwargs):
    errors = []
    if getattr(settings, "DEMO_MODE", False):
        errors.append(
            Error(
                "TREMPLIN_DEMO is on: this instance shows demo accounts and passwords.",
                hint="Unset TREMPLIN_DEMO in production.",
                id="tremplin.E001",
            )
        )
    if not settings.TWO_FACTOR_REQUIRED:
        errors.append(
            Error(
                "TREMPLIN_RELAX_2FA is on: platform admins and coordinators may skip 2FA.",
                hint="Unset TREMPLIN_RELAX_2FA in production.",
                id="tremplin.E002",
            )
        )
    return errors
