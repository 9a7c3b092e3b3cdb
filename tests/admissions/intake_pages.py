"""Helpers for the tests of the staff pages of a call: its form as staff would post it."""

from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tremplin.admissions.models import Intake
from tremplin.schools.models import Track


def edit_url(intake) -> str:
    return reverse(
        "admissions:intake_edit", kwargs={"school_slug": "smara", "intake_slug": intake.slug}
    )


def detail_url(intake) -> str:
    return reverse(
        "admissions:intake_detail", kwargs={"school_slug": "smara", "intake_slug": intake.slug}
    )


def track(code: str) -> Track:
    with scopes_disabled():
        return Track.objects.get(school__slug="smara", code=code)


def form_post(intake: Intake, places: dict | None = None, **changes) -> dict:
    """The call's form as it stands, with `places` (code -> (seats, waitlist)) and
    `changes` typed over it."""
    with scopes_disabled():
        intake = Intake.objects.get(pk=intake.pk)
        data = {
            "title": intake.title,
            "title_ar": intake.title_ar,
            "slug": intake.slug,
            # As the page shows them: in Casablanca's time.
            "opens_at": timezone.localtime(intake.opens_at).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": timezone.localtime(intake.closes_at).strftime("%Y-%m-%dT%H:%M"),
            "reference_date": intake.reference_date.isoformat(),
            "min_age": str(intake.min_age),
            "max_age": str(intake.max_age),
            "provinces": [str(pk) for pk in intake.provinces.values_list("pk", flat=True)],
            "communes": [str(pk) for pk in intake.communes.values_list("pk", flat=True)],
            "education_levels": list(intake.education_levels),
            "employment_situations": list(intake.employment_situations),
            "required_documents": list(intake.required_documents),
            "privacy_notice": str(intake.privacy_notice_id or ""),
        }
        for it in intake.intake_tracks.all():
            data[f"track_{it.track_id}"] = str(it.seats)
            data[f"waitlist_{it.track_id}"] = str(it.waitlist)
    for code, (seats, waitlist) in (places or {}).items():
        pk = track(code).pk
        data[f"track_{pk}"], data[f"waitlist_{pk}"] = str(seats), str(waitlist)
    data.update(changes)
    return data


def in_english(client):
    """`client` reading the pages in English, so that the tests can quote their text
    whatever the French and Arabic catalogues say."""
    client.cookies["django_language"] = "en"
    return client


APPLY = "/schools/smara/calls/promo-2026/apply/"


def four_applicants(world) -> Intake:
    """An open call with Fatima and Salma (women, 23 on the reference date, eligible), Omar
    (a man of 46: too old) and Karim (a man of 31, eligible), applied through the portal."""
    from django.test import Client

    from tests.admissions.open_intake import form_data, make_open_intake

    intake = make_open_intake(world.smara)
    Client().post(APPLY, form_data())
    Client().post(APPLY, form_data(cin="CD111111", birth_date="1980-05-05", first_name="Omar",
                                   sex="M", phone="0612345678"))  # fmt: skip
    Client().post(APPLY, form_data(cin="EF222222", first_name="Salma", phone="0612345679"))
    Client().post(APPLY, form_data(cin="GH333333", birth_date="1995-01-10", first_name="Karim",
                                   sex="M", phone="0612345670"))  # fmt: skip
    return intake
