"""One-time codes of the applicant space: what a stranger asking for codes can and cannot
do to the owner, and what the request page gives away (nothing)."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.open_intake import applied_through_the_portal
from tremplin.admissions import codes
from tremplin.admissions.models import ApplicantCode, Application
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message

APPLY = "/schools/smara/calls/promo-2026/apply/"
OWNER_IP = "196.200.1.10"
STRANGER_IP = "105.66.7.20"


@pytest.fixture
def application(world):
    return applied_through_the_portal(world.smara)


def ask(ip: str, reference: str, cin: str = "AB123456", client: Client | None = None) -> tuple:
    """A visitor from ``ip`` asks for a code; returns their client and the answer."""
    client = client or Client(REMOTE_ADDR=ip)
    return client, client.post(reverse("portal:access"), {"reference": reference, "cin": cin})


def texts() -> list[str]:
    """The codes sent by SMS, oldest first."""
    with scopes_disabled():
        bodies = Message.objects.filter(template="applicant_code", channel="sms").order_by("pk")
        return [re.search(r"\b(\d{6})\b", m.body).group(1) for m in bodies]


def opens_the_space(client: Client, code: str, *, remember: bool = False) -> bool:
    data = {"code": code, **({"remember": "on"} if remember else {})}
    response = client.post(reverse("portal:code"), data)
    return response.status_code == 302 and response["Location"] == reverse("portal:space")


@pytest.mark.django_db
def test_a_code_stays_valid_when_someone_else_asks_for_another(application):
    owner, _ = ask(OWNER_IP, application.reference)
    (code,) = texts()
    ask(STRANGER_IP, application.reference)
    assert len(texts()) == 2
    assert opens_the_space(owner, code)


@pytest.mark.django_db
def test_a_strangers_requests_do_not_stop_the_owner_from_getting_and_using_a_code(application):
    for _ in range(6):
        ask(STRANGER_IP, application.reference)
    assert len(texts()) == codes.CODES_PER_HOUR  # the stranger's own limit
    owner, _ = ask(OWNER_IP, application.reference)
    assert len(texts()) == codes.CODES_PER_HOUR + 1
    assert opens_the_space(owner, texts()[-1])


@pytest.mark.django_db
def test_using_a_code_voids_the_others_still_outstanding(application):
    first, _ = ask(OWNER_IP, application.reference)
    second, _ = ask(OWNER_IP, application.reference)
    earlier, later = texts()
    assert opens_the_space(second, later)
    assert not opens_the_space(first, earlier)


@pytest.mark.django_db
def test_codes_are_capped_per_application_whatever_the_number_of_requesters(application):
    for n in range(6):
        for _ in range(codes.CODES_PER_HOUR):
            ask(f"105.66.7.{n}", application.reference)
    assert len(texts()) == codes.CODES_PER_HOUR_IN_ALL


@pytest.mark.django_db
def test_each_code_sent_is_audited_with_the_requesters_address(application):
    ask(OWNER_IP, application.reference)
    with scopes_disabled():
        (event,) = AuditEvent.objects.filter(action="tremplin.applications.code_sent")
    assert event.ip_address == OWNER_IP
    assert event.object_id == str(application.pk)


def _answer(client: Client, response) -> tuple:
    """What a requester sees: the status, where it leads, and that page's text (without the
    CSRF token, which differs for every visitor, nor the reference typed, given back as it
    was typed to "Ask for a new code")."""
    page = client.get(response["Location"])
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page.content.decode())
    text = re.sub(r'\?reference=[^"]*"', '"', text)
    return response.status_code, response["Location"], page.status_code, text


@pytest.mark.django_db
def test_a_rate_limited_pair_gets_the_same_answer_as_a_pair_that_does_not_match(application):
    for _ in range(codes.CODES_PER_HOUR):
        ask(STRANGER_IP, application.reference)
    sent = len(texts())
    limited = _answer(*ask(STRANGER_IP, application.reference))
    assert len(texts()) == sent  # nothing more was sent
    wrong_cin = _answer(*ask(STRANGER_IP, application.reference, cin="ZZ999999"))
    wrong_reference = _answer(*ask(STRANGER_IP, "SMA-25-9999"))
    matching = _answer(*ask(OWNER_IP, application.reference))
    assert limited == wrong_cin == wrong_reference == matching


@pytest.mark.django_db
def test_a_strangers_wrong_guesses_do_not_void_the_owners_code(application):
    owner, _ = ask(OWNER_IP, application.reference)
    (code,) = texts()
    stranger, _ = ask(STRANGER_IP, application.reference)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(codes.CODE_MAX_ATTEMPTS + 1):
        assert not opens_the_space(stranger, wrong)
    assert opens_the_space(owner, code)


@pytest.mark.django_db
def test_a_code_opens_the_space_only_in_the_browser_that_asked_for_it(application):
    owner, _ = ask(OWNER_IP, application.reference)
    (code,) = texts()
    # Someone who asked too, from the same network, and reads the owner's SMS over her
    # shoulder: the code is not theirs.
    other, _ = ask(OWNER_IP, application.reference)
    assert not opens_the_space(other, code)
    assert opens_the_space(owner, code)


@pytest.mark.django_db
def test_behind_a_proxy_each_visitor_has_a_limit_of_their_own(application, settings):
    settings.TREMPLIN_PROXY_COUNT = 1

    def ask_through_proxy(ip: str) -> Client:
        client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=ip)
        client.post(
            reverse("portal:access"), {"reference": application.reference, "cin": "AB123456"}
        )
        return client

    for _ in range(codes.CODES_PER_HOUR + 2):
        ask_through_proxy(STRANGER_IP)
    assert len(texts()) == codes.CODES_PER_HOUR
    owner = ask_through_proxy(OWNER_IP)
    assert len(texts()) == codes.CODES_PER_HOUR + 1
    assert opens_the_space(owner, texts()[-1])


def door_queries(ip: str, reference: str, cin: str, client: Client | None = None) -> list[str]:
    """The statements the door runs for a pair, with tasks as in production (rows of the
    database), values left out; asked by ``client``, or a new visitor from ``ip``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client or Client(REMOTE_ADDR=ip)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("portal:access"), {"reference": reference, "cin": cin})
    assert response.status_code == 302
    return [
        re.sub(r"'[^']*'|\"s\d+_x\d+\"|\b\d+\b", "?", q["sql"]) for q in captured.captured_queries
    ]


