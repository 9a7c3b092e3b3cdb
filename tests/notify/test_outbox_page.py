import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from tests.concurrency import at_once
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
        body="Candidature SMA-26-0001 reçue",
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
    counts = {value: count for value, _label, count, _q in response.context["statuses"]}
    assert counts == {"pending": 0, "sending": 0, "sent": 1, "failed": 1, "expired": 0}
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
    client.get(outbox_url())  # warm the session and the content types' cache
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
    # The code is in the subject of its email too.
    email = make_message(
        world.smara,
        channel="email",
        recipient="fatima@example.org",
        subject="482913 est votre code pour la candidature SMA-26-0007",
        expires_at=timezone.now() + datetime.timedelta(minutes=15),
    )
    detail = client.get(reverse("admin:notify_message_change", args=[email.pk]))
    assert detail.status_code == 200 and "SMA-26-0007" not in detail.content.decode()
    assert "482913" not in detail.content.decode()
    # And in the error of a gateway that quotes the text it refused.
    refused = make_message(
        world.smara, status="failed", failure="refused", last_error="refused: 482913 est votre"
    )
    detail = client.get(reverse("admin:notify_message_change", args=[refused.pk]))
    assert detail.status_code == 200 and "482913" not in detail.content.decode()
    other = make_message(
        world.smara,
        template="application_submitted",
        body="Votre candidature",
        last_error="HTTP 400",
    )
    detail = client.get(reverse("admin:notify_message_change", args=[other.pk]))
    assert "HTTP 400" in detail.content.decode()


def test_an_expired_message_is_not_said_to_be_tried_again(world):
    """A code that could not go in time ends as expired: it is never tried again, whatever
    its last failure (the gateway unavailable) would otherwise advise."""
    make_message(world.smara, status="expired", failure="unavailable", last_error="HTTP 429")
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    page = client.get(outbox_url()).content.decode()
    assert "no longer valid when it could go" in page
    assert "is tried again by itself" not in page
    # Expired in the queue, never tried: no failure, and the same word.
    with scopes_disabled():
        Message.objects.update(failure="", last_error="")
    page = client.get(outbox_url()).content.decode()
    assert "no longer valid when it could go" in page


def retry_url(school_slug: str = "smara") -> str:
    return reverse("notify:outbox_retry", kwargs={"school_slug": school_slug})


def status_of(message: Message) -> tuple[str, int]:
    with scopes_disabled():
        message.refresh_from_db()
    return message.status, message.attempts


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_schools_director_and_admissions_officers_can_send_failed_messages_again(
    world, persona
):
    failed = make_message(world.smara, status="failed", attempts=10, last_error="HTTP 503")
    response = world.client(persona).post(retry_url())
    expected = {"director": 302, "admissions": 302, "anonymous": 302}.get(persona, 404)
    assert response.status_code == expected
    queued = persona in ("director", "admissions")
    assert status_of(failed) == (("pending", 0) if queued else ("failed", 10))


def test_sending_again_takes_the_failed_messages_of_this_school_only_and_is_audited(world):
    from tremplin.core.models import AuditEvent

    failed = [make_message(world.smara, status="failed", attempts=10) for _ in range(2)]
    sent = make_message(world.smara, status="sent", attempts=1, sent_at=timezone.now())
    elsewhere = make_message(world.other, status="failed", attempts=10)

    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    response = client.post(retry_url(), follow=True)

    assert "2 messages will be sent again" in response.content.decode()
    assert [status_of(m) for m in failed] == [("pending", 0), ("pending", 0)]
    assert status_of(sent) == ("sent", 1)
    assert status_of(elsewhere) == ("failed", 10)
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.outbox.retried")
    assert event.actor == world.users["admissions"]
    assert event.data == {"messages": 2}


def test_one_failed_message_can_be_sent_again_on_its_own(world):
    first, second = (make_message(world.smara, status="failed", attempts=3) for _ in range(2))
    world.client("director").post(retry_url(), {"message": first.pk})
    assert status_of(first) == ("pending", 0)
    assert status_of(second) == ("failed", 3)
    # Another school's message cannot be named.
    elsewhere = make_message(world.other, status="failed", attempts=3)
    world.client("director").post(retry_url(), {"message": elsewhere.pk})
    assert status_of(elsewhere) == ("failed", 3)


