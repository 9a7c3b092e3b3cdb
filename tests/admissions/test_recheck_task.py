"""The re-check of a call's rules as staff ask for it: first a preview of what it would
change, which changes nothing, then the re-check that applies it under the same rules; each
run by a task (a call of 100,000 applications takes longer than a request may), the call's
page saying it runs and then what it found or changed, one at a time per call, all or
nothing, and run again when its worker died."""

import contextlib
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
from tremplin.admissions import personal_data, screening
from tremplin.admissions.models import Application, EligibilityRecheck, Intake
from tremplin.admissions.recheck_tasks import (
    eligibility_recheck_execute,
    eligibility_recheck_preview,
    eligibility_recheck_start,
    eligibility_rechecks_resume,
)
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message

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


def previewed(client, intake, capture) -> EligibilityRecheck:
    """Staff ask what the current rules would change, and its worker runs the preview."""
    with capture(execute=True):
        client.post(recheck_url(intake))
    preview = rechecks()[-1]
    assert (preview.preview, preview.status) == (True, "done")
    return preview


def apply(client, preview: EligibilityRecheck, **kwargs):
    return client.post(recheck_url(preview.intake), {"preview": preview.pk}, **kwargs)


def messages_count() -> int:
    with scopes_disabled():
        return Message.objects.count()


