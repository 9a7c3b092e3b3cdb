"""The language of an applicant's messages is the one she applied in. Reading her space in
another, she is told which language her messages come in, and may have them come in the one
she reads; the change is in her history, and the next message follows it."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake, space_client
from tremplin.admissions.history import application_history
from tremplin.admissions.models import Application
from tremplin.notify.models import Message

APPLY = "/schools/smara/calls/promo-2026/apply/"


@pytest.fixture
def application(world) -> Application:
    """Fatima applied in French."""
    make_open_intake(world.smara)
    client = Client()
    client.cookies["django_language"] = "fr"
    client.post(APPLY, form_data())
    with scopes_disabled():
        return Application.objects.get()


def language() -> str:
    with scopes_disabled():
        return Application.objects.get().language


@pytest.mark.django_db
def test_reading_her_space_in_arabic_she_may_have_her_messages_in_arabic(application):
    client = space_client(application, language="ar")
    page = client.get(reverse("portal:space")).content.decode()
    assert "تُرسَل رسائلكم (الرسائل القصيرة، البريد الإلكتروني) باللغة الفرنسية." in page
    assert 'name="language" value="ar"' in page

    done = client.post(reverse("portal:messages_language"), {"language": "ar"}, follow=True)
    assert language() == "ar"
    assert "ستُرسَل رسائلكم من الآن فصاعدًا باللغة العربية." in done.content.decode()
    assert 'data-testid="messages-language"' not in done.content.decode()  # said, not offered
    with scopes_disabled(), translation.override("fr"):
        (changed,) = [
            e
            for e in application_history(application)
            if e.action == "tremplin.applications.updated_by_applicant"
        ]
        assert changed.detail == "Langue"  # as staff read it

    # The next message is in Arabic.
    client.post(reverse("portal:withdraw"), {"confirm": "yes"})
    with scopes_disabled():
        sms = Message.objects.get(template="application_withdrawn", channel="sms")
    assert sms.language == "ar" and "سحب" in sms.body


@pytest.mark.django_db
def test_nothing_is_offered_in_the_language_of_her_messages_and_nothing_odd_is_taken(
    application,
):
    client = space_client(application, language="fr")
    page = client.get(reverse("portal:space")).content.decode()
    assert 'data-testid="messages-language"' not in page
    assert client.post(reverse("portal:messages_language"), {"language": "de"}).status_code == 400
    assert client.post(reverse("portal:messages_language"), {}).status_code == 400
    assert language() == "fr"
    # Sent twice (a double click): changed once, recorded once.
    for _twice in range(2):
        client.post(reverse("portal:messages_language"), {"language": "en"})
    assert language() == "en"
    with scopes_disabled():
        changes = [
            e
            for e in application_history(application)
            if e.action == "tremplin.applications.updated_by_applicant"
        ]
    assert len(changes) == 1


@pytest.mark.django_db
def test_without_her_space_nothing_changes(application):
    response = Client().post(reverse("portal:messages_language"), {"language": "ar"})
    assert response["Location"] == reverse("portal:access")
    assert language() == "fr"
