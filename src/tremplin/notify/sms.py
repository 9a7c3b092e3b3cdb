"""SMS backends: one small interface, chosen by ``settings.SMS_BACKEND`` (a dotted path).

A backend either returns (the gateway accepted the message) or raises (it did not, or we
cannot tell): the outbox retries on any exception.
"""

import json
import sys
import threading
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
    Any answer other than 2xx raises, so the message is retried later.
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
            raise SmsGatewayError(f"SMS gateway answered HTTP {exc.code}: {detail}") from None
        if not 200 <= status < 300:
            raise SmsGatewayError(f"SMS gateway answered HTTP {status}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET without the message: treat it as an error.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class SmsGatewayError(Exception):
    pass


def get_sms_backend() -> BaseSmsBackend:
    """The configured backend, read at call time so tests and settings changes apply."""
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()
