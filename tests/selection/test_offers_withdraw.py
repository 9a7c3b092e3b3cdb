"""Staff take an offer back (false information found later, an offer made by mistake): the
seat goes to the next in the call order, an enrolment ends, and nothing happens twice.

The call of the `intake` fixture: 4 seats offered to 2, 4, 1 and 6; 3, 8, 5 and 10 wait.
"""

import re

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.selection.offers_world import app, offer_of, pool_of
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message
from tremplin.selection.models import Offer, SeatPool
from tremplin.selection.offers import OfferError, offer_accept, offer_decline, offer_withdraw
from tremplin.selection.waitlist import waitlist_promote
from tremplin.training.models import Enrolment

WITHDRAWN = "tremplin.selection.offer_withdrawn"


def withdrawals() -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.filter(action=WITHDRAWN).order_by("pk"))


def offer_by_pk(pk: int) -> Offer:
    with scopes_disabled():
        return Offer.objects.get(pk=pk)


def withdraw_url(intake, offer) -> str:
    return reverse("selection:offer_withdrawal", args=[intake.school.slug, offer.pk])


def offers_url(intake) -> str:
    return reverse("selection:offers", args=[intake.school.slug, intake.slug])


# --- The service -----------------------------------------------------------------------


def test_taking_back_a_live_offer_frees_its_seat_for_the_next_on_the_waiting_list(
    world, intake, letters
):
    officer = world.users["admissions"]
    offer = offer_of(app(intake, 2))

    answer = offer_withdraw(offer=offer, actor=officer, reason="  Lives outside the province ")

    assert answer.changed
    offer = offer_by_pk(offer.pk)
    assert offer.status == "cancelled" and offer.reason == "Lives outside the province"
    assert offer.answered_by == officer and offer.answered_at is not None
    assert offer.channel == ""  # no answer of the applicant: the school acted
    assert offer_of(app(intake, 2)) is None
    called = offer_of(app(intake, 3))  # first on the waiting list
    assert called.status == "live" and called.origin == "waitlist"
    assert letters.application_ids == [app(intake, 3).pk]
    pool = pool_of(intake)
    assert (pool.seats, pool.live, pool.accepted) == (4, 4, 0)
    [event] = withdrawals()
    assert event.actor == officer and event.reason == "Lives outside the province"
    assert event.data["held"] == "live" and event.data["enrolment_ended"] is False


def test_taking_back_an_accepted_offer_frees_the_accepted_seat_and_ends_the_enrolment(
    world, intake, letters
):
    offer = offer_of(app(intake, 2))
    offer_accept(offer=offer, channel="applicant")
    assert (pool_of(intake).live, pool_of(intake).accepted) == (3, 1)

    answer = offer_withdraw(offer=offer, actor=world.users["director"], reason="False age")

    assert answer.changed and answer.offer.status == "cancelled"
    pool = pool_of(intake)
    assert (pool.live, pool.accepted) == (4, 0)  # the freed seat went to 3 at once
    assert offer_of(app(intake, 3)).status == "live"
    assert letters.application_ids == [app(intake, 3).pk]
    with scopes_disabled():
        enrolment = Enrolment.objects.get(offer=offer)
    assert enrolment.status == Enrolment.Status.DROPPED_OUT
    [event] = withdrawals()
    assert event.data["held"] == "accepted" and event.data["enrolment_ended"] is True


def test_the_applicant_is_told_in_their_language_on_each_channel_without_the_reason(
    world, intake, letters
):
    taken = app(intake, 2)
    with scopes_disabled():
        type(taken).objects.filter(pk=taken.pk).update(language="ar", email="f@example.ma")
    offer = offer_of(taken)
    offer_withdraw(offer=offer, actor=world.users["director"], reason="Fausse adresse")
    offer_withdraw(offer=offer, actor=world.users["admissions"], reason="Again")  # no change

    with scopes_disabled():
        sent = list(Message.objects.filter(template="offer_withdrawn").order_by("channel"))
    assert [(m.channel, m.recipient, m.language) for m in sent] == [
        ("email", "f@example.ma", "ar"),
        ("sms", taken.phone, "ar"),
    ]
    for message in sent:
        assert message.object_id == str(taken.pk) and taken.reference in message.body
        assert "Fausse adresse" not in message.body + message.subject
    assert "سحبت المدرسة المقعد" in sent[0].body
    assert len(sent[1].body) < 160 and "المدرسة" in sent[1].body


def test_a_reason_and_a_member_of_staff_are_required_and_nothing_changes_without_them(
    world, intake, letters
):
    offer = offer_of(app(intake, 2))
    for actor, reason in ((world.users["admissions"], "  "), (None, "False address")):
        with pytest.raises(OfferError):
            offer_withdraw(offer=offer, actor=actor, reason=reason)
    assert offer_by_pk(offer.pk).status == "live"
    assert (pool_of(intake).live, pool_of(intake).accepted) == (4, 0)
    assert withdrawals() == [] and letters.calls == []


