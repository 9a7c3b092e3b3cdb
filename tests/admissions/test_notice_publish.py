"""Publishing a new version of the school's privacy notice: no call changes until staff
choose the version in the call's form, the page says which calls still use an earlier one,
and two publications at once give two versions."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import make_open_intake
from tests.concurrency import at_once
from tremplin.admissions.intakes import privacy_notice_publish
from tremplin.admissions.models import Intake, PrivacyNotice

NOTICE = {
    "cndp_authorisation": "D-W-123/2025",
    "text": "Vos données servent à la sélection et au suivi.",
    "text_ar": "تستعمل معطياتكم لأغراض الانتقاء والتتبع.",
}


def notice_url() -> str:
    return reverse("admissions:notice_create", args=["smara"])


def edit_url(intake: Intake) -> str:
    return reverse("admissions:intake_edit", args=["smara", intake.slug])


def notice_version(intake: Intake) -> int:
    with scopes_disabled():
        return Intake.objects.get(pk=intake.pk).privacy_notice.version


@pytest.mark.django_db
def test_publishing_a_version_changes_no_call(world):
    intake = make_open_intake(world.smara)
    response = world.client("admissions").post(notice_url(), NOTICE)
    assert response.status_code == 302
    with scopes_disabled():
        versions = PrivacyNotice.objects.filter(school=world.smara).values_list(
            "version", flat=True
        )
        assert list(versions) == [2, 1]
    assert notice_version(intake) == 1


@pytest.mark.django_db
def test_the_notice_page_says_calls_keep_their_notice_and_names_those_on_an_earlier_one(world):
    open_call = make_open_intake(world.smara)
    draft = make_open_intake(world.smara, slug="promo-2027", title="Promotion 2027", status="draft")
    closed = make_open_intake(
        world.smara, slug="promo-2025", title="Promotion 2025", status="closed"
    )
    client = world.client("admissions")
    client.cookies["django_language"] = "en"

    page = client.get(notice_url()).content.decode()
    assert "Each call keeps its notice until you choose another version in the call's form" in page
    assert "still uses an earlier version" not in page  # every call is on the latest

    landing = client.post(notice_url(), NOTICE, follow=True).content.decode()
    # Where publishing leads (the calls and their notices) says it too.
    assert "“Promotion 2026” (open) still uses an earlier version than v2" in landing
    page = client.get(notice_url()).content.decode()
    assert "“Promotion 2026” (open) still uses an earlier version than v2" in page
    assert "“Promotion 2027” (draft) still uses an earlier version than v2" in page
    assert f'href="{edit_url(open_call)}">Edit the call</a>' in page
    assert f'href="{edit_url(draft)}">Edit the call</a>' in page
    # A closed call takes no application: nothing to choose there.
    assert "Promotion 2025" not in page and edit_url(closed) not in page

    with scopes_disabled():
        Intake.objects.filter(pk=open_call.pk).update(
            privacy_notice=PrivacyNotice.objects.get(school=world.smara, version=2)
        )
    page = client.get(notice_url()).content.decode()
    assert "Promotion 2026" not in page and "“Promotion 2027” (draft)" in page


@pytest.mark.django_db
def test_the_notice_page_runs_the_same_queries_for_one_call_or_five(world):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    make_open_intake(world.smara)
    client.post(notice_url(), NOTICE)
    client.get(notice_url())  # warm the session
    with CaptureQueriesContext(connection) as one:
        client.get(notice_url())
    for year in range(2027, 2031):
        make_open_intake(world.smara, slug=f"promo-{year}", status="draft")
    with CaptureQueriesContext(connection) as five:
        page = client.get(notice_url()).content.decode()
    assert page.count("Edit the call") == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def publish(school, actor) -> PrivacyNotice:
    with scopes_disabled():
        return privacy_notice_publish(school=school, actor=actor, notice=PrivacyNotice(**NOTICE))


@pytest.mark.postgres
@pytest.mark.django_db
def test_publishing_locks_the_school_before_reading_the_last_version(world):
    """Django drops FOR UPDATE from an aggregate: the lock is on the school's row."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (run with DATABASE_URL)")
    with CaptureQueriesContext(connection) as queries:
        publish(world.smara, world.users["director"])
    sql = [q["sql"] for q in queries.captured_queries]
    lock = next(i for i, s in enumerate(sql) if 'FROM "schools_school"' in s and "FOR UPDATE" in s)
    read = next(i for i, s in enumerate(sql) if 'MAX("admissions_privacynotice"."version")' in s)
    assert lock < read


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_publications_at_once_give_two_versions(world, monkeypatch):
    """A double click on "Publish": without the lock both read the same last version and
    the second fails on the unique (school, version), a server error."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions: PostgreSQL (run with DATABASE_URL)")
    full_clean = PrivacyNotice.full_clean

    def slow_full_clean(notice, *args, **kwargs):
        time.sleep(0.3)  # between reading the last version and writing the next one
        return full_clean(notice, *args, **kwargs)

    monkeypatch.setattr(PrivacyNotice, "full_clean", slow_full_clean)
    errors = []

    def press() -> int | None:
        try:
            return publish(world.smara, world.users["director"]).version
        except Exception as error:  # whatever broke, reported by the assertion below
            errors.append(error)
            return None

    versions = at_once(press)
    assert errors == []
    assert sorted(versions) == [1, 2]
