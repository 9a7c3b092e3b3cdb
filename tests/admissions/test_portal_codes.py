"""One-time codes of the applicant space: what a stranger asking for codes can and cannot
do to the owner, and what the request page gives away (nothing)."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions import codes
from tremplin.admissions.models import Application
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message

APPLY = "/schools/smara/calls/promo-2026/apply/"
OWNER_IP = "196.200.1.10"
STRANGER_IP = "105.66.7.20"


@pytest.fixture
def application(world):
    make_open_intake(world.smara)
    Client().post(APPLY, form_data())
    with scopes_disabled():
        return Application.objects.get()


def ask(ip: str, reference: str, cin: str = "AB123456") -> tuple:
    """A visitor from ``ip`` asks for a code; returns their client and the answer."""
    client = Client(REMOTE_ADDR=ip)
    return client, client.post(reverse("portal:access"), {"reference": reference, "cin": cin})


def texts() -> list[str]:
    """The codes sent by SMS, oldest first."""
    with scopes_disabled():
        bodies = Message.objects.filter(template="applicant_code", channel="sms").order_by("pk")
        return [re.search(r"\b(\d{6})\b", m.body).group(1) for m in bodies]


def opens_the_space(client: Client, code: str) -> bool:
    response = client.post(reverse("portal:code"), {"code": code})
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
    CSRF token, which differs for every visitor)."""
    page = client.get(response["Location"])
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page.content.decode())
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
