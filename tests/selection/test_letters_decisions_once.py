"""Decision letters overlap: publication starts a batch for every applicant, and each offer
from the waiting list one more, which may be queued (or run) before the publication's. An
applicant is told each decision once, whichever batch tells it, and every new one."""

import datetime

import pytest
from django_scopes import scopes_disabled

from tests.selection.letters_world import applications, publish_run, selection_intake
from tremplin.notify.models import Message
from tremplin.selection.letters import letter_batch_run, letter_batch_start
from tremplin.selection.models import Letter, LetterBatch, Offer
from tremplin.selection.offers import offer_decline, offers_expire

Kind = Letter.Kind


@pytest.fixture(autouse=True)
def one_process(settings):
    settings.LETTER_WORKERS = 1


@pytest.fixture
def published(world):
    """Six applicants: no. 1 holds a live offer, no. 2 accepted hers, 3 and 4 wait, in that
    order, 5 is not retained and 6 is ineligible. Two seats."""
    intake = selection_intake(world.smara)
    publish_run(intake, world.users["admissions"])
    return intake


def queued(intake, apps) -> LetterBatch:
    """A batch of decision letters, queued and not run yet (its transaction never commits)."""
    return letter_batch_start(
        intake=intake, kind=Kind.DECISION, application_ids=[a.pk for a in apps], notify=True
    )


def run(batch: LetterBatch) -> None:
    with scopes_disabled():
        LetterBatch.objects.filter(pk=batch.pk).update(status=LetterBatch.Status.PENDING)
    letter_batch_run(batch_id=batch.pk)


def told(application) -> list[str]:
    """The decision SMS the applicant received, oldest first."""
    with scopes_disabled():
        return list(
            Message.objects.filter(
                template=Kind.DECISION, channel=Message.Channel.SMS, object_id=str(application.pk)
            )
            .order_by("pk")
            .values_list("body", flat=True)
        )


def emails(application) -> int:
    with scopes_disabled():
        return Message.objects.filter(
            template=Kind.DECISION, channel=Message.Channel.EMAIL, object_id=str(application.pk)
        ).count()


def decline_first_offer(apps) -> Offer:
    """No. 1 declines: her seat goes to no. 3, first on the waiting list, whose decision
    letter is queued with the offer."""
    with scopes_disabled():
        offer = Offer.objects.get(application=apps[0])
    offer_decline(offer=offer, channel=Offer.Channel.APPLICANT)
    with scopes_disabled():
        return Offer.objects.get(application=apps[2], status=Offer.Status.LIVE)


def test_the_publication_batch_run_after_a_waiting_list_batch_does_not_tell_the_offer_twice(
    published,
):
    apps = applications(published)
    publication = queued(published, apps)
    decline_first_offer(apps)
    with scopes_disabled():
        from_waitlist = LetterBatch.objects.latest("pk")
    assert from_waitlist.pk > publication.pk and from_waitlist.application_ids == [apps[2].pk]

    # The worker takes them in order; both find no. 3 offered a seat.
    run(publication)
    run(from_waitlist)
    third = apps[2]
    assert len(told(third)) == 1 and emails(third) == 1
    assert third.language == "fr" and "votre candidature est retenue !" in told(third)[0]
    with scopes_disabled():
        assert Letter.objects.get(application=third, kind=Kind.DECISION).batch_id == (
            from_waitlist.pk
        )
    # Everyone heard once, and a batch run again (a retry) tells nobody again.
    assert [len(told(a)) for a in apps] == [1] * 6
    run(publication)
    run(from_waitlist)
    assert len(told(third)) == 1 and emails(third) == 1


def test_each_new_decision_is_told_and_the_same_one_never_again(published):
    apps = applications(published)
    third = apps[2]
    run(queued(published, apps))  # publication: no. 3 is told she waits
    assert len(told(third)) == 1
    offer = decline_first_offer(apps)
    with scopes_disabled():
        from_waitlist = LetterBatch.objects.latest("pk")
    run(from_waitlist)  # a new decision: a seat is offered
    assert len(told(third)) == 2 and emails(third) == 2

    run(queued(published, [third]))  # the same decision, by another batch: nothing
    assert len(told(third)) == 2 and emails(third) == 2

    offers_expire(now=offer.deadline + datetime.timedelta(minutes=1))
    with scopes_disabled():
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.EXPIRED
    run(queued(published, [third]))  # a new decision again: the offer expired
    assert len(told(third)) == 3 and emails(third) == 3
