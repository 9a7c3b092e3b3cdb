"""The applicant's one-time codes: how an applicant without an account opens their space,
with the reference, the CIN and a code sent to the phone and email of the application.

The door (``access_request_create``) answers every pair the same way and at the same speed:
it records the request and leaves the look-up and the code to a task
(``access_request_process``). It is throttled per connection and CIN, and per connection,
on every request, matching or not, so the throttle says nothing about the pairs either.
"""

import datetime
import hmac
import ipaddress
import logging
import math
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_tasks import task

from tremplin.admissions.models import AccessRequest, ApplicantCode, Application
from tremplin.admissions.services import _notify
from tremplin.core.audit import log_action
from tremplin.core.tasks import enqueue_in_transaction

logger = logging.getLogger(__name__)

CODE_TTL = datetime.timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
# Codes sent in an hour for one application: to one requester (an IP address), so that a
# stranger who knows the reference and the CIN cannot use up the owner's codes; and in all,
# to bound what the SMS cost, which a day's cap bounds too.
CODES_PER_HOUR = 3
CODES_PER_HOUR_IN_ALL = 10
CODES_PER_DAY_IN_ALL = 20


def _hash_code(application_id: int, code: str) -> str:
    return salted_hmac("tremplin.applicant-code", f"{application_id}:{code}").hexdigest()


def session_hash(token: str) -> str:
    """The hash of a browser session's secret that its codes and requests are bound to."""
    return salted_hmac("tremplin.applicant-code-session", token, algorithm="sha256").hexdigest()


# The door's throttle, over the last hour: requests from one connection for one CIN (a
# stranger trying references against someone's CIN), and from one connection in all (a
# scan), generous because a mobile operator puts many people behind one address.
ACCESS_WINDOW = datetime.timedelta(hours=1)
ACCESS_PER_PAIR = 10
# Requests are kept a day (they hold an IP address), and looked up while a code would live.
ACCESS_KEPT = datetime.timedelta(days=1)


def _connection(ip_address: str | None) -> str:
    """What the throttle counts as one connection: an IPv4 address, or an IPv6 /64 (one
    subscriber's network, whose addresses they may change at will)."""
    if ip_address and ":" in ip_address:
        return str(ipaddress.ip_network(f"{ip_address}/64", strict=False))
    return ip_address or ""


def _access_key(purpose: str, *parts: str) -> str:
    value = "\x1f".join(part or "" for part in parts)
    return salted_hmac(f"tremplin.access.{purpose}", value, algorithm="sha256").hexdigest()


def access_retry_after(*, ip_address: str | None, cin: str) -> int | None:
    """Minutes until this connection may ask again for this CIN; None when it may now. It
    counts every request, matching or not: being throttled tells nothing about a pair."""
    since = timezone.now() - ACCESS_WINDOW
    limits = [({"pair_key": _access_key("pair", _connection(ip_address), cin)}, ACCESS_PER_PAIR)]
    if ip_address:  # unknown (a misconfigured proxy): not everyone in one bucket
        per_ip = settings.PORTAL_ACCESS_PER_IP_PER_HOUR
        limits.append(({"ip_key": _access_key("ip", _connection(ip_address))}, per_ip))
    for lookup, limit in limits:
        recent = AccessRequest.objects.filter(**lookup, created_at__gte=since)
        over = recent.count() - limit
        if over >= 0:
            # Free again when the request that makes the count reach the limit leaves it.
            freed = recent.order_by("created_at").values_list("created_at", flat=True)[over]
            seconds = (freed + ACCESS_WINDOW - timezone.now()).total_seconds()
            return max(1, math.ceil(seconds / 60))
    return None


@transaction.atomic
def access_request_create(
    *, reference: str, cin: str, ip_address: str | None, session_token: str
) -> AccessRequest:
    """Record a request for a code and queue its processing: the same work whatever the pair."""
    request = AccessRequest.objects.create(
        pair_key=_access_key("pair", _connection(ip_address), cin),
        ip_key=_access_key("ip", _connection(ip_address)),
        ip_address=ip_address,
        reference=reference,
        cin_hash=_access_key("cin", cin),
        session_hash=session_hash(session_token),
    )
    enqueue_in_transaction(process_access_request, request_id=request.pk)
    return request


@task()
def process_access_request(request_id: int) -> None:
    access_request_process(request_id)