@pytest.mark.parametrize("mangled", ["²", "١٢", "12abc", "9" * 40, ""])
def test_a_mangled_message_id_sends_nothing_again_and_says_so(world, mangled):
    failed = [make_message(world.smara, status="failed", attempts=3) for _ in range(2)]
    waiting = make_message(world.smara, status="pending", attempts=2)
    client = english(world.client("director"))
    for url, said in (
        (retry_url(), "No failed message to send again."),
        (try_now_url(), "This message no longer waits for a try"),
    ):
        response = client.post(url, {"message": mangled}, follow=True)
        assert response.status_code == 200
        assert said in response.content.decode()
    # The button of one message never stands for the whole list.
    assert [status_of(m) for m in failed] == [("failed", 3), ("failed", 3)]
    assert status_of(waiting) == ("pending", 2)


def test_a_message_sent_again_goes_out_with_the_next_sweep(world, sms_outbox):
    from tremplin.notify.services import outbox_flush

    failed = make_message(world.smara, status="failed", attempts=10)
    world.client("director").post(retry_url())
    assert outbox_flush() == {"sent": 1}
    assert status_of(failed) == ("sent", 1)
    assert [sms.to for sms in sms_outbox] == [failed.recipient]


def test_the_retry_button_shows_only_when_messages_failed(world):
    assert "outbox/retry/" not in world.client("director").get(outbox_url()).content.decode()
    make_message(world.smara, status="failed", attempts=10)
    page = world.client("director").get(outbox_url()).content.decode()
    assert "outbox/retry/" in page


def test_the_outbox_names_the_application_of_each_message_and_finds_them_by_reference(world):
    from django.contrib.contenttypes.models import ContentType

    from tests.admissions.open_intake import form_data, make_open_intake
    from tremplin.admissions.models import Application

    make_open_intake(world.smara)
    Client().post("/schools/smara/calls/promo-2026/apply/", form_data())
    Client().post(
        "/schools/smara/calls/promo-2026/apply/", form_data(cin="CD111111", phone="0612345678")
    )
    with scopes_disabled():
        first, second = Application.objects.order_by("number")
    make_message(world.smara, template="unrelated")

    client = world.client("admissions")
    page = client.get(outbox_url()).content.decode()
    assert f">{first.reference}</bdi></a>" in page
    assert f">{second.reference}</bdi></a>" in page

    found = client.get(outbox_url(), {"ref": second.reference.lower()})
    messages = list(found.context["page"])
    assert messages and all(m.object_id == str(second.pk) for m in messages)
    assert all(m.content_type == ContentType.objects.get_for_model(Application) for m in messages)
    assert client.get(outbox_url(), {"ref": "SMA-99-9999"}).context["page"].paginator.count == 0
    # A reference pasted with an invisible control character (PostgreSQL refuses NUL).
    found = client.get(outbox_url(), {"ref": f"{second.reference}\x00\x1b"})
    assert [m.object_id for m in found.context["page"]] == [str(second.pk)] * len(messages)


def test_a_failed_message_whose_recipient_was_erased_is_not_sent_again(world):
    erased = make_message(world.smara, status="failed", attempts=10, recipient="", body="")
    failed = make_message(world.smara, status="failed", attempts=10)
    world.client("director").post(retry_url())
    assert status_of(erased) == ("failed", 10)
    assert status_of(failed) == ("pending", 0)


def test_a_failed_message_past_its_expiry_is_not_sent_again(world, sms_outbox):
    """A one-time code that failed while the gateway was down: sending it again after the
    code expired would only give the applicant a code that does not work."""
    from tremplin.notify.services import outbox_flush

    past = timezone.now() - datetime.timedelta(minutes=1)
    expired = make_message(world.smara, status="failed", attempts=10, expires_at=past)
    still_good = make_message(
        world.smara,
        status="failed",
        attempts=10,
        expires_at=timezone.now() + datetime.timedelta(minutes=10),
    )
    world.client("director").post(retry_url())
    assert status_of(expired) == ("failed", 10)
    assert outbox_flush() == {"sent": 1}
    assert status_of(still_good) == ("sent", 1)
    assert [sms.to for sms in sms_outbox] == [still_good.recipient]


