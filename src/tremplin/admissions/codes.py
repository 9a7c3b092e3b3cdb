"""The applicant's one-time codes: how an applicant without an account opens their space,
with the reference, the CIN and a code sent to the phone and email of the application.

The door (``access_request_create``) answers every pair the same way and at the same speed:
it records the request and leaves the look-up and the code to a task
(``access_request_process``). It is throttled per connection and CIN (per remembered
browser and CIN for a remembered browser), and per connection, on every request, matching or
not, so the throttle says nothing about the pairs either; a connection's requests are
counted and recorded one at a time, so that simultaneous requests cannot pass a limit
together.

Codes come from two allowances, so that a stranger who knows the reference and the CIN can
neither lock the owner out nor run up the SMS bill:

- the browsers that the applicant asked to remember as she opened her space (her own
  phone, not a cyber café's computer: ``KnownDevice``, told by a signed cookie the portal
  sets then): each may have ``DEVICE_CODES_PER_HOUR`` codes an
  hour and ``DEVICE_CODES_PER_DAY`` a day, and all of them together
  ``DEVICES_CODES_PER_DAY_IN_ALL`` a day. Strangers never opened the space (the code goes
  to the owner's phone), so they cannot use it up;
- every other browser (the owner's new phone, and strangers) shares the rest: each
  connection ``CODES_PER_HOUR`` codes an hour, all of them ``CODES_PER_HOUR_IN_ALL`` an hour
  and ``CODES_PER_DAY_IN_ALL`` a day.

So an application costs at most 30 SMS a day, however many ask.
"""

import datetime
import hmac
import ipaddress
import logging
import math
import secrets

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_scopes import scopes_disabled
from django_tasks import task

from tremplin.admissions.models import AccessRequest, ApplicantCode, Application, KnownDevice
from tremplin.admissions.services import notify_applicant
from tremplin.core.audit import log_action
from tremplin.core.tasks import enqueue_in_transaction

logger = logging.getLogger(__name__)

CODE_TTL = datetime.timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
# A code used this recently by the same browser session is the same form sent twice.
JUST_USED = datetime.timedelta(seconds=30)
# The shared allowance of an application: a connection (an IPv4 address or an IPv6 /64)
# may have 3 codes an hour, so that one stranger cannot use it all up; and all connections
# 10 an hour and 20 a day, to bound what the SMS cost.
CODES_PER_HOUR = 3
# A request from the same browser session within this time of a code not yet tried gets no
# other code (``applicant_code_send``).
REPEAT_WINDOW = datetime.timedelta(minutes=1)
CODES_PER_HOUR_IN_ALL = 10
CODES_PER_DAY_IN_ALL = 20
# The allowance of the browsers that opened the space before: enough for an applicant who
# comes back every day, or twice a day from two phones, and 10 SMS a day at most.
DEVICE_CODES_PER_HOUR = 3
DEVICE_CODES_PER_DAY = 5
DEVICES_CODES_PER_DAY_IN_ALL = 10
# A browser is known this long after it last opened the space (its cookie lives as long):
# the months from an application to its offer, and a year's call to the next.
DEVICE_REMEMBERED = datetime.timedelta(days=180)


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
# A remembered browser (a device cookie) is counted on its own for each CIN (ACCESS_PER_PAIR),
# wherever it connects from, and may ask for this many CINs an hour in all.
ACCESS_PER_DEVICE = 30
# Requests are kept a day (they hold an IP address), and looked up while a code would live.
ACCESS_KEPT = datetime.timedelta(days=1)


def connection_of(ip_address: str | None) -> str:
    """What the throttle counts as one connection: an IPv4 address, or an IPv6 /64 (one
    subscriber's network, whose addresses they may change at will)."""
    if ip_address and ":" in ip_address:
        return str(ipaddress.ip_network(f"{ip_address}/64", strict=False))
    return ip_address or ""


def _access_key(purpose: str, *parts: str) -> str:
    value = "\x1f".join(part or "" for part in parts)
    return salted_hmac(f"tremplin.access.{purpose}", value, algorithm="sha256").hexdigest()


def _device_hash(device_token: str | None) -> str:
    """The keyed hash of a browser's device cookie (blank without one)."""
    return _access_key("device", device_token) if device_token else ""


def _known_device_key(application_id: int, device_hash: str) -> str:
    return _access_key("known-device", str(application_id), device_hash)


