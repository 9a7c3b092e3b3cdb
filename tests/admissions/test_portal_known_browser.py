"""The owner's known browser: a browser that opened an applicant's space has codes of its
own, which strangers who know her reference and CIN cannot use up."""

import datetime
import re

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import applied_through_the_portal, form_data, make_open_intake
from tests.admissions.test_portal_codes import (
    OWNER_IP,
    STRANGER_IP,
    ask,
    door_queries,
    opens_the_space,
    texts,
)
from tremplin.admissions import codes
from tremplin.admissions.models import AccessRequest, ApplicantCode, Application, KnownDevice
from tremplin.admissions.views_portal import DEVICE_COOKIE

APPLY = "/schools/smara/calls/promo-2026/apply/"


@pytest.fixture
def application(world):
    return applied_through_the_portal(world.smara)


def known_browser(ip: str, reference: str, cin: str = "AB123456") -> Client:
    """A browser that has opened the space of the application of ``reference`` once, and
    asked to be remembered."""
    client, _ = ask(ip, reference, cin)
    assert opens_the_space(client, texts()[-1], remember=True)
    return client


@pytest.fixture
def owners_phone(application) -> Client:
    return known_browser(OWNER_IP, application.reference)


def ask_again(client: Client, reference: str, cin: str = "AB123456"):
    """The browser asks again, a few minutes after its last code (within a minute, its
    request would be a double tap, which sends no other code: ``codes.REPEAT_WINDOW``)."""
    with scopes_disabled():
        ApplicantCode.objects.update(
            created_at=F("created_at") - codes.REPEAT_WINDOW - datetime.timedelta(seconds=1)
        )
    return client.post(reverse("portal:access"), {"reference": reference, "cin": cin})


def an_hour_passes() -> None:
    with scopes_disabled():
        for model in (ApplicantCode, AccessRequest):
            model.objects.update(created_at=F("created_at") - datetime.timedelta(minutes=61))


