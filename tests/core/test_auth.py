import pyotp
import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from tests.conftest import verified_client
from tests.factories import PASSWORD, UserFactory, make_member
from tremplin.core.models import AuditEvent

LOGIN = "/account/login/"


def login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.mark.django_db
def test_twenty_wrong_passwords_lock_the_account_but_not_a_colleague_behind_the_same_ip():
    victim = UserFactory(username="victim")
    colleague = UserFactory(username="colleague")
    attacker = Client()
    for _ in range(20):
        login(attacker, victim.username, "wrong")
    # Even the right password is refused during the cool-off, with a clear page.
    locked = login(Client(), victim.username, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in Client().session
    # Someone else on the same school network still gets in.
    ok = login(Client(), colleague.username, PASSWORD)
    assert ok.status_code == 302


@pytest.mark.django_db
def test_nineteen_wrong_passwords_do_not_lock():
    user = UserFactory(username="forgetful")
    for _ in range(19):
        login(Client(), user.username, "wrong")
    assert login(Client(), user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_cool_off_ends(settings, time_machine=None):
    from axes.models import AccessAttempt
    from django.utils import timezone

    user = UserFactory(username="patient")
    for _ in range(20):
        login(Client(), user.username, "wrong")
    assert login(Client(), user.username, PASSWORD).status_code == 429
    # Age the failures past the cool-off instead of sleeping.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(hours=1))
    assert login(Client(), user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_user_with_a_device_must_give_the_code_before_any_staff_page(world):
    director = world.users["director"]
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    client = Client()
    assert login(client, "director", PASSWORD).status_code == 302
    dashboard = reverse("schools:dashboard", kwargs={"school_slug": "smara"})
    response = client.get(dashboard)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:otp_verify"))

    wrong = client.post(reverse("core:otp_verify"), {"token": "000000", "next": dashboard})
    assert wrong.status_code == 200
    assert client.get(dashboard).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # wrong codes back off exponentially
    device.throttle_reset()  # rather than sleeping through the one-second back-off

    right = client.post(
        reverse("core:otp_verify"), {"token": current_code(device), "next": dashboard}
    )
    assert right["Location"] == dashboard
    assert client.get(dashboard).status_code == 200


@pytest.mark.django_db
def test_enrolment_shows_a_qr_code_and_gives_single_use_recovery_codes(world):
    client = verified_client(world.users["director"])
    page = client.get(reverse("core:otp_setup"))
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=world.users["director"], confirmed=False)
    secret = page.context["secret"].replace(" ", "")
    assert pyotp.TOTP(secret).now() == current_code(device)

    done = client.post(reverse("core:otp_setup"), {"token": current_code(device)})
    codes = done.context["codes"]
    assert len(codes) == 10
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="tremplin.auth.2fa_enabled").count() == 1

    # A recovery code works once.
    for expected in (302, 200):
        fresh = Client()
        login(fresh, "director", PASSWORD)
        response = fresh.post(reverse("core:otp_verify"), {"token": codes[0]})
        assert response.status_code == expected
    assert StaticToken.objects.filter(token=codes[0]).count() == 0


@pytest.mark.django_db
def test_coordinators_must_enrol_before_seeing_anything(world):
    coordinator = world.users["coordinator"]
    TOTPDevice.objects.filter(user=coordinator).delete()
    client = Client()
    client.force_login(coordinator)
    response = client.get(reverse("schools:coordinator"))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:otp_setup")


@pytest.mark.django_db
@override_settings(TWO_FACTOR_REQUIRED=False)
def test_the_demo_setting_lets_coordinators_in_without_a_device(world):
    coordinator = world.users["coordinator"]
    TOTPDevice.objects.filter(user=coordinator).delete()
    client = Client()
    client.force_login(coordinator)
    assert client.get(reverse("schools:coordinator")).status_code == 200


@pytest.mark.django_db
def test_a_coordinator_cannot_turn_two_factor_off(world):
    client = world.client("coordinator")
    client.post(reverse("core:otp_disable"))
    assert TOTPDevice.objects.filter(user=world.users["coordinator"]).exists()


@pytest.mark.django_db
def test_the_admin_is_for_platform_admins_only(world):
    admin_user = UserFactory(username="root", is_superuser=True, is_staff=True)
    TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    director = world.users["director"]
    director.is_staff = True  # even with the staff flag, a director is not a platform admin
    director.save()
    assert world.client("director").get("/admin/").status_code == 302
    assert verified_client(admin_user).get("/admin/").status_code == 200
    unverified = Client()
    unverified.force_login(admin_user)
    assert unverified.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_every_demo_role_lands_on_its_own_page(world):
    expectations = {
        "director": reverse("schools:dashboard", kwargs={"school_slug": "smara"}),
        "learner": reverse("schools:learner_space", kwargs={"school_slug": "smara"}),
        "coordinator": reverse("schools:coordinator"),
        "outsider": reverse("core:account"),
    }
    for persona, target in expectations.items():
        response = world.client(persona).get(reverse("core:home_redirect"))
        assert response["Location"] == target, persona


@pytest.mark.django_db
def test_a_person_with_two_schools_chooses_on_the_switcher(world):
    make_member("director", world.other, "juror")
    client = world.client("director")
    assert client.get(reverse("core:home_redirect"))["Location"] == reverse("core:account")
    page = client.get(reverse("core:account")).content.decode()
    assert "/staff/smara/" in page
    assert "/staff/laayoune/" in page
