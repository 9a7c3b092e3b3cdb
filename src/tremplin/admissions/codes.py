"""The applicant's one-time codes: how an applicant without an account opens their space,
with the reference, the CIN and a code sent to the phone and email of the application."""

import datetime
import hmac
import secrets

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tremplin.admissions.models import ApplicantCode, Application
from tremplin.admissions.services import _notify
from tremplin.core.audit import log_action

CODE_TTL = datetime.timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
# Codes sent in an hour for one application: to one requester (an IP address), so that a
# stranger who knows the reference and the CIN cannot use up the owner's codes; and in all,
# to bound what the SMS cost.
CODES_PER_HOUR = 3
CODES_PER_HOUR_IN_ALL = 10


def _hash_code(application_id: int, code: str) -> str:
    return salted_hmac("tremplin.applicant-code", f"{application_id}:{code}").hexdigest()


def _hash_session(token: str) -> str:
    return salted_hmac("tremplin.applicant-code-session", token, algorithm="sha256").hexdigest()


@transaction.atomic
def applicant_code_send(
    *, application: Application, requester: str | None, session_token: str
) -> bool:
    """Send a fresh 6-digit code by SMS (and email); False when too many were sent lately.

    ``requester`` is the IP address that asks: each may have ``CODES_PER_HOUR`` codes an
    hour for an application, and the application ``CODES_PER_HOUR_IN_ALL``. The code opens
    the space only in the browser session that asked for it (``session_token``, a secret of
    that session), and earlier codes stay valid until they expire or one is used: a stranger
    who knows the reference and the CIN can neither void the owner's code by asking for
    another nor by guessing wrong. Each request is recorded in the audit log, with its IP
    address: that is what the limit per requester counts.
    """
    from django.contrib.contenttypes.models import ContentType

    from tremplin.core.models import AuditEvent

    # Locked so that simultaneous requests count each other.
    Application.objects.select_for_update().filter(pk=application.pk).first()
    since = timezone.now() - datetime.timedelta(hours=1)
    in_all = ApplicantCode.objects.filter(application=application, created_at__gte=since)
    by_requester = AuditEvent.objects.filter(
        action="tremplin.applications.code_sent",
        content_type=ContentType.objects.get_for_model(Application),
        object_id=str(application.pk),
        created_at__gte=since,
        ip_address=requester,
    )
    if by_requester.count() >= CODES_PER_HOUR or in_all.count() >= CODES_PER_HOUR_IN_ALL:
        return False
    code = f"{secrets.randbelow(10**6):06d}"
    ApplicantCode.objects.create(
        application=application,
        code_hash=_hash_code(application.pk, code),
        requester=_hash_session(session_token),
        expires_at=timezone.now() + CODE_TTL,
    )
    _notify(
        application,
        "applicant_code",
        {
            "code": code,
            "minutes": int(CODE_TTL.total_seconds() // 60),
            "reference": application.reference,
        },
    )
    log_action(
        "tremplin.applications.code_sent",
        school=application.intake.school,
        obj=application,
        ip_address=requester,
    )
    return True


def applicant_code_verify(*, application: Application, code: str, session_token: str) -> bool:
    """True once for a right, unexpired code of the application sent at the request of this
    browser session (``session_token``), which then voids all of the application's codes. A
    wrong try counts against every code this session still holds: however many it asked
    for, ``CODE_MAX_ATTEMPTS`` wrong tries end them all, and the codes of other sessions
    (the owner's) are not touched."""
    with transaction.atomic():
        now = timezone.now()
        valid = list(
            ApplicantCode.objects.select_for_update().filter(
                application=application,
                used_at__isnull=True,
                expires_at__gt=now,
                attempts__lt=CODE_MAX_ATTEMPTS,
                requester=_hash_session(session_token),
            )
        )
        if not valid:
            return False
        expected = _hash_code(application.pk, code)
        # Every code is compared, so the time taken says nothing about which one matched.
        matches = [hmac.compare_digest(c.code_hash, expected) for c in valid]
        if not any(matches):
            ApplicantCode.objects.filter(pk__in=[c.pk for c in valid]).update(
                attempts=F("attempts") + 1
            )
            return False
        ApplicantCode.objects.filter(application=application, used_at__isnull=True).update(
            used_at=now
        )
        return True


def application_for_access(*, reference: str, cin: str) -> Application | None:
    """The application matching both the reference and the CIN (None otherwise)."""
    if not reference or not cin:
        return None
    return (
        Application.objects.select_related("intake__school")
        .filter(reference=reference, cin=cin)
        .first()
    )
