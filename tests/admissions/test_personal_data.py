"""What an applicant downloads from their space (law 09-08, right of access): everything the
platform holds about them, the selection included. On the Smara demo, whose Promotion 2025
went through its whole selection."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import space_client
from tremplin.admissions.models import Application
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.selection.models import Offer


def download(application: Application) -> dict:
    client = Client()
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    response = client.get(reverse("portal:data"))
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.django_db
def test_an_admitted_applicant_downloads_her_selection_too(demo):
    with scopes_disabled():
        offer = (
            Offer.objects.filter(
                status=Offer.Status.ACCEPTED, application__intake__slug="promotion-2025"
            )
            .select_related("application")
            .order_by("application__number")
            .first()
        )
        application = offer.application
    data = download(application)

    assert data["reference"] == application.reference
    selection = data["selection"]
    assert {m["component"] for m in selection["marks"]}  # the written test and the interview
    assert all(m["mark"] is not None or m["absent"] for m in selection["marks"])
    assert selection["tests"] and selection["interviews"]
    [published] = selection["published_rankings"]  # the draft run is not hers to see
    assert published["outcome"] == "admitted"
    assert [o["status"] for o in selection["offers"]] == ["accepted"]
    # And the training the accepted seat led to.
    with scopes_disabled():
        enrolment = application.enrolment
    assert data["training"] == {
        "cohort": enrolment.cohort.name,
        "track": enrolment.track.name,
        "status": enrolment.status,
        "status_label": enrolment.get_status_display(),
        "enrolled_at": enrolment.enrolled_at.isoformat(),
    }


@pytest.mark.django_db
def test_a_new_applicant_downloads_her_confirmation_and_an_empty_selection(demo):
    with scopes_disabled():
        application = Application.objects.filter(intake__slug="promotion-2026").first()
    data = download(application)
    assert data["status"] == "submitted" and data["withdrawn_at"] is None
    assert data["source"] == application.source
    assert data["selection"] == {
        "tests": [],
        "interviews": [],
        "marks": [],
        "published_rankings": [],
        "offers": [],
        "letters": [],
    }
    assert data["training"] is None


@pytest.mark.django_db
def test_the_download_says_what_the_codes_mean_and_the_staffs_reason_she_reads(demo):
    """A staff decision of "not eligible" is explained in her space: the download has it too,
    and each code (``bac``, ``neet``) with its text in her language."""
    with scopes_disabled():
        application = Application.objects.filter(intake__slug="promotion-2026").first()
        Application.objects.filter(pk=application.pk).update(
            eligibility=Application.Eligibility.INELIGIBLE,
            eligibility_overridden=True,
            override_reason="Votre CIN a été délivrée hors de la province.",
            eligibility_reasons=[],
            sex="F",
            employment="neet",
        )
        application.refresh_from_db()
    client = Client()
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    client.cookies["django_language"] = "ar"
    data = json.loads(client.get(reverse("portal:data")).content)
    assert data["eligibility_reasons"] == ["Votre CIN a été délivrée hors de la province."]
    assert data["sex"] == "F" and data["labels"]["sex"] == "أنثى"
    assert data["employment"] == "neet"
    assert data["labels"]["employment"] == "بدون عمل ولا دراسة"
    assert data["labels"]["eligibility"] != "ineligible"


@pytest.mark.django_db
def test_an_erasure_leaves_nothing_staff_or_jurors_wrote_about_the_person(demo):
    """The reasons and comments written about an applicant name her, her health, her job:
    after an erasure, the events and the selection say what was done and when, not why."""
    from django.contrib.contenttypes.models import ContentType

    from tremplin.admissions.personal_data import application_erase
    from tremplin.admissions.screening import eligibility_override
    from tremplin.core.models import AuditEvent, User
    from tremplin.selection.interviews import conflict_declare, conflict_remove
    from tremplin.selection.models import ScoreSheet

    secret = "Fatima (CIN AB123456) est malvoyante"
    with scopes_disabled():
        # The demo's sheet a juror corrected, with the reason, and whose application
        # declined an offer, with the reason.
        amended = AuditEvent.objects.get(action="tremplin.selection.sheet.amended")
        sheet = ScoreSheet.objects.get(pk=amended.object_id)
        application = sheet.application
        director, juror = User.objects.get(username="directrice"), sheet.juror
        eligibility_override(application=application, actor=director, eligible=True, reason=secret)
        conflict_remove(
            conflict=conflict_declare(
                juror=juror, application=application, reason=secret, actor=director
            ),
            actor=director,
            reason=secret,
        )
        conflict_declare(juror=juror, application=application, reason=secret, actor=juror)
        ScoreSheet.objects.filter(pk=sheet.pk).update(comment=secret)
        Offer.objects.filter(application=application).update(reason=secret)
        about = AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Application),
            object_id=str(application.pk),
        )
        about_sheet = AuditEvent.objects.filter(pk=amended.pk)

        def written() -> list[str]:
            application.refresh_from_db()
            return [
                text
                for text in [
                    application.override_reason,
                    *about.exclude(action="tremplin.applications.erased").values_list(
                        "reason", flat=True
                    ),
                    *[str(data) for data in about.values_list("data", flat=True)],
                    *about_sheet.values_list("reason", flat=True),
                    *ScoreSheet.objects.filter(application=application).values_list(
                        "comment", flat=True
                    ),
                    *application.conflicts_of_interest.values_list("reason", flat=True),
                    *Offer.objects.filter(application=application).values_list("reason", flat=True),
                ]
                if "malvoyante" in text or "Erreur de saisie" in text
            ]

        assert len(written()) >= 8  # so the check below can fail

        application_erase(application=application, actor=director, reason="Demande écrite")

        assert written() == []
        # What was done, and when, stays: the override, the conflicts, the marks.
        assert application.eligibility_overridden
        assert about.filter(action="tremplin.selection.conflict.removed").exists()
        assert application.conflicts_of_interest.count() == 1
        assert ScoreSheet.objects.get(pk=sheet.pk).mark == sheet.mark


def space_page(application: Application, language: str = "en") -> str:
    return space_client(application, language).get(reverse("portal:space")).content.decode()


@pytest.mark.django_db
def test_withdrawing_says_first_what_it_takes_back_a_seat_offered_or_the_training(demo):
    """The button was the same for everyone, and said only that she leaves the selection."""
    from tremplin.training.models import Enrolment

    with scopes_disabled():
        enrolment = Enrolment.objects.select_related("application").order_by("pk").first()
        Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.ACTIVE)
        learner = enrolment.application
        waiting = (
            Application.objects.filter(intake__slug="promotion-2025", offers__isnull=True)
            .exclude(eligibility="ineligible")
            .order_by("number")
            .first()
        )
        offer = Offer.objects.filter(application__enrolment__isnull=True).first()
        Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.LIVE)
    page = space_page(learner)
    assert "You are enrolled in the training: withdrawing ends it" in page
    assert "يُنهيه" in space_page(learner, "ar")
    # So does asking for the deletion of her data, which withdraws too.
    assert "You are enrolled in the training: the deletion ends it" in page
    page = space_page(offer.application)
    assert "A seat is offered to you: withdrawing declines it" in page
    assert "A seat is offered to you: the deletion declines it" in page
    assert 'data-testid="withdraw-takes"' not in space_page(waiting)
    assert 'data-testid="delete-takes"' not in space_page(waiting)
    assert "Withdraw my application" in space_page(waiting)
    # A graduate's application stays with her certificate: nothing to withdraw any more.
    with scopes_disabled():
        Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.COMPLETED)
    assert "Withdraw my application" not in space_page(learner)
    # Nor by a request made by hand.
    client = space_client(learner)
    answer = client.post(reverse("portal:withdraw"), {"confirm": "yes"}, follow=True)
    assert "You completed the training: your application stays" in answer.content.decode()
    with scopes_disabled():
        assert Application.objects.get(pk=learner.pk).status == Application.Status.SUBMITTED


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "erased"), [("fr", "effacées"), ("ar", "تُمحى")])
def test_the_demos_notice_says_once_when_the_data_is_erased(demo, language, erased):
    """The demo's text said « vingt-quatre mois » and the page then gave the date from the
    platform's retention period: twice, and wrong once the period is set otherwise."""
    client = Client()
    client.cookies["django_language"] = language
    page = client.get("/schools/smara/calls/promotion-2026/apply/").content.decode()
    notice = page.split('id="privacy-notice"', 1)[1].split("</details>", 1)[0]
    assert notice.count(erased) == 1, notice
