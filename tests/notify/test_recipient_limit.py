"""The portal's confirmations go to whatever phone and email the form was given: one recipient
gets at most a few of them a day, so that nobody can use the form to flood someone with
messages paid by the school."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.notify.test_services import PHONE, SUBMITTED
from tremplin.notify.models import Message
from tremplin.notify.services import message_enqueue, message_send, outbox_flush

pytestmark = pytest.mark.django_db


def confirm(to: str = PHONE, *, channel: str = "sms", school=None, **kwargs) -> Message:
    return message_enqueue(
        channel=channel,
        to=to,
        template=kwargs.pop("template", "application_submitted"),
        context=kwargs.pop("context", SUBMITTED),
        language="fr",
        school=school,
        **kwargs,
    )


def reload(message: Message) -> Message:
    with scopes_disabled():
        return Message.objects.get(pk=message.pk)


def test_a_recipient_gets_five_confirmations_a_day_and_no_more(sms_outbox):
    messages = [confirm() for _ in range(6)]
    other = confirm("+212661000000")
    code = confirm(template="applicant_code", context={"code": "482913", "minutes": 10})
    assert outbox_flush() == {"sent": 7, "failed": 1}
    held = reload(messages[-1])
    assert (held.status, held.failure, held.attempts) == ("failed", "limited", 0)
    assert [sms.to for sms in sms_outbox].count(PHONE) == 6  # five confirmations and the code
    assert reload(other).status == "sent" and reload(code).status == "sent"


def test_an_email_address_counts_whatever_its_case(mailoutbox):
    for to in ("Samira@Example.ma", "samira@example.ma", "SAMIRA@example.ma", "samira@EXAMPLE.MA"):
        confirm(to, channel="email")
    confirm("samira@example.ma", channel="email")
    last = confirm("Samira@example.MA", channel="email")
    assert outbox_flush() == {"sent": 5, "failed": 1}
    assert reload(last).failure == "limited" and len(mailoutbox) == 5


def test_the_limit_counts_the_last_24_hours(sms_outbox):
    for _ in range(5):
        confirm()
    outbox_flush()
    with scopes_disabled():
        Message.objects.update(sent_at=timezone.now() - datetime.timedelta(hours=25))
    later = confirm()
    assert outbox_flush() == {"sent": 1} and reload(later).status == "sent"


def test_staff_sending_a_held_confirmation_again_sends_it(world, sms_outbox):
    for _ in range(5):
        confirm(school=world.smara)
    held = confirm(school=world.smara)
    outbox_flush()
    assert reload(held).failure == "limited"

    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notify:outbox", args=["smara"])).content.decode()
    assert "Too many confirmations to this recipient" in page
    assert "Someone may be using the form to flood it" in page

    assert f'name="message" value="{held.pk}"' in page  # its "Send again" button
    client.post(reverse("notify:outbox_retry", args=["smara"]), {"message": held.pk})
    assert reload(held).status == "pending"
    assert message_send(held.pk) == "sent"
    assert len(sms_outbox) == 6 and reload(held).failure == ""


def test_sending_every_failed_message_again_leaves_those_the_limit_held(world, sms_outbox):
    flood = [confirm(school=world.smara) for _ in range(9)]
    outbox_flush()
    client = world.client("admissions")
    page = client.get(reverse("notify:outbox", args=["smara"])).content.decode()
    assert 'name="message"' in page  # each held message keeps its own button
    client.post(reverse("notify:outbox_retry", args=["smara"]))  # all that failed
    assert {reload(m).status for m in flood[5:]} == {"failed"}
    assert outbox_flush() == {} and len(sms_outbox) == 5


def test_a_held_confirmation_sent_again_is_not_held_after_a_failed_try(
    world, sms_outbox, monkeypatch
):
    from tremplin.notify import services

    for _ in range(5):
        confirm(school=world.smara)
    held = confirm(school=world.smara)
    outbox_flush()
    world.client("admissions").post(
        reverse("notify:outbox_retry", args=["smara"]), {"message": held.pk}
    )

    def gateway_down(message):
        raise OSError("connection refused")

    monkeypatch.setattr(services, "_deliver", gateway_down)
    assert message_send(held.pk) == "pending"
    monkeypatch.undo()
    assert reload(held).failure == "unavailable"
    assert message_send(held.pk, attempt=1) == "sent"
