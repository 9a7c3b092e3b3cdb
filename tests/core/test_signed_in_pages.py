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
