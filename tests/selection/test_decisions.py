"""What the applicant reads in their space once a run is published, in French and Arabic."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import escape
from django_scopes import scope, scopes_disabled

from tests.selection.builders import give_marks, make_closed_intake, make_scheme
from tests.selection.test_ranking_runs import run_now
from tremplin.admissions.models import Application
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.selection.decisions import REASON_TEXTS, decision_for
from tremplin.selection.models import Offer, RankingRun
from tremplin.selection.ranking import ranking_publish

pytest.importorskip("tremplin.selection.offers")
pytest.importorskip("tremplin.selection.letters")

# Test 1, interview 2, eliminatory below 8 in the test. Merit: 4 (16.00), 9 (14.33),
# 1 (13.33, interview 14), 7 (13.33, interview 13), 10 (12.00), 2 (11.67), 5, 6, 8; no. 3
# is below the threshold (7). Seats 3, waiting list 2.
TEST = [12, 15, 7, 16, 10, 11, 14, 9, 13, 12]
INTERVIEW = [14, 10, 18, 16, 12, 11, 13, 9, 15, 12]


def say(language: str, english: str) -> str:
    with translation.override(language):
        return translation.gettext(english)


@pytest.fixture
def published(world):
    intake = make_closed_intake(world.smara, n=10, seats=3, waitlist=2)
    make_scheme(intake, test_threshold=Decimal(8))
    give_marks(intake, {"test": TEST, "interview": INTERVIEW})
    with scopes_disabled():
        Application.objects.filter(intake=intake, number=8).update(eligibility="ineligible")
    run = run_now(intake, world.users["director"])
    with scope(school=intake.school):
        ranking_publish(run=run, actor=world.users["director"], comment="Jury")
    return intake


def space(intake, number: int, language: str) -> str:
    with scopes_disabled():
        application = Application.objects.get(intake=intake, number=number)
    client = Client()
    client.cookies["django_language"] = language
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    response = client.get(reverse("portal:space"))
    assert response.status_code == 200
    return response.content.decode()


def part(body: str, testid: str) -> str:
    """The element marked `testid`, up to the next marked one."""
    return body.split(f'data-testid="{testid}"', 1)[1].split("data-testid=", 1)[0]


LANGUAGES = ["fr", "ar"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_admitted_applicant_sees_the_offer_marks_rank_cutoff_and_seed(
    world, published, language
):
    body = space(published, 9, language)
    assert say(language, "You are admitted.") in part(body, "decision-status")
    assert 'data-testid="offer-accept"' in body  # the offers part's actions
    assert len(body.split('data-testid="decision-mark"')) == 3  # test and interview
    with translation.override(language):
        composite = formats.number_format(Decimal("14.33"))
        cutoff = formats.number_format(Decimal("13.33"))  # no. 1, the last admitted
        rank = translation.gettext("%(rank)s of %(ranked)s ranked applicants") % {
            "rank": 2,
            "ranked": 8,
        }
    assert composite in part(body, "decision-composite")
    assert rank in part(body, "decision-rank")
    assert cutoff in part(body, "decision-cutoff")
    assert ">2025<" in body  # the published seed
    assert f'dir="{"rtl" if language == "ar" else "ltr"}"' in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_waitlisted_applicant_sees_their_position_and_how_many_are_ahead(
    world, published, language
):
    body = space(published, 10, language)  # 5th in merit: second on the waiting list
    assert "2" in part(body, "decision-status")
    with translation.override(language):
        ahead = translation.ngettext(
            "Today, %(ahead)s person is still ahead of you.",
            "Today, %(ahead)s people are still ahead of you.",
            1,
        ) % {"ahead": 1}
    assert ahead in body
    # The first on the list leaves: nobody is ahead any more.
    with scopes_disabled():
        Application.objects.filter(intake=published, number=7).update(status="withdrawn")
    body = space(published, 10, language)
    with translation.override(language):
        nobody = translation.gettext("Today, nobody is ahead of you on the list.")
        zero = translation.ngettext(
            "Today, %(ahead)s person is still ahead of you.",
            "Today, %(ahead)s people are still ahead of you.",
            0,
        ) % {"ahead": 0}
    assert nobody in part(body, "decision-ahead")
    assert zero not in body  # not "0 people are still ahead of you"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("number", "reason"), [(3, "below_threshold"), (5, "beyond_waitlist")])
def test_a_not_retained_applicant_reads_the_reason(world, published, language, number, reason):
    body = space(published, number, language)
    assert say(language, "Your application is not retained.") in part(body, "decision-status")
    with translation.override(language):
        assert escape(str(REASON_TEXTS[reason])) in part(body, "decision-reason")
    assert 'data-testid="decision-explanation"' in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_ineligible_applicant_reads_why_without_marks(world, published, language):
    body = space(published, 8, language)
    status = part(body, "decision-status")
    assert say(language, "Your application could not be considered.") in status
    with translation.override(language):
        assert escape(str(REASON_TEXTS["ineligible"])) in part(body, "decision-reason")
    assert 'data-testid="decision-mark"' not in body


def test_nothing_is_shown_before_publication(world):
    intake = make_closed_intake(world.smara, n=3)
    make_scheme(intake)
    run_now(intake, world.users["director"])
    assert 'data-testid="decision"' not in space(intake, 1, "fr")


def test_the_read_model_counts_the_ranked_and_the_quota(world, published):
    with scopes_disabled():
        application = Application.objects.get(intake=published, number=4)
        run = RankingRun.objects.get(intake=published)
    with scope(school=published.school):
        decision = decision_for(application)
    assert decision.status == "offer" and isinstance(decision.offer, Offer)
    assert (decision.rank, decision.ranked, decision.seats) == (1, run.summary["ranked"][""], 3)
    assert decision.ranked == 8  # 10 minus no. 3 (threshold) and no. 8 (ineligible)
    assert decision.cutoff == Decimal("13.33") and decision.seed == 2025
    assert decision.track is None and decision.wishes == ()


def test_the_decision_letter_is_linked_once_rendered(world, published):
    from tremplin.selection.models import Letter

    with scopes_disabled():
        application = Application.objects.get(intake=published, number=5)
    assert "tp-letters" not in space(published, 5, "fr")
    with scopes_disabled():
        letter = Letter.objects.create(
            application=application, kind=Letter.Kind.DECISION, language="fr",
            file="private/letters/x.pdf", pages=1,
        )  # fmt: skip
    body = space(published, 5, "fr")
    assert reverse("selection:applicant_letter", args=[letter.pk]) in body


def test_with_several_tracks_the_applicant_sees_the_track_and_each_wish(world):
    from tremplin.admissions.models import IntakeTrack, Wish

    intake = make_closed_intake(world.smara, n=8, tracks=("dev-web", "data"))
    make_scheme(intake, test_threshold=None)
    with scopes_disabled():
        web, data = IntakeTrack.objects.filter(intake=intake).order_by("track__code")[::-1]
        IntakeTrack.objects.filter(intake=intake).update(seats=2, waitlist=2)
        for a in intake.applications.order_by("number"):
            Wish.objects.create(application=a, track=web.track, rank=1)
            Wish.objects.create(application=a, track=data.track, rank=2)
    marks = [20, 19, 18, 17, 16, 15, 14, 13]
    give_marks(intake, {"test": marks, "interview": marks})
    run = run_now(intake, world.users["director"])
    with scope(school=intake.school):
        ranking_publish(run=run, actor=world.users["director"], comment="Jury")
    # 1, 2 get web; 3, 4 data; 5 and 6 wait for web (their first wish), 7 and 8 for data.
    body = space(intake, 6, "en")
    assert "position 2" in part(body, "decision-status")
    wishes = body.split("Your wishes", 1)[1].split("</ol>", 1)[0]
    first, second = wishes.split("</li>")[:2]
    assert web.track.name in first and "on the waiting list of this track" in first
    assert data.track.name in second and "below the cut-off of this track" in second
    with scopes_disabled():
        application = Application.objects.get(intake=intake, number=6)
    with scope(school=intake.school):
        decision = decision_for(application)
    assert [(w.track, w.preference) for w in decision.wishes] == [(web.track, 1), (data.track, 2)]
    assert decision.track == web.track and decision.seats == 2
    assert decision.ranked == run.summary["ranked"][str(web.pk)] == 8
