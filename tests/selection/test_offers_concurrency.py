"""Real concurrent requests against PostgreSQL: the database decides who gets a seat.

Each round fires its requests at the same instant (a barrier) over HTTP, at a live server
that serves them from a pool of threads with one database connection each, as gunicorn's
threads would; the expiry sweep runs in threads of its own with their own connections.
(The pool keeps the connections under PostgreSQL's max_connections, shared with other test
runs; 24 transactions at once are plenty to collide.)
"""

import concurrent.futures
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection, connections
from django.db.models import F
from django.test.testcases import LiveServerThread, _StaticFilesHandler
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.conftest import verified_client
from tests.selection.offers_world import (
    app,
    closed_intake,
    offer_of,
    pool_of,
    publish_single,
    record_letters,
)
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.core.models import AuditEvent
from tremplin.selection.models import Offer, SeatPool
from tremplin.selection.offers import offer_accept, offers_expire
from tremplin.training.models import Enrolment

pytestmark = pytest.mark.postgres

SERVER_THREADS = 24
CSRF = "tremplinconcurrencytest" + "x" * 9  # a 32-character CSRF secret


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (run with DATABASE_URL)")


class PooledServer(ThreadedWSGIServer):
    """Django's threaded test server, but serving from a bounded pool of threads."""

    request_queue_size = 256

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=SERVER_THREADS)

    def process_request(self, request, client_address):
        self.pool.submit(self.process_request_thread, request, client_address)

    def server_close(self):
        super().server_close()
        self.pool.shutdown(wait=True)


class PooledServerThread(LiveServerThread):
    server_class = PooledServer