def _lock(key: str) -> None:
    """Hold the bucket ``key`` (a hex digest) until the transaction ends, so that requests
    at the same moment count each other. On PostgreSQL only: SQLite's transactions take
    the database's write lock as they begin (``transaction_mode`` IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(key[:15], 16)])


class AccessThrottled(Exception):
    """Too many requests for a code came from this connection lately."""

    def __init__(self, minutes: int):
        super().__init__(minutes)
        self.minutes = minutes  # until it may ask again


def _retry_after(limits: list[tuple[dict, int]]) -> int | None:
    """Minutes until this connection may ask again for this CIN; None when it may now.
    ``limits``: each bucket (a lookup of ``AccessRequest``) and its limit an hour. It counts
    every request, matching or not: being throttled tells nothing about a pair."""
    since = timezone.now() - ACCESS_WINDOW
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
    *,
    reference: str,
    cin: str,
    ip_address: str | None,
    session_token: str,
    device_token: str | None,
) -> AccessRequest:
    """Record a request for a code and queue its processing: the same work whatever the pair.

    Raises ``AccessThrottled`` (recording nothing) when the connection asked too often. Its
    requests are counted and recorded under a lock on the connection, which holds the
    buckets of all its CINs too. ``device_token`` is the browser's device cookie, None
    without one: the task tells by it whether the browser opened the space before; and a
    browser that holds one is counted on its own rather than with its connection, so that
    neighbours behind the same address (a mobile operator's) cannot throttle the owner's
    phone: its requests for one CIN are counted on the browser, not on the connection.
    Whether the cookie is signed is all the door checks: the same work for a remembered
    browser and any other, whatever the pair. The connection's limit for all CINs holds for
    every browser, so that cookies a stranger collected from their own application do not
    multiply it.
    """
    where = connection_of(ip_address)
    device_hash = _device_hash(device_token)
    ip_key = _access_key("ip", where)
    pair_key = _access_key("pair", f"device:{device_hash}" if device_hash else where, cin)
    limits = [({"pair_key": pair_key}, ACCESS_PER_PAIR)]
    if ip_address:  # unknown (a misconfigured proxy): not everyone in one bucket
        limits.append(({"ip_key": ip_key}, settings.PORTAL_ACCESS_PER_IP_PER_HOUR))
    # Connection first, then browser: requests that take both never wait for each other.
    _lock(ip_key)
    if device_hash:
        _lock(_access_key("device-lock", device_hash))
        limits.append(({"device_hash": device_hash}, ACCESS_PER_DEVICE))
    minutes = _retry_after(limits)
    if minutes is not None:
        raise AccessThrottled(minutes)
    request = AccessRequest.objects.create(
        pair_key=pair_key,
        ip_key=ip_key,
        ip_address=ip_address,
        reference=reference,
        cin_hash=_access_key("cin", cin),
        session_hash=session_hash(session_token),
        device_hash=device_hash,
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
        return applicant_code_send(application=application, access_request=request)


def access_requests_resume() -> int:
    """Process the requests whose task was lost (a worker that died): a minute old and not
    processed, while a code sent now would still be worth it. Returns how many sent a code."""
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
    """Delete the requests for a code older than a day (they hold IP addresses) and the
    codes too (expired long since, they hold a hash of one, and the limits look back a day
    at most); forget the browsers that have not opened a space for ``DEVICE_REMEMBERED``.
    Returns how many requests were deleted."""
    now = timezone.now()
    KnownDevice.objects.filter(opened_at__lt=now - DEVICE_REMEMBERED).delete()
    with scopes_disabled():  # every school's
        ApplicantCode.objects.filter(created_at__lt=now - older_than).delete()
    deleted, _ = AccessRequest.objects.filter(created_at__lt=now - older_than).delete()
    return deleted


@transaction.atomic
def applicant_code_send(*, application: Application, access_request: AccessRequest) -> bool:
    """Send a fresh 6-digit code by SMS (and email) for ``access_request``, whose pair
    matches ``application``; False when its allowance is used up (see the module), or when
    the same browser session had one within ``REPEAT_WINDOW`` that it has not tried yet.

    The code opens the space only in the browser session that asked for it (the request's
    ``session_hash``), and earlier codes stay valid until they expire or one is used: a
    stranger who knows the reference and the CIN can neither void the owner's code by
    asking for another nor by guessing wrong. Each code sent is recorded in the audit log,
    with the IP address that asked.
    """
    # Locked so that simultaneous requests count each other.
    Application.objects.select_for_update().filter(pk=application.pk).first()
    if ApplicantCode.objects.filter(
        application=application,
        requester=access_request.session_hash,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),  # not voided by another code used since
        attempts=0,
        created_at__gte=timezone.now() - REPEAT_WINDOW,
    ).exists():
        # A double tap, or the form sent again before the SMS arrived: the code just sent
        # stands (it opens the space in this browser), and the allowance stays for a retry.
        return False
    device = _known_device(application, access_request.device_hash)
    if not _allowance_left(application, device=device, connection_key=access_request.ip_key):
        return False
    code = f"{secrets.randbelow(10**6):06d}"
    expires_at = timezone.now() + CODE_TTL
    ApplicantCode.objects.create(
        application=application,
        code_hash=_hash_code(application.pk, code),
        requester=access_request.session_hash,
        device=device,
        connection="" if device else access_request.ip_key,
        expires_at=expires_at,
    )
    notify_applicant(
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
        ip_address=access_request.ip_address,
        data={"known_browser": bool(device)},
    )
    return True


def _known_device(application: Application, device_hash: str) -> str:
    """The ``KnownDevice.key`` of the browser of ``device_hash`` when it opened this
    application's space lately, else blank."""
    if not device_hash:
        return ""
    key = _known_device_key(application.pk, device_hash)
    since = timezone.now() - DEVICE_REMEMBERED
    return key if KnownDevice.objects.filter(key=key, opened_at__gte=since).exists() else ""


def _allowance_left(application: Application, *, device: str, connection_key: str) -> bool:
    """Whether the allowance a code would come from has one left: the known browser's
    (``device``), or else the shared one, from the connection of ``connection_key``."""
    now = timezone.now()
    in_the_hour = Q(created_at__gte=now - datetime.timedelta(hours=1))
    if device:
        limits = [
            (Q(device=device) & in_the_hour, DEVICE_CODES_PER_HOUR),
            (Q(device=device), DEVICE_CODES_PER_DAY),
            (~Q(device=""), DEVICES_CODES_PER_DAY_IN_ALL),
        ]
    else:
        shared = Q(device="")
        limits = [
            (shared & Q(connection=connection_key) & in_the_hour, CODES_PER_HOUR),
            (shared & in_the_hour, CODES_PER_HOUR_IN_ALL),
            (shared, CODES_PER_DAY_IN_ALL),
        ]
    counts = ApplicantCode.objects.filter(
        application=application, created_at__gte=now - datetime.timedelta(days=1)
    ).aggregate(**{f"n{i}": Count("pk", filter=where) for i, (where, _) in enumerate(limits)})
    return all(counts[f"n{i}"] < limit for i, (_, limit) in enumerate(limits))


def known_device_forget(*, application_id: int, device_token: str) -> None:
    """Forget that this browser opened the application's space: a shared computer (a cyber
    café's), which should not keep the owner's allowance of codes."""
    key = _known_device_key(application_id, _device_hash(device_token))
    KnownDevice.objects.filter(key=key).delete()


def _as_a_write() -> None:
    """On PostgreSQL, give the transaction an id now, as its first write would: its commit
    then waits for the log to reach the disk whether or not it changes a row, so its time
    does not say whether the session held codes (locking or updating one takes an id)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")


def applicant_code_just_used(*, code: str, session_token: str) -> bool:
    """Whether ``code`` opened the space for this browser session in the last moments: the
    form sent twice at once, whose second request found it used by the first. (A code
    voided by another one used is not: it expired, unused.)"""
    recent = ApplicantCode.objects.filter(
        requester=session_hash(session_token),
        used_at__gte=timezone.now() - JUST_USED,
    )
    return any(hmac.compare_digest(c.code_hash, _hash_code(c.application_id, code)) for c in recent)


def applicant_code_verify(
    *, code: str, session_token: str, device_token: str | None, remember: bool = False
) -> Application | None:
    """The application of a right, unexpired code that this browser session
    (``session_token``) asked for, once: using it voids all of that application's codes,
    and, when the applicant asks for it (``remember``), makes the browser (its device
    cookie, ``device_token``; None without one) a known one of the application for
    ``DEVICE_REMEMBERED``.

    Looked up by the session alone, with the same query for every visitor, so that neither
    the answer nor its time says whether the reference and CIN given at the door matched;
    a code received before a newer request is still good. A wrong try counts against every
    code the session holds: ``CODE_MAX_ATTEMPTS`` wrong tries end them all, and the codes
    of other sessions (the owner's) are not touched.
    """
    with transaction.atomic():
        _as_a_write()
        now = timezone.now()
        held = ApplicantCode.objects.filter(
            requester=session_hash(session_token),
            used_at__isnull=True,
            expires_at__gt=now,
            attempts__lt=CODE_MAX_ATTEMPTS,
        )
        valid = list(held.select_for_update())
        # Every code is compared, so the time taken says nothing about which one matched.
        matches = [
            c for c in valid if hmac.compare_digest(c.code_hash, _hash_code(c.application_id, code))
        ]
        if not matches:
            # Run whether the session holds codes or not (then it changes no row).
            held.update(attempts=F("attempts") + 1)
            return None
        application_id = matches[0].application_id
        # The code used is marked so (``applicant_code_just_used``); the others still
        # outstanding are voided: they expire now.
        ApplicantCode.objects.filter(pk=matches[0].pk).update(used_at=now)
        ApplicantCode.objects.filter(
            application_id=application_id, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        # Unasked, a browser known before stays so until then (as its cookie): never made so.
        if remember and device_token:
            KnownDevice.objects.update_or_create(
                key=_known_device_key(application_id, _device_hash(device_token)),
                defaults={"opened_at": now},
            )
    return Application.objects.select_related("intake__school").get(pk=application_id)