@pytest.mark.django_db
def test_the_door_does_the_same_work_whether_the_pair_matches_or_not(application, settings):
    """Its time says nothing either: the look-up and the code are a task's, after the answer."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    door_queries(OWNER_IP, "SMA-25-9999", "ZZ000000")  # the process's first request
    matching = door_queries(OWNER_IP, application.reference, "AB123456")
    wrong_cin = door_queries("105.66.7.1", application.reference, "ZZ999999")
    wrong_reference = door_queries("105.66.7.2", "SMA-25-9999", "AB123456")
    assert matching == wrong_cin == wrong_reference
    assert not any("admissions_application" in sql for sql in matching)
    assert texts() == []  # nothing sent yet: the worker does it
    assert DBTaskResult.objects.count() == 4

    from tremplin.admissions.models import AccessRequest

    with scopes_disabled():
        processed = {r.pk: codes.access_request_process(r.pk) for r in AccessRequest.objects.all()}
    assert sorted(processed.values()) == [False, False, False, True]
    assert len(texts()) == 1


@pytest.mark.django_db
def test_a_request_is_processed_once_and_a_lost_one_is_resumed(application, settings):
    from django_tasks_db.models import DBTaskResult

    from tremplin.admissions.models import AccessRequest

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    owner, _ = ask(OWNER_IP, application.reference)
    DBTaskResult.objects.all().delete()  # the worker died with it
    assert codes.access_requests_resume() == 0  # under a minute: its task may still come
    with scopes_disabled():
        (request,) = AccessRequest.objects.all()
        AccessRequest.objects.update(created_at=request.created_at - datetime.timedelta(minutes=2))
    assert codes.access_requests_resume() == 1
    assert codes.access_requests_resume() == 0
    assert not codes.access_request_process(request.pk)  # the task, delivered at last
    (code,) = texts()
    assert opens_the_space(owner, code)


@pytest.mark.django_db
def test_one_connection_may_try_a_cin_ten_times_an_hour_whatever_the_answers(application):
    for n in range(codes.ACCESS_PER_PAIR - 1):
        ask(STRANGER_IP, f"SMA-25-{9000 + n}")
    client, response = ask(STRANGER_IP, application.reference)  # the tenth: it matches
    assert response.status_code == 302
    client.cookies["django_language"] = "en"
    refused = client.post(
        reverse("portal:access"), {"reference": application.reference, "cin": "AB123456"}
    )
    assert refused.status_code == 429
    assert "Too many requests for a code came from your connection. Try again in 60 minutes." in (
        refused.content.decode()
    )
    assert len(texts()) == 1
    # Refused alike once the limit is reached, whether the pair matches or not.
    wrong = client.post(reverse("portal:access"), {"reference": "SMA-25-9999", "cin": "AB123456"})
    assert wrong.status_code == 429
    # Another connection, or another CIN from this one, may still ask.
    assert ask(OWNER_IP, application.reference)[1].status_code == 302
    assert ask(STRANGER_IP, application.reference, cin="CD654321")[1].status_code == 302
    assert len(texts()) == 2


@pytest.mark.django_db
def test_a_connection_that_scans_many_cins_is_stopped(application, settings):
    settings.PORTAL_ACCESS_PER_IP_PER_HOUR = 12
    for n in range(12):
        assert ask(STRANGER_IP, application.reference, cin=f"ZZ{n:06d}")[1].status_code == 302
    assert ask(STRANGER_IP, application.reference, cin="ZZ999999")[1].status_code == 429
    assert ask(OWNER_IP, application.reference)[1].status_code == 302


@pytest.mark.django_db
def test_the_door_keeps_requests_and_codes_a_day_only(application):
    from tremplin.admissions.models import AccessRequest

    ask(OWNER_IP, application.reference)
    ask(STRANGER_IP, application.reference)
    a_day_ago = timezone.now() - datetime.timedelta(days=1, minutes=1)
    with scopes_disabled():
        old = AccessRequest.objects.order_by("pk").first()
        AccessRequest.objects.filter(pk=old.pk).update(created_at=a_day_ago)
        first_code = ApplicantCode.objects.order_by("pk").first()
        ApplicantCode.objects.filter(pk=first_code.pk).update(created_at=a_day_ago)
    assert codes.access_requests_forget() == 1  # as the sweep calls it: no school's scope
    with scopes_disabled():
        assert list(AccessRequest.objects.values_list("ip_address", flat=True)) == [STRANGER_IP]
        # The codes hold a hash of the connection that asked: gone with the requests.
        assert ApplicantCode.objects.count() == 1
        assert not ApplicantCode.objects.filter(pk=first_code.pk).exists()


@pytest.mark.django_db
def test_a_code_message_is_not_sent_once_the_code_has_expired(application):
    ask(OWNER_IP, application.reference)
    with scopes_disabled():
        code = ApplicantCode.objects.get()
        messages = Message.objects.filter(template="applicant_code")
        assert {m.expires_at for m in messages} == {code.expires_at}


@pytest.mark.django_db
def test_codes_are_capped_per_application_in_a_day_too(application):
    """Ten an hour, hour after hour, would be 240 SMS a day paid for one application."""
    with scopes_disabled():
        for hours_ago in range(2, 2 + codes.CODES_PER_DAY_IN_ALL // codes.CODES_PER_HOUR_IN_ALL):
            for _n in range(codes.CODES_PER_HOUR_IN_ALL):
                ApplicantCode.objects.create(
                    application=application, code_hash="x", expires_at=timezone.now()
                )
            ApplicantCode.objects.filter(
                created_at__gt=timezone.now() - datetime.timedelta(hours=1)
            ).update(created_at=timezone.now() - datetime.timedelta(hours=hours_ago))
    ask(OWNER_IP, application.reference)
    assert texts() == []
    with scopes_disabled():
        ApplicantCode.objects.update(
            created_at=timezone.now() - datetime.timedelta(days=1, minutes=1)
        )
    ask(OWNER_IP, application.reference)
    assert len(texts()) == 1


@pytest.mark.django_db
def test_a_code_received_before_a_newer_request_still_opens_the_space(application):
    owner, _ = ask(OWNER_IP, application.reference)
    (code,) = texts()
    # She asks again, mistyping her CIN this time: the first code is still good.
    owner.post(reverse("portal:access"), {"reference": application.reference, "cin": "AB123457"})
    assert opens_the_space(owner, code)


@pytest.mark.django_db
def test_a_session_whose_pair_did_not_match_may_not_try_codes_forever(application):
    """It holds no code, so no code's tries run out: the session counts them instead, and
    the page answers it as it answers the owner who mistyped hers too often."""
    stranger, _ = ask(STRANGER_IP, application.reference, cin="ZZ999999")
    stranger.cookies["django_language"] = "en"
    for n in range(codes.CODE_MAX_ATTEMPTS):
        page = stranger.post(reverse("portal:code"), {"code": f"{n:06d}"}).content.decode()
        assert "This code is not valid or has expired." in page
    page = stranger.post(reverse("portal:code"), {"code": "123456"}).content.decode()
    assert "Too many wrong codes were typed. Ask for a new code." in page

    owner, _ = ask(OWNER_IP, application.reference)
    (code,) = texts()
    owner.cookies["django_language"] = "en"
    for _ in range(codes.CODE_MAX_ATTEMPTS):
        owner.post(reverse("portal:code"), {"code": "000000" if code != "000000" else "111111"})
    page = owner.post(reverse("portal:code"), {"code": code}).content.decode()
    assert "Too many wrong codes were typed. Ask for a new code." in page


@pytest.mark.django_db
def test_an_ipv6_subscriber_is_one_connection_whatever_address_of_their_network(application):
    for n in range(codes.ACCESS_PER_PAIR):
        assert ask(f"2a02:4780:12:3456::{n + 1:x}", application.reference)[1].status_code == 302
    assert ask("2a02:4780:12:3456::ffff", application.reference)[1].status_code == 429
    assert ask("2a02:4780:12:3457::1", application.reference)[1].status_code == 302


@pytest.mark.django_db
def test_an_ipv6_subscriber_gets_three_codes_an_hour_whatever_address_of_their_network(
    application,
):
    for n in range(codes.CODES_PER_HOUR + 2):
        ask(f"2a02:4780:12:3456::{n + 1:x}", application.reference)
    assert len(texts()) == codes.CODES_PER_HOUR
    owner, _ = ask("2a02:4780:12:3457::1", application.reference)  # another network
    assert len(texts()) == codes.CODES_PER_HOUR + 1
    assert opens_the_space(owner, texts()[-1])


@pytest.mark.django_db
def test_one_request_that_fails_does_not_stop_the_others_being_resumed(application, monkeypatch):
    from tremplin.admissions.models import AccessRequest

    real = codes.applicant_code_send
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("template broken")
        return real(**kwargs)

    with scopes_disabled():
        for ip in (OWNER_IP, STRANGER_IP):
            codes.access_request_create(
                reference=application.reference,
                cin="AB123456",
                ip_address=ip,
                session_token=ip,
                device_token=None,
            )
    with scopes_disabled():
        # As if their tasks had been lost with a worker.
        AccessRequest.objects.update(processed_at=None)
        ApplicantCode.objects.all().delete()
        Message.objects.filter(template="applicant_code").delete()
        AccessRequest.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    monkeypatch.setattr(codes, "applicant_code_send", flaky)
    assert codes.access_requests_resume() == 1
    assert len(texts()) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("remember", [False, True], ids=["a computer", "my phone, remembered"])
def test_the_space_is_kept_by_no_cache_and_closes_with_the_browser_unless_remembered(
    application, remember
):
    from django.conf import settings

    client, _ = ask(OWNER_IP, application.reference)
    (code,) = texts()
    data = {"code": code, **({"remember": "on"} if remember else {})}
    response = client.post(reverse("portal:code"), data)
    assert response["Location"] == reverse("portal:space")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    # Perhaps a cyber café's computer: a cookie without an expiry goes with the browser.
    assert bool(cookie["expires"]) == remember
    for name in ("portal:space", "portal:edit", "portal:data"):
        page = client.get(reverse(name))
        assert page.status_code == 200
        assert "no-store" in page["Cache-Control"], name  # the Back button shows nothing


@pytest.mark.django_db
def test_remembered_on_a_second_visit_the_space_outlives_the_browser_again(application):
    from django.conf import settings

    client, _ = ask(OWNER_IP, application.reference)
    assert opens_the_space(client, texts()[-1])  # not remembered: closes with the browser
    client.post(reverse("portal:leave"))
    ask(OWNER_IP, application.reference, client=client)
    response = client.post(reverse("portal:code"), {"code": texts()[-1], "remember": "on"})
    assert response["Location"] == reverse("portal:space")
    assert response.cookies[settings.SESSION_COOKIE_NAME]["expires"]


@pytest.mark.django_db
def test_the_page_that_gives_the_reference_is_kept_by_no_cache(world):
    from tests.admissions.open_intake import form_data, make_open_intake

    intake = make_open_intake(world.smara)
    client = Client()
    response = client.post(f"/schools/smara/calls/{intake.slug}/apply/", form_data(), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("portal:submitted"))
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_page_that_gives_the_reference_cannot_be_reopened_from_history_after_an_hour(
    world, monkeypatch
):
    import time

    from django.core import signing

    from tests.admissions.open_intake import form_data, make_open_intake

    intake = make_open_intake(world.smara)
    client = Client()
    page = client.post(f"/schools/smara/calls/{intake.slug}/apply/", form_data())["Location"]
    assert client.get(page).status_code == 200
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + 59 * 60)
    assert client.get(page).status_code == 200
    monkeypatch.setattr(signing.time, "time", lambda: now + 61 * 60)
    reopened = client.get(page)
    assert reopened.status_code == 302 and reopened["Location"] == reverse("portal:access")


@pytest.mark.django_db
def test_back_from_the_public_pages_a_remembered_space_needs_no_new_code(application):
    door, space = reverse("portal:access"), reverse("portal:space")
    phone, _ = ask(OWNER_IP, application.reference)
    assert opens_the_space(phone, texts()[-1], remember=True)  # her own phone
    # The header's "My application", the confirmation page's link: straight to the space.
    for link in (door, f"{door}?reference={application.reference}"):
        response = phone.get(link)
        assert response.status_code == 302 and response["Location"] == space
    # Another reference (a sister's): the door, to ask for its code, and the door again
    # while that code is on its way ("Ask for a new code").
    assert phone.get(f"{door}?reference=SMA-26-0999").status_code == 200
    ask(OWNER_IP, "SMA-26-0999", client=phone)
    assert phone.get(door).status_code == 200
    # A space that closes with the browser (a shared computer): the next person at it
    # gets the door, not her space.
    shared, _ = ask(STRANGER_IP, application.reference)
    assert opens_the_space(shared, texts()[-1])
    assert shared.get(door).status_code == 200
    assert shared.get(space).status_code == 200  # still hers until the browser closes


@pytest.mark.django_db
def test_a_double_tap_sends_one_code_and_keeps_the_allowance(application):
    client, _ = ask(OWNER_IP, application.reference)
    ask(OWNER_IP, application.reference, client=client)  # the second tap, or a resend
    assert len(texts()) == 1
    # Another browser asking meanwhile gets its own (the code opens only where it was asked).
    ask(STRANGER_IP, application.reference)
    assert len(texts()) == 2
    # A minute later, with the first code not used, she may ask again.
    with scopes_disabled():
        ApplicantCode.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    ask(OWNER_IP, application.reference, client=client)
    assert len(texts()) == 3 and opens_the_space(client, texts()[-1])


def leave_unused(client: Client, minutes: int) -> None:
    from tremplin.admissions.views_portal import SESSION_SEEN

    session = client.session
    session[SESSION_SEEN] -= minutes * 60
    session.save()


@pytest.mark.django_db
def test_a_space_left_open_on_a_shared_computer_closes_after_half_an_hour_unused(application):
    cafe = Client(REMOTE_ADDR=OWNER_IP)
    cafe.cookies["django_language"] = "en"
    ask(OWNER_IP, application.reference, client=cafe)
    assert opens_the_space(cafe, texts()[-1])  # not remembered
    leave_unused(cafe, 29)
    assert cafe.get(reverse("portal:space")).status_code == 200  # still in use: it goes on
    leave_unused(cafe, 29)
    assert cafe.get(reverse("portal:space")).status_code == 200
    leave_unused(cafe, 31)

    response = cafe.get(reverse("portal:space"), follow=True)

    assert response.redirect_chain == [(reverse("portal:access"), 302)]
    assert "Your space closed after 30 minutes without use" in response.content.decode()
    assert cafe.get(reverse("portal:space"))["Location"] == reverse("portal:access")


@pytest.mark.django_db
def test_a_space_on_her_own_remembered_phone_does_not_close_after_half_an_hour(application):
    phone, _ = ask(OWNER_IP, application.reference)
    assert opens_the_space(phone, texts()[-1], remember=True)
    leave_unused(phone, 120)
    assert phone.get(reverse("portal:space")).status_code == 200
    assert 'data-testid="idle-limit"' not in phone.get(reverse("portal:edit")).content.decode()


@pytest.mark.django_db
def test_the_code_sent_twice_keeps_her_in_her_space(application, settings):
    """Enter pressed again, or a second tap on a slow line: the second request carries the
    session the first replaced. It used to delete the browser's new cookie, and she landed
    at the door with her code spent."""
    owner, _ = ask(OWNER_IP, application.reference)
    (code,) = texts()
    name = settings.SESSION_COOKIE_NAME
    before = owner.cookies[name].value
    assert opens_the_space(owner, code)
    after = owner.cookies[name].value
    assert after != before  # a new session (no fixation)

    second = Client(REMOTE_ADDR=OWNER_IP)
    second.cookies[name] = before
    response = second.post(reverse("portal:code"), {"code": code})
    assert response.status_code == 302 and response["Location"] == reverse("portal:space")
    assert name not in response.cookies  # the new cookie stays as the first answer set it
    # In the browser, which holds the new cookie: her space.
    assert owner.get(reverse("portal:space")).status_code == 200
    # Where nothing was ever opened, the space sends back to the door.
    assert second.get(reverse("portal:space"))["Location"].startswith(reverse("portal:access"))


@pytest.mark.django_db
def test_the_code_sent_twice_at_once_answers_the_second_request_with_the_space(
    application, settings
):
    """Both requests loaded the session before the first opened the space: the second found
    the code used, and writing its wrong try into the session the first had deleted failed
    with a bare "Bad Request". It now goes to the space, writing nothing."""
    from importlib import import_module

    from tremplin.admissions.views_portal import SESSION_PENDING

    owner, _ = ask(OWNER_IP, application.reference)
    (code,) = texts()
    name = settings.SESSION_COOKIE_NAME
    store = import_module(settings.SESSION_ENGINE).SessionStore
    as_loaded = dict(store(owner.cookies[name].value).load())  # by the second request
    assert opens_the_space(owner, code)

    second = store()
    second.update(as_loaded)
    second.create()
    twin = Client(REMOTE_ADDR=OWNER_IP)
    twin.cookies[name] = second.session_key
    response = twin.post(reverse("portal:code"), {"code": code})
    assert response.status_code == 302 and response["Location"] == reverse("portal:space")
    assert store(second.session_key).load()[SESSION_PENDING] == as_loaded[SESSION_PENDING]
    # A wrong code in that session is still a wrong try.
    wrong = twin.post(reverse("portal:code"), {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    # Long after, the same code is no longer "the same form sent twice".
    with scopes_disabled():
        ApplicantCode.objects.update(used_at=timezone.now() - datetime.timedelta(minutes=5))
    assert twin.post(reverse("portal:code"), {"code": code}).status_code == 400


@pytest.mark.django_db
def test_a_code_voided_by_another_used_is_not_a_double_tap(application):
    """Her phone asked for a code, her computer opened the space with its own, which voided
    the phone's: the phone asking again at once gets a new code (not "the code just sent
    stands"), and the voided one neither opens the space nor counts as sent twice."""
    phone, _ = ask(OWNER_IP, application.reference)
    computer, _ = ask(OWNER_IP, application.reference)
    voided, used = texts()
    assert opens_the_space(computer, used)
    ask(OWNER_IP, application.reference, client=phone)
    assert len(texts()) == 3
    assert not opens_the_space(phone, voided)
    assert opens_the_space(phone, texts()[-1])


