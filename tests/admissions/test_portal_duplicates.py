"""A second submission with a CIN that has already applied: the same person retrying gets
their reference back; anyone else, who may only have a photocopy of the card, learns
nothing, and the reference goes again to the application's own phone and email."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions import personal_data, services
from tremplin.admissions.models import ApplicantCode, Application
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message

APPLY = "/schools/smara/calls/promo-2026/apply/"
# Someone who knows Fatima's CIN, but not her phone nor her date of birth.
STRANGER = {"first_name": "Karim", "phone": "0700000001", "birth_date": "1999-01-01"}


@pytest.fixture
def intake(world):
    return make_open_intake(world.smara)


@pytest.fixture
def owner(intake):
    """Fatima's application, sent in Arabic, with an email."""
    client = Client()
    client.cookies["django_language"] = "ar"
    assert client.post(APPLY, form_data(email="fatima@example.ma")).status_code == 302
    with scopes_disabled():
        return Application.objects.get()


def submit(client: Client, **changes) -> str:
    """The page the applicant lands on after submitting."""
    response = client.post(APPLY, form_data(**changes))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def reminders() -> list[Message]:
    with scopes_disabled():
        return list(Message.objects.filter(template="application_reminder").order_by("pk"))


def rows() -> dict[str, int]:
    with scopes_disabled():
        return {
            "applications": Application.objects.count(),
            "codes": ApplicantCode.objects.count(),
            "events": AuditEvent.objects.count(),
            "messages": Message.objects.exclude(template="application_reminder").count(),
        }


@pytest.mark.django_db
def test_a_stranger_with_only_the_cin_does_not_see_the_reference(owner):
    page = submit(Client(), **STRANGER)
    assert owner.reference not in page
    assert owner.reference.split("-")[-1] not in page
    assert "Fatima" not in page
    assert 'data-testid="reference"' not in page
    assert 'data-testid="cin-taken"' in page


@pytest.mark.django_db
def test_the_same_person_submitting_again_sees_their_reference(owner):
    # The phone and the date typed another way are still the same phone and date.
    page = submit(Client(), first_name="Autre", phone="+212 661-234567", birth_date="21/03/2003")
    assert owner.reference in page
    assert 'data-testid="cin-taken"' not in page
    assert reminders() == []


@pytest.mark.django_db
def test_submitting_again_after_withdrawing_says_the_application_is_withdrawn(owner):
    with scopes_disabled():
        services.application_withdraw(application=owner)
    page = submit(Client())
    assert owner.reference in page
    assert 'data-testid="withdrawn"' in page
    with scopes_disabled():
        assert Application.objects.get().status == Application.Status.WITHDRAWN


@pytest.mark.django_db
def test_a_strangers_submission_sends_the_reference_to_the_owner_in_her_language(owner):
    submit(Client(), **STRANGER)
    sent = reminders()
    assert sorted((m.channel, m.recipient) for m in sent) == [
        ("email", "fatima@example.ma"),
        ("sms", "+212661234567"),
    ]
    assert all(owner.reference in m.body for m in sent)
    assert {m.language for m in sent} == {"ar"}
    assert {m.object_id for m in sent} == {str(owner.pk)}
    # The school as she reads it, though the stranger's request was in French.
    school = owner.intake.school
    assert school.name_ar and school.name_ar != school.name
    assert all(school.name_ar in m.body and school.name not in m.body for m in sent)


@pytest.mark.django_db
def test_the_reminder_is_queued_at_most_once_an_hour(owner):
    for _ in range(3):
        submit(Client(), **STRANGER)
    assert len(reminders()) == 2  # one SMS, one email
    with scopes_disabled():
        Message.objects.filter(template="application_reminder").update(
            created_at=timezone.now() - datetime.timedelta(minutes=61)
        )
    submit(Client(), **STRANGER)
    submit(Client(), **STRANGER)
    assert len(reminders()) == 4


@pytest.mark.django_db
def test_the_reminder_is_queued_three_times_a_day_at_most(owner):
    """Once an hour, every hour, would be 48 messages a day to someone who never asked."""
    for hours_ago in range(2, 2 + services.REMINDERS_PER_DAY):
        submit(Client(), **STRANGER)
        with scopes_disabled():
            Message.objects.filter(
                template="application_reminder",
                created_at__gt=timezone.now() - datetime.timedelta(minutes=1),
            ).update(created_at=timezone.now() - datetime.timedelta(hours=hours_ago))
    assert len(reminders()) == 2 * services.REMINDERS_PER_DAY
    submit(Client(), **STRANGER)
    assert len(reminders()) == 2 * services.REMINDERS_PER_DAY
    with scopes_disabled():
        Message.objects.filter(template="application_reminder").update(
            created_at=timezone.now() - datetime.timedelta(days=1, minutes=1)
        )
    submit(Client(), **STRANGER)
    assert len(reminders()) == 2 * services.REMINDERS_PER_DAY + 2


@pytest.mark.django_db
def test_a_strangers_submission_changes_nothing_but_the_reminder(owner):
    before = rows()
    with scopes_disabled():
        stored = Application.objects.values().get()
    submit(Client(), **STRANGER)
    assert rows() == before
    with scopes_disabled():
        assert Application.objects.values().get() == stored


REMINDER = {
    "first_name": "Fatima Zahra",
    "reference": "SMA-25-0042",
    "intake_title": "Promotion 2026",
    "school_name": "École Numérique de Smara",
    "space_url": "https://smara.tremplin.ma/espace/",
}


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_reminder_renders_in_every_language_and_its_sms_stays_short(language):
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(language):
        subject = render_to_string("notify/application_reminder/subject.txt", REMINDER)
        body = render_to_string("notify/application_reminder/body.txt", REMINDER)
        sms = " ".join(render_to_string("notify/application_reminder/sms.txt", REMINDER).split())
    assert "\n" not in subject.strip()
    assert REMINDER["reference"] in subject
    assert all(value in body for value in REMINDER.values())
    # The SMS's link without its final slash (see the sms_link filter), the email's whole.
    assert REMINDER["reference"] in sms and sms.endswith(" " + REMINDER["space_url"].rstrip("/"))
    assert "&" not in body + sms  # text, not HTML: nothing escaped
    if language != "ar":  # Arabic goes as UCS-2, in parts, like the confirmation
        assert len(sms) < 160, sms


@pytest.mark.django_db
def test_an_erased_application_does_not_hold_a_cin_that_someone_else_has(owner, world):
    with scopes_disabled():
        personal_data.application_erase(
            application=owner, actor=world.users["admissions"], reason="Asked by her"
        )
        owner.refresh_from_db()
    assert owner.cin == f"~{owner.pk}"
    # "X<id>", what erasure used to write, is a real CIN's shape: its holder can apply.
    response = Client().post(APPLY, form_data(cin=f"X{owner.pk}", phone="0611111111"))
    assert response.status_code == 302
    with scopes_disabled():
        assert Application.objects.filter(cin=f"X{owner.pk}", erased_at=None).exists()
