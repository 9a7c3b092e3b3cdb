"""The staff pages of admissions after their QA review: refusals that were silent, an
erasure that took one click, what the pages said about erased, overridden and withdrawn
applications, and how they read in Arabic and on a phone."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.admissions.intake_pages import detail_url, edit_url, four_applicants, in_english
from tests.admissions.open_intake import make_open_intake
from tests.selection.offers_world import app, offer_of, published_call
from tremplin.admissions import screening
from tremplin.admissions.models import Application, Intake, Wish
from tremplin.schools.models import Commune, Track
from tremplin.selection.offers import offer_accept


def url(name, intake, **kwargs):
    return reverse(
        f"admissions:{name}", kwargs={"school_slug": "smara", "intake_slug": intake.slug, **kwargs}
    )


def applicant(intake, first_name) -> Application:
    with scopes_disabled():
        return Application.objects.get(intake=intake, first_name=first_name)


def fresh(application) -> Application:
    with scopes_disabled():
        return Application.objects.get(pk=application.pk)


@pytest.fixture
def offered(world, monkeypatch):
    """A published call of 10: numbers 1, 2, 4 and 6 hold a live offer, 3 waits."""
    return published_call(world, monkeypatch)


# 1. Not eligible while holding a seat ------------------------------------------------------


HOLDS_AN_OFFER = re.escape("holds an offer (awaiting an answer or accepted) or is enrolled")


@pytest.mark.django_db
def test_someone_holding_a_live_offer_cannot_be_marked_not_eligible(world, offered):
    client = in_english(world.client("admissions"))
    holder = app(offered, 1)
    page = client.post(
        url("application_eligibility", offered, reference=holder.reference),
        {"decision": "ineligible", "reason": "Résidence hors province"},
    )
    assert page.status_code == 400
    assert re.search(HOLDS_AN_OFFER, page.content.decode())
    assert "Résidence hors province" in page.content.decode()  # what was typed stays
    assert fresh(holder).eligibility == Application.Eligibility.ELIGIBLE
    # Eligible stays possible; so does "not eligible" for the one who only waits.
    with scope(school=world.smara):
        screening.eligibility_override(
            application=holder, actor=world.users["admissions"], eligible=True, reason="Vu"
        )
        waiting = screening.eligibility_override(
            application=app(offered, 3), actor=world.users["admissions"], eligible=False,
            reason="Résidence hors province",
        )  # fmt: skip
    assert waiting.eligibility == Application.Eligibility.INELIGIBLE


@pytest.mark.django_db
def test_an_enrolled_applicant_cannot_be_made_ineligible_by_staff_or_by_the_rules(world, offered):
    enrolled = app(offered, 2)
    offer_accept(offer=offer_of(enrolled), channel="applicant")
    actor = world.users["admissions"]
    with scope(school=world.smara):
        with pytest.raises(ValidationError, match=HOLDS_AN_OFFER):
            screening.eligibility_override(
                application=enrolled, actor=actor, eligible=False, reason="Erreur"
            )
        # Decided eligible by staff, then the rules, which now turn her away, decide again.
        screening.eligibility_override(application=enrolled, actor=actor, eligible=True, reason="x")
        Intake.objects.filter(pk=offered.pk).update(min_age=60, max_age=70)
        with pytest.raises(ValidationError, match=HOLDS_AN_OFFER):
            screening.eligibility_restore_rules(application=enrolled, actor=actor, reason="x")
    assert fresh(enrolled).eligibility == Application.Eligibility.ELIGIBLE
    assert fresh(enrolled).eligibility_overridden


@pytest.mark.django_db
def test_once_a_ranking_is_published_the_rules_are_not_checked_again(world, offered):
    """Rules changed behind the form's back (the form refuses it now): the re-check is
    refused too, and nobody ranked, holding a seat or waiting, becomes ineligible."""
    accepted, live, waiting = app(offered, 2), app(offered, 1), app(offered, 3)
    offer_accept(offer=offer_of(accepted), channel="applicant")
    with scope(school=world.smara):
        Intake.objects.filter(pk=offered.pk).update(min_age=60, max_age=70)
        with pytest.raises(ValidationError, match="Run #1 is published"):
            screening.eligibility_recheck(
                intake=fresh_intake(offered), actor=world.users["director"]
            )
    for application in (accepted, live, waiting):
        assert fresh(application).eligibility == Application.Eligibility.ELIGIBLE


@pytest.mark.django_db
def test_once_the_offer_is_taken_back_the_applicant_can_be_marked_not_eligible(world, offered):
    """False information found after acceptance: staff take the offer back (the enrolment
    ends), then record the decision."""
    from tremplin.selection.offers import offer_withdraw

    learner = app(offered, 2)
    offer_accept(offer=offer_of(learner), channel="applicant")
    actor = world.users["admissions"]
    offer_withdraw(offer=offer_of(learner), actor=actor, reason="Fausse adresse")
    with scope(school=world.smara):
        screening.eligibility_override(
            application=learner, actor=actor, eligible=False, reason="Fausse adresse"
        )
    assert fresh(learner).eligibility == Application.Eligibility.INELIGIBLE


def fresh_intake(intake) -> Intake:
    with scopes_disabled():
        return Intake.objects.get(pk=intake.pk)


# 2. Erasing the personal data ------------------------------------------------------------


@pytest.mark.django_db
def test_each_field_of_the_application_page_has_an_id_of_its_own(world):
    """The contact form's "Reason" label put the cursor in the eligibility decision's reason,
    and a screen reader read that one's help under it."""
    intake = four_applicants(world)
    client = in_english(world.client("admissions"))
    page = client.get(
        url("application_detail", intake, reference=applicant(intake, "Salma").reference)
    )
    ids = re.findall(r'\bid="([^"]+)"', page.content.decode())
    assert "contact_reason" in ids
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "form",
    ["application_identity", "application_eligibility", "application_contact", "application_erase"],
)
def test_the_address_of_a_form_opened_again_leads_to_the_application(world, form):
    """Switching the language, or reloading, after a form was refused there asked the
    browser for that address: "HTTP ERROR 405"."""
    intake = four_applicants(world)
    client = in_english(world.client("director"))
    salma = applicant(intake, "Salma")
    response = client.get(url(form, intake, reference=salma.reference))
    assert response.status_code == 302
    assert response["Location"] == url("application_detail", intake, reference=salma.reference)
    assert fresh(salma).erased_at is None


