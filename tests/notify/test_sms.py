import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from tremplin.notify.sms import (
    ConsoleSmsBackend,
    FileSmsBackend,
    HttpSmsBackend,
    LocmemSmsBackend,
    Sms,
    SmsGatewayError,
    get_sms_backend,
)

PHONE = "+212661234567"
TEXT = "482913 est votre code. Valable 10 minutes — رمزكم"


class Gateway(BaseHTTPRequestHandler):
    """A fake SMS gateway answering ``status`` and recording what it received."""

    status = 202
    location = ""
    retry_after = ""
    received: list = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.received.append((dict(self.headers), json.loads(self.rfile.read(length))))
        self.send_response(self.status)
        if self.location:
            self.send_header("Location", self.location)
        if self.retry_after:
            self.send_header("Retry-After", self.retry_after)
        self.end_headers()
        self.wfile.write(b"unknown number")

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received = []
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    Gateway.status, Gateway.location, Gateway.retry_after = 202, "", ""


def url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/sms"


def test_the_backend_is_chosen_from_the_settings_at_call_time(settings, tmp_path):
    settings.SMS_FILE_PATH = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "tremplin.notify.sms.FileSmsBackend"
    assert isinstance(get_sms_backend(), FileSmsBackend)
    settings.SMS_BACKEND = "tremplin.notify.sms.LocmemSmsBackend"
    assert isinstance(get_sms_backend(), LocmemSmsBackend)


def test_the_console_backend_prints_the_sms():
    stream = io.StringIO()
    ConsoleSmsBackend(stream).send(PHONE, TEXT)
    assert PHONE in stream.getvalue()
    assert TEXT in stream.getvalue()


def test_the_file_backend_appends_one_json_line_per_sms(settings, tmp_path):
    settings.SMS_FILE_PATH = tmp_path / "sms" / "outbox.jsonl"
    FileSmsBackend().send(PHONE, TEXT)
    FileSmsBackend().send("+212700000000", "deux")
    lines = settings.SMS_FILE_PATH.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"to": PHONE, "text": TEXT},
        {"to": "+212700000000", "text": "deux"},
    ]


def test_the_locmem_backend_keeps_the_sms_for_the_test(sms_outbox):
    LocmemSmsBackend().send(PHONE, TEXT)
    assert sms_outbox == [Sms(to=PHONE, text=TEXT)]


def test_the_http_backend_posts_json_with_the_bearer_token(settings, gateway):
    settings.SMS_GATEWAY_URL = url(gateway)
    settings.SMS_GATEWAY_TOKEN = "s3cret"
    HttpSmsBackend().send(PHONE, TEXT)
    [(headers, body)] = Gateway.received
    assert body == {"to": PHONE, "text": TEXT}
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("status", [400, 401, 500, 503])
def test_the_http_backend_raises_when_the_gateway_refuses(gateway, status):
    Gateway.status = status
    with pytest.raises(SmsGatewayError, match=f"HTTP {status}: unknown number"):
        HttpSmsBackend(url=url(gateway), token="t").send(PHONE, TEXT)


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (422, True), (401, False), (403, False), (429, False), (503, False)],
)
def test_only_a_refusal_of_the_message_itself_is_permanent(gateway, status, permanent):
    # An unknown number stays unknown; a refused token or an outage may be fixed.
    Gateway.status = status
    with pytest.raises(SmsGatewayError) as refused:
        HttpSmsBackend(url=url(gateway), token="t").send(PHONE, TEXT)
    assert refused.value.permanent is permanent


@pytest.mark.parametrize("header", ["120", "Sun, 06 Nov 2101 08:49:37 GMT", "soon"])
def test_the_gateways_retry_after_is_read_in_seconds_or_as_a_date(gateway, header):
    Gateway.status, Gateway.retry_after = 429, header
    with pytest.raises(SmsGatewayError) as refused:
        HttpSmsBackend(url=url(gateway), token="t").send(PHONE, TEXT)
    expected = {"120": 120.0, "soon": None}.get(header)
    if header.startswith("Sun"):
        assert refused.value.retry_after > 365 * 24 * 3600
    else:
        assert refused.value.retry_after == expected


def test_the_http_backend_does_not_follow_a_redirect(gateway):
    """A redirected POST would be replayed as a GET without the message. The address moved
    (http to https): the settings are to correct, which the outbox says, rather than retry
    for hours as if the gateway were out of service."""
    from tremplin.notify.models import Message
    from tremplin.notify.services import failure_kind

    Gateway.status, Gateway.location = 302, url(gateway) + "/elsewhere"
    with pytest.raises(SmsGatewayError, match="HTTP 302") as redirected:
        HttpSmsBackend(url=url(gateway), token="t").send(PHONE, TEXT)
    assert len(Gateway.received) == 1
    assert "/elsewhere: correct SMS_GATEWAY_URL" in str(redirected.value)
    assert failure_kind(redirected.value) == Message.Failure.OTHER


def test_the_http_backend_raises_when_the_gateway_is_unreachable():
    with pytest.raises(OSError):
        HttpSmsBackend(url="http://127.0.0.1:9/sms", token="t", timeout=2).send(PHONE, TEXT)


def test_the_http_backend_accepts_only_http_urls():
    with pytest.raises(ImproperlyConfigured):
        HttpSmsBackend(url="file:///etc/passwd", token="t")


def _answering(reply: bytes) -> socket.socket:
    """A server that answers every request with ``reply``, whatever it is."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _address = server.accept()
            except OSError:  # closed by the test
                return
            with conn:
                conn.recv(65536)
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.mark.parametrize(
    "reply",
    [b"NOT HTTP AT ALL\r\n\r\n", b"HTTP/1.1 abc Bad\r\n\r\n"],
    ids=["no status line", "no status code"],
)
def test_a_gateway_that_answers_malformed_http_is_unavailable(reply):
    """Staff read "the gateway is unavailable" (it passes: sent again later), not "an
    unexpected error" of the platform's."""
    from tremplin.notify.models import Message
    from tremplin.notify.services import failure_kind

    server = _answering(reply)
    try:
        with pytest.raises(SmsGatewayError) as raised:
            HttpSmsBackend(url=f"http://127.0.0.1:{server.getsockname()[1]}/sms", token="t").send(
                PHONE, TEXT
            )
    finally:
        server.close()
    assert failure_kind(raised.value) == Message.Failure.UNAVAILABLE