def corrections(**changes) -> dict:
    from tests.admissions.open_intake import form_data

    with scopes_disabled():
        data = form_data(**changes)
    del data["cin"], data["privacy_consent"]
    return data


@pytest.mark.django_db
def test_corrections_sent_after_the_space_closed_come_back_once_it_opens_again(application):
    """Half an hour typing her corrections on a shared computer: Save landed at the door and
    everything typed was gone, costing one of her codes of the hour to start again."""
    cafe = Client(REMOTE_ADDR=OWNER_IP)
    cafe.cookies["django_language"] = "en"
    ask(OWNER_IP, application.reference, client=cafe)
    assert opens_the_space(cafe, texts()[-1])
    warned = cafe.get(reverse("portal:edit")).content.decode()
    assert "your space closes after 30 minutes without use. If it closes before" in warned
    leave_unused(cafe, 31)

    closed = cafe.post(reverse("portal:edit"), corrections(first_name="Fatiha"), follow=True)

    assert closed.redirect_chain == [(reverse("portal:access"), 302)]
    assert "The corrections you sent are kept" in closed.content.decode()
    # Kept as long as they can be given back, not as long as a session lasts (8 hours).
    assert cafe.session.get_expiry_age() <= 3600
    with scopes_disabled():
        application.refresh_from_db()
    assert application.first_name != "Fatiha"  # nothing saved without her space
    ask(OWNER_IP, application.reference, client=cafe)
    opened = cafe.post(reverse("portal:code"), {"code": texts()[-1]})
    assert opened["Location"] == reverse("portal:edit")
    page = cafe.get(reverse("portal:edit")).content.decode()
    assert 'value="Fatiha"' in page
    assert "nothing is saved yet. Check them and save." in page
    # Given back once: the form shows her application as saved afterwards.
    assert 'value="Fatiha"' not in cafe.get(reverse("portal:edit")).content.decode()
    assert cafe.post(reverse("portal:edit"), corrections(first_name="Fatiha")).status_code == 302
    with scopes_disabled():
        application.refresh_from_db()
    assert application.first_name == "Fatiha"


