"""An open call of a school, with its notice and tracks, for portal and screening tests."""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from tremplin.admissions.models import Application, Intake, IntakeTrack, PrivacyNotice
from tremplin.schools.models import Province, Track

VALID = {
    "cin": "ab 123456",
    "first_name": "Fatima",
    "last_name": "El Idrissi",
    "first_name_ar": "فاطمة",
    "last_name_ar": "الإدريسي",
    "birth_date": "2003-03-21",
    "sex": "F",
    "phone": "06 61 23 45 67",
    "email": "",
    "education_level": "bac",
    "diploma": "",
    "employment": "neet",
    "motivation": "",
    "privacy_consent": "on",
    "notice_version": "1",  # the version the page showed (``make_open_intake``'s notice)
}


def make_open_intake(school, *, slug="promo-2026", tracks=("dev-web",), **overrides) -> Intake:
    with scopes_disabled():
        notice, _ = PrivacyNotice.objects.get_or_create(
            school=school,
            version=1,
            defaults={
                "cndp_authorisation": "D-W-123/2025",
                "text": "Vos données servent à la sélection.",
                "text_ar": "تستعمل معطياتكم لأغراض الانتقاء.",
            },
        )
        now = timezone.now()
        fields = {
            "title": "Promotion 2026",
            "title_ar": "فوج 2026",
            "opens_at": now - datetime.timedelta(days=1),
            "closes_at": now + datetime.timedelta(days=30),
            "seats": 70,
            "waitlist": 30,
            "reference_date": datetime.date(2026, 9, 1),
            "min_age": 18,
            "max_age": 35,
            "privacy_notice": notice,
            "status": Intake.Status.OPEN,
            **overrides,
        }
        intake, _ = Intake.objects.update_or_create(school=school, slug=slug, defaults=fields)
        for code in tracks:
            track, _ = Track.objects.get_or_create(
                school=school, code=code, defaults={"name": code.title(), "name_ar": code}
            )
            IntakeTrack.objects.get_or_create(intake=intake, track=track, defaults={"seats": 35})
        intake.provinces.set([Province.objects.get(code="221")])
    return intake


def form_data(**changes) -> dict:
    from tremplin.schools.models import Commune

    data = dict(VALID)
    commune = Commune.objects.get(code="221.01.01")
    data["province"] = str(commune.province_id)
    data["commune"] = str(commune.pk)
    data.update(changes)
    return data


def applied_through_the_portal(school) -> Application:
    """The one application of a new open call of ``school``, sent through its form."""
    from django.test import Client

    intake = make_open_intake(school)
    Client().post(f"/schools/{school.slug}/calls/{intake.slug}/apply/", form_data())
    with scopes_disabled():
        return Application.objects.get()


def space_client(application: Application, language: str = "en"):
    """A browser in ``application``'s applicant space (as after its one-time code), reading
    ``language``."""
    from django.test import Client

    from tremplin.admissions.views_portal import SESSION_APPLICANT

    client = Client()
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    client.cookies["django_language"] = language
    return client
