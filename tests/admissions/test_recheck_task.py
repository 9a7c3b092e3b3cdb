"""The re-check of a call's rules as staff ask for it: run by a task (a call of 100,000
applications takes longer than a request may), the call's page saying it runs and then what
it changed, one at a time per call, all or nothing, and run again when its worker died."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tests.admissions.intake_pages import detail_url, four_applicants, in_english
from tests.admissions.open_intake import make_open_intake
from tests.selection.offers_world import COMPOSITES, closed_intake, publish_single, record_letters
from tremplin.admissions import screening
from tremplin.admissions.models import Application, EligibilityRecheck, Intake
from tremplin.admissions.recheck_tasks import (
    eligibility_recheck_execute,
    eligibility_recheck_start,
    eligibility_rechecks_resume,
)
from tremplin.core.models import AuditEvent

ELIGIBLE, INELIGIBLE = Application.Eligibility.ELIGIBLE, Application.Eligibility.INELIGIBLE
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def intake(world):
    """Four applicants (Fatima and Salma 23, Omar 46, Karim 31); the rules then tighten to
    24–50 years: Fatima and Salma are no longer eligible, Omar becomes so."""
    intake = four_applicants(world)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(min_age=24, max_age=50)
    return intake


def recheck_url(intake, name="intake_recheck") -> str:
    return reverse(f"admissions:{name}", args=["smara", intake.slug])


def eligibility() -> dict[str, str]:
    with scopes_disabled():
        return dict(Application.objects.values_list("cin", "eligibility"))


def rechecks() -> list[EligibilityRecheck]:
    with scopes_disabled():
        return list(EligibilityRecheck.objects.order_by("pk"))


def summaries() -> int:
    with scopes_disabled():
        return AuditEvent.objects.filter(action="tremplin.intakes.eligibility_rechecked").count()


BEFORE = {"AB123456": ELIGIBLE, "CD111111": INELIGIBLE, "EF222222": ELIGIBLE, "GH333333": ELIGIBLE}
AFTER = {"AB123456": INELIGIBLE, "CD111111": ELIGIBLE, "EF222222": INELIGIBLE, "GH333333": ELIGIBLE}


@pytest.mark.django_db
def test_the_calls_page_says_the_recheck_runs_then_what_it_changed(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    with django_capture_on_commit_callbacks() as queued:
        asked = client.post(recheck_url(intake))
    assert asked.status_code == 302 and asked["Location"] == detail_url(intake) + "#recheck"
    assert len(queued) == 1  # the task, sent once the request commits

    # Waiting for its worker: the page says so and polls; nothing changed yet.
    page = client.get(detail_url(intake)).content.decode()
    assert "Checking eligibility again with the current rules for 4 applications" in page
    assert f'hx-get="{recheck_url(intake, "intake_recheck_status")}"' in page
    assert f'action="{recheck_url(intake)}"' not in page  # no second re-check meanwhile
    assert client.get(recheck_url(intake, "intake_recheck_status"), **HTMX).status_code == 204
    assert eligibility() == BEFORE

    queued[0]()  # the worker runs it
    assert eligibility() == AFTER
    polled = client.get(recheck_url(intake, "intake_recheck_status"), **HTMX)
    assert polled.status_code == 286  # htmx stops polling, and shows what it did
    said = polled.content.decode()
    assert "Eligibility checked again for 4 applications. 3 results changed." in said
    assert "See the figures as they are now" in said

    page = client.get(detail_url(intake)).content.decode()
    assert "Last re-check of eligibility on" in page and "3 results changed." in page
    assert "hx-get" not in page.split('id="recheck"')[1]  # finished: no more polling
    assert f'action="{recheck_url(intake)}"' in page  # and it can be asked for again
    (recheck,) = rechecks()
    assert (recheck.status, recheck.checked, recheck.changed) == ("done", 4, 3)
    assert recheck.created_by == world.users["admissions"]
    # Without htmx, the region's address is the call's page.
    plain = client.get(recheck_url(intake, "intake_recheck_status"))
    assert plain.status_code == 302 and plain["Location"] == detail_url(intake) + "#recheck"


@pytest.mark.django_db
def test_a_second_click_or_a_colleague_gets_the_recheck_already_asked_for(
    world, intake, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        in_english(world.client("admissions")).post(recheck_url(intake))
        again = in_english(world.client("director")).post(recheck_url(intake), follow=True)
    assert len(queued) == 1 and len(rechecks()) == 1
    assert "Eligibility is already being checked again for this call" in again.content.decode()
    queued[0]()
    assert summaries() == 1 and eligibility() == AFTER


@pytest.mark.django_db
def test_a_task_delivered_twice_checks_the_call_once(
    world, intake, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), scope(school=world.smara):
        recheck, started = eligibility_recheck_start(intake=intake, actor=world.users["director"])
    assert started
    eligibility_recheck_execute(recheck.pk)
    assert summaries() == 1
    assert [(r.status, r.changed) for r in rechecks()] == [("done", 3)]


@pytest.mark.django_db
def test_a_recheck_that_fails_changes_nothing_and_can_be_asked_for_again(
    world, intake, monkeypatch, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    with django_capture_on_commit_callbacks() as queued:
        client.post(recheck_url(intake))

    def broken(*args, **kwargs):  # after every chunk was written
        raise RuntimeError("the audit log is unreachable")

    monkeypatch.setattr(screening, "log_action", broken)
    recheck = rechecks()[0]
    with pytest.raises(RuntimeError):
        eligibility_recheck_execute(recheck.pk)
    assert eligibility() == BEFORE  # the chunks written went with the transaction
    assert [(r.status, r.failure) for r in rechecks()] == [("failed", "internal")]
    page = client.get(detail_url(intake)).content.decode()
    assert "The last re-check of eligibility failed: nothing was changed" in page
    assert f'action="{recheck_url(intake)}"' in page
    assert len(queued) == 1


@pytest.mark.django_db
def test_a_database_too_busy_for_the_recheck_leaves_it_waiting_to_run_again(
    world, intake, monkeypatch, django_capture_on_commit_callbacks
):
    """SQLite's write lock held longer than its timeout by a large import: that is no
    failure to report to staff, and nothing was written."""
    from django.db import OperationalError

    with django_capture_on_commit_callbacks():
        in_english(world.client("admissions")).post(recheck_url(intake))

    def busy(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(screening, "eligibility_recheck", busy)
    eligibility_recheck_execute(rechecks()[0].pk)
    (recheck,) = rechecks()
    assert (recheck.status, recheck.claimed_at, recheck.failure) == ("pending", None, "")
    assert eligibility() == BEFORE


@pytest.mark.django_db
def test_a_ranking_published_before_the_task_runs_leaves_the_applications_as_they_were(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    record_letters(monkeypatch)
    intake = closed_intake(world, n=10, seats=4, waitlist=4)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(max_age=19)  # would turn them all away
    client = in_english(world.client("director"))
    with django_capture_on_commit_callbacks() as queued:
        client.post(recheck_url(intake))
    before = eligibility()
    publish_single(
        intake, actor=world.users["director"], composites=COMPOSITES, seats=4, waitlist=4
    )
    queued[0]()
    assert eligibility() == before
    assert [(r.status, r.failure) for r in rechecks()] == [("failed", "rules_frozen")]
    polled = client.get(recheck_url(intake, "intake_recheck_status"), **HTMX)
    assert polled.status_code == 286 and "Run #1 is published" in polled.content.decode()
    # Asked for once it is published: refused at once, with its reason.
    refused = client.post(recheck_url(intake), follow=True)
    assert "Run #1 is published" in refused.content.decode() and len(rechecks()) == 1


@pytest.mark.django_db
def test_the_sweep_runs_again_a_recheck_whose_worker_died(
    world, intake, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with scopes_disabled():
        # A worker took it 31 minutes ago and died: its transaction left nothing.
        dead = EligibilityRecheck.objects.create(
            intake=intake, created_by=world.users["director"], status="running"
        )
        EligibilityRecheck.objects.filter(pk=dead.pk).update(
            claimed_at=now - datetime.timedelta(minutes=31)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert eligibility_rechecks_resume() == 1
    assert [(r.status, r.checked, r.changed) for r in rechecks()] == [("done", 4, 3)]
    assert eligibility() == AFTER and summaries() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert eligibility_rechecks_resume() == 0  # done: nothing more


@pytest.mark.django_db
def test_a_recheck_whose_task_was_lost_is_queued_again_not_left_waiting_for_ever(
    world, intake, django_capture_on_commit_callbacks
):
    """Its process died between the commit and the queueing: waiting for ever, it would
    also keep the call from any other re-check (one at a time)."""
    with scopes_disabled():
        lost = EligibilityRecheck.objects.create(
            intake=intake, queued_at=timezone.now() - datetime.timedelta(minutes=11)
        )
    client = in_english(world.client("admissions"))
    with django_capture_on_commit_callbacks() as queued:
        client.post(recheck_url(intake))
    assert queued == [] and len(rechecks()) == 1  # the lost one stands in the way
    with django_capture_on_commit_callbacks(execute=True):
        assert eligibility_rechecks_resume() == 1
    assert [(r.pk, r.status, r.changed) for r in rechecks()] == [(lost.pk, "done", 3)]


@pytest.mark.django_db
def test_a_recheck_queued_a_moment_ago_is_not_queued_twice(world, intake):
    with scopes_disabled():
        EligibilityRecheck.objects.create(
            intake=intake, queued_at=timezone.now() - datetime.timedelta(minutes=2)
        )
    assert eligibility_rechecks_resume() == 0
    assert rechecks()[0].status == "pending"


@pytest.mark.django_db
def test_a_recheck_running_for_a_few_minutes_is_left_to_its_worker(world, intake):
    with scopes_disabled():
        running = EligibilityRecheck.objects.create(intake=intake, status="running")
        EligibilityRecheck.objects.filter(pk=running.pk).update(
            claimed_at=timezone.now() - datetime.timedelta(minutes=5)
        )
    assert eligibility_rechecks_resume() == 0
    assert rechecks()[0].status == "running"


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are proven on PostgreSQL (run with DATABASE_URL)")


@pytest.mark.postgres
def test_a_recheck_whose_transaction_is_alive_is_never_run_twice(postgres_only, world):
    """However long it takes: its worker holds its row to the end, and the sweep skips it."""
    intake = make_open_intake(world.smara)
    with scopes_disabled():
        recheck = EligibilityRecheck.objects.create(intake=intake, status="running")
        EligibilityRecheck.objects.filter(pk=recheck.pk).update(
            claimed_at=timezone.now() - datetime.timedelta(hours=2)
        )
    holding, release = threading.Event(), threading.Event()

    def worker():
        try:
            with scopes_disabled(), transaction.atomic():
                EligibilityRecheck.objects.select_for_update().get(pk=recheck.pk)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert holding.wait(30)
        assert eligibility_rechecks_resume() == 0
        assert rechecks()[0].status == "running"
    finally:
        release.set()
        thread.join(30)
    # Its worker gone, without writing anything: the sweep takes it, and it runs.
    assert eligibility_rechecks_resume() == 1
    assert rechecks()[0].status == "done"


@pytest.mark.postgres
def test_the_sweep_leaves_a_recheck_to_the_worker_that_is_running_it(
    postgres_only, world, monkeypatch
):
    """The worker's own transaction holds its re-check's row while it decides: a sweep then,
    however late it judges the re-check, does not queue it a second time."""
    intake = four_applicants(world)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(min_age=24, max_age=50)
        recheck = EligibilityRecheck.objects.create(
            intake=intake, created_by=world.users["director"], queued_at=timezone.now()
        )
    inside, go_on = threading.Event(), threading.Event()
    decide = screening.eligibility_recheck

    def slow(**kwargs):
        inside.set()
        go_on.wait(30)
        return decide(**kwargs)

    monkeypatch.setattr(screening, "eligibility_recheck", slow)

    def worker():
        try:
            eligibility_recheck_execute(recheck.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(30)
        zero = datetime.timedelta(0)
        assert eligibility_rechecks_resume(stale_after=zero, waiting_after=zero) == 0
    finally:
        go_on.set()
        thread.join(30)
    assert [(r.status, r.changed) for r in rechecks()] == [("done", 3)]
    assert summaries() == 1
