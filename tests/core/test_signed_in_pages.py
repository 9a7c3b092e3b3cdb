"""What a signed-in person is shown is never kept by the browser: a staff page holds names, a
CIN revealed once, a search; on a shared computer, Back after leaving or the cache on disk
would show them to the next person. Public pages stay cacheable."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.admissions.open_intake import form_data, make_open_intake


@pytest.fixture
def reference(world) -> str:
    make_open_intake(world.smara)
    response = Client().post("/schools/smara/calls/promo-2026/apply/", form_data())
    assert response.status_code == 302
    from django_scopes import scopes_disabled

    from tremplin.admissions.models import Application

    with scopes_disabled():
        return Application.objects.get().reference


def test_staff_pages_and_their_files_are_never_stored_by_the_browser(world, reference):
    pages = [
        reverse("admissions:application_list", args=["smara", "promo-2026"]) + "?q=AB123456",
        reverse("admissions:application_detail", args=["smara", "promo-2026", reference]),
        reverse("admissions:application_export", args=["smara", "promo-2026", "csv"]),
        reverse("notify:outbox", args=["smara"]),
        reverse("schools:dashboard", args=["smara"]),
    ]
    for persona in ("admissions", "director"):
        client = world.client(persona)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            assert "no-store" in response["Cache-Control"], (persona, url)
            assert "private" in response["Cache-Control"], (persona, url)
    learner = world.client("learner").get(reverse("schools:learner_space", args=["smara"]))
    assert "no-store" in learner["Cache-Control"]


def test_public_pages_are_left_to_the_browsers_cache(world, reference):
    for url in ("/", "/schools/smara/calls/promo-2026/"):
        response = Client().get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.get("Cache-Control", ""), url


def test_an_anonymous_submission_is_not_made_to_read_its_session_for_this(world, reference):
    """The portal's busiest request: an applicant who opened her space before still carries
    its cookie; whether the page is a signed-in person's is asked of the request only when
    it already knows its user. (A form with a file field is sent as multipart, whose upload
    limit asks who sends it: a call that asks for no document is sent as below.)"""
    from urllib.parse import urlencode

    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.admissions.open_intake import form_data

    session = SessionStore()
    session["seen"] = 1
    session.create()
    client = Client()
    client.cookies["sessionid"] = session.session_key
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/schools/smara/calls/promo-2026/apply/",
            urlencode(form_data(cin="KK123456", phone="0612345600")),
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 302
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]
    assert "no-store" not in response.get("Cache-Control", "")
