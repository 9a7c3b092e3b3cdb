"""Staff correct an applicant's phone or email, as the applicant asked: with a wrong number
no code reaches her space, so she cannot correct it herself. The messages that failed on the
old number go again to the new one."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.open_intake import applied_through_the_portal
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message
from tremplin.notify.services import outbox_flush

pytestmark = pytest.mark.django_db

NEW = {"phone": "07 00 11 22 33", "email": "salma@example.ma", "reason": "Appel de la candidate"}


def url(application, name="application_contact") -> str:
    intake = application.intake
    return reverse(f"admissions:{name}", args=["smara", intake.slug, application.reference])


def refused_confirmation(application) -> Message:
    """The portal's confirmation, refused for good by the gateway (a mistyped number)."""
    with scopes_disabled():
        message = Message.objects.get(template="application_submitted", channel="sms")
        Message.objects.filter(pk=message.pk).update(
            status="failed", failure="refused", attempts=1, last_error="HTTP 400"
        )
    return message


def test_a_corrected_number_gets_the_message_the_old_one_refused(world, sms_outbox):
    application = applied_through_the_portal(world.smara)
    message = refused_confirmation(application)
    response = world.client("admissions").post(url(application), NEW, follow=True)
    assert "1 message qui n'avait pas été envoyé part vers les nouvelles" in (
        response.content.decode().replace("\xa0", " ").replace("&#x27;", "'")
    )
    with scopes_disabled():
        application.refresh_from_db()
        message.refresh_from_db()
    assert (application.phone, application.email) == ("+212700112233", "salma@example.ma")
    assert (message.recipient, message.status, message.failure) == ("+212700112233", "pending", "")
    assert outbox_flush()["sent"] == 1
    assert [s.to for s in sms_outbox] == ["+212700112233"]
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.applications.contact_corrected")
    assert event.actor == world.users["admissions"] and event.reason == NEW["reason"]
    assert event.data == {"fields": ["phone", "email"], "resent": 1}  # no number in the log
    # From now on, her codes go to the new number.
    client = Client()
    client.post(
        reverse("portal:access"), {"reference": application.reference, "cin": application.cin}
    )
    with scopes_disabled():
        code = Message.objects.filter(template="applicant_code", channel="sms").latest("pk")
    assert code.recipient == "+212700112233"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"phone": "12 34"}, "Indiquez un numéro de mobile marocain"),
        ({"reason": ""}, "Indiquez la raison de cette correction."),
        ({"email": "pas une adresse"}, "Saisissez une adresse de courriel valide."),
    ],
)
def test_a_bad_correction_says_why_and_changes_nothing(world, changes, error):
    application = applied_through_the_portal(world.smara)
    response = world.client("director").post(url(application), {**NEW, **changes})
    assert response.status_code == 400
    assert error in response.content.decode().replace("\xa0", " ")
    with scopes_disabled():
        application.refresh_from_db()
        assert application.phone == "+212661234567"
        assert not AuditEvent.objects.filter(action="tremplin.applications.contact_corrected")


def test_the_same_details_change_nothing_and_log_nothing(world):
    application = applied_through_the_portal(world.smara)
    same = {"phone": "0661234567", "email": application.email, "reason": "vérification"}
    response = world.client("director").post(url(application), same, follow=True)
    assert "étaient déjà ceux-ci" in response.content.decode().replace("&#x27;", "'")
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="tremplin.applications.contact_corrected")


def test_an_erased_application_cannot_be_given_contact_details_again(world):
    from tremplin.admissions.personal_data import application_erase

    application = applied_through_the_portal(world.smara)
    with scopes_disabled():
        application_erase(application=application, actor=world.users["director"], reason="x")
    response = world.client("director").post(url(application), NEW, follow=True)
    assert "elle n&#x27;a plus de coordonnées" in response.content.decode()
    with scopes_disabled():
        application.refresh_from_db()
    assert application.phone == ""


def test_the_detail_page_offers_the_correction_and_the_applicants_messages(world):
    application = applied_through_the_portal(world.smara)
    page = world.client("admissions").get(url(application, "application_detail")).content.decode()
    assert url(application) in page
    outbox = reverse("notify:outbox", args=["smara"])
    assert f'href="{outbox}?ref={application.reference}"' in page


