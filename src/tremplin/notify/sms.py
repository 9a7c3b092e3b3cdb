"""SMS backends: one small interface, chosen by ``settings.SMS_BACKEND`` (a dotted path).

A backend either returns (the gateway accepted the message) or raises (it did not, or we
cannot tell): the outbox retries, unless the error says that sending the same message again
cannot work (``SmsGatewayError.permanent``), and not before the gateway asked
(``SmsGatewayError.retry_after``).
"""

import email.utils
import http.client
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "tremplin.notify.sms.ConsoleSmsBackend"


class BaseSmsBackend:
    def send(self, to: str, text: str) -> None:
        """Hand ``text`` to the gateway for ``to`` (E.164), or raise."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Development: prints each SMS, like Django's console email backend."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, to: str, text: str) -> None:
        with self._lock:
            self.stream.write(f"SMS to {to}:\n{text}\n{'-' * 40}\n")
            self.stream.flush()


class FileSmsBackend(BaseSmsBackend):
    """Development and tests: appends one JSON line per SMS to ``settings.SMS_FILE_PATH``."""

    def __init__(self, path: str | Path | None = None) -> None:
        path = path or getattr(settings, "SMS_FILE_PATH", None)
        if not path:
            raise ImproperlyConfigured("SMS_BACKEND=file needs SMS_FILE_PATH.")
        self.path = Path(path)

    def send(self, to: str, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": to, "text": text}, ensure_ascii=False) + "\n"
        # One write() per line in append mode: lines from concurrent workers never interleave.
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line)


@dataclass(frozen=True)
class Sms:
    to: str
    text: str


class LocmemSmsBackend(BaseSmsBackend):
    """Tests: keeps every SMS in ``LocmemSmsBackend.outbox`` (clear it between tests)."""

    outbox: ClassVar[list[Sms]] = []

    def send(self, to: str, text: str) -> None:
        self.outbox.append(Sms(to=to, text=text))


class HttpSmsBackend(BaseSmsBackend):
    """Production: POSTs ``{"to": ..., "text": ...}`` as JSON to a generic HTTP gateway.

    ``settings.SMS_GATEWAY_URL`` and ``settings.SMS_GATEWAY_TOKEN`` (sent as a bearer token).
    Any answer other than 2xx raises. The outbox retries it later, except when the gateway
    refused this very message (400, 413, 422: a malformed or unknown number, a text it does
    not take), which no retry can change. A refused token (401, 403) is retried: once the
    token is fixed, the waiting messages go out. A 429 is retried after its ``Retry-After``.
    """

    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> None:
        self.url = url or getattr(settings, "SMS_GATEWAY_URL", "")
        self.token = token if token is not None else getattr(settings, "SMS_GATEWAY_TOKEN", "")
        self.timeout = timeout or getattr(settings, "SMS_GATEWAY_TIMEOUT", 10)
        # urlopen also opens file:// and ftp:// URLs: accept only what a gateway speaks.
        if not self.url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http:// or https:// URL.")

    def send(self, to: str, text: str) -> None:
        request = urllib.request.Request(  # noqa: S310  (scheme checked in __init__)
            self.url,
            data=json.dumps({"to": to, "text": text}).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
            method="POST",
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            # The gateway's explanation ("unknown number", "quota exceeded") helps staff.
            detail = exc.read(200).decode("utf-8", "replace").strip()
            if 300 <= exc.code < 400:
                # The address moved (http to https, a new path): the platform's settings are
                # to correct, and trying again the same address cannot work.
                detail = (
                    f"redirected to {exc.headers.get('Location', '?')}: correct SMS_GATEWAY_URL"
                )
            raise SmsGatewayError(
                f"SMS gateway answered HTTP {exc.code}: {detail}",
                status=exc.code,
                permanent=exc.code in self.REFUSED,
                retry_after=_retry_after(exc.headers.get("Retry-After")),
            ) from None
        except http.client.HTTPException as exc:
            # Not HTTP (a bad status line, a body cut short): a gateway in trouble, like one
            # that does not answer, and not a fault of the platform's own.
            raise SmsGatewayError(
                f"SMS gateway answered malformed HTTP: {type(exc).__name__}"
            ) from None
        if not 200 <= status < 300:
            raise SmsGatewayError(f"SMS gateway answered HTTP {status}", status=status)

    # The answers that refuse the message itself rather than the moment or the credentials.
    REFUSED = frozenset({400, 413, 422})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET without the message: treat it as an error.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class SmsGatewayError(Exception):
    """The gateway did not take the message. ``status``: its HTTP answer. ``permanent``: it
    refused this message, and sending it again cannot work. ``retry_after``: the seconds it
    asked us to wait."""

    def __init__(
        self,
        text: str,
        *,
        status: int | None = None,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(text)
        self.status = status
        self.permanent = permanent
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - time.time(), 0.0)


def get_sms_backend() -> BaseSmsBackend:
    """The configured backend, read at call time so tests and settings changes apply."""
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()
