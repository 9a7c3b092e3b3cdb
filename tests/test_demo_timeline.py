"""The Smara demo tells its history at its own dates, whatever the day it is loaded: the
selection of Promotion 2025 was over, its offers answered, before its training started on
29 September 2025; its letters and messages were sent then, so loading the demo sends
nothing today; Promotion 2026 is open today and computes ages on a date of its own year."""

import datetime
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tremplin.admissions.models import Application, Intake
from tremplin.admissions.staff_forms import REFERENCE_DATE_SPAN
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.core.formatting import format_date
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message
from tremplin.notify.services import outbox_flush
from tremplin.notify.sms import LocmemSmsBackend
from tremplin.schools.models import School
from tremplin.selection.letters import letter_batch_run
from tremplin.selection.models import Letter, LetterBatch, Offer, RankingRun, SeatPool
from tremplin.selection.offers import offers_expire
from tremplin.training.models import Enrolment

# The first cohort's first day, when the school opened.
TRAINING_STARTS = datetime.date(2025, 9, 29)
SEPTEMBER_2025 = (datetime.date(2025, 9, 1), datetime.date(2025, 9, 30))


def day(moment: datetime.datetime) -> datetime.date:
    """The day of `moment` at the school (Africa/Casablanca)."""
    return timezone.localtime(moment).date()


def in_september_2025(moment: datetime.datetime) -> bool:
    return SEPTEMBER_2025[0] <= day(moment) <= SEPTEMBER_2025[1]


@pytest.mark.django_db
def test_the_school_opened_with_its_first_cohort(demo):
    with scopes_disabled():
        assert School.objects.get(slug="smara").opened_on == TRAINING_STARTS
        assert Intake.objects.get(slug="promotion-2025").reference_date == TRAINING_STARTS


@pytest.mark.django_db
def test_the_2025_runs_are_dated_in_september_and_published_before_the_training(demo):
    with scopes_disabled():
        runs = list(RankingRun.objects.filter(intake__slug="promotion-2025").order_by("number"))
    assert len(runs) == 2
    for run in runs:
        assert in_september_2025(run.created_at) and in_september_2025(run.finished_at)
        assert run.created_at <= run.finished_at
    published = runs[-1]
    assert runs[0].finished_at < published.created_at < published.published_at
    assert day(published.published_at) < TRAINING_STARTS
    # The comment names the committee of the day it was published.
    when = format_date(published.published_at, "long", "fr")
    assert f"comité de sélection du {when}" in published.publication_comment


@pytest.mark.django_db
def test_every_2025_offer_was_answered_before_the_training_started(demo):
    with scopes_disabled():
        offers = list(Offer.objects.filter(application__intake__slug="promotion-2025"))
        assert not Offer.objects.filter(status=Offer.Status.LIVE).exists()
        pools = list(SeatPool.objects.filter(intake__slug="promotion-2025"))
        enrolments = list(Enrolment.objects.filter(cohort__intake__slug="promotion-2025"))
    statuses = {o.status for o in offers}
    assert statuses == {Offer.Status.ACCEPTED, Offer.Status.DECLINED, Offer.Status.EXPIRED}
    for offer in offers:
        assert in_september_2025(offer.created_at)
        assert offer.created_at < offer.answered_at <= offer.deadline + datetime.timedelta(hours=1)
        assert day(offer.deadline) < TRAINING_STARTS
        assert day(offer.answered_at) < TRAINING_STARTS
    # Every seat is taken: the expiry sweep has nobody to call when the demo starts.
    assert all(pool.live == 0 and pool.accepted == pool.seats for pool in pools)
    accepted = [o for o in offers if o.status == Offer.Status.ACCEPTED]
    assert len(enrolments) == len(accepted) == sum(pool.seats for pool in pools)
    assert all(day(e.enrolled_at) < TRAINING_STARTS for e in enrolments)


@pytest.mark.django_db
def test_the_2025_letters_and_messages_were_sent_in_2025(demo):
    with scopes_disabled():
        assert not LetterBatch.objects.exclude(status=LetterBatch.Status.DONE).exists()
        letters = list(Letter.objects.filter(application__intake__slug="promotion-2025"))
        messages = list(Message.objects.all())
    assert len(letters) > 100 and all(letter.file for letter in letters)
    assert all(in_september_2025(letter.created_at) for letter in letters)
    assert {m.template for m in messages} == {"decision"}
    assert {m.status for m in messages} == {Message.Status.SENT}
    for message in messages:
        assert in_september_2025(message.created_at) and in_september_2025(message.sent_at)
        assert not re.search(r"\b202[67]\b", message.body)  # no date of the present


@pytest.mark.django_db
def test_nothing_is_left_to_send_or_offer_when_the_demo_starts(demo):
    """What `make run` starts beside the server finds nothing to do: the task worker (the
    letter batches the demo queued), the outbox sweep and the expiry sweep."""
    mail.outbox.clear()
    LocmemSmsBackend.outbox.clear()
    with scopes_disabled():
        offers, messages = Offer.objects.count(), Message.objects.count()
        queued = list(LetterBatch.objects.filter(status=LetterBatch.Status.PENDING))

    for batch in queued:
        letter_batch_run(batch_id=batch.pk)
    assert not outbox_flush()
    assert offers_expire() == 0

    with scopes_disabled():
        assert (Offer.objects.count(), Message.objects.count()) == (offers, messages)
        assert not Message.objects.exclude(status=Message.Status.SENT).exists()
    assert mail.outbox == [] and LocmemSmsBackend.outbox == []


@pytest.mark.django_db
def test_loading_the_demo_again_changes_and_sends_nothing(demo):
    def state():
        with scopes_disabled():
            return (
                list(Intake.objects.order_by("pk").values_list("opens_at", "closes_at")),
                Message.objects.count(),
                Message.objects.exclude(status=Message.Status.SENT).count(),
                Letter.objects.count(),
                Offer.objects.count(),
                AuditEvent.objects.count(),
            )

    before = state()
    call_command("demo")
    assert state() == before


@pytest.mark.django_db
def test_the_applicant_reads_the_dates_of_2025(demo):
    with scopes_disabled():
        offer = (
            Offer.objects.filter(status=Offer.Status.ACCEPTED, origin=Offer.Origin.RANKING)
            .select_related("application", "run")
            .order_by("application__number")
            .first()
        )
    client = Client()
    session = client.session
    session[SESSION_APPLICANT] = offer.application_id
    session.save()
    client.cookies["django_language"] = "fr"
    page = re.sub(r"\s+", " ", client.get(reverse("portal:space")).content.decode())
    published = format_date(offer.run.published_at, "long", "fr")
    assert f"publié le {published}" in page
    assert format_date(timezone.localdate(), "long", "fr") not in page


@pytest.mark.django_db
def test_promotion_2026_is_open_and_computes_ages_in_its_own_year(demo):
    with scopes_disabled():
        intake = Intake.objects.get(slug="promotion-2026")
        applications = list(Application.objects.filter(intake=intake))
    assert intake.accepts_applications()
    assert intake.closes_at > timezone.now() + datetime.timedelta(days=59)
    reference, opens, closes = intake.reference_date, day(intake.opens_at), day(intake.closes_at)
    assert reference.year == 2026
    assert opens <= reference <= closes
    # What the staff form accepts for a call (it refuses a date further from the call's).
    assert opens - REFERENCE_DATE_SPAN <= reference <= closes + REFERENCE_DATE_SPAN
    assert applications
    assert all(intake.opens_at <= a.created_at <= timezone.now() for a in applications)