@pytest.fixture
def server(postgres_only, settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    thread = PooledServerThread("localhost", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://localhost:{thread.port}"
    thread.terminate()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def staff_cookie(user) -> str:
    return verified_client(user).cookies["sessionid"].value


def applicant_cookie(application) -> str:
    session = SessionStore()
    session[SESSION_APPLICANT] = application.pk
    session.create()
    return session.session_key


def prepared_post(base: str, path: str, session_key: str, data: dict) -> urllib.request.Request:
    body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": CSRF}).encode()
    return urllib.request.Request(
        base + path,
        data=body,
        headers={"Cookie": f"sessionid={session_key}; csrftoken={CSRF}"},
    )


def fire(requests: list, sweeps: int = 0) -> list[int]:
    """Send every request (and run `sweeps` expiry sweeps) at the same instant; the HTTP
    status of each request, in order. A sweep that raises fails the test."""
    barrier = threading.Barrier(len(requests) + sweeps)
    statuses: list[int] = [0] * len(requests)
    errors: list[BaseException] = []

    def send(i: int, request) -> None:
        barrier.wait()
        try:
            statuses[i] = OPENER.open(request, timeout=120).status
        except urllib.error.HTTPError as error:
            statuses[i] = error.code

    def sweep() -> None:
        barrier.wait()
        try:
            offers_expire()
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i, r)) for i, r in enumerate(requests)]
    threads += [threading.Thread(target=sweep) for _ in range(sweeps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not errors, errors
    return statuses


def counters_match_offers(intake) -> None:
    with scopes_disabled():
        for pool in SeatPool.objects.filter(intake=intake):
            live = pool.offers.filter(status="live").count()
            accepted = pool.offers.filter(status="accepted").count()
            assert (pool.live, pool.accepted) == (live, accepted)
            assert pool.live + pool.accepted <= pool.seats


def test_the_last_seat_one_hundred_concurrent_accepts_one_success_twenty_times(
    server, world, monkeypatch
):
    """Reading "100 concurrent accept requests for the last seat": a seat can be accepted
    only through the live offer that holds it (live + accepted <= seats is a constraint), so
    the last seat is contested by everyone who acts on it at once: its holder clicking
    "accept" 60 times (several devices, double clicks), two officers recording the same
    acceptance given by phone 20 times, and the same officers trying 20 times to promote 20
    other waitlisted applicants into it. Exactly one acceptance may win; every other request
    must get a calm answer (a redirect with a message), no promotion may take the seat, and
    the counters must match the offers, in each of the 20 rounds."""
    letters = record_letters(monkeypatch, on_commit=True)
    officers = [world.users["director"], world.users["admissions"]]
    for round_number in range(20):
        intake = closed_intake(world, n=24, seats=3, waitlist=21, slug=f"race-{round_number:02d}")
        publish_single(intake, actor=officers[0], composites=range(24, 0, -1), seats=3, waitlist=21)
        for number in (1, 2):
            offer_accept(offer=offer_of(app(intake, number)), channel="applicant")
        holder = app(intake, 3)
        last = offer_of(holder)
        school = world.smara.slug
        accept = reverse("selection:applicant_offer_accept", args=[last.pk])
        phone = reverse("selection:offer_answer", args=[school, last.pk])
        promote = reverse("selection:offer_promote", args=[school, intake.slug])
        requests = [prepared_post(server, accept, applicant_cookie(holder), {}) for _ in range(60)]
        requests += [
            prepared_post(
                server, phone, staff_cookie(officers[i % 2]),
                {"answer": "accept", "reason": "Called the school"},
            )
            for i in range(20)
        ]  # fmt: skip
        requests += [
            prepared_post(
                server, promote, staff_cookie(officers[i % 2]),
                {"reference": app(intake, 4 + i).reference, "reason": "Asked for the seat"},
            )
            for i in range(20)
        ]  # fmt: skip

        statuses = fire(requests)

        assert statuses == [302] * 100, (round_number, statuses)
        with scopes_disabled():
            accepted = AuditEvent.objects.filter(
                action="tremplin.selection.offer_accepted", object_id=str(holder.pk)
            )
            assert accepted.count() == 1, round_number
            assert Enrolment.objects.filter(application=holder).count() == 1
            assert not Offer.objects.filter(pool__intake=intake, application__number__gt=3)
        pool = pool_of(intake)
        assert (pool.seats, pool.live, pool.accepted) == (3, 0, 3)
        counters_match_offers(intake)
    assert letters.calls == []


def test_fifty_concurrent_promotions_of_one_applicant_and_the_expiry_give_one_offer(
    server, world, monkeypatch
):
    """Two officers promote the same waitlisted applicant (4) 20 times each while the expiry
    sweep runs 10 times, in each of 10 rounds. One seat is free and the holder of another
    (3) let their deadline pass: the sweep expires it and fills the free seats in the call
    order (4, then 5), racing the promotions for 4. Whoever wins, 4 gets exactly one offer
    and one notification, 3's offer expires once, and the seats are never exceeded."""
    letters = record_letters(monkeypatch, on_commit=True)
    officers = [world.users["director"], world.users["admissions"]]
    for round_number in range(10):
        intake = closed_intake(world, n=10, seats=3, waitlist=5, slug=f"promo-{round_number:02d}")
        publish_single(intake, actor=officers[0], composites=range(10, 0, -1), seats=3, waitlist=5)
        with scopes_disabled():
            SeatPool.objects.filter(intake=intake).update(seats=F("seats") + 1)
            Offer.objects.filter(pool__intake=intake, application__number=3).update(
                deadline=timezone.now()
            )
        waiting, next_one = app(intake, 4), app(intake, 5)
        letters.calls.clear()
        promote = reverse("selection:offer_promote", args=[world.smara.slug, intake.slug])
        requests = [
            prepared_post(
                server, promote, staff_cookie(officers[i % 2]),
                {"reference": waiting.reference, "reason": "Called back"},
            )
            for i in range(40)
        ]  # fmt: skip

        statuses = fire(requests, sweeps=10)

        assert statuses == [302] * 40, (round_number, statuses)
        with scopes_disabled():
            offers = list(Offer.objects.filter(application=waiting))
            assert len(offers) == 1 and offers[0].status == "live", round_number
            assert Offer.objects.filter(application=next_one, status="live").count() == 1
            assert (
                AuditEvent.objects.filter(
                    action="tremplin.selection.offer_expired", object_id=str(app(intake, 3).pk)
                ).count()
                == 1
            )
        assert letters.application_ids.count(waiting.pk) == 1, (round_number, letters.calls)
        assert letters.application_ids.count(next_one.pk) == 1
        pool = pool_of(intake)
        assert (pool.seats, pool.live, pool.accepted) == (4, 4, 0)
        counters_match_offers(intake)


def test_the_applicant_accepting_while_staff_take_the_offer_back_ends_in_one_state(
    server, world, monkeypatch
):
    """The holder of an offer (3) taps "accept" 3 times while two officers take the offer
    back 10 times each (a false address found), in each of 20 rounds. Whichever comes first,
    the offer ends taken back, once: if the acceptance came first, its enrolment ended and
    the accepted seat was freed; if not, nobody was enrolled. Either way the seat went to the
    first on the waiting list (4), once, and the counters match the offers. (More taps than
    3 and the acceptance nearly always comes first.)"""
    letters = record_letters(monkeypatch, on_commit=True)
    officers = [world.users["director"], world.users["admissions"]]
    for round_number in range(20):
        intake = closed_intake(world, n=10, seats=3, waitlist=5, slug=f"back-{round_number:02d}")
        publish_single(intake, actor=officers[0], composites=range(10, 0, -1), seats=3, waitlist=5)
        holder, first_waiting = app(intake, 3), app(intake, 4)
        offer = offer_of(holder)
        letters.calls.clear()
        accept = reverse("selection:applicant_offer_accept", args=[offer.pk])
        back = reverse("selection:offer_withdrawal", args=[world.smara.slug, offer.pk])
        taps = [prepared_post(server, accept, applicant_cookie(holder), {}) for _ in range(3)]
        takes = [
            prepared_post(
                server, back, staff_cookie(officers[i % 2]), {"reason": "False address"}
            )
            for i in range(20)
        ]  # fmt: skip
        requests = taps + takes if round_number % 2 else takes + taps

        statuses = fire(requests)

        assert statuses == [302] * len(requests), (round_number, statuses)
        with scopes_disabled():
            assert Offer.objects.get(pk=offer.pk).status == "cancelled", round_number
            events = AuditEvent.objects.filter(object_id=str(holder.pk))
            assert events.filter(action="tremplin.selection.offer_withdrawn").count() == 1
            accepted = events.filter(action="tremplin.selection.offer_accepted").count()
            enrolments = list(Enrolment.objects.filter(application=holder))
            assert len(enrolments) == accepted <= 1, round_number
            assert all(e.status == "dropped_out" for e in enrolments)
            called = list(Offer.objects.filter(application=first_waiting))
            assert [o.status for o in called] == ["live"], round_number
        assert letters.application_ids == [first_waiting.pk], (round_number, letters.calls)
        pool = pool_of(intake)
        assert (pool.seats, pool.live, pool.accepted) == (3, 3, 0)
        counters_match_offers(intake)
