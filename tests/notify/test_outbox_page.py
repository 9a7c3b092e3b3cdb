import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from tests.conftest import PERSONAS, verified_client
from tests.factories import UserFactory
from tremplin.notify.models import Message, mask_recipient

pytestmark = pytest.mark.django_db


def outbox_url(school_slug: str = "smara") -> str:
    return reverse("notify:outbox", kwargs={"school_slug": school_slug})


def make_message(school, **fields) -> Message:
    values = {
        "school": school,
        "channel": "sms",
        "recipient": "+212661234567",
        "language": "fr",
        "template": "applicant_code",
        "body": "482913 est votre code",
        **fields,
    }
    with scopes_disabled():
        return Message.objects.create(**values)


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_schools_director_and_admissions_officers_see_its_outbox(world, persona):
    response = world.client(persona).get(outbox_url())
    expected = {"director": 200, "admissions": 200, "anonymous": 302}.get(persona, 404)
    assert response.status_code == expected


def test_the_outbox_lists_the_schools_messages_newest_first_with_masked_recipients(world):
    make_message(world.smara, recipient="+212661234567", status="sent", sent_at=timezone.now())
    make_message(
        world.smara,
        channel="email",
        recipient="fatima@example.org",
        template="application_submitted",
        status="pending",
        attempts=2,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    make_message(world.other, recipient="+212700999888", template="other_school_template")

    response = world.client("admissions").get(outbox_url())
    page = response.content.decode()
    assert [m.template for m in response.context["page"]] == [
        "application_submitted",
        "applicant_code",
    ]
    assert "+2126****4567" in page
    assert "f***@example.org" in page
    assert "SMTPServerDisconnected" in page
    assert "+212661234567" not in page
    assert "fatima@example.org" not in page
    assert "482913" not in page  # bodies may hold one-time codes: never shown
    assert "other_school_template" not in page


def test_the_outbox_filters_by_status(world):
    make_message(world.smara, template="was_sent", status="sent")
    make_message(world.smara, template="gave_up", status="failed", attempts=10)
    response = world.client("director").get(outbox_url(), {"status": "failed"})
    assert [m.template for m in response.context["page"]] == ["gave_up"]
    counts = {value: count for value, _label, count in response.context["statuses"]}
    assert counts == {"pending": 0, "sending": 0, "sent": 1, "failed": 1}
    # An unknown status shows everything rather than an error.
    response = world.client("director").get(outbox_url(), {"status": "<script>"})
    assert len(response.context["page"]) == 2


def test_the_outbox_shows_50_messages_a_page(world):
    for index in range(51):
        make_message(world.smara, recipient=f"+2126610{index:05d}")
    client = world.client("director")
    assert len(client.get(outbox_url()).context["page"]) == 50
    assert len(client.get(outbox_url(), {"page": 2}).context["page"]) == 1


def test_the_outbox_runs_the_same_number_of_queries_for_1_or_40_messages(
    world, django_assert_num_queries
):
    client = world.client("director")
    make_message(world.smara)
    with CaptureQueriesContext(connection) as one:
        client.get(outbox_url())
    for _ in range(39):
        make_message(world.smara)
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(outbox_url())


@pytest.mark.parametrize(
    ("recipient", "masked"),
    [
        ("+212661234567", "+2126****4567"),
        ("+33612345678", "+3361***5678"),
        ("fatima.zahra@example.org", "f***@example.org"),
        ("a@b.ma", "a***@b.ma"),
    ],
)
def test_recipients_are_masked_enough_to_recognise_not_to_copy(recipient, masked):
    assert mask_recipient(recipient) == masked


def test_platform_admins_can_read_the_outbox_in_the_django_admin_but_not_change_it(world):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    message = make_message(world.smara)
    client = verified_client(admin)
    assert client.get(reverse("admin:notify_message_changelist")).status_code == 200
    detail = client.get(reverse("admin:notify_message_change", args=[message.pk]))
    assert detail.status_code == 200
    assert "482913" not in detail.content.decode()
    assert client.get(reverse("admin:notify_message_add")).status_code == 403