def test_a_message_still_waiting_goes_to_the_new_number_and_one_being_sent_is_left(
    world, sms_outbox
):
    application = applied_through_the_portal(world.smara)
    with scopes_disabled():
        waiting = Message.objects.get(template="application_submitted", channel="sms")
        held = Message.objects.create(
            school=world.smara, channel="sms", recipient=application.phone, language="fr",
            template="application_reminder", body="...", status="sending",
            content_type=waiting.content_type, object_id=waiting.object_id,
        )  # fmt: skip
    world.client("director").post(url(application), NEW)
    with scopes_disabled():
        waiting.refresh_from_db()
        held.refresh_from_db()
    assert (waiting.recipient, waiting.status) == ("+212700112233", "pending")
    assert (held.recipient, held.status) == ("+212661234567", "sending")


def test_an_address_removed_gets_nothing_more_and_the_history_names_the_field(world):
    """An email that was a stranger's, removed: the message still waiting for it never goes.
    The history says which detail changed, not its value."""
    application = applied_through_the_portal(world.smara)
    with scopes_disabled():
        Message.objects.create(
            school=world.smara, channel="email", recipient="stranger@example.org",
            language="fr", template="application_reminder", body="...", status="pending",
            content_type=Message.objects.get(template="application_submitted").content_type,
            object_id=str(application.pk),
        )  # fmt: skip
        application.email = "stranger@example.org"
        application.save()
    removed = {"phone": "0661234567", "email": "", "reason": "Adresse d'un autre"}
    world.client("director").post(url(application), removed)
    with scopes_disabled():
        waiting = Message.objects.get(template="application_reminder")
    assert (waiting.recipient, waiting.status) == ("", "failed")
    assert outbox_flush() == {} or "sent" not in outbox_flush()
    page = world.client("director").get(url(application, "application_detail")).content.decode()
    assert "Coordonnées corrigées par l&#x27;équipe" in page or "Coordonnées corrigées" in page
    assert "stranger@example.org" not in page


def test_the_messages_still_waiting_for_an_erased_application_go_nowhere(world, sms_outbox):
    """Erased during a gateway outage: its confirmations, emptied, were handed to the gateway
    (an SMS to "") and the email, to nobody, was recorded as sent. Even one a sender held
    while the erasure ran (its sender died) is closed as failed when taken back."""
    from django.core import mail

    from tremplin.admissions.personal_data import application_erase

    application = applied_through_the_portal(world.smara)
    with scopes_disabled():
        application.email = "salma@example.ma"
        application.save()
        about_it = Message.objects.get(template="application_submitted", channel="sms")
        email = Message.objects.create(
            school=world.smara, channel="email", recipient="salma@example.ma", language="fr",
            template="application_submitted", subject="Votre candidature", body="...",
            content_type=about_it.content_type, object_id=about_it.object_id,
        )  # fmt: skip
        held = Message.objects.create(
            school=world.smara, channel="sms", recipient=application.phone, language="fr",
            template="application_reminder", body="...", status="sending",
            claimed_at=timezone.now() - datetime.timedelta(hours=1),
            content_type=about_it.content_type, object_id=about_it.object_id,
        )  # fmt: skip
        application_erase(application=application, actor=world.users["director"], reason="x")
    outbox_flush()
    assert sms_outbox == [] and mail.outbox == []
    with scopes_disabled():
        statuses = {m.pk: (m.recipient, m.status) for m in Message.objects.all()}
    assert statuses == {
        about_it.pk: ("", "failed"),
        email.pk: ("", "failed"),
        held.pk: ("", "failed"),
    }


def test_her_own_correction_sends_to_the_new_number_what_the_old_one_refused(world, sms_outbox):
    """She corrected in her space the number her confirmation never reached: it goes to the
    new one, as when staff correct it, and not again to the number that refused it."""
    from tests.admissions.open_intake import form_data, space_client

    application = applied_through_the_portal(world.smara)
    message = refused_confirmation(application)
    client = space_client(application)
    data = form_data(phone="07 00 11 22 33")
    for fixed in ("cin", "privacy_consent", "notice_version"):  # not on her edit page
        data.pop(fixed)
    response = client.post(reverse("portal:edit"), data)
    assert response.status_code == 302, response.context["form"].errors
    with scopes_disabled():
        message.refresh_from_db()
    assert (message.recipient, message.status) == ("+212700112233", "pending")
    outbox_flush()
    assert "+212700112233" in [s.to for s in sms_outbox]
