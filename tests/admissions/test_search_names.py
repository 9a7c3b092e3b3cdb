"""The search key filled by the sweep for the applications written without one (a worker of
the previous release, during a rolling deploy), never for the erased ones."""

import io
import logging
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import Application
from tremplin.admissions.personal_data import application_erase
from tremplin.admissions.search_names import search_names_backfill
from tremplin.admissions.selectors import applications_filtered
from tremplin.core.text import search_key

APPLY = "/schools/smara/calls/promo-2026/apply/"

PEOPLE = [
    ("AA200001", "Yassine", "Aït-Ahmed", "ياسين", "آيت أحمد"),
    ("AA200002", "Khadija", "El-Amrani", "خديجة", "العمراني"),
    ("AA200003", "Hamid", "M'barek", "", ""),
    ("AA200004", "Salma", "Ben Ali", "سلمى", "بن علي"),
    ("AA200005", "Omar", "Bennani", "", ""),
]


def apply_all(intake) -> None:
    for n, (cin, first, last, first_ar, last_ar) in enumerate(PEOPLE):
        data = form_data(
            cin=cin,
            first_name=first,
            last_name=last,
            first_name_ar=first_ar,
            last_name_ar=last_ar,
            phone=f"06123457{n:02d}",
        )
        assert Client().post(APPLY, data).status_code == 302


@pytest.fixture
def intake(world):
    intake = make_open_intake(world.smara)
    apply_all(intake)
    return intake


def written_by_the_previous_release(*cins: str) -> None:
    """As a worker that does not know the column writes them: names, and no key."""
    with scopes_disabled():
        rows = Application.objects.all()
        if cins:
            rows = rows.filter(cin__in=cins)
        rows.update(search_name="")


def found(intake, search: str) -> list[str]:
    with scopes_disabled():
        return sorted(applications_filtered(intake, {"q": search}).values_list("cin", flat=True))


def keys() -> dict[str, str]:
    with scopes_disabled():
        return dict(Application.objects.values_list("cin", "search_name"))


@pytest.mark.django_db
def test_the_sweep_fills_the_key_of_applications_written_without_one(intake):
    written_by_the_previous_release("AA200001", "AA200004")
    assert found(intake, "ait ahmed") == []

    out = io.StringIO()
    call_command("resume_stalled", stdout=out)

    assert "Filled the search key of 2 applications written without one." in out.getvalue()
    assert found(intake, "ait ahmed") == ["AA200001"]
    assert found(intake, "بن علي") == ["AA200004"]
    with scopes_disabled():
        for row in Application.objects.all():
            assert row.search_name == search_key(
                row.first_name, row.last_name, row.first_name_ar, row.last_name_ar
            )
    assert search_names_backfill() == 0  # nothing left


@pytest.mark.django_db
def test_an_erased_application_keeps_its_empty_key(world, intake):
    with scopes_disabled():
        salma = Application.objects.select_related("intake__school").get(cin="AA200004")
        application_erase(application=salma, actor=world.users["admissions"], reason="Demande")
    written_by_the_previous_release("AA200001")

    assert search_names_backfill() == 1
    with scopes_disabled():
        salma.refresh_from_db()
    assert salma.erased_at is not None
    assert (salma.first_name, salma.last_name, salma.search_name) == ("", "", "")
    assert found(intake, "ben ali") == []
    assert found(intake, "ait ahmed") == ["AA200001"]


@pytest.mark.django_db
def test_the_backfill_writes_in_batches_and_stops_at_its_limit_until_the_next_run(intake):
    written_by_the_previous_release()
    before = keys()

    assert search_names_backfill(batch=2, limit=3) == 3
    after_one_run = keys()
    assert sum(1 for key in after_one_run.values() if key) == 3
    assert search_names_backfill(batch=2, limit=3) == 2
    assert search_names_backfill(batch=2, limit=3) == 0
    assert all(before[cin] == "" and key for cin, key in keys().items())


@pytest.mark.django_db
def test_the_backfill_changes_nothing_else_about_the_application(intake):
    with scopes_disabled():
        before = {a.cin: a.updated_at for a in Application.objects.all()}
    written_by_the_previous_release()
    search_names_backfill()
    with scopes_disabled():
        after = {a.cin: a.updated_at for a in Application.objects.all()}
    assert after == before  # what staff see as "updated at" is their changes, not this


@pytest.mark.django_db
def test_names_of_punctuation_alone_get_a_key_of_no_word_and_leave_the_sweep_for_good(intake):
    """Were their key left empty, enough of them at the lowest ids would fill every run's
    quota and the sweep would never reach the rest."""
    with scopes_disabled():
        Application.objects.filter(cin="AA200003").update(
            first_name="-", last_name="'", search_name=""
        )
    written_by_the_previous_release("AA200005")
    assert search_names_backfill(batch=1, limit=1) == 1
    assert keys()["AA200003"] == " "
    assert search_names_backfill(batch=1, limit=1) == 1
    assert keys()["AA200005"] == "omar bennani"
    assert search_names_backfill() == 0


@pytest.mark.django_db
def test_a_failing_backfill_leaves_the_rest_of_the_sweep_and_the_loop_going(
    intake, monkeypatch, caplog
):
    from tremplin.selection.management.commands import resume_stalled

    def broken(**kwargs):
        raise RuntimeError("lock timeout")

    monkeypatch.setattr(resume_stalled, "search_names_backfill", broken)
    out = io.StringIO()
    with caplog.at_level(logging.ERROR):
        call_command("resume_stalled", "-v", "2", stdout=out)
    assert "Deleted 0 import spreadsheets no longer needed." in out.getvalue()
    assert "Filled the search key of 0 applications" in out.getvalue()
    assert "The search keys of applications could not be filled" in caplog.text


def uses_the_partial_index(sql: str, params) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a small table would be read whole
        try:
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    return "application_no_search_name" in plan


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_backfill_query_is_served_by_the_partial_index(intake):
    """Each run of the sweep reads the rows still to fill, not the table."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan (run with DATABASE_URL)")
    from tremplin.admissions.models import NAME_FIELDS

    with scopes_disabled():
        query = (
            Application.objects.filter(search_name="", erased_at__isnull=True)
            .exclude(**{name: "" for name in NAME_FIELDS})
            .order_by("pk")
            .values("pk")[:500]
        )
        sql, params = query.query.sql_with_params()
    assert uses_the_partial_index(sql, params)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_application_locked_by_a_change_in_progress_is_skipped_not_waited_for(world):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (run with DATABASE_URL)")
    intake = make_open_intake(world.smara)
    apply_all(intake)
    written_by_the_previous_release("AA200001", "AA200002")
    with scopes_disabled():
        locked_pk = Application.objects.get(cin="AA200001").pk
    locked, release = threading.Event(), threading.Event()

    def change_in_progress() -> None:
        try:
            with scopes_disabled(), transaction.atomic():
                Application.objects.select_for_update().get(pk=locked_pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=change_in_progress)
    thread.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        assert search_names_backfill() == 1
        assert time.monotonic() - started < 5
    finally:
        release.set()
        thread.join()
    assert keys()["AA200001"] == "" and keys()["AA200002"] == "khadija elamrani خديجه العمراني"
    assert search_names_backfill() == 1  # the next run
    assert keys()["AA200001"] == "yassine aitahmed ياسين ايتاحمد"