def access_request_process(request_id: int) -> bool:
    """Look the request's pair up and send a code when it matches; True when one was sent.
    Each request is processed once, within a code's lifetime: a task run twice, or resumed
    after its worker died (``access_requests_resume``), sends nothing more."""
    from django_scopes import scopes_disabled

    now = timezone.now()
    with transaction.atomic(), scopes_disabled():
        claimed = AccessRequest.objects.filter(
            pk=request_id, processed_at__isnull=True, created_at__gt=now - CODE_TTL
        ).update(processed_at=now)
        if not claimed:
            return False
        request = AccessRequest.objects.get(pk=request_id)
        application = (
            Application.objects.select_related("intake__school")
            .filter(reference=request.reference, erased_at__isnull=True)
            .first()
        )
        if application is None or not hmac.compare_digest(
            _access_key("cin", application.cin), request.cin_hash
        ):
            return False
        return applicant_code_send(
            application=application,
            requester=request.ip_address,
            requester_session=request.session_hash,
        )


def access_requests_resume() -> int:
    """Process the requests whose task was lost (a worker that died): a minute old and not
    processed, while a code sent now would still be worth it. Returns how many sent a code."""
    from django_scopes import scopes_disabled

    now = timezone.now()
    with scopes_disabled():
        waiting = AccessRequest.objects.filter(
            processed_at__isnull=True,
            created_at__lt=now - datetime.timedelta(minutes=1),
            created_at__gt=now - CODE_TTL,
        ).values_list("pk", flat=True)
        sent = 0
        for pk in list(waiting):
            try:
                sent += access_request_process(pk)
            except Exception:  # one bad request must not stop the sweep (imports, letters)
                logger.exception("Request for a code %s could not be processed", pk)
        return sent


def access_requests_forget(*, older_than: datetime.timedelta = ACCESS_KEPT) -> int:
    """Delete the requests for a code older than a day: they hold IP addresses."""
    deleted, _ = AccessRequest.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


@transaction.atomic
def applicant_code_send(
    *, application: Application, requester: str | None, requester_session: str
) -> bool:
    """Send a fresh 6-digit code by SMS (and email); False when too many were sent lately.

    ``requester`` is the IP address that asks: each may have ``CODES_PER_HOUR`` codes an
    hour for an application, and the application ``CODES_PER_HOUR_IN_ALL`` (and
    ``CODES_PER_DAY_IN_ALL`` a day). The code opens
    the space only in the browser session that asked for it (``requester_session``, the
    ``session_hash`` of a secret of that session), and earlier codes stay valid until they
    expire or one is used: a stranger who knows the reference and the CIN can neither void
    the owner's code by asking for another nor by guessing wrong. Each request is recorded
    in the audit log, with its IP address: that is what the limit per requester counts.
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
    in_a_day = ApplicantCode.objects.filter(
        application=application, created_at__gte=timezone.now() - datetime.timedelta(days=1)
    )
    if (
        by_requester.count() >= CODES_PER_HOUR
        or in_all.count() >= CODES_PER_HOUR_IN_ALL
        or in_a_day.count() >= CODES_PER_DAY_IN_ALL
    ):
        return False
    code = f"{secrets.randbelow(10**6):06d}"
    expires_at = timezone.now() + CODE_TTL
    ApplicantCode.objects.create(
        application=application,
        code_hash=_hash_code(application.pk, code),
        requester=requester_session,
        expires_at=expires_at,
    )
    _notify(
        application,
        "applicant_code",
        {
            "code": code,
            "minutes": int(CODE_TTL.total_seconds() // 60),
            "reference": application.reference,
        },
        expires_at=expires_at,
    )
    log_action(
        "tremplin.applications.code_sent",
        school=application.intake.school,
        obj=application,
        ip_address=requester,
    )
    return True


def applicant_code_verify(*, code: str, session_token: str) -> Application | None:
    """The application of a right, unexpired code that this browser session
    (``session_token``) asked for, once: using it voids all of that application's codes.

    Looked up by the session alone, with the same query for every visitor, so that neither
    the answer nor its time says whether the reference and CIN given at the door matched;
    a code received before a newer request is still good. A wrong try counts against every
    code the session holds: ``CODE_MAX_ATTEMPTS`` wrong tries end them all, and the codes
    of other sessions (the owner's) are not touched.
    """
    with transaction.atomic():
        now = timezone.now()
        valid = list(
            ApplicantCode.objects.select_for_update().filter(
                requester=session_hash(session_token),
                used_at__isnull=True,
                expires_at__gt=now,
                attempts__lt=CODE_MAX_ATTEMPTS,
            )
        )
        # Every code is compared, so the time taken says nothing about which one matched.
        matches = [
            c for c in valid if hmac.compare_digest(c.code_hash, _hash_code(c.application_id, code))
        ]
        if not matches:
            if valid:
                ApplicantCode.objects.filter(pk__in=[c.pk for c in valid]).update(
                    attempts=F("attempts") + 1
                )
            return None
        application_id = matches[0].application_id
        ApplicantCode.objects.filter(application_id=application_id, used_at__isnull=True).update(
            used_at=now
        )
    return Application.objects.select_related("intake__school").get(pk=application_id)
