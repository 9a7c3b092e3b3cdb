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