@pytest.mark.django_db
def test_a_refused_decision_opens_the_page_at_its_form(world):
    intake = four_applicants(world)
    client = in_english(world.client("admissions"))
    salma = applicant(intake, "Salma")
    target = url("application_eligibility", intake, reference=salma.reference)
    page = client.post(target, {"decision": "ineligible", "reason": " "}).content.decode()
    assert f'action="{target}#decision" id="decision"' in page
    assert "errorlist" in page


@pytest.mark.django_db
def test_the_page_of_a_withdrawn_application_says_so(world):
    intake = four_applicants(world)
    client = in_english(world.client("admissions"))
    salma = applicant(intake, "Salma")
    detail = url("application_detail", intake, reference=salma.reference)
    status = re.compile(r'data-testid="status">(.*?)</dd>')
    assert status.search(client.get(detail).content.decode()).group(1) == "Submitted"
    with scopes_disabled():
        Application.objects.filter(pk=salma.pk).update(status=Application.Status.WITHDRAWN)
    shown = status.search(client.get(detail).content.decode()).group(1)
    assert shown == '<span class="badge text-bg-secondary">Withdrawn</span>'


@pytest.mark.django_db
def test_erasing_needs_the_box_ticked_and_says_so_otherwise(world):
    intake = four_applicants(world)
    client = in_english(world.client("admissions"))
    salma = applicant(intake, "Salma")
    target = url("application_erase", intake, reference=salma.reference)
    detail = client.get(url("application_detail", intake, reference=salma.reference))
    assert 'name="confirm"' in detail.content.decode()

    refused = client.post(target, {"reason": "Demande écrite"})
    assert refused.status_code == 400 and fresh(salma).erased_at is None
    page = refused.content.decode()
    assert "Nothing was erased: tick" in page
    # Where it was refused: the section open, the reason kept, the page opened there.
    assert re.search(r'<details class="card card-body mt-3" id="erase" open>', page)
    assert "Demande écrite" in page
    assert f'action="{target}#erase"' in page

    client.post(target, {"reason": "Demande écrite", "confirm": "on"})
    assert fresh(salma).erased_at is not None