def test_taking_back_twice_changes_it_once_and_calls_one_person(world, intake, letters):
    offer = offer_of(app(intake, 2))
    first = offer_withdraw(offer=offer, actor=world.users["director"], reason="Mistake")
    again = offer_withdraw(offer=offer, actor=world.users["admissions"], reason="Mistake")
    assert first.changed and not again.changed
    assert again.offer.status == "cancelled" and again.offer.answered_by == world.users["director"]
    assert len(withdrawals()) == 1
    assert letters.application_ids == [app(intake, 3).pk]
    assert (pool_of(intake).live, pool_of(intake).accepted) == (4, 0)


def test_an_offer_the_applicant_already_declined_is_not_taken_back(world, intake, letters):
    offer = offer_of(app(intake, 2))
    offer_decline(offer=offer, channel="applicant")
    answer = offer_withdraw(offer=offer, actor=world.users["director"], reason="Mistake")
    assert not answer.changed and answer.offer.status == "declined"
    assert withdrawals() == []
    assert letters.application_ids == [app(intake, 3).pk]  # by the decline only


def test_an_offer_whose_learner_completed_the_training_is_not_taken_back(world, intake):
    offer = offer_of(app(intake, 2))
    offer_accept(offer=offer, channel="applicant")
    with scopes_disabled():
        Enrolment.objects.filter(offer=offer).update(status=Enrolment.Status.COMPLETED)
    with pytest.raises(OfferError):
        offer_withdraw(offer=offer, actor=world.users["director"], reason="False age")
    assert offer_by_pk(offer.pk).status == "accepted"
    assert pool_of(intake).accepted == 1 and withdrawals() == []


def test_someone_taken_back_then_promoted_again_by_hand_can_accept_and_is_enrolled_again(
    world, intake, letters
):
    """Taken back by mistake: a waitlisted applicant called, accepted, taken back and then
    promoted again by hand gets their one enrolment back when they accept."""
    officer = world.users["director"]
    offer_decline(offer=offer_of(app(intake, 2)), channel="applicant")  # 3 is called
    called = offer_of(app(intake, 3))
    offer_accept(offer=called, channel="applicant")
    offer_withdraw(offer=called, actor=officer, reason="Lives outside the province, we thought")
    with scopes_disabled():
        SeatPool.objects.filter(intake=intake).update(seats=F("seats") + 1)

    again = waitlist_promote(application=app(intake, 3), actor=officer, reason="Address proven")
    assert offer_accept(offer=again, channel="applicant").changed

    with scopes_disabled():
        enrolment = Enrolment.objects.get(application=app(intake, 3))
    assert enrolment.offer_id == again.pk and enrolment.status == Enrolment.Status.ACTIVE


def test_after_the_offer_is_taken_back_the_applicants_click_is_refused_calmly(world, intake):
    application = app(intake, 2)
    offer = offer_of(application)
    offer_withdraw(offer=offer, actor=world.users["director"], reason="False address")
    client = Client(headers={"accept-language": "en"})
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    response = client.post(
        reverse("selection:applicant_offer_accept", args=[offer.pk]), follow=True
    )
    assert [str(m) for m in response.context["messages"]] == ["This offer was withdrawn."]
    assert offer_by_pk(offer.pk).status == "cancelled"
    with scopes_disabled():
        assert not Enrolment.objects.filter(application=application).exists()


# --- The page --------------------------------------------------------------------------


def rows(html: str) -> dict[str, str]:
    """The offers table's rows by status and reference: 'status reference' -> row html."""
    found = {}
    for row in re.findall(r'<tr data-testid="offer-row".*?</tr>', html, re.S):
        reference = re.search(r'data-reference="([^"]+)"', row).group(1)
        status = re.search(r'data-status="([^"]+)"', row).group(1)
        found[f"{status} {reference}"] = row
    return found


def test_the_page_offers_to_take_back_live_and_accepted_offers_only(world, intake, letters):
    offer_accept(offer=offer_of(app(intake, 2)), channel="applicant")
    offer_decline(offer=offer_of(app(intake, 4)), channel="applicant")  # 3 is called
    offer_withdraw(offer=offer_of(app(intake, 1)), actor=world.users["director"], reason="x")
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    html = client.get(offers_url(intake)).content.decode()
    by_status = rows(html)
    assert sorted(key.split()[0] for key in by_status) == [
        "accepted", "cancelled", "declined", "live", "live", "live",
    ]  # fmt: skip
    for key, row in by_status.items():
        status, _ = key.split()
        assert ('data-testid="offer-withdraw"' in row) == (status in ("live", "accepted")), key
        assert ('name="answer"' in row) == (status == "live"), key
    accepted = next(row for key, row in by_status.items() if key.startswith("accepted"))
    offer = offer_of(app(intake, 2))
    assert f'action="{withdraw_url(intake, offer)}"' in accepted
    cancelled = next(row for key, row in by_status.items() if key.startswith("cancelled"))
    assert "withdrawn by the school" in cancelled