@pytest.mark.django_db
def test_staff_see_what_the_rules_would_change_then_apply_it_and_the_page_says_each_step(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    page = client.get(detail_url(intake)).content.decode()
    assert "See what the current rules would change" in page
    told_before = messages_count()
    with django_capture_on_commit_callbacks() as queued:
        asked = client.post(recheck_url(intake))
    assert asked.status_code == 302 and asked["Location"] == detail_url(intake) + "#recheck"
    assert len(queued) == 1  # the task, sent once the request commits

    # Waiting for its worker: the page says so and polls; nothing changed.
    page = client.get(detail_url(intake)).content.decode()
    assert "Looking at what the current rules would change for 4 applications" in page
    assert f'hx-get="{recheck_url(intake, "intake_recheck_status")}"' in page
    assert f'action="{recheck_url(intake)}"' not in page  # no second one meanwhile
    assert client.get(recheck_url(intake, "intake_recheck_status"), **HTMX).status_code == 204

    queued[0]()  # the worker runs the preview: nothing is written, no one is told
    assert eligibility() == BEFORE
    assert messages_count() == told_before and summaries() == 0
    polled = client.get(recheck_url(intake, "intake_recheck_status"), **HTMX)
    assert polled.status_code == 286
    said = polled.content.decode()
    assert (
        "4 applications checked with the current rules. 3 results would change. "
        "1 application would become eligible. 2 applications would no longer be eligible. "
        "3 applicants would be told, by SMS and by email when they gave one. "
        "Nothing has been changed yet. The changes are listed below."
    ) in said
    # The changes and the button that applies them come with it, outside the live region.
    actions = said.split('<div id="recheck-actions" hx-swap-oob="true">')[1]
    assert "Apply these results and tell 3 applicants" in actions
    page = client.get(detail_url(intake)).content.decode()
    table = page.split('data-testid="preview-changes"')[1].split("</table>")[0]
    assert [name in table for name in ("Fatima", "Omar", "Salma", "Karim")] == [
        True, True, True, False
    ]  # fmt: skip
    assert "Age on" in table  # the reasons of those the rules would turn away

    with django_capture_on_commit_callbacks() as queued:
        applied = apply(client, rechecks()[0])
    assert applied.status_code == 302 and len(queued) == 1
    page = client.get(detail_url(intake)).content.decode()
    assert "Checking eligibility again with the current rules for 4 applications" in page
    assert eligibility() == BEFORE

    queued[0]()  # the worker runs it
    assert eligibility() == AFTER
    assert messages_count() > told_before and summaries() == 1
    polled = client.get(recheck_url(intake, "intake_recheck_status"), **HTMX)
    assert polled.status_code == 286  # htmx stops polling, and shows what it did
    said = polled.content.decode()
    assert (
        "Eligibility checked again for 4 applications. 3 results changed. "
        "1 application became eligible. 2 applications are no longer eligible. "
        "3 applicants were told."
    ) in said
    assert "See the figures as they are now" in said

    page = client.get(detail_url(intake)).content.decode()
    assert "Last re-check of eligibility on" in page and "3 results changed." in page
    assert "hx-get" not in page.split('id="recheck"')[1]  # finished: no more polling
    assert "See what the current rules would change" in page  # it can be asked for again
    assert 'data-testid="preview-changes"' not in page
    preview, recheck = rechecks()
    assert (preview.preview, recheck.preview) == (True, False)
    assert (recheck.status, recheck.checked, recheck.changed, recheck.told) == ("done", 4, 3, 3)
    assert recheck.rules_digest == preview.rules_digest != ""
    assert recheck.created_by == world.users["admissions"]
    # Without htmx, the region's address is the call's page.
    plain = client.get(recheck_url(intake, "intake_recheck_status"))
    assert plain.status_code == 302 and plain["Location"] == detail_url(intake) + "#recheck"


@pytest.mark.django_db
def test_a_preview_cannot_be_applied_once_the_rules_changed_and_says_to_ask_again(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(max_age=60)  # Omar stays, Karim too
    page = client.get(detail_url(intake)).content.decode()
    assert "The eligibility rules changed since this preview" in page
    assert 'name="preview"' not in page and 'data-testid="preview-changes"' not in page
    assert "See what the current rules would change" in page
    with django_capture_on_commit_callbacks() as queued:
        refused = apply(client, preview, follow=True)
    assert "The eligibility rules changed since this preview" in refused.content.decode()
    assert queued == [] and len(rechecks()) == 1 and eligibility() == BEFORE


@pytest.mark.django_db
def test_rules_changed_while_the_recheck_waited_for_its_worker_change_nothing(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    told_before = messages_count()
    with django_capture_on_commit_callbacks() as queued:
        apply(client, preview)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(max_age=60)
    queued[0]()
    assert eligibility() == BEFORE and messages_count() == told_before and summaries() == 0
    assert [(r.status, r.failure) for r in rechecks()] == [
        ("done", ""), ("failed", "rules_changed")
    ]  # fmt: skip
    page = client.get(detail_url(intake)).content.decode()
    assert "The eligibility rules changed between the preview and the re-check" in page
    assert "See what the current rules would change" in page


@pytest.mark.django_db
def test_only_the_last_preview_can_be_applied_and_only_once(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    first = previewed(client, intake, django_capture_on_commit_callbacks)
    second = previewed(in_english(world.client("director")), intake,
                       django_capture_on_commit_callbacks)  # fmt: skip
    refused = apply(client, first, follow=True).content.decode()
    assert "This preview was applied or replaced since" in refused
    assert eligibility() == BEFORE
    with django_capture_on_commit_callbacks(execute=True):
        apply(client, second)
    assert eligibility() == AFTER and summaries() == 1
    again = apply(client, second, follow=True).content.decode()  # a page kept open, a replay
    assert "This preview was applied or replaced since" in again
    assert summaries() == 1 and len(rechecks()) == 3


@pytest.mark.django_db
def test_a_preview_lists_the_first_changes_and_says_the_others_are_applied_with_them(
    world, intake, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(screening, "PREVIEW_LISTED", 2)
    client = in_english(world.client("admissions"))
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    assert (preview.changed, len(preview.changes)) == (3, 2)
    page = client.get(detail_url(intake)).content.decode()
    assert "The first 2 changes, by number (the others are applied with them)" in page
    assert "Apply these results and tell 3 applicants" in page


@pytest.mark.django_db
def test_a_preview_with_nothing_to_change_offers_to_record_the_check(
    world, django_capture_on_commit_callbacks
):
    intake = four_applicants(world)  # the rules as the applications were decided
    client = in_english(world.client("admissions"))
    previewed(client, intake, django_capture_on_commit_callbacks)
    page = client.get(detail_url(intake)).content.decode()
    assert "No result would change." in page
    assert "Record this check (nothing changes)" in page
    assert 'data-testid="preview-changes"' not in page


@pytest.mark.django_db
def test_the_preview_keeps_no_personal_data_and_lists_the_applications_as_they_are(
    world, intake, django_capture_on_commit_callbacks
):
    """It keeps the ids of its first changes, not what it read of them: the page reads the
    applications as they are. One erased since is no longer named (nor her age given);
    one corrected since is said to change no more."""
    client = in_english(world.client("admissions"))
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    with scopes_disabled():
        people = dict(Application.objects.values_list("cin", "pk"))
    assert preview.changes == [people[cin] for cin in ("AB123456", "CD111111", "EF222222")]
    with scopes_disabled():
        personal_data.application_erase(
            application=Application.objects.get(cin="CD111111"),
            actor=world.users["admissions"],
            reason="asked",
        )
        Application.objects.filter(cin="EF222222").update(birth_date=datetime.date(2000, 1, 1))
    page = client.get(detail_url(intake)).content.decode()
    table = page.split('data-testid="preview-changes"')[1].split("</table>")[0]
    assert "Fatima" in table and "Omar" not in table and "46" not in table
    salma = table.split("Salma")[1]
    assert "no longer changes: the application changed since the preview" in salma
    assert "Apply these results and tell 3 applicants" in page  # what it found


@pytest.mark.django_db
def test_applying_while_a_colleague_asks_for_a_new_preview_says_so_and_applies_nothing(
    world, intake, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks():
        in_english(world.client("director")).post(recheck_url(intake))  # waits for a worker
    refused = apply(client, preview, follow=True).content.decode()
    assert "A new preview is being prepared for this call" in refused
    assert eligibility() == BEFORE and [r.preview for r in rechecks()] == [True, True]


@pytest.mark.django_db
def test_a_recheck_run_before_its_moves_were_counted_says_what_it_knew(world, intake):
    with scopes_disabled():
        EligibilityRecheck.objects.create(
            intake=intake, status="done", finished_at=timezone.now(), checked=4, changed=3,
            became_eligible=None, became_ineligible=None, told=None,
        )  # fmt: skip
    page = in_english(world.client("admissions")).get(detail_url(intake)).content.decode()
    said = page.split('data-testid="recheck-result"')[1].split("</p>")[0]
    assert said.endswith("Eligibility checked again for 4 applications. 3 results changed.")


@pytest.mark.django_db
def test_a_preview_that_tells_no_one_says_so(world, intake, django_capture_on_commit_callbacks):
    with scopes_disabled():  # results stay as they are; only reasons move
        Intake.objects.filter(pk=intake.pk).update(min_age=18, max_age=44)
    client = in_english(world.client("admissions"))
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    assert (preview.changed, preview.told) == (1, 0)
    page = client.get(detail_url(intake)).content.decode()
    assert (
        "No result would change. The reasons of 1 application would change, not its result. "
        "No applicant would be told."
    ) in page
    table = page.split('data-testid="preview-changes"')[1].split("</table>")[0]
    assert "Omar" in table and "the same result, for other reasons" in table
    # Its reason as it stands (the rules it applied under), then the new one.
    assert table.count("Age on September 1, 2026: 46") == 2
    assert table.count("the call accepts 18 to 44") == 1
    assert "Apply these results (no applicant to tell)" in page


@pytest.mark.django_db
def test_a_second_click_or_a_colleague_gets_the_recheck_already_asked_for(
    world, intake, django_capture_on_commit_callbacks
):
    preview = previewed(in_english(world.client("admissions")), intake,
                        django_capture_on_commit_callbacks)  # fmt: skip
    with django_capture_on_commit_callbacks() as queued:
        apply(in_english(world.client("admissions")), preview)
        again = apply(in_english(world.client("director")), preview, follow=True)
        other = in_english(world.client("director")).post(recheck_url(intake), follow=True)
    assert len(queued) == 1 and len(rechecks()) == 2
    for page in (again, other):
        assert "Eligibility is already being checked again for this call" in page.content.decode()
    queued[0]()
    assert summaries() == 1 and eligibility() == AFTER


@pytest.mark.django_db
def test_a_task_delivered_twice_checks_the_call_once(
    world, intake, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), scope(school=world.smara):
        preview, _started = eligibility_recheck_preview(
            intake=intake, actor=world.users["director"]
        )
    with django_capture_on_commit_callbacks(execute=True), scope(school=world.smara):
        recheck, started = eligibility_recheck_start(
            intake=intake, actor=world.users["director"], preview=rechecks()[0]
        )
    assert started
    eligibility_recheck_execute(recheck.pk)
    eligibility_recheck_execute(preview.pk)
    assert summaries() == 1
    assert [(r.status, r.changed) for r in rechecks()] == [("done", 3), ("done", 3)]


@pytest.mark.django_db
def test_a_recheck_that_fails_changes_nothing_and_can_be_asked_for_again(
    world, intake, monkeypatch, django_capture_on_commit_callbacks
):
    client = in_english(world.client("admissions"))
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as queued:
        apply(client, preview)

    def broken(*args, **kwargs):  # after every chunk was written
        raise RuntimeError("the audit log is unreachable")

    monkeypatch.setattr(screening, "log_action", broken)
    recheck = rechecks()[-1]
    with pytest.raises(RuntimeError):
        eligibility_recheck_execute(recheck.pk)
    assert eligibility() == BEFORE  # the chunks written went with the transaction
    assert [(r.status, r.failure) for r in rechecks()] == [("done", ""), ("failed", "internal")]
    page = client.get(detail_url(intake)).content.decode()
    assert "The last re-check of eligibility failed: nothing was changed" in page
    assert "See what the current rules would change" in page
    assert len(queued) == 1


@pytest.mark.django_db
def test_a_database_too_busy_for_the_recheck_leaves_it_waiting_to_run_again(
    world, intake, monkeypatch, django_capture_on_commit_callbacks
):
    """SQLite's write lock held longer than its timeout by a large import: that is no
    failure to report to staff, and nothing was written."""
    from django.db import OperationalError

    client = in_english(world.client("admissions"))
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks():
        apply(client, preview)

    def busy(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(screening, "eligibility_recheck", busy)
    eligibility_recheck_execute(rechecks()[-1].pk)
    recheck = rechecks()[-1]
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
    preview = previewed(client, intake, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as queued:
        apply(client, preview)
    before = eligibility()
    publish_single(
        intake, actor=world.users["director"], composites=COMPOSITES, seats=4, waitlist=4
    )
    queued[0]()
    assert eligibility() == before
    assert [(r.status, r.failure) for r in rechecks()] == [("done", ""), ("failed", "rules_frozen")]
    polled = client.get(recheck_url(intake, "intake_recheck_status"), **HTMX)
    assert polled.status_code == 286 and "Run #1 is published" in polled.content.decode()
    # Asked for once it is published: refused at once, with its reason.
    refused = client.post(recheck_url(intake), follow=True)
    assert "Run #1 is published" in refused.content.decode() and len(rechecks()) == 2


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
        client.post(recheck_url(intake))  # a preview
    assert queued == [] and len(rechecks()) == 1  # the lost one stands in the way
    with django_capture_on_commit_callbacks(execute=True):
        assert eligibility_rechecks_resume() == 1
    assert [(r.pk, r.status, r.changed) for r in rechecks()] == [(lost.pk, "done", 3)]


@pytest.mark.django_db
def test_a_preview_whose_worker_was_lost_fails_and_can_be_asked_for_again(
    world, intake, django_capture_on_commit_callbacks
):
    """It holds no lock that would tell a live worker from a dead one: queued again, a
    preview that is only slow would be taken from its worker for ever."""
    with scopes_disabled():
        lost = EligibilityRecheck.objects.create(intake=intake, preview=True, status="running")
        EligibilityRecheck.objects.filter(pk=lost.pk).update(
            claimed_at=timezone.now() - datetime.timedelta(minutes=31)
        )
    with django_capture_on_commit_callbacks() as queued:
        assert eligibility_rechecks_resume() == 0
    assert queued == [] and [(r.status, r.failure) for r in rechecks()] == [
        ("failed", "internal")
    ]  # fmt: skip
    page = in_english(world.client("admissions")).get(detail_url(intake)).content.decode()
    assert "See what the current rules would change" in page


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


@contextlib.contextmanager
def held_inside(monkeypatch, name: str, recheck_id: int):
    """Run the task of ``recheck_id`` in a thread of its own (its own connection), held
    inside ``screening.<name>`` while the block runs."""
    inside, go_on = threading.Event(), threading.Event()
    decide = getattr(screening, name)

    def slow(*args, **kwargs):
        inside.set()
        go_on.wait(30)
        return decide(*args, **kwargs)

    monkeypatch.setattr(screening, name, slow)

    def worker():
        try:
            eligibility_recheck_execute(recheck_id)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(30)
        yield
    finally:
        go_on.set()
        thread.join(30)


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
    with held_inside(monkeypatch, "eligibility_recheck", recheck.pk):
        zero = datetime.timedelta(0)
        assert eligibility_rechecks_resume(stale_after=zero, waiting_after=zero) == 0
    assert [(r.status, r.changed) for r in rechecks()] == [("done", 3)]
    assert summaries() == 1


@pytest.mark.postgres
def test_a_preview_holds_no_lock_on_the_call_nor_its_applications(
    postgres_only, world, monkeypatch
):
    """While a preview reads a large call, applicants correct their applications and staff
    change the call: nothing waits for it (the re-check it precedes locks them, briefly)."""
    intake = four_applicants(world)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(min_age=24, max_age=50)
        preview = EligibilityRecheck.objects.create(
            intake=intake, preview=True, queued_at=timezone.now()
        )
    with (
        held_inside(monkeypatch, "_recheck_chunk", preview.pk),
        scopes_disabled(),
        transaction.atomic(),  # NOWAIT: an error if it were locked
    ):
        Intake.objects.select_for_update(nowait=True).get(pk=intake.pk)
        assert len(Application.objects.select_for_update(nowait=True)) == 4
        EligibilityRecheck.objects.select_for_update(nowait=True).get(pk=preview.pk)
    assert [(r.status, r.changed) for r in rechecks()] == [("done", 3)]
    assert eligibility() == BEFORE