@pytest.mark.django_db
def test_corrections_kept_are_not_shown_to_the_next_person_nor_kept_long(application):
    """On a shared computer, the next person opens another application: she does not see
    the first one's corrections, which are dropped; nor does anyone an hour later."""
    from tests.admissions.open_intake import form_data
    from tremplin.admissions.views_portal import SESSION_KEPT

    with scopes_disabled():
        other_data = form_data(cin="CD654321", phone="0662000111")
    Client().post(reverse("portal:apply", args=["smara", application.intake.slug]), other_data)
    with scopes_disabled():
        other = Application.objects.get(cin="CD654321")
    cafe = Client(REMOTE_ADDR=OWNER_IP)

    def kept_after_the_space_closed() -> None:
        ask(OWNER_IP, application.reference, client=cafe)
        assert opens_the_space(cafe, texts()[-1])
        leave_unused(cafe, 31)
        cafe.post(reverse("portal:edit"), corrections(first_name="Fatiha"))
        assert cafe.session[SESSION_KEPT]["answers"]["first_name"] == ["Fatiha"]

    kept_after_the_space_closed()
    ask(OWNER_IP, other.reference, cin="CD654321", client=cafe)
    assert opens_the_space(cafe, texts()[-1])  # to her space, not to a form
    assert SESSION_KEPT not in cafe.session
    assert 'value="Fatiha"' not in cafe.get(reverse("portal:edit")).content.decode()

    kept_after_the_space_closed()
    session = cafe.session
    session[SESSION_KEPT]["at"] -= 3601
    session.save()
    ask(OWNER_IP, application.reference, client=cafe)
    assert opens_the_space(cafe, texts()[-1])
    assert SESSION_KEPT not in cafe.session
    assert 'value="Fatiha"' not in cafe.get(reverse("portal:edit")).content.decode()


@pytest.mark.django_db
def test_asking_for_a_new_code_fills_the_reference_typed_in_again(application):
    """The reference she typed (whatever it matched), never the CIN, which stays out of URLs
    and is typed again."""
    client, _ = ask(OWNER_IP, application.reference.lower().replace("-", " "))
    page = client.get(reverse("portal:code")).content.decode()
    link = re.search(r'<a href="([^"]+)">[^<]*</a></p>\s*<p class="small', page).group(1)
    assert link == f"{reverse('portal:access')}?reference={application.reference}"
    door = client.get(link).content.decode()
    assert f'value="{application.reference}"' in door
    assert "AB123456" not in link + door
