"""An erasure keeps what the statistics and the decisions need, as they were: the age on the
call's reference date (from a date of birth reduced to its year), and nothing left waiting
for a review nobody can make."""

import csv
import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.builders import by_column
from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions import personal_data, retention, selectors
from tremplin.admissions.eligibility import age_on
from tremplin.admissions.models import Application, Intake
from tremplin.admissions.personal_data import erased_birth_date

APPLY = "/schools/smara/calls/promo-2026/apply/"
REFERENCE = datetime.date(2026, 9, 1)  # make_open_intake's


def url(name: str, intake, **kwargs) -> str:
    return reverse(
        f"admissions:{name}", kwargs={"school_slug": "smara", "intake_slug": intake.slug, **kwargs}
    )


@pytest.mark.parametrize(
    "born",
    ["2001-10-15", "2001-09-01", "2001-09-02", "2001-01-01", "2001-12-31", "2004-02-29"],
)
def test_the_date_an_erasure_keeps_gives_the_same_age_on_the_reference_date(born):
    birth_date = datetime.date.fromisoformat(born)
    for reference in (REFERENCE, datetime.date(2026, 2, 28), datetime.date(2026, 12, 31)):
        kept = erased_birth_date(birth_date, reference)
        assert kept.year == birth_date.year and (kept.month, kept.day) in ((1, 1), (12, 31))
        assert age_on(kept, reference) == age_on(birth_date, reference)


def erase(world, application) -> None:
    with scopes_disabled():
        personal_data.application_erase(
            application=application, actor=world.users["admissions"], reason="asked"
        )


@pytest.mark.django_db
def test_an_erased_applicant_stays_in_the_same_age_band_of_the_funnel_filter_and_export(world):
    intake = make_open_intake(world.smara)
    # 17 on 1 September 2026 (18 only on 15 October): too young, and counted so.
    Client().post(APPLY, form_data(birth_date="2008-10-15"))
    client = world.client("admissions")

    def ages() -> dict:
        page = client.get(url("application_list", intake)).context
        facet = next(f for f in page["facets"] if f.name == "age")
        funnel = client.get(url("intake_detail", intake)).context["funnel"]["by_age"]
        # Applied, by band (an erasure on request withdraws the application too).
        applied = [row["applied"] for _band, row in funnel]
        return {"facet": {v: n for v, _l, n in facet.options}, "funnel": applied}

    before = ages()
    with scopes_disabled():
        application = Application.objects.get()
    assert application.eligibility == "ineligible"
    erase(world, application)
    assert ages() == before
    export = client.get(url("application_export", intake, fmt="csv"))
    content = export.getvalue().decode("utf-8-sig")
    (row,) = by_column(list(csv.DictReader(io.StringIO(content), delimiter=";")))
    assert row["birth_date"] == "2008"  # the year only: its day and month are not hers


@pytest.mark.django_db
def test_an_application_erased_by_the_retention_schedule_leaves_the_review_queue(world):
    intake = make_open_intake(world.smara)
    Client().post(APPLY, form_data(birth_date="1980-01-01"))  # too old: waits for a review
    client = world.client("admissions")

    def review() -> list[str]:
        page = client.get(url("application_list", intake), {"queue": "review"}).context["page"]
        return [a.reference for a in page]

    with scopes_disabled():
        application = Application.objects.get()
    assert review() == [application.reference]
    long_ago = timezone.now() - datetime.timedelta(days=3 * 365)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(
            status=Intake.Status.CLOSED,
            opens_at=long_ago - datetime.timedelta(days=30),
            closes_at=long_ago,
        )
    assert retention.retention_apply().erased == 1
    assert review() == []
    with scopes_disabled():
        calls = selectors.calls_waiting(world.smara, review=True, offers=False)
    assert [c.review_count for c in calls if c.pk == intake.pk] in ([], [0])