@pytest.mark.django_db
def test_an_erased_application_shows_only_what_is_left_and_cannot_be_decided(world):
    intake = four_applicants(world)
    client = in_english(world.client("director"))
    salma = applicant(intake, "Salma")
    client.post(
        url("application_erase", intake, reference=salma.reference),
        {"reason": "Demande écrite", "confirm": "on"},
    )
    page = client.get(url("application_detail", intake, reference=salma.reference))
    html = page.content.decode()
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", heading).strip() == salma.reference
    assert url("application_identity", intake, reference=salma.reference) not in html
    assert url("application_eligibility", intake, reference=salma.reference) not in html
    assert "Year of birth" in html and "<dd>2003</dd>" in html
    assert "Date of birth" not in html and "1 January 2003" not in html
    for label in ("CIN", "Mobile phone", "Email", "Accommodation"):
        assert f"<dt>{label}</dt>" not in html
    with scope(school=world.smara), pytest.raises(ValidationError, match="erased"):
        screening.eligibility_override(
            application=fresh(salma), actor=world.users["director"], eligible=False, reason="x"
        )


# 3. The funnel's tables on a phone ---------------------------------------------------------


@pytest.mark.django_db
def test_the_funnel_tables_stack_on_a_phone_instead_of_squeezing_their_labels(world):
    """Each count named for the phone, where a row is stacked (tested in Chromium too:
    tests/browser/test_staff_pages.py), and the row's label on one line."""
    intake = four_applicants(world)
    html = world.client("admissions").get(detail_url(intake)).content.decode()
    assert html.count('<table class="table table-sm bg-white table-responsive-stack') == 2
    assert '<th scope="row" class="text-nowrap">Moins de 18 ans</th>' in html
    for name in ("Candidatures", "Éligibles", "Non éligibles", "Retirées"):
        assert html.count(f'<td class="text-end" data-label="{name}">') == 2 + 5


# 4. The list's filters in Arabic -----------------------------------------------------------


@pytest.mark.django_db
def test_the_arabic_list_names_communes_and_tracks_in_arabic_in_its_filters(world):
    intake = four_applicants(world)
    with scopes_disabled():
        track = Track.objects.get(school=world.smara, code="dev-web")
        Track.objects.filter(pk=track.pk).update(name_ar="تطوير الويب")
        assert Wish.objects.filter(application__intake=intake, track=track).exists()
        commune = Commune.objects.get(code="221.01.01")
    client = world.client("admissions")
    client.cookies["django_language"] = "ar"
    page = client.get(url("application_list", intake), {"wish": track.pk})
    facets = {f.name: f for f in page.context["facets"]}
    assert [label for _v, label, _n in facets["commune"].options] == [commune.name_ar]
    assert [label for _v, label, _n in facets["wish"].options] == ["تطوير الويب"]
    assert facets["wish"].selected_label == "تطوير الويب"
    html = page.content.decode()
    assert commune.name_ar in html and f">{commune.name}<" not in html


# 5. Clearing the filters of the review queue -----------------------------------------------


@pytest.mark.django_db
def test_clearing_the_filters_of_the_review_queue_stays_in_the_queue(world):
    intake = four_applicants(world)
    client = in_english(world.client("admissions"))
    page = client.get(url("application_list", intake), {"queue": "review", "sex": "M"})
    assert '<a class="btn btn-link" href="?queue=review">Clear the filters</a>' in (
        page.content.decode()
    )
    # The queue alone is no filter to clear.
    queue = client.get(url("application_list", intake), {"queue": "review"})
    assert "Clear the filters" not in queue.content.decode()


# 6. The public page of a draft ------------------------------------------------------------


@pytest.mark.django_db
def test_a_draft_call_offers_no_link_to_its_public_page(world):
    intake = make_open_intake(world.smara, status=Intake.Status.DRAFT)
    client = in_english(world.client("director"))
    public = intake.get_absolute_url()
    assert Client().get(public).status_code == 404
    assert f'href="{public}"' not in client.get(detail_url(intake)).content.decode()
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(status=Intake.Status.OPEN)
    assert f'href="{public}"' in client.get(detail_url(intake)).content.decode()