def test_staff_take_an_offer_back_from_the_page_and_a_second_click_is_calm(world, intake):
    offer = offer_of(app(intake, 2))
    client = world.client("director")
    first = client.post(withdraw_url(intake, offer), {"reason": "Gave a false CIN"}, follow=True)
    second = client.post(withdraw_url(intake, offer), {"reason": "Gave a false CIN"}, follow=True)
    assert first.redirect_chain == [(offers_url(intake), 302)]
    assert [m.level_tag for m in first.context["messages"]] == ["success"]
    assert [m.level_tag for m in second.context["messages"]] == ["info"]
    offer = offer_by_pk(offer.pk)
    assert offer.status == "cancelled" and offer.reason == "Gave a false CIN"
    assert offer.answered_by == world.users["director"]
    assert len(withdrawals()) == 1


def test_without_a_reason_the_page_says_so_and_nothing_changes(world, intake, letters):
    offer = offer_of(app(intake, 2))
    response = world.client("admissions").post(withdraw_url(intake, offer), {"reason": " "})
    assert response.status_code == 400
    row = rows(response.content.decode())[f"live {app(intake, 2).reference}"]
    assert "errorlist" in row and re.search(r'<details class="tp-offer-withdraw" open>', row)
    assert offer_by_pk(offer.pk).status == "live"
    assert (pool_of(intake).live, pool_of(intake).accepted) == (4, 0)
    assert withdrawals() == [] and letters.calls == []


def test_a_completed_training_is_refused_with_a_message(world, intake):
    offer = offer_of(app(intake, 2))
    offer_accept(offer=offer, channel="applicant")
    with scopes_disabled():
        Enrolment.objects.filter(offer=offer).update(status=Enrolment.Status.COMPLETED)
    response = world.client("director").post(
        withdraw_url(intake, offer), {"reason": "False age"}, follow=True
    )
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert offer_by_pk(offer.pk).status == "accepted"


@pytest.mark.parametrize("persona", ["juror", "other_admissions", "other_director", "coordinator"])
def test_only_the_schools_ranking_staff_take_an_offer_back(world, intake, persona):
    offer = offer_of(app(intake, 2))
    slug = world.other.slug if persona.startswith("other") else intake.school.slug
    url = reverse("selection:offer_withdrawal", args=[slug, offer.pk])
    response = world.client(persona).post(url, {"reason": "False address"})
    assert response.status_code == 404
    assert offer_by_pk(offer.pk).status == "live" and withdrawals() == []


def test_the_applicant_whose_offer_was_taken_back_reads_so_not_that_she_still_waits(
    world, intake, letters
):
    """Called from the waiting list, then taken back: she is out of the list (the fills
    never call again someone offered once), and her space says what happened."""
    from tremplin.selection.decisions import decision_for

    officer = world.users["admissions"]
    offer_withdraw(offer=offer_of(app(intake, 2)), actor=officer, reason="Erreur")
    called = app(intake, 3)  # called from the waiting list in 2's place
    offer_withdraw(offer=offer_of(called), actor=officer, reason="Fausse adresse")
    with scopes_disabled():
        taken = [decision_for(app(intake, n)) for n in (2, 3)]
        still_waiting = decision_for(app(intake, 10))
    assert [d.status for d in taken] == ["taken_back", "taken_back"]
    # Those who still wait are not counted behind her.
    assert still_waiting.status == "waitlisted" and still_waiting.ahead is not None
    client = Client()
    client.cookies["django_language"] = "en"
    session = client.session
    session[SESSION_APPLICANT] = called.pk
    session.save()
    page = client.get(reverse("portal:space")).content.decode()
    assert "The school withdrew the seat it had offered you" in page
    assert "You are on the waiting list" not in page


def test_the_offer_of_an_erased_application_is_taken_back_without_telling_anyone(
    world, intake, letters
):
    """Erased before the expiry sweep cancelled its offer: nobody to tell (the phone is
    gone), and the page takes the offer back rather than failing."""
    from tremplin.admissions.personal_data import application_erase

    erased = app(intake, 2)
    offer = offer_of(erased)
    with scopes_disabled():
        application_erase(application=erased, actor=world.users["director"], reason="Demande")
    response = world.client("director").post(
        withdraw_url(intake, offer), {"reason": "Erased"}, follow=True
    )
    assert response.status_code == 200
    assert offer_by_pk(offer.pk).status == "cancelled"
    with scopes_disabled():
        assert not Message.objects.filter(template="offer_withdrawn").exists()
