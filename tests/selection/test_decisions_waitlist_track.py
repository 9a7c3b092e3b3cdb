"""Several tracks: a seat offered from one track's waiting list may be in another track the
applicant wished for. Everything she reads names the track of that seat."""

from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.html import escape
from django_scopes import scope, scopes_disabled

from tests.selection.builders import give_marks, make_closed_intake, make_scheme
from tests.selection.test_decisions import part, space
from tests.selection.test_letters import normalized, pdf_text, read
from tests.selection.test_ranking_runs import run_now
from tremplin.admissions.models import Application, IntakeTrack, Wish
from tremplin.notify.models import Message
from tremplin.selection.decisions import decision_for
from tremplin.selection.letters import letter_batch_start
from tremplin.selection.models import Letter, Offer
from tremplin.selection.offers import offer_accept, offer_decline
from tremplin.selection.ranking import ranking_publish


@pytest.fixture(autouse=True)
def one_process(settings):
    settings.LETTER_WORKERS = 1


@pytest.fixture
def moved(world):
    """Eight applicants, each wishing web then data; web has 3 seats, data 2, each 2
    waiting places. Composites 20 (no. 1) down to 13 (no. 8): 1, 2, 3 get web; 4, 5 data;
    6 and 7 wait for web, 8 for data. No. 4 declines data: the waiting list is solved again,
    and no. 6, second on no list but first on web's, is offered the data seat."""
    intake = make_closed_intake(world.smara, n=8, tracks=("dev-web", "data"))
    make_scheme(intake, test_threshold=None)
    with scopes_disabled():
        web = IntakeTrack.objects.get(intake=intake, track__code="dev-web")
        data = IntakeTrack.objects.get(intake=intake, track__code="data")
        IntakeTrack.objects.filter(pk=web.pk).update(seats=3, waitlist=2)
        IntakeTrack.objects.filter(pk=data.pk).update(seats=2, waitlist=2)
        for a in intake.applications.order_by("number"):
            Wish.objects.create(application=a, track=web.track, rank=1)
            Wish.objects.create(application=a, track=data.track, rank=2)
        # No. 6 reads French, whatever her number says.
        intake.applications.filter(number=6).update(language="fr")
    marks = [20, 19, 18, 17, 16, 15, 14, 13]
    give_marks(intake, {"test": marks, "interview": marks})
    director = world.users["director"]
    run = run_now(intake, director)
    with scope(school=intake.school):
        ranking_publish(run=run, actor=director, comment="Jury")
    with scopes_disabled():
        fourth = Offer.objects.get(application__intake=intake, application__number=4)
        sixth = Application.objects.get(intake=intake, number=6)
    offer_decline(offer=fourth, channel=Offer.Channel.APPLICANT)
    with scopes_disabled():
        offer = Offer.objects.select_related("pool__track").get(application=sixth)
    assert (offer.origin, offer.pool.track_id) == (Offer.Origin.WAITLIST, data.pk)
    return intake, run, sixth, web, data


def test_the_decision_is_about_the_track_of_the_seat_offered_from_the_waiting_list(moved):
    intake, run, sixth, web, data = moved
    with scope(school=intake.school):
        decision = decision_for(sixth)
    assert decision.result.track_id == web.pk  # waiting for web at publication
    assert decision.status == "offer" and decision.track == data.track
    # Data's figures, not web's: its seats, its cut-off (no. 5), her rank among its wishes.
    assert decision.seats == 2 and decision.cutoff == Decimal("16.00")
    assert decision.rank == 6 and decision.ranked == run.summary["ranked"][str(data.pk)]
    assert [(w.track, w.outcome) for w in decision.wishes] == [
        (web.track, "waiting"),
        (data.track, "assigned"),
    ]


def test_her_space_says_she_is_admitted_to_that_track_and_obtained_that_wish(moved):
    intake, _run, sixth, web, data = moved
    body = space(intake, 6, "en")
    assert escape(f"You are admitted to “{data.track.name}”.") in part(body, "decision-status")
    assert f'<dd class="col-sm-7">{escape(data.track.name)}</dd>' in body
    first, second = body.split("Your wishes", 1)[1].split("</ol>", 1)[0].split("</li>")[:2]
    assert escape(web.track.name) in first and "below the cut-off of this track" in first
    assert "waiting list" not in first  # she holds a seat: she waits no more
    assert escape(data.track.name) in second and "obtained" in second

    # Once accepted (and enrolled there), the space still names the track of her seat.
    with scopes_disabled():
        offer = Offer.objects.get(application=sixth)
    offer_accept(offer=offer, channel=Offer.Channel.APPLICANT)
    body = space(intake, 6, "en")
    assert f'<dd class="col-sm-7">{escape(data.track.name)}</dd>' in body
    facts = body.split('data-testid="decision-explanation"', 1)[1].split("Your wishes", 1)[0]
    assert escape(data.track.name) in facts and escape(web.track.name) not in facts


def test_her_letter_sms_and_email_name_the_track_of_the_seat_offered(
    moved, django_capture_on_commit_callbacks
):
    intake, _run, sixth, web, data = moved
    with django_capture_on_commit_callbacks(execute=True):
        letter_batch_start(
            intake=intake, kind=Letter.Kind.DECISION, application_ids=[sixth.pk], notify=True
        )
    with translation.override("fr"):
        admitted = translation.gettext("You are admitted to the track “%(track)s”.")
        says_data = admitted % {"track": data.track.name}
        says_web = admitted % {"track": web.track.name}
    with scopes_disabled():
        email = Message.objects.get(channel="email", object_id=str(sixth.pk), template="decision")
        letter = Letter.objects.get(application=sixth, kind=Letter.Kind.DECISION)
    assert says_data in email.body and says_web not in email.body
    text = normalized(pdf_text(read(letter)))
    assert normalized(says_data) in text and normalized(says_web) not in text
