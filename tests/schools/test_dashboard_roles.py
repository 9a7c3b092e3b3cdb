"""The dashboard by role: what needs each member of the team (calls, offers, interviews),
and the budget only for those who may see it."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tests.conftest import verified_client
from tests.factories import UserFactory, make_member
from tests.selection.assessment_builders import make_selection
from tests.selection.offers_world import published_call
from tremplin.admissions import selectors
from tremplin.admissions.models import Application
from tremplin.selection.models import (
    Component,
    ConflictOfInterest,
    InterviewSlot,
    Offer,
    Panel,
)

BUDGET = "1\u202f100\u202f000,00\xa0MAD"


def dashboard(world, persona: str, *, school=None, language: str | None = None):
    client = world.client(persona)
    if language:
        client.cookies["django_language"] = language
    slug = (school or world.smara).slug
    return client.get(reverse("schools:dashboard", kwargs={"school_slug": slug}))


def apply(intake, **changes) -> None:
    url = f"/schools/{intake.school.slug}/calls/{intake.slug}/apply/"
    assert Client().post(url, form_data(**changes)).status_code == 302


def small_call(school, slug="promo-2026"):
    """An open call with three applications: two eligible, one too old (the review queue),
    and one of the eligible asks for her data to be deleted."""
    intake = make_open_intake(school, slug=slug)
    code = slug[-2:]
    apply(intake, cin=f"AB1{code}456")
    apply(intake, cin=f"CD1{code}111", birth_date="1980-05-05", first_name="Omar", sex="M",
          phone="0612345678")  # fmt: skip
    apply(intake, cin=f"EF2{code}222", first_name="Salma", phone="0612345679")
    with scopes_disabled():
        Application.objects.filter(intake=intake, first_name="Salma").update(
            deletion_requested_at=timezone.now()
        )
    return intake


def interviews(juror, school, *, days_ahead=(1, 1, 2), intake=None, conflict_with_first=False):
    """Interviews of ``juror``'s panel to come, ``days_ahead`` each, and one past; on a new
    closed call, or on ``intake`` (which has a selection scheme)."""
    if intake is None:
        intake = make_selection(school, n=len(days_ahead) + 1).intake
    with scopes_disabled():
        component = Component.objects.get(scheme__intake=intake, code="interview")
        applications = list(intake.applications.order_by("number"))
        panel = Panel.objects.create(component=component, name=f"Jury {juror}", place="B")
        panel.jurors.set([juror])
        base = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
        starts = [
            base + datetime.timedelta(days=d, minutes=20 * i) for i, d in enumerate(days_ahead)
        ]
        starts.append(base - datetime.timedelta(days=3))  # past: not "upcoming"
        for start, application in zip(starts, applications, strict=False):
            InterviewSlot.objects.create(
                panel=panel,
                component=component,
                application=application,
                starts_at=start,
                ends_at=start + datetime.timedelta(minutes=20),
            )
        if conflict_with_first:
            ConflictOfInterest.objects.create(
                juror=juror, application=applications[0], reason="cousin"
            )
    return panel


@pytest.fixture
def trainer(world):
    world.users["trainer"] = make_member("trainer", world.smara, "trainer")
    return world.users["trainer"]


@pytest.fixture
def published(world, monkeypatch):
    """A closed call with a published ranking: four offers await an answer."""
    return published_call(world, monkeypatch)


# --- The open call -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_director_sees_the_open_call_with_the_counts_of_the_list_and_its_links(world):
    intake = small_call(world.smara)
    page = dashboard(world, "director")
    (call,) = page.context["needs_you"]["calls"]
    assert (call.applied, call.review_count, call.deletion_count) == (3, 1, 1)
    with scope(school=world.smara):
        for params, count in (({}, 3), ({"queue": "review"}, 1), ({"queue": "deletion"}, 1)):
            assert selectors.applications_filtered(intake, params).count() == count
    html = dashboard(world, "director", language="en").content.decode()
    listing = reverse("admissions:application_list", args=["smara", intake.slug])
    assert f'href="{listing}?queue=review"' in html
    assert f'href="{listing}?queue=deletion"' in html
    assert "Closes on" in html


@pytest.mark.django_db
def test_the_admissions_officer_sees_the_calls_but_not_the_budget(world):
    small_call(world.smara)
    page = dashboard(world, "admissions")
    assert [c.slug for c in page.context["needs_you"]["calls"]] == ["promo-2026"]
    assert page.context["grants"] is None
    html = page.content.decode()
    assert BUDGET not in html and "500\u202f000" not in html
    assert "Subvention" not in html  # neither the title nor the lines of the grant


@pytest.mark.django_db
def test_a_closed_call_waits_only_while_applications_remain_to_review_or_to_delete(world):
    intake = small_call(world.smara)
    with scopes_disabled():
        intake.status = "closed"
        intake.save(update_fields=["status"])
    page = dashboard(world, "director", language="en")
    assert [c.slug for c in page.context["needs_you"]["calls"]] == [intake.slug]
    # Closed early, its closing date still ahead: neither "closes on" nor "closed since".
    html = page.content.decode()
    assert "Closes on" not in html and "Applications closed since" not in html
    with scopes_disabled():
        Application.objects.filter(intake=intake).update(
            eligibility="eligible", deletion_requested_at=None
        )
    needs = dashboard(world, "director").context["needs_you"]
    assert needs["calls"] == [] and needs["empty"]


@pytest.mark.django_db
def test_another_schools_director_sees_nothing_of_smara(world):
    small_call(world.smara)
    assert dashboard(world, "other_director").status_code == 404
    own = dashboard(world, "other_director", school=world.other, language="en")
    assert own.context["needs_you"]["empty"]
    html = own.content.decode()
    assert "Nothing waits for you at the moment." in html
    assert "promo-2026" not in html


@pytest.mark.django_db
def test_an_outsider_and_a_learner_get_no_dashboard(world):
    small_call(world.smara)
    assert dashboard(world, "outsider").status_code == 404
    assert dashboard(world, "learner").status_code == 404


# --- Offers --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_director_sees_the_offers_awaiting_an_answer_and_the_earliest_deadline(
    world, published
):
    with scopes_disabled():
        live = Offer.objects.filter(pool__intake=published, status="live")
        first = min(live.values_list("deadline", flat=True))
        live.filter(application__number=1).update(deadline=first - datetime.timedelta(hours=5))
        Offer.objects.filter(pool__intake=published, application__number=2).update(
            status="accepted", answered_at=timezone.now()
        )
        earliest = min(
            Offer.objects.filter(pool__intake=published, status="live").values_list(
                "deadline", flat=True
            )
        )
    page = dashboard(world, "director")
    needs = page.context["needs_you"]
    (call,) = needs["calls"]
    assert not call.needs_review  # closed, nothing to review: only its offers wait
    assert (call.live_offers, call.first_deadline) == (3, earliest)
    offers = reverse("selection:offers", args=["smara", published.slug])
    assert f'href="{offers}?status=live"' in page.content.decode()


@pytest.mark.django_db
def test_a_published_call_no_longer_waits_for_the_review_of_its_ineligible(world, published):
    """Its rules and their results stand once the ranking is published: the ineligible it
    turned away are not "to review" for ever."""
    with scopes_disabled():
        Offer.objects.filter(pool__intake=published).update(
            status="accepted", answered_at=timezone.now()
        )
        Application.objects.filter(intake=published, number__in=(9, 10)).update(
            eligibility="ineligible"
        )
    assert dashboard(world, "director").context["needs_you"]["calls"] == []


@pytest.mark.django_db
def test_once_published_the_review_queue_keeps_only_what_waits_for_a_person(world, published):
    """The queue itself drops the ineligible the published ranking turned away (the call's
    page, the list and the dashboard count the same), and still shows an application whose
    eligibility is pending, or that changed after a staff decision: someone must decide."""
    with scopes_disabled():
        Offer.objects.filter(pool__intake=published).update(
            status="accepted", answered_at=timezone.now()
        )
        by_number = Application.objects.filter(intake=published)
        by_number.filter(number__in=(9, 10)).update(eligibility="ineligible")
        by_number.filter(number=7).update(eligibility="pending")
        by_number.filter(number=8).update(
            eligibility_overridden=True, changed_since_decision_at=timezone.now()
        )
    client = world.client("director")
    listing = reverse("admissions:application_list", args=["smara", published.slug])
    queue = client.get(listing, {"queue": "review"})
    assert [a.number for a in queue.context["page"]] == [7, 8]
    assert "n'attendent plus d'examen" in queue.content.decode()
    detail = client.get(reverse("admissions:intake_detail", args=["smara", published.slug]))
    assert detail.context["review_count"] == 2
    (call,) = dashboard(world, "director").context["needs_you"]["calls"]
    assert call.needs_review and call.review_count == 2
    # Before the publication, the rules' refusals were staff's to confirm: they were listed.
    with scopes_disabled():
        published.ranking_runs.update(published_at=None)
    queue = client.get(listing, {"queue": "review"})
    assert [a.number for a in queue.context["page"]] == [7, 8, 9, 10]
    assert "n'attendent plus d'examen" not in queue.content.decode()


@pytest.mark.django_db
def test_jurors_and_trainers_do_not_see_the_offers(world, published, trainer):
    for persona in ("juror", "trainer"):
        page = dashboard(world, persona)
        assert page.context["needs_you"]["calls"] == []
        assert "offers/" not in page.content.decode()


# --- Interviews ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_juror_sees_their_upcoming_interviews_by_day_and_nothing_else(world):
    small_call(world.smara)
    interviews(world.users["juror"], world.smara, days_ahead=(1, 1, 2))
    page = dashboard(world, "juror")
    needs = page.context["needs_you"]
    assert [d["count"] for d in needs["interview_days"]] == [2, 1]
    assert needs["interview_count"] == 3
    assert needs["calls"] == []
    html = page.content.decode()
    assert f'href="{reverse("selection:jury_home", args=["smara"])}"' in html
    assert "Mes entretiens" in html
    assert page.context["grants"] is None and BUDGET not in html
    assert "queue=review" not in html


@pytest.mark.django_db
def test_a_juror_does_not_see_the_interviews_of_other_panels_nor_a_declared_conflict(world):
    interviews(world.users["juror"], world.smara, days_ahead=(1, 2), conflict_with_first=True)
    mine = dashboard(world, "juror").context["needs_you"]
    assert mine["interview_count"] == 1
    assert dashboard(world, "director").context["needs_you"]["interview_days"] == []


# --- Trainer, coordinator, budget ----------------------------------------------------------


@pytest.mark.django_db
def test_the_trainer_is_told_nothing_waits_and_sees_no_budget(world, trainer):
    small_call(world.smara)
    page = dashboard(world, "trainer", language="en")
    assert page.status_code == 200
    assert page.context["needs_you"]["empty"]
    html = page.content.decode()
    assert "Nothing waits for you at the moment." in html
    assert "Grants, total" not in html and "Grants and budget lines" not in html
    assert "1,100,000" not in html and "1\u202f100\u202f000" not in html
    assert "promo-2026" not in html


@pytest.mark.django_db
def test_the_director_and_the_coordinator_see_the_budget(world):
    director = dashboard(world, "director").content.decode()
    assert BUDGET in director
    coordinator = dashboard(world, "coordinator")
    assert BUDGET in coordinator.content.decode()
    # Read-only: nothing in the school waits for the funder's coordinator.
    assert coordinator.context["needs_you"] is None
    assert 'data-testid="needs-you"' not in coordinator.content.decode()


@pytest.mark.django_db
def test_the_section_reads_in_english_and_arabic(world):
    small_call(world.smara)
    english = dashboard(world, "director", language="en").content.decode()
    assert "What needs you" in english and "Review queue" in english
    arabic = dashboard(world, "director", language="ar").content.decode()
    assert 'dir="rtl"' in arabic and 'data-testid="needs-you"' in arabic
    assert "Review queue" not in arabic  # a string already translated


# --- Queries -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_calls_offers_and_interviews(world, published):
    director = world.users["director"]
    small_call(world.smara, slug="call-01")
    panel = interviews(director, world.smara, days_ahead=(1,), intake=published)
    client = world.client("director")
    url = reverse("schools:dashboard", kwargs={"school_slug": "smara"})
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        first = client.get(url)
    assert len(first.context["needs_you"]["calls"]) == 2  # call-01, and promo-2025's offers
    for n in range(2, 6):
        small_call(world.smara, slug=f"call-{n:02d}")
    with scopes_disabled():
        slot = InterviewSlot.objects.filter(panel=panel).order_by("starts_at").last()
        for days, application in zip(
            (2, 3, 4), published.applications.filter(number__in=(6, 7, 8)), strict=True
        ):
            InterviewSlot.objects.create(
                panel=panel,
                component=slot.component,
                application=application,
                starts_at=slot.starts_at + datetime.timedelta(days=days),
                ends_at=slot.ends_at + datetime.timedelta(days=days),
            )
    with CaptureQueriesContext(connection) as after:
        page = client.get(url)
    needs = page.context["needs_you"]
    assert len(needs["calls"]) == 6 and sum(1 for c in needs["calls"] if c.live_offers) == 1
    assert len(needs["interview_days"]) == 4
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]


@pytest.mark.django_db
def test_the_grants_dates_read_in_words_in_arabic_not_with_an_arrow(world):
    """An arrow reads backwards on a right-to-left page: from the end back to the start."""
    html = dashboard(world, "director", language="ar").content.decode()
    assert "→" not in html
    assert "من " in html and " إلى " in html


# --- Messages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_failed_messages_of_the_week_call_those_who_manage_the_outbox(world):
    """A confirmation or a convocation that failed means an applicant may not know: the
    dashboard of the director and the admissions officer says so and leads to the list."""
    from tremplin.notify.models import Message

    def message(**fields):
        with scopes_disabled():
            return Message.objects.create(
                school=world.smara, channel="sms", recipient="+212661234567", language="fr",
                template="application_submitted", body="...", **fields,
            )  # fmt: skip

    message(status="failed", failure="refused")
    message(status="failed", failure="unavailable")
    message(status="sent")
    old = message(status="failed")
    with scopes_disabled():
        Message.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=8)
        )
    for persona in ("director", "admissions"):
        page = dashboard(world, persona)
        assert page.context["needs_you"]["failed_messages"] == 2
        outbox = reverse("notify:outbox", args=["smara"])
        assert f'href="{outbox}?status=failed"' in page.content.decode()
    juror = dashboard(world, "juror")
    assert juror.context["needs_you"]["failed_messages"] == 0
    assert 'data-testid="failed-messages"' not in juror.content.decode()


@pytest.mark.parametrize(
    ("level", "sees_laayoune"),
    [("nation", True), ("region", True), ("province", False)],
)
def test_a_coordinator_reads_the_schools_of_her_scope_the_nations_every_one(
    world, level, sees_laayoune
):
    """A national coordinator saw no school at all: her scope's empty filter dropped out of
    the others' OR (``Q(pk__in=[]) | Q()``), and every school answered 404."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tremplin.core.access import coordinated_schools
    from tremplin.core.models import CoordinatorScope
    from tremplin.schools.models import Province

    with scopes_disabled():
        semara = Province.objects.get(code="221")
        user = UserFactory(username=f"coordinator-{level}")
        CoordinatorScope.objects.create(
            user=user,
            level=level,
            province=semara if level == "province" else None,
            region=semara.region if level == "region" else None,
        )
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        readable = set(coordinated_schools(user).values_list("slug", flat=True))
    assert "smara" in readable
    assert ("laayoune" in readable) == sees_laayoune
    dashboard = reverse("schools:dashboard", args=["smara"])
    assert verified_client(user).get(dashboard).status_code == 200