def test_an_expired_message_shows_as_expired_without_a_send_again_button(world):
    make_message(
        world.smara,
        status="expired",
        expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    client = world.client("director")
    client.cookies["django_language"] = "en"
    page = client.get(outbox_url()).content.decode()
    assert 'text-bg-secondary">Expired<' in page
    assert "outbox/retry/" not in page


def test_no_send_again_button_on_a_failed_message_erased_or_past_its_expiry(world):
    past = timezone.now() - datetime.timedelta(minutes=1)
    erased = make_message(world.smara, status="failed", attempts=10, recipient="", body="")
    expired = make_message(world.smara, status="failed", attempts=10, expires_at=past)
    client = world.client("director")
    page = client.get(outbox_url()).content.decode()
    assert f'name="message" value="{erased.pk}"' not in page
    assert f'name="message" value="{expired.pk}"' not in page
    failed = make_message(world.smara, status="failed", attempts=10)
    page = client.get(outbox_url()).content.decode()
    assert f'name="message" value="{failed.pk}"' in page


def written_ago(message: Message, **delta) -> Message:
    """As if written that long ago (``created_at`` is set on insert)."""
    with scopes_disabled():
        Message.objects.filter(pk=message.pk).update(
            created_at=timezone.now() - datetime.timedelta(**delta)
        )
        message.refresh_from_db()
    return message


def retry_events() -> list:
    from tremplin.core.models import AuditEvent

    with scopes_disabled():
        return list(AuditEvent.objects.filter(action="tremplin.outbox.retried").order_by("pk"))


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def applied(world, *cins: str) -> list:
    """Applications of Smara through the portal (their confirmations are in the outbox)."""
    from tests.admissions.open_intake import form_data, make_open_intake
    from tremplin.admissions.models import Application

    make_open_intake(world.smara)
    for n, cin in enumerate(cins):
        Client().post(
            "/schools/smara/calls/promo-2026/apply/", form_data(cin=cin, phone=f"061234560{n}")
        )
    with scopes_disabled():
        return list(Application.objects.filter(cin__in=cins).order_by("number"))


def failed_about(application, **fields) -> Message:
    from django.contrib.contenttypes.models import ContentType

    return make_message(
        application.intake.school,
        status="failed",
        attempts=10,
        content_type=ContentType.objects.get_for_model(application),
        object_id=str(application.pk),
        **fields,
    )


def test_sending_again_leaves_the_failed_messages_older_than_a_week_and_says_how_many(world):
    old = written_ago(make_message(world.smara, status="failed", attempts=10), days=8)
    older = written_ago(make_message(world.smara, status="failed", attempts=10), days=90)
    recent = written_ago(make_message(world.smara, status="failed", attempts=10), days=6)

    response = english(world.client("admissions")).post(retry_url(), follow=True)

    page = response.content.decode()
    assert "1 message will be sent again within a few seconds." in page
    assert "2 failed messages written before " in page
    assert "were left as they are: too old to be sent again." in page
    assert status_of(recent) == ("pending", 0)
    assert status_of(old) == ("failed", 10) and status_of(older) == ("failed", 10)
    assert [e.data for e in retry_events()] == [{"messages": 1, "too_old": 2}]


def test_a_message_older_than_a_week_is_not_sent_again_even_on_its_own(world, sms_outbox):
    from tremplin.notify.services import outbox_flush

    old = written_ago(make_message(world.smara, status="failed", attempts=10), days=8)
    response = english(world.client("director")).post(retry_url(), {"message": old.pk}, follow=True)
    page = response.content.decode()
    assert "No failed message to send again." in page
    assert "1 failed message written before " in page
    assert "was left as it is: too old to be sent again." in page
    assert status_of(old) == ("failed", 10)
    assert outbox_flush() == {} and sms_outbox == []
    assert retry_events() == []  # nothing changed: nothing to audit


def test_the_age_limit_is_a_setting(world, settings):
    settings.NOTIFY_RETRY_MAX_AGE_DAYS = 30
    month_old = written_ago(make_message(world.smara, status="failed", attempts=10), days=29)
    world.client("director").post(retry_url())
    assert status_of(month_old) == ("pending", 0)


def test_sending_again_takes_only_the_messages_of_the_list_as_filtered(world):
    first, second = applied(world, "AB111111", "AB222222")
    about_first, about_second = failed_about(first), failed_about(second)
    unrelated = make_message(world.smara, status="failed", attempts=10, template="unrelated")

    client = english(world.client("admissions"))
    response = client.post(retry_url(), {"ref": first.reference.lower(), "status": "failed"})

    assert response.status_code == 302
    assert response["Location"] == f"{outbox_url()}?status=failed&ref={first.reference.lower()}"
    assert status_of(about_first) == ("pending", 0)
    assert status_of(about_second) == ("failed", 10)
    assert status_of(unrelated) == ("failed", 10)
    assert retry_events()[-1].data == {
        "messages": 1,
        "filters": {"status": "failed", "ref": first.reference.lower()},
    }
    # A list filtered on another status shows no failed message: nothing is sent again.
    client.post(retry_url(), {"ref": second.reference, "status": "sent"})
    assert status_of(about_second) == ("failed", 10)


def test_the_page_offers_to_send_again_only_what_the_filtered_list_may_send(world):
    first, second = applied(world, "AB111111", "AB222222")
    failed_about(first)
    failed_about(second)
    old = written_ago(failed_about(first), days=10)

    client = english(world.client("director"))
    page = client.get(outbox_url(), {"ref": first.reference})
    html = page.content.decode()
    assert (page.context["retryable"], page.context["too_old"]) == (1, 1)
    assert "Send the failed message again" in html
    assert f'<input type="hidden" name="ref" value="{first.reference}">' in html
    assert "1 failed message written before " in html and "is too old to be sent again." in html
    assert f'name="message" value="{old.pk}"' not in html  # no button of its own
    assert "Too old to be sent again." in html

    everything = client.get(outbox_url())
    assert (everything.context["retryable"], everything.context["too_old"]) == (2, 1)
    assert "Send the 2 failed messages again" in everything.content.decode()
    assert client.get(outbox_url(), {"status": "sent"}).context["retryable"] == 0


def test_pressing_send_again_twice_sends_each_message_once(world, sms_outbox):
    from tremplin.notify.services import outbox_flush

    failed = [make_message(world.smara, status="failed", attempts=10) for _ in range(2)]
    client = english(world.client("director"))
    first = client.post(retry_url(), follow=True).content.decode()
    again = client.post(retry_url(), follow=True).content.decode()

    assert "2 messages will be sent again" in first
    assert "No failed message to send again." in again
    assert [e.data for e in retry_events()] == [{"messages": 2}]
    assert outbox_flush() == {"sent": 2}
    assert sorted(sms.to for sms in sms_outbox) == [m.recipient for m in failed]
    assert [status_of(m) for m in failed] == [("sent", 1), ("sent", 1)]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_schools_staff_who_manage_the_outbox_send_its_filtered_list_again(world, persona):
    (application,) = applied(world, "AB111111")
    recent = failed_about(application)
    old = written_ago(failed_about(application), days=8)

    response = world.client(persona).post(retry_url(), {"ref": application.reference})

    expected = {"director": 302, "admissions": 302, "anonymous": 302}.get(persona, 404)
    assert response.status_code == expected
    queued = persona in ("director", "admissions")
    assert status_of(recent) == (("pending", 0) if queued else ("failed", 10))
    assert status_of(old) == ("failed", 10)


def test_another_schools_staff_cannot_send_this_schools_messages_by_reference(world):
    (application,) = applied(world, "AB111111")
    message = failed_about(application)
    client = world.client("other_director")
    # Through their own school's page, the reference names nothing of theirs.
    assert client.post(retry_url("laayoune"), {"ref": application.reference}).status_code == 302
    assert client.post(retry_url("laayoune"), {"message": message.pk}).status_code == 302
    assert client.post(retry_url(), {"ref": application.reference}).status_code == 404
    assert status_of(message) == ("failed", 10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_presses_send_each_message_once(world, sms_outbox):

    from tremplin.notify.services import messages_retry

    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions: PostgreSQL (run with DATABASE_URL)")
    failed = [make_message(world.smara, status="failed", attempts=10) for _ in range(3)]

    def press() -> int:
        with scopes_disabled():
            return messages_retry(school=world.smara, actor=world.users["director"]).queued

    queued = at_once(press)
    assert sorted(queued) == [0, 3]
    # Sent on commit by the immediate task backend: once each.
    assert [status_of(m) for m in failed] == [("sent", 1)] * 3
    assert len(sms_outbox) == 3
    assert len(retry_events()) == 1


def test_every_message_template_has_a_name_for_staff():
    from pathlib import Path

    import tremplin
    from tremplin.notify.services import MESSAGE_TEMPLATES

    notify = Path(tremplin.__file__).parent / "templates" / "notify"
    folders = {path.name for path in notify.iterdir() if path.is_dir()}
    assert folders == set(MESSAGE_TEMPLATES)
    assert all(str(label) for label in MESSAGE_TEMPLATES.values())


def test_the_outbox_names_each_message_and_its_language_not_their_codes(world):
    make_message(world.smara, template="application_submitted", language="ar")
    make_message(world.smara, template="test_convocation", language="fr")
    make_message(world.smara, template="a_template_since_removed", language="en")

    html = english(world.client("admissions")).get(outbox_url()).content.decode()
    page = html.split("<tbody>")[1]  # the filters' options carry the codes as their values

    assert "Application received" in page and "Written test convocation" in page
    assert "application_submitted" not in page and "test_convocation" not in page
    assert ">Arabic</span>" in page and ">French</span>" in page
    assert ">ar</span>" not in page and ">fr</span>" not in page
    # A message written by a template that no longer exists keeps its code.
    assert "a_template_since_removed" in page


def test_the_status_counts_follow_the_reference_filter(world):
    first, _second = applied(world, "AB111111", "AB222222")
    failed_about(first)
    make_message(world.smara, status="sent")

    def counts(**query) -> tuple[int, dict]:
        response = world.client("director").get(outbox_url(), query)
        return response.context["total"], {
            v: n for v, _label, n, _q in response.context["statuses"]
        }

    listed = world.client("director").get(outbox_url(), {"ref": first.reference})
    total, by_status = counts(ref=first.reference)
    assert total == listed.context["page"].paginator.count
    assert by_status["failed"] == 1
    assert total == sum(by_status.values()) < counts()[0]
    # The status filter does not narrow its own counts: each one says what choosing it shows.
    assert counts(ref=first.reference, status="failed") == (total, by_status)
    assert counts(ref="SMA-99-9999") == (0, dict.fromkeys(by_status, 0))


def test_a_filter_matching_nothing_says_so_and_offers_to_clear_it(world):
    client = english(world.client("admissions"))
    assert "No message yet." in client.get(outbox_url()).content.decode()

    make_message(world.smara, status="sent")
    for query in ({"ref": "SMA-99-9999"}, {"status": "failed"}):
        page = client.get(outbox_url(), query).content.decode()
        assert "No message matches these filters." in page
        assert '<a href="?">Clear the filters</a>' in page
        assert "No message yet." not in page


def test_a_refused_message_says_to_check_the_number_and_can_still_be_sent_again(world):
    """A gateway's refusal is most often a wrong number (corrected on the application's
    page), but can be the platform's own mistake: it stays possible to send it again."""
    make_message(
        world.smara,
        template="decision",
        status="failed",
        attempts=1,
        failure="refused",
        last_error="SmsGatewayError: SMS gateway answered HTTP 400: <b>unknown</b> number",
    )
    make_message(
        world.smara, status="failed", attempts=10, failure="unavailable", last_error="HTTP 503"
    )
    page = world.client("director").get(outbox_url())
    html = page.content.decode().replace("&#x27;", "'")
    assert page.context["retryable"] == 2
    assert "Vérifiez-le avec la personne candidate" in html.replace("\xa0", " ")
    assert "corrigez-le sur la page de la candidature" in html
    assert "passerelle ou serveur de courriel indisponible" in html.lower()
    assert "&lt;b&gt;" not in html and "<b>unknown</b>" not in html  # tags dropped, not shown
    assert "answered HTTP 400: unknown number" in html  # the detail, for whoever runs it


def test_the_outbox_filters_by_channel_and_kind_of_message_and_every_link_keeps_the_filters(
    world,
):
    make_message(world.smara, channel="sms", template="decision", body="SMS decision")
    make_message(
        world.smara,
        channel="email",
        recipient="salka@example.org",
        template="decision",
        status="failed",
    )
    make_message(world.smara, channel="email", recipient="salka@example.org")
    for _ in range(50):
        make_message(world.smara, channel="email", template="decision", recipient="a@b.ma")
    client = world.client("director")

    response = client.get(outbox_url(), {"channel": "email", "template": "decision"})
    listed = response.context["page"]
    assert listed.paginator.count == 51
    assert {(m.channel, m.template) for m in listed} == {("email", "decision")}
    counts = {value: n for value, _label, n, _query in response.context["statuses"]}
    assert counts["failed"] == 1 and counts["pending"] == 50
    html = response.content.decode()
    # The next page, the status buttons and the send-again form keep both filters.
    assert 'href="?channel=email&amp;template=decision&amp;page=2"' in html
    assert 'href="?status=failed&amp;channel=email&amp;template=decision"' in html
    assert '<input type="hidden" name="channel" value="email">' in html
    assert '<option value="email" selected>' in html
    assert '<option value="decision" selected>' in html
    second = client.get(outbox_url(), {"channel": "email", "template": "decision", "page": 2})
    assert {m.template for m in second.context["page"]} == {"decision"}
    # Unknown values show more, not an error.
    assert client.get(outbox_url(), {"channel": "fax", "template": "x"}).status_code == 200
    assert client.get(outbox_url(), {"channel": "fax"}).context["page"].paginator.count == 53


def test_part_of_a_reference_finds_its_messages(world):
    first, second = applied(world, "AB111111", "AB222222")
    client = world.client("admissions")
    digits = second.reference.rsplit("-", 1)[1]  # "0002" of SMA-26-0002

    found = client.get(outbox_url(), {"ref": f" {digits} "})

    assert {m.object_id for m in found.context["page"]} == {str(second.pk)}
    both = client.get(outbox_url(), {"ref": second.reference[:6].lower()})  # "sma-26"
    assert {m.object_id for m in both.context["page"]} == {str(first.pk), str(second.pk)}


def test_sending_again_takes_only_the_channel_and_kind_filtered(world):
    sms = make_message(world.smara, status="failed", attempts=10, template="decision")
    email = make_message(
        world.smara,
        channel="email",
        recipient="salka@example.org",
        status="failed",
        attempts=10,
        template="decision",
    )
    other = make_message(world.smara, status="failed", attempts=10, template="test_convocation")
    page = world.client("director").get(outbox_url(), {"channel": "sms", "template": "decision"})
    assert page.context["retryable"] == 1

    response = world.client("director").post(
        retry_url(), {"channel": "sms", "template": "decision", "status": "failed"}
    )

    assert response.url == "/staff/smara/outbox/?status=failed&channel=sms&template=decision"
    assert status_of(sms) == ("pending", 0)
    assert status_of(email) == ("failed", 10) and status_of(other) == ("failed", 10)
    (event,) = retry_events()
    assert event.data["filters"] == {"status": "failed", "channel": "sms", "template": "decision"}


def test_staff_read_the_text_sent_escaped_but_never_a_code(world):
    later = timezone.now() + datetime.timedelta(minutes=10)
    make_message(
        world.smara,
        channel="email",
        recipient="salka@example.org",
        template="decision",
        subject="Votre candidature <b>retenue</b>",
        body="Bonjour Salka,\nvotre candidature est retenue.",
        status="sent",
    )
    # Not sent (yet, or ever): its text is not called sent.
    make_message(world.smara, template="decision", body="Bonjour Omar.", status="failed")
    make_message(world.smara, body="482913 est votre code", expires_at=later)
    make_message(world.smara, body="735102 est votre code")  # a code message, whenever written

    html = english(world.client("admissions")).get(outbox_url()).content.decode()

    assert html.count("Text sent") == 1 and html.count("Text of the message") == 1
    assert "Votre candidature &lt;b&gt;retenue&lt;/b&gt;" in html
    assert "Bonjour Salka,<br>votre candidature est retenue." in html
    assert "482913" not in html and "735102" not in html
    assert html.count("Holds a one-time code: its text is not shown.") == 2


def try_now_url(school_slug: str = "smara") -> str:
    return reverse("notify:outbox_try_now", kwargs={"school_slug": school_slug})


def waiting(school, **fields) -> Message:
    """A message that failed twice and waits for its third try, in half an hour."""
    later = timezone.now() + datetime.timedelta(minutes=30)
    return make_message(
        school, status="pending", attempts=2, next_attempt_at=later, template="decision", **fields
    )


def test_a_message_waiting_for_its_next_try_can_be_tried_now_and_keeps_its_attempts(
    world, sms_outbox
):
    from tremplin.core.models import AuditEvent
    from tremplin.notify.services import outbox_flush

    message = waiting(world.smara)
    fresh = make_message(world.smara, status="pending", template="decision")
    client = english(world.client("admissions"))
    html = client.get(outbox_url()).content.decode()
    assert html.count("Try now") == 1 and f'name="message" value="{message.pk}"' in html
    assert outbox_flush() == {"sent": 1}  # the fresh one: the other one waits

    response = client.post(try_now_url(), {"message": message.pk, "channel": "sms"}, follow=True)

    assert "The message will be tried again within a few seconds." in response.content.decode()
    assert response.redirect_chain == [("/staff/smara/outbox/?channel=sms", 302)]
    assert outbox_flush() == {"sent": 1}
    assert status_of(message) == ("sent", 3)  # its attempts still count
    assert status_of(fresh)[0] == "sent"
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.outbox.tried_now")
    assert event.actor == world.users["admissions"] and event.data == {"message": message.pk}
    # Pressed again (a repeated request), nothing more is queued.
    again = client.post(try_now_url(), {"message": message.pk}, follow=True)
    assert "no longer waits for a try" in again.content.decode()
    assert len(sms_outbox) == 2


def test_only_messages_waiting_for_a_later_try_can_be_tried_now(world):
    past = timezone.now() - datetime.timedelta(minutes=1)
    expired = waiting(world.smara, expires_at=past)
    erased = waiting(world.smara, recipient="", body="")
    never_tried = make_message(world.smara, status="pending", template="decision")
    failed = make_message(world.smara, status="failed", attempts=10, template="decision")
    client = world.client("director")
    html = client.get(outbox_url()).content.decode()
    assert "outbox/try-now/" not in html
    for message in (expired, erased, never_tried, failed):
        before = (message.status, message.next_attempt_at)
        response = english(client).post(try_now_url(), {"message": message.pk}, follow=True)
        assert "no longer waits for a try" in response.content.decode()
        with scopes_disabled():
            message.refresh_from_db()
        assert (message.status, message.next_attempt_at) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_schools_staff_who_manage_the_outbox_try_a_message_now(world, persona):
    message = waiting(world.smara)
    before = message.next_attempt_at

    response = world.client(persona).post(try_now_url(), {"message": message.pk})

    expected = {"director": 302, "admissions": 302, "anonymous": 302}.get(persona, 404)
    assert response.status_code == expected
    with scopes_disabled():
        message.refresh_from_db()
    hastened = persona in ("director", "admissions")
    assert (message.next_attempt_at <= timezone.now()) == hastened
    assert (message.next_attempt_at == before) == (not hastened)


def test_another_schools_staff_cannot_try_this_schools_message_now(world):
    message = waiting(world.smara)
    before = message.next_attempt_at
    client = world.client("other_director")
    assert client.post(try_now_url("laayoune"), {"message": message.pk}).status_code == 302
    assert client.post(try_now_url(), {"message": message.pk}).status_code == 404
    assert client.post(try_now_url("laayoune"), {"message": "x"}).status_code == 302
    with scopes_disabled():
        message.refresh_from_db()
    assert message.next_attempt_at == before


def test_the_technical_detail_of_a_code_message_is_hidden_too(world):
    """A gateway may quote the text it refused: for a code message, that is the code."""
    make_message(
        world.smara,
        status="failed",
        attempts=1,
        failure="refused",
        last_error="SmsGatewayError: HTTP 400: rejected text '482913 est votre code'",
    )
    html = english(world.client("admissions")).get(outbox_url()).content.decode()
    assert "482913" not in html
    assert "recipient or message refused" in html.lower()  # what staff can act on stays