# 7. Eligibility decided by staff, as the application page tells it -----------------------


@pytest.mark.django_db
def test_the_page_says_which_way_staff_decided_and_that_the_rules_were_overridden(world):
    intake = four_applicants(world)
    client = in_english(world.client("admissions"))
    omar = applicant(intake, "Omar")  # 46: too old
    target = url("application_detail", intake, reference=omar.reference)
    before = client.get(target).content.decode()
    assert "Age on September 1, 2026: 46; the call accepts 18 to 35." in before
    assert "you are" not in before.lower()
    client.post(
        url("application_eligibility", intake, reference=omar.reference),
        {"decision": "eligible", "reason": "CIN présentée : né en 2000."},
    )
    html = client.get(target).content.decode()
    assert "Rules not met, overridden by staff:" in html
    line = re.search(r"Eligibility decided by staff[^<]*", html).group(0)
    assert "· eligible ·" in line


# 8. Directions of staff-typed text ---------------------------------------------------------


@pytest.mark.django_db
def test_reasons_typed_by_staff_take_their_own_direction_on_an_arabic_page(world):
    intake = four_applicants(world)
    client = world.client("admissions")
    omar = applicant(intake, "Omar")
    client.post(
        url("application_eligibility", intake, reference=omar.reference),
        {"decision": "eligible", "reason": "CIN présentée."},
    )
    client.cookies["django_language"] = "ar"
    html = client.get(url("application_detail", intake, reference=omar.reference)).content
    # The reason, and its line in the history, read in a French voice on the Arabic page.
    assert html.decode().count('<span dir="auto" lang="fr">CIN présentée.</span>') == 2


@pytest.mark.django_db
def test_the_arabic_call_form_writes_french_left_to_right_and_arabic_right_to_left(world):
    intake = four_applicants(world)
    client = world.client("director")
    client.cookies["django_language"] = "ar"
    html = client.get(edit_url(intake)).content.decode()

    def tag(name: str) -> str:
        return re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', html).group(0)

    for name in ("title", "slug", "description"):
        assert 'dir="ltr"' in tag(name), name
    for name in ("title_ar", "description_ar"):
        assert 'dir="rtl"' in tag(name), name


# 9. The funnel and the list count the same ---------------------------------------------------


@pytest.mark.django_db
def test_each_number_of_the_funnel_opens_a_list_of_as_many_applications(world):
    intake = four_applicants(world)
    with scopes_disabled():  # Omar, too old, withdraws; Karim is made ineligible by staff
        Application.objects.filter(first_name="Omar").update(status="withdrawn")
        Application.objects.filter(first_name="Karim").update(eligibility="ineligible")
    client = in_english(world.client("admissions"))
    html = client.get(detail_url(intake)).content.decode()
    assert "Eligible and not eligible count the applications not withdrawn" in html
    cards = re.findall(r'<a class="card[^"]*" href="([^"]+)">.*?tp-stat">(\d+)<', html)
    assert len(cards) == 4
    for href, count in cards:
        listed = client.get(href.replace("&amp;", "&")).context["page"].paginator.count
        assert listed == int(count), href
    assert [int(n) for _href, n in cards] == [4, 2, 1, 1]


# 10. Dates that cannot be misread -----------------------------------------------------------


@pytest.mark.django_db
def test_june_is_not_abbreviated_like_july_on_the_call_list_and_application_page(world):
    intake = four_applicants(world)
    june = datetime.datetime(2025, 6, 2, 10, 0, tzinfo=datetime.UTC)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(opens_at=june)
        Application.objects.filter(intake=intake).update(created_at=june)
    client = world.client("admissions")
    calls = client.get(reverse("admissions:intake_list", kwargs={"school_slug": "smara"}))
    assert "2 juin 2025" in calls.content.decode()
    fatima = applicant(intake, "Fatima")
    page = client.get(url("application_detail", intake, reference=fatima.reference))
    assert "02/06/2025" in page.content.decode()
    for html in (calls.content.decode(), page.content.decode()):
        assert "jui." not in html