def strangers_use_up_the_shared_codes(reference: str) -> None:
    """As the review found: strangers from a few connections, over two hours, take the
    application's codes of the day."""
    for hour in range(codes.CODES_PER_DAY_IN_ALL // codes.CODES_PER_HOUR_IN_ALL):
        for n in range(4):
            for _ in range(codes.CODES_PER_HOUR):
                ask(f"105.66.{hour}.{n}", reference)
        an_hour_passes()


@pytest.mark.django_db
def test_strangers_who_use_up_the_days_codes_do_not_lock_the_owners_known_browser_out(
    application, owners_phone
):
    strangers_use_up_the_shared_codes(application.reference)
    sent = len(texts())
    assert sent == codes.CODES_PER_DAY_IN_ALL  # the owner's first code among them
    ask(STRANGER_IP, application.reference)
    ask(OWNER_IP, application.reference)  # her new laptop
    assert len(texts()) == sent  # neither a stranger nor a browser never seen gets one
    ask_again(owners_phone, application.reference)
    assert len(texts()) == sent + 1
    assert opens_the_space(owners_phone, texts()[-1])


@pytest.mark.django_db
def test_a_known_browser_has_three_codes_an_hour_and_five_a_day(application, owners_phone):
    for _ in range(codes.DEVICE_CODES_PER_HOUR + 1):
        ask_again(owners_phone, application.reference)
    assert len(texts()) == 1 + codes.DEVICE_CODES_PER_HOUR
    an_hour_passes()
    for _ in range(codes.DEVICE_CODES_PER_HOUR):
        ask_again(owners_phone, application.reference)
    assert len(texts()) == 1 + codes.DEVICE_CODES_PER_DAY
    # Its codes are its own: the shared allowance is untouched.
    ask(STRANGER_IP, application.reference)
    assert len(texts()) == 2 + codes.DEVICE_CODES_PER_DAY


@pytest.mark.django_db
def test_all_the_known_browsers_of_an_application_have_ten_codes_a_day(application):
    """However many browsers opened the space, its SMS stay bounded."""
    browsers = [known_browser(f"196.200.1.{n}", application.reference) for n in range(3)]
    for _hour in range(2):
        for browser in browsers:
            for _ in range(codes.DEVICE_CODES_PER_HOUR):
                ask_again(browser, application.reference)
        an_hour_passes()
    with scopes_disabled():
        from_known = ApplicantCode.objects.exclude(device="").count()
    assert from_known == codes.DEVICES_CODES_PER_DAY_IN_ALL
    assert len(texts()) == len(browsers) + codes.DEVICES_CODES_PER_DAY_IN_ALL


@pytest.mark.django_db
def test_a_browser_known_to_another_application_or_a_forged_cookie_gets_no_allowance(
    application,
):
    with scopes_disabled():
        Client().post(APPLY, form_data(cin="CD654321", phone="06 62 00 00 01"))
        her_own = Application.objects.get(cin="CD654321")
    stranger = known_browser(STRANGER_IP, her_own.reference, cin="CD654321")
    strangers_use_up_the_shared_codes(application.reference)
    sent = len(texts())
    ask_again(stranger, application.reference)
    forger = Client(REMOTE_ADDR="105.66.9.9")
    forger.cookies[DEVICE_COOKIE] = stranger.cookies[DEVICE_COOKIE].value.split(":")[0]
    ask_again(forger, application.reference)
    assert len(texts()) == sent


@pytest.mark.django_db
def test_the_device_cookie_is_signed_http_only_lax_and_lasts_as_long_as_the_browser_is_known(
    application, settings
):
    settings.SESSION_COOKIE_SECURE = True
    client, _ = ask(OWNER_IP, application.reference)
    response = client.post(reverse("portal:code"), {"code": texts()[-1], "remember": "on"})
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == int(codes.DEVICE_REMEMBERED.total_seconds())
    token, signature = cookie.value.split(":", 1)
    assert signature
    with scopes_disabled():
        # Only a keyed hash is kept, of the application and of the token.
        (device,) = KnownDevice.objects.values_list("key", flat=True)
    assert token not in device and len(device) == 64


@pytest.mark.django_db
def test_a_browser_is_forgotten_once_it_has_not_opened_the_space_for_six_months(
    application, owners_phone
):
    strangers_use_up_the_shared_codes(application.reference)
    sent = len(texts())
    with scopes_disabled():
        KnownDevice.objects.update(
            opened_at=F("opened_at") - codes.DEVICE_REMEMBERED - datetime.timedelta(minutes=1)
        )
    ask_again(owners_phone, application.reference)
    assert len(texts()) == sent
    codes.access_requests_forget()
    assert not KnownDevice.objects.exists()


@pytest.mark.django_db
def test_the_door_does_the_same_work_for_a_known_browser_and_a_stranger(
    application, owners_phone, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # Browsers that have a session already, as the owner's phone has.
    stranger, guesser = ask(STRANGER_IP, "SMA-25-9998")[0], ask("105.66.7.3", "SMA-25-9998")[0]
    known = door_queries(OWNER_IP, application.reference, "AB123456", client=owners_phone)
    known_wrong_pair = door_queries(OWNER_IP, "SMA-25-9999", "ZZ999999", client=owners_phone)
    matching = door_queries(STRANGER_IP, application.reference, "AB123456", client=stranger)
    wrong_pair = door_queries("105.66.7.3", "SMA-25-9999", "ZZ999999", client=guesser)
    # A browser with a device cookie is counted on it too (one more bucket): that depends on
    # what it holds, never on the pair.
    assert known == known_wrong_pair
    assert matching == wrong_pair
    with scopes_disabled():
        hashes = list(AccessRequest.objects.order_by("pk").values_list("device_hash", flat=True))
    assert hashes[-4] == hashes[-3] != "" and hashes[-2:] == ["", ""]


@pytest.mark.django_db
def test_cookies_a_stranger_collected_from_their_own_application_do_not_multiply_limits(
    application, settings
):
    """Each remembered browser has buckets of its own for one CIN, not for the connection:
    from one address, a stranger holding many cookies gets no more codes for her
    application, nor more requests in all, than without them."""
    settings.PORTAL_ACCESS_PER_IP_PER_HOUR = 12
    Client().post(APPLY, form_data(cin="CD654321", phone="0662000001"))
    with scopes_disabled():
        own = Application.objects.get(cin="CD654321")
    cookies = [known_browser(STRANGER_IP, own.reference, cin="CD654321") for _ in range(3)]
    sent = len(texts())
    for browser in cookies:
        for _ in range(3):
            ask_again(browser, application.reference)
    assert len(texts()) - sent == codes.CODES_PER_HOUR  # per connection, cookies or not
    accepted = sum(
        ask_again(cookies[n % 3], "SMA-26-9999", cin=f"ZZ{n:06d}").status_code == 302
        for n in range(20)
    )
    assert accepted == 0  # 12 an hour from this address: 3 + 9 already


@pytest.mark.django_db
def test_leaving_a_shared_computer_with_forget_withdraws_its_allowance(application):
    cafe = known_browser("196.200.9.9", application.reference)
    response = cafe.post(reverse("portal:leave"), {"forget": "1"})
    assert response.status_code == 302
    assert cafe.cookies[DEVICE_COOKIE].value == ""  # deleted
    with scopes_disabled():
        assert not KnownDevice.objects.exists()
    assert cafe.get(reverse("portal:space")).status_code == 302  # the space is closed
    # The next person at that computer draws on the shared allowance, like any stranger.
    strangers_use_up_the_shared_codes(application.reference)
    sent = len(texts())
    ask_again(cafe, application.reference)
    assert len(texts()) == sent


@pytest.mark.django_db
def test_leaving_without_forget_keeps_the_browser_known(application, owners_phone):
    owners_phone.post(reverse("portal:leave"))
    assert owners_phone.cookies[DEVICE_COOKIE].value
    with scopes_disabled():
        assert KnownDevice.objects.count() == 1


@pytest.mark.django_db
def test_a_browser_is_remembered_only_when_the_applicant_asks(application):
    """A cyber café's computer, where she did not tick the box, gets no allowance."""
    cafe, _ = ask("196.200.9.9", application.reference)
    assert opens_the_space(cafe, texts()[-1])
    assert DEVICE_COOKIE not in cafe.cookies
    with scopes_disabled():
        assert not KnownDevice.objects.exists()
    strangers_use_up_the_shared_codes(application.reference)
    sent = len(texts())
    ask_again(cafe, application.reference)
    assert len(texts()) == sent


@pytest.mark.django_db
def test_the_doors_way_back_to_the_space_is_not_kept_by_the_browser(application, owners_phone):
    """Kept, the redirect from the door to the space and the space's own back to the door
    looped for ever when she pressed Back after leaving."""
    response = owners_phone.get(reverse("portal:access"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:space")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_box_is_never_ticked_beforehand_and_unticked_makes_no_browser_known(world):
    """At a cyber café, the cookie a first applicant asked for must not make the computer
    known for the next one, who did not tick the box."""
    make_open_intake(world.smara)
    Client().post(APPLY, form_data())
    Client().post(APPLY, form_data(cin="CD654321", phone="0662000001"))
    with scopes_disabled():
        first, second = Application.objects.order_by("pk")
    cafe = known_browser("196.200.9.9", first.reference)  # the first one ticked it
    cafe.post(reverse("portal:leave"))
    ask_again(cafe, second.reference, cin="CD654321")
    page = cafe.get(reverse("portal:code")).content.decode()
    assert 'name="remember"' in page
    assert not re.search(r'name="remember"[^>]*checked', page)
    assert opens_the_space(cafe, texts()[-1])  # the second one, box unticked
    with scopes_disabled():
        assert KnownDevice.objects.count() == 1  # the first one's only


@pytest.mark.django_db
def test_neighbours_behind_the_owners_address_cannot_throttle_her_remembered_phone(
    application, owners_phone
):
    """A mobile operator puts many people behind one address: one of them who knows her CIN
    uses up that address's requests for it, not her remembered phone's."""
    for _ in range(codes.ACCESS_PER_PAIR):
        ask(OWNER_IP, application.reference)
    assert ask(OWNER_IP, application.reference)[1].status_code == 429
    assert ask_again(owners_phone, application.reference).status_code == 302
    assert opens_the_space(owners_phone, texts()[-1])


@pytest.mark.django_db
def test_a_remembered_browser_has_its_own_limit_for_all_cins(application, owners_phone):
    for n in range(codes.ACCESS_PER_DEVICE):
        assert ask_again(owners_phone, "SMA-26-9999", cin=f"ZZ{n:06d}").status_code == 302
    assert ask_again(owners_phone, "SMA-26-9999", cin="ZZ999999").status_code == 429
