"""The selection scheme: its default, the page that edits it, its rules, its audit, its lock."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.selection.builders import give_marks, make_closed_intake
from tremplin.core.models import AuditEvent
from tremplin.selection.models import Component, Quota, RankingRun, SelectionScheme
from tremplin.selection.schemes import scheme_get_or_create


@pytest.fixture
def intake(world):
    return make_closed_intake(world.smara, n=4, seats=6, waitlist=4)


def url(intake, name="selection:scheme"):
    return reverse(name, args=[intake.school.slug, intake.slug])


def scheme_of(intake) -> SelectionScheme:
    with scope(school=intake.school):
        return scheme_get_or_create(intake)


def form_data(scheme, *, components=None, quotas=(), seats=(6, 4), ties=("interview", "test"),
              **settings) -> dict:  # fmt: skip
    """The POST of the scheme page: the current components unless given, and the rest."""
    with scopes_disabled():
        if components is None:
            components = [
                {"id": c.pk, "code": c.code, "kind": c.kind, "name": c.name,
                 "name_ar": c.name_ar, "weight": c.weight, "threshold": c.threshold or "",
                 "absence": c.absence, "position": c.position}
                for c in scheme.components.all()
            ]  # fmt: skip
    data = {
        "s-offer_hours": settings.get("offer_hours", 72),
        "s-disagreement_threshold": settings.get("disagreement_threshold", "4"),
        "c-TOTAL_FORMS": len(components),
        "c-INITIAL_FORMS": sum(1 for c in components if c.get("id")),
        "q-TOTAL_FORMS": len(quotas),
        "q-INITIAL_FORMS": sum(1 for q in quotas if q.get("id")),
        "t-seats": seats[0],
        "t-waitlist": seats[1],
    }
    for k, code in enumerate(ties, start=1):
        data[f"s-tie_{k}"] = code
    for i, c in enumerate(components):
        for key, value in c.items():
            data[f"c-{i}-{key}"] = "" if value is None else value
    for i, q in enumerate(quotas):
        for key, value in q.items():
            data[f"q-{i}-{key}"] = "" if value is None else value
    return data


def test_a_new_scheme_has_a_written_test_weight_1_and_an_interview_weight_2(world, intake):
    scheme = scheme_of(intake)
    with scopes_disabled():
        components = {c.code: c for c in scheme.components.all()}
    assert components["test"].weight == Decimal(1)
    assert components["interview"].weight == Decimal(2)
    assert scheme.tie_break == ["interview", "test"]
    assert scheme_of(intake).pk == scheme.pk  # asked again, the same one


def test_the_page_shows_the_scheme_and_its_seed(world, intake):
    scheme = scheme_of(intake)
    response = world.client("admissions").get(url(intake))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Entretien" in body and "الاختبار الكتابي" in body
    assert str(scheme.lottery_seed) in body


def test_saving_changes_weights_thresholds_quotas_seats_and_is_audited(world, intake):
    scheme = scheme_of(intake)
    data = form_data(scheme, quotas=[{"group": "women", "share": "50"}], seats=(8, 3))
    data["c-0-weight"] = "1.5"
    data["c-0-threshold"] = "6"
    data["s-offer_hours"] = 48
    response = world.client("admissions").post(url(intake), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with scopes_disabled():
        test = Component.objects.get(scheme=scheme, code="test")
        assert (test.weight, test.threshold) == (Decimal("1.5"), Decimal(6))
        assert Quota.objects.get(scheme=scheme).share == Decimal(50)
        intake.refresh_from_db()
        assert (intake.seats, intake.waitlist) == (8, 3)
        assert SelectionScheme.objects.get(pk=scheme.pk).offer_hours == 48
        event = AuditEvent.objects.get(action="tremplin.selection.scheme.changed")
    assert event.actor == world.users["admissions"]
    assert event.data["before"]["components"][0]["weight"] == "1.00"
    assert event.data["after"]["components"][0]["weight"] == "1.50"


def test_a_component_can_be_added_and_used_as_a_tie_break(world, intake):
    scheme = scheme_of(intake)
    data = form_data(scheme)
    data.update({"c-TOTAL_FORMS": 3, "c-2-code": "file", "c-2-kind": "file",
                 "c-2-name": "Dossier", "c-2-name_ar": "الملف", "c-2-weight": "1",
                 "c-2-absence": "zero", "c-2-position": "3"})  # fmt: skip
    assert world.client("admissions").post(url(intake), data).status_code == 302
    with scopes_disabled():
        assert Component.objects.filter(scheme=scheme).count() == 3
    data = form_data(scheme, ties=("file", "interview"))
    assert world.client("admissions").post(url(intake), data).status_code == 302
    with scopes_disabled():
        assert SelectionScheme.objects.get(pk=scheme.pk).tie_break == ["file", "interview"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"c-0-weight": "0"}, "The weight must be more than 0."),
        ({"c-0-threshold": "25"}, "A threshold lies between 0 and 20."),
        ({"c-1-code": "test"}, "Each component needs its own code"),
        ({"s-tie_1": "nope"}, "nope"),
        ({"t-seats": "0"}, "At least one seat."),
    ],
)
def test_bad_input_says_why_and_changes_nothing(world, intake, change, message):
    scheme = scheme_of(intake)
    data = form_data(scheme)
    data.update(change)
    response = english(world.client("admissions")).post(url(intake), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with scopes_disabled():
        assert Component.objects.get(scheme=scheme, code="test").weight == Decimal(1)
        assert not AuditEvent.objects.filter(action="tremplin.selection.scheme.changed").exists()


def english(client):
    """Messages are asserted in English, the source language (fr/ar come with the catalogues)."""
    client.cookies["django_language"] = "en"
    return client


def test_shares_lie_between_0_and_100_and_a_group_has_one_quota_per_track(world, intake):
    scheme = scheme_of(intake)
    client = english(world.client("admissions"))
    data = form_data(scheme, quotas=[{"group": "women", "share": "150"}])
    response = client.post(url(intake), data)
    assert response.status_code == 400
    assert "A share lies between 0 and 100 (per cent)." in response.content.decode()
    twice = [{"group": "women", "share": "40"}, {"group": "women", "share": "20"}]
    response = client.post(url(intake), form_data(scheme, quotas=twice))
    assert response.status_code == 400
    assert "A group has two quotas for the same track" in response.content.decode()
    with scopes_disabled():
        assert not Quota.objects.filter(scheme=scheme).exists()


def test_a_component_with_marks_cannot_be_removed(world, intake):
    scheme = scheme_of(intake)
    give_marks(intake, {"test": [10, 11, 12, 13]})
    data = form_data(scheme, ties=("interview",))
    data["c-0-DELETE"] = "on"
    response = english(world.client("admissions")).post(url(intake), data)
    assert response.status_code == 400
    assert "cannot be removed" in response.content.decode()
    with scopes_disabled():
        assert Component.objects.filter(scheme=scheme, code="test").exists()


def test_a_new_seed_is_drawn_and_audited(world, intake):
    scheme = scheme_of(intake)
    before = scheme.lottery_seed
    response = world.client("director").post(url(intake, "selection:scheme_seed"))
    assert response.status_code == 302
    with scopes_disabled():
        assert SelectionScheme.objects.get(pk=scheme.pk).lottery_seed != before
        event = AuditEvent.objects.get(action="tremplin.selection.scheme.seed_drawn")
    assert event.data["before"] == before


def test_once_a_run_is_published_the_scheme_is_read_only_and_says_why(world, intake):
    scheme = scheme_of(intake)
    with scopes_disabled():
        RankingRun.objects.create(
            intake=intake, number=1, status="done", created_by=world.users["director"],
            published_at=intake.closes_at, published_by=world.users["director"],
            publication_comment="Jury du 12",
        )  # fmt: skip
    client = world.client("director")
    page = client.get(url(intake))
    assert 'data-testid="scheme-locked"' in page.content.decode()
    assert "Draw a new seed" not in page.content.decode()
    data = form_data(scheme)
    data["c-0-weight"] = "5"
    assert client.post(url(intake), data).status_code == 400
    client.post(url(intake, "selection:scheme_seed"))
    with scopes_disabled():
        assert Component.objects.get(scheme=scheme, code="test").weight == Decimal(1)
        assert SelectionScheme.objects.get(pk=scheme.pk).lottery_seed == scheme.lottery_seed


def test_the_page_works_in_arabic_right_to_left(world, intake):
    client = world.client("director")
    client.cookies["django_language"] = "ar"
    response = client.get(url(intake))
    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()


def test_with_several_tracks_seats_are_per_track_and_one_quota_group_per_track(world):
    from tremplin.admissions.models import IntakeTrack

    intake = make_closed_intake(world.smara, n=2, tracks=("dev-web", "data"))
    scheme = scheme_of(intake)
    with scopes_disabled():
        web, data = IntakeTrack.objects.filter(intake=intake).order_by("track__code")[::-1]
    form = form_data(scheme)
    del form["t-seats"], form["t-waitlist"]
    form.update({f"t-seats_{web.pk}": 40, f"t-waitlist_{web.pk}": 20,
                 f"t-seats_{data.pk}": 30, f"t-waitlist_{data.pk}": 10})  # fmt: skip
    client = english(world.client("director"))
    assert client.post(url(intake), form).status_code == 302
    with scopes_disabled():
        assert IntakeTrack.objects.get(pk=web.pk).waitlist == 20
        intake.refresh_from_db()
        assert (intake.seats, intake.waitlist) == (70, 30)  # the tracks' sums
    # Women on every track and NEET on data: data would have two groups.
    quotas = [{"group": "women", "share": "50"}, {"group": "neet", "share": "30",
                                                   "track": data.pk}]  # fmt: skip
    form = form_data(scheme, quotas=quotas)
    del form["t-seats"], form["t-waitlist"]
    form.update({f"t-seats_{web.pk}": 40, f"t-waitlist_{web.pk}": 20,
                 f"t-seats_{data.pk}": 30, f"t-waitlist_{data.pk}": 10})  # fmt: skip
    response = client.post(url(intake), form)
    assert response.status_code == 400
    assert "each track can have one quota group only" in response.content.decode()
    # A track's own quota of the same group replaces the call-wide one: accepted.
    form["q-1-group"] = "women"
    assert client.post(url(intake), form).status_code == 302
