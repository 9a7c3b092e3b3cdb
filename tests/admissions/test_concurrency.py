"""Real concurrent requests against PostgreSQL: the database decides, not luck."""

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import Application

pytestmark = pytest.mark.postgres

ROUNDS = 10
CONCURRENT = 20


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (run with DATABASE_URL)")


def _prepared_client(url: str):
    """An opener holding its own session cookie and the form's CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(url, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return opener, token


def _post(opener, url: str, data: dict, results: list, barrier: threading.Barrier) -> None:
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, headers={"Referer": url})
    barrier.wait()
    try:
        response = opener.open(request, timeout=60)
        results.append(response.status)
    except urllib.error.HTTPError as error:
        results.append(error.code)


def test_twenty_identical_submissions_make_exactly_one_application(
    postgres_only, live_server, world
):
    intake = make_open_intake(world.smara)
    url = f"{live_server.url}/schools/smara/calls/{intake.slug}/apply/"
    for round_number in range(ROUNDS):
        cin = f"CC{100000 + round_number}"
        clients = [_prepared_client(url) for _ in range(CONCURRENT)]
        barrier = threading.Barrier(CONCURRENT)
        results: list[int] = []
        threads = [
            threading.Thread(
                target=_post,
                args=(opener, url, {**form_data(cin=cin), "csrfmiddlewaretoken": token},
                      results, barrier),
            )
            for opener, token in clients
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        # Every request ends on the confirmation page (urllib follows the redirect).
        assert results == [200] * CONCURRENT, results
        with scopes_disabled():
            assert Application.objects.filter(intake=intake, cin=cin).count() == 1
    with scopes_disabled():
        references = list(
            Application.objects.filter(intake=intake).values_list("reference", flat=True)
        )
    # Losing duplicates may leave gaps in the numbering, never a reference given twice.
    assert len(references) == len(set(references)) == ROUNDS
