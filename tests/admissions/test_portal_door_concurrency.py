"""Real concurrent requests at the applicant space's door, against PostgreSQL: requests
that arrive together count each other, so none passes a limit with the others.

Each round fires its requests at the same instant (a barrier) over HTTP at the live server,
from a connection of its own (the proxy's ``X-Forwarded-For``), so rounds do not share a
bucket."""

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions import codes
from tremplin.admissions.models import AccessRequest, ApplicantCode, Application

pytestmark = pytest.mark.postgres

ROUNDS = 5
CONCURRENT = 20


@pytest.fixture
def door(transactional_db, live_server, settings) -> str:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (run with DATABASE_URL)")
    settings.TREMPLIN_PROXY_COUNT = 1
    return f"{live_server.url}{reverse('portal:access')}"


def _client(url: str, ip: str):
    """An opener from ``ip`` holding its own cookies and the form's CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("X-Forwarded-For", ip)]
    html = opener.open(url, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return opener, token


def _ask_together(url: str, requests: list[tuple[str, str, str]]) -> list[int]:
    """Each (ip, reference, cin) asks for a code at the same instant; their statuses."""
    clients = [(_client(url, ip), reference, cin) for ip, reference, cin in requests]
    barrier = threading.Barrier(len(clients))
    results: list[int] = []

    def post(opener, token: str, reference: str, cin: str) -> None:
        data = {"reference": reference, "cin": cin, "csrfmiddlewaretoken": token}
        request = urllib.request.Request(
            url, data=urllib.parse.urlencode(data).encode(), headers={"Referer": url}
        )
        barrier.wait()
        try:
            results.append(opener.open(request, timeout=60).status)
        except urllib.error.HTTPError as error:
            results.append(error.code)

    threads = [
        threading.Thread(target=post, args=(opener, token, reference, cin))
        for (opener, token), reference, cin in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return results


def test_simultaneous_requests_for_one_cin_pass_its_limit_not_even_by_one(door):
    for round_number in range(ROUNDS):
        ip, cin = f"105.66.{round_number}.1", f"ZZ{round_number:06d}"
        results = _ask_together(door, [(ip, "SMA-26-9999", cin)] * CONCURRENT)
        # The accepted ones end on the code page (urllib follows the redirect).
        assert sorted(results) == [200] * codes.ACCESS_PER_PAIR + [429] * (
            CONCURRENT - codes.ACCESS_PER_PAIR
        ), results
        assert AccessRequest.objects.filter(ip_address=ip).count() == codes.ACCESS_PER_PAIR


def test_simultaneous_requests_from_one_connection_pass_its_limit_not_even_by_one(door, settings):
    settings.PORTAL_ACCESS_PER_IP_PER_HOUR = 12
    for round_number in range(ROUNDS):
        ip = f"105.67.{round_number}.1"
        results = _ask_together(
            door, [(ip, "SMA-26-9999", f"ZZ{round_number}{n:05d}") for n in range(CONCURRENT)]
        )
        assert sorted(results) == [200] * 12 + [429] * (CONCURRENT - 12), results
        assert AccessRequest.objects.filter(ip_address=ip).count() == 12


def test_simultaneous_requests_from_many_connections_get_an_application_ten_codes(door, world):
    make_open_intake(world.smara)
    for round_number in range(ROUNDS):
        cin = f"CC{100000 + round_number}"
        Client().post("/schools/smara/calls/promo-2026/apply/", form_data(cin=cin))
        with scopes_disabled():
            application = Application.objects.get(cin=cin)
        requests = [
            (f"196.{round_number}.{n}.1", application.reference, cin) for n in range(CONCURRENT)
        ]
        assert _ask_together(door, requests) == [200] * CONCURRENT
        with scopes_disabled():
            sent = ApplicantCode.objects.filter(application=application).count()
        assert sent == codes.CODES_PER_HOUR_IN_ALL


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer looked at


def _send_twice(url: str, data: dict, cookie: str) -> list[tuple[int, str]]:
    """The form ``data`` posted twice at the same instant by one browser (its ``cookie``):
    each answer's status and where it redirects."""
    opener = urllib.request.build_opener(_NoRedirect)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def post() -> None:
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": url, "Cookie": cookie},
        )
        barrier.wait()
        try:
            answers.append((opener.open(request, timeout=60).status, ""))
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.headers.get("Location", "")))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return answers


def test_the_code_sent_twice_at_once_opens_the_space_for_both_requests(door, world):
    """Enter pressed twice on a slow line: both requests carry the session that asked for
    the code. The one that finds it used by the other goes to the space too, rather than
    fail writing a session the other replaced ("Bad Request")."""
    from tremplin.notify.models import Message

    make_open_intake(world.smara)
    code_url = door.replace(reverse("portal:access"), reverse("portal:code"))
    for round_number in range(ROUNDS):
        cin = f"DD{200000 + round_number}"
        Client().post("/schools/smara/calls/promo-2026/apply/", form_data(cin=cin))
        with scopes_disabled():
            reference = Application.objects.get(cin=cin).reference
        opener, token = _client(door, f"197.{round_number}.0.1")
        data = {"reference": reference, "cin": cin, "csrfmiddlewaretoken": token}
        asked = urllib.request.Request(
            door, data=urllib.parse.urlencode(data).encode(), headers={"Referer": door}
        )
        page = opener.open(asked, timeout=60).read().decode()  # the code page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        with scopes_disabled():
            body = Message.objects.filter(template="applicant_code").latest("pk").body
        code = re.search(r"\b(\d{6})\b", body).group(1)
        jar = next(h.cookiejar for h in opener.handlers if hasattr(h, "cookiejar"))
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        answers = _send_twice(code_url, {"code": code, "csrfmiddlewaretoken": token}, cookie)
        assert answers == [(302, reverse("portal:space"))] * 2, answers
