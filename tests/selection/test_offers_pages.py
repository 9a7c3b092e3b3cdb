"""The offer pages: the applicant's answer in their space, and the staff offers page."""

import datetime

from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.selection.offers_world import (
    app,
    offer_of,
    pool_of,
)
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.selection.models import Offer, SeatPool


def applicant_client(application, language="fr") -> Client:
    client = Client(headers={"accept-language": language})
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    return client


def offers_url(intake) -> str:
    return reverse("selection:offers", args=[intake.school.slug, intake.slug])


def test_the_applicant_accepts_from_their_space_and_a_second_click_is_calm(intake):
    application = app(intake, 2)
    offer = offer_of(application)
    client = applicant_client(application)
    url = reverse("selection:applicant_offer_accept", args=[offer.pk])
    first = client.post(url, follow=True)
    second = client.post(url, follow=True)
    assert first.status_code == second.status_code == 200
    assert [m.level_tag for m in first.context["messages"]] == ["success"]
    assert [m.level_tag for m in second.context["messages"]] == ["info"]
    assert offer_of(application).status == "accepted"
    assert pool_of(intake).accepted == 1


def test_an_applicant_cannot_answer_someone_elses_offer(intake):
    offer = offer_of(app(intake, 2))
    client = applicant_client(app(intake, 4))
    url = reverse("selection:applicant_offer_accept", args=[offer.pk])
    assert client.post(url).status_code == 404
    assert offer_of(app(intake, 2)).status == "live"


def test_declining_needs_a_confirmation_and_then_calls_the_next(intake, letters):
    application = app(intake, 2)
    offer = offer_of(application)
    client = applicant_client(application)
    url = reverse("selection:applicant_offer_decline", args=[offer.pk])
    page = client.post(url, {})  # no confirmation: the confirmation page
    assert page.status_code == 200 and b'name="confirm" value="yes"' in page.content
    assert offer_of(application).status == "live"
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:space")
    with scopes_disabled():
        assert Offer.objects.get(pk=offer.pk).status == "declined"
    assert offer_of(app(intake, 3)) is not None
    assert letters.application_ids == [app(intake, 3).pk]


def test_a_late_click_says_the_deadline_has_passed(intake):
    application = app(intake, 2)
    offer = offer_of(application)
    with scopes_disabled():
        Offer.objects.filter(pk=offer.pk).update(deadline=timezone.now())
    client = applicant_client(application)
    response = client.post(
        reverse("selection:applicant_offer_accept", args=[offer.pk]), follow=True
    )
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert offer_of(application).status == "live"


def test_the_staff_page_shows_seats_offers_and_the_waiting_list(world, intake):
    client = world.client("admissions")
    response = client.get(offers_url(intake))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="offer-row"') == 4
    assert 'data-testid="pool-free">0<' in html
    assert response.context["waiting"][0].application.number == 3
    with scopes_disabled():
        references = [a.reference for a in intake.applications.filter(number__in=[3, 8, 5, 10])]
    for reference in references:
        assert reference in html


def test_the_staff_page_does_not_query_per_offer(world, intake):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client("admissions")
    client.get(offers_url(intake))  # warm the session and the user

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(offers_url(intake)).status_code == 200
        return len(captured)

    four = queries()
    with scopes_disabled():
        SeatPool.objects.filter(intake=intake).update(seats=F("seats") + 4)
    client.post(reverse("selection:offer_fill", args=[intake.school.slug, intake.slug]))
    with scopes_disabled():
        assert Offer.objects.filter(pool__intake=intake).count() == 8
    assert queries() == four <= 20


def test_a_phone_answer_without_a_reason_is_refused_and_changes_nothing(world, intake):
    offer = offer_of(app(intake, 2))
    client = world.client("admissions")
    url = reverse("selection:offer_answer", args=[intake.school.slug, offer.pk])
    response = client.post(url, {"answer": "accept", "reason": ""})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert offer_of(app(intake, 2)).status == "live"
    response = client.post(url, {"answer": "accept", "reason": "Called on Monday at 10:00"})
    assert response.status_code == 302
    offer = offer_of(app(intake, 2))
    assert offer.status == "accepted" and offer.channel == "phone"
    assert offer.answered_by == world.users["admissions"]


def test_staff_promote_by_hand_from_the_page(world, intake, letters):
    with scopes_disabled():
        SeatPool.objects.filter(intake=intake).update(seats=F("seats") + 1)
    client = world.client("director")
    url = reverse("selection:offer_promote", args=[intake.school.slug, intake.slug])
    reference = app(intake, 5).reference
    refused = client.post(url, {"reference": reference, "reason": ""})
    assert refused.status_code == 400 and offer_of(app(intake, 5)) is None
    response = client.post(url, {"reference": reference, "reason": "Jury minutes"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    offer = offer_of(app(intake, 5))
    assert offer.origin == "manual" and offer.reason == "Jury minutes"
    assert letters.application_ids == [offer.application_id]


def test_another_schools_officer_cannot_answer_an_offer(world, intake):
    offer = offer_of(app(intake, 2))
    client = world.client("other_admissions")
    url = reverse("selection:offer_answer", args=[world.other.slug, offer.pk])
    assert client.post(url, {"answer": "decline", "reason": "x"}).status_code == 404
    assert offer_of(app(intake, 2)).status == "live"


def test_the_offer_block_shows_the_deadline_in_moroccan_time_in_each_language(intake):
    application = app(intake, 2)
    offer = offer_of(application)
    deadline = datetime.datetime(2025, 9, 15, 23, 30, tzinfo=datetime.UTC)
    with scopes_disabled():
        Offer.objects.filter(pk=offer.pk).update(deadline=deadline)
    from django.template.loader import render_to_string
    from django.utils import translation

    from tremplin.selection.decisions import decision_for

    with scopes_disabled():
        decision = decision_for(application)
    for language, expected in (
        ("fr", "16 septembre 2025"),
        ("ar", "16 شتنبر 2025"),
        ("en", "16 September 2025"),
    ):
        with translation.override(language):
            html = render_to_string("selection/portal/_offer_actions.html", {"decision": decision})
        # 23:30 UTC is 00:30 the next day in Casablanca (UTC+1).
        assert expected in html and "00:30" in html, (language, html)
        assert reverse("selection:applicant_offer_accept", args=[offer.pk]) in html
