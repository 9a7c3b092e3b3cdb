"""Eligibility rules edited on a call that has applications, and the re-check of the rules:
who it decides again, what it records, and that a staff decision is never overwritten."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tests.admissions.intake_pages import (
    detail_url,
    edit_url,
    form_post,
    four_applicants,
    in_english,
)
from tremplin.admissions import screening, services
from tremplin.admissions.models import Application
from tremplin.core.models import AuditEvent
from tremplin.schools.models import Commune

APPLY = "/schools/smara/calls/promo-2026/apply/"
ELIGIBLE, INELIGIBLE = Application.Eligibility.ELIGIBLE, Application.Eligibility.INELIGIBLE


@pytest.fixture
def intake(world):
    """Fatima and Salma (23 on the reference date) eligible, Omar (46) not, Karim (31)."""
    return four_applicants(world)


def by_cin() -> dict[str, Application]:
    with scopes_disabled():
        return {a.cin: a for a in Application.objects.all()}


def events(action, **filters):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(action=action, **filters).order_by("pk"))


@pytest.mark.django_db
def test_changed_rules_are_audited_and_staff_are_told_the_applications_were_not_rechecked(
    world, intake
):
    client = in_english(world.client("director"))
    with scopes_disabled():
        commune = Commune.objects.get(code="221.01.01")
    response = client.post(
        edit_url(intake),
        form_post(intake, max_age="50", min_age="20", communes=[str(commune.pk)]),
    )
    assert response.status_code == 302
    # The page from its top, where the warning is: not from the button, screens below it.
    assert response["Location"] == detail_url(intake)
    (event,) = events("tremplin.intakes.changed")
    assert event.data["rules"] == {
        "max_age": {"from": 35, "to": 50},
        "min_age": {"from": 18, "to": 20},
        "communes": {"from": [], "to": ["221.01.01"]},
    }
    page = client.get(response["Location"]).content.decode()
    assert "the 4 applications already received were not checked again" in page
    assert 'id="recheck"' in page
    # Nothing was decided again behind the staff's back.
    assert by_cin()["CD111111"].eligibility == INELIGIBLE


@pytest.mark.django_db
def test_the_calls_page_says_until_the_recheck_that_its_figures_count_the_former_rules(
    world, intake
):
    """The warning after saving showed once; the funnel then counted, with nothing to say
    so, applicants aged 18 as eligible under a minimum age of 26."""
    from django.test import Client

    from tests.admissions.open_intake import form_data

    client = in_english(world.client("director"))
    assert client.post(edit_url(intake), form_post(intake, min_age="20")).status_code == 302
    Client().post(APPLY, form_data(cin="ZZ999999", phone="0612340099"))  # under the new rules
    page = client.get(detail_url(intake)).content.decode()
    assert 'data-testid="decided-before"' in page
    assert "4 applications were decided under the former rules" in page
    with scope(school=world.smara):
        screening.eligibility_recheck(intake=intake, actor=world.users["director"])
    assert 'data-testid="decided-before"' not in client.get(detail_url(intake)).content.decode()


@pytest.mark.django_db
def test_an_edit_that_keeps_the_rules_says_nothing_about_them(world, intake):
    client = in_english(world.client("director"))
    response = client.post(edit_url(intake), form_post(intake, title="Promotion 2026 (Smara)"))
    assert response["Location"] == detail_url(intake)
    (event,) = events("tremplin.intakes.changed")
    assert "rules" not in event.data
    page = client.get(detail_url(intake)).content.decode()
    assert "not checked again" not in page and 'data-testid="decided-before"' not in page


@pytest.mark.django_db
def test_the_recheck_decides_again_only_submitted_applications_not_decided_by_staff(
    world, intake, django_capture_on_commit_callbacks
):
    people = by_cin()
    with scopes_disabled():
        # The rules tighten: from 24 to 50 years old.
        type(intake).objects.filter(pk=intake.pk).update(min_age=24, max_age=50)
        Application.objects.filter(cin="EF222222").update(
            status=Application.Status.WITHDRAWN, withdrawn_at=timezone.now()
        )
        Application.objects.filter(cin="AB123456").update(
            eligibility_overridden=True, override_reason="Dossier vu en commission"
        )
        Application.objects.filter(cin="GH333333").update(
            eligibility_checked_at=timezone.now() - datetime.timedelta(days=3)
        )
    client = in_english(world.client("admissions"))
    url = reverse("admissions:intake_recheck", args=["smara", intake.slug])
    with django_capture_on_commit_callbacks(execute=True):  # the preview's task
        client.post(url)
    preview = client.get(detail_url(intake)).content.decode()
    assert (
        "2 applications checked with the current rules. 1 result would change. "
        "1 application would become eligible. 1 applicant would be told, by SMS and by email "
        "when they gave one. 1 decision taken by staff would stand. Nothing has been changed yet."
    ) in preview
    assert by_cin()["CD111111"].eligibility == INELIGIBLE
    with scopes_disabled():
        preview_id = intake.rechecks.get().pk
    with django_capture_on_commit_callbacks(execute=True):  # the re-check's task
        asked = client.post(url, {"preview": preview_id})
    # The call's page, at its re-check, says what it did.
    assert asked["Location"] == detail_url(intake) + "#recheck"
    response = client.get(asked["Location"])
    # The staff's decision was skipped without a word, and its reasons kept saying what
    # the former rules said: staff are told, and its page says what the rules say now.
    assert (
        "Eligibility checked again for 2 applications. 1 result changed. 1 application became "
        "eligible. 1 applicant was told. 1 decision taken by staff stands: its page says what "
        "the rules say now."
    ) in response.content.decode()
    after = by_cin()
    assert after["CD111111"].eligibility == ELIGIBLE  # 46, now within 24–50
    assert after["EF222222"].eligibility == ELIGIBLE  # withdrawn: left as it was
    assert after["AB123456"].eligibility == ELIGIBLE  # decided by staff: left as it was
    assert [r["rule"] for r in after["AB123456"].eligibility_reasons] == ["age"]
    assert after["AB123456"].eligibility_checked_at > people["AB123456"].eligibility_checked_at
    assert after["EF222222"].eligibility_reasons == []  # withdrawn: not read again
    assert after["GH333333"].eligibility == ELIGIBLE  # 31: same result, checked again
    assert after["GH333333"].eligibility_checked_at > people["GH333333"].eligibility_checked_at

    (summary,) = events("tremplin.intakes.eligibility_rechecked")
    assert summary.actor == world.users["admissions"]
    assert summary.data == {
        "count": 2,
        "changed": 1,
        "became_eligible": 1,
        "became_ineligible": 0,
        "told": 1,
        "staff_decided": 1,
    }
    (changed,) = events("tremplin.applications.eligibility_rechecked")
    assert changed.object_id == str(after["CD111111"].pk)
    assert changed.actor == world.users["admissions"]
    assert changed.data == {"from": "ineligible", "to": "eligible", "reasons": []}
    # ...so Omar's history shows it.
    detail = client.get(
        reverse("admissions:application_detail", kwargs={"school_slug": "smara",
                "intake_slug": intake.slug, "reference": after["CD111111"].reference})
    )  # fmt: skip
    assert "Eligibility checked again · eligible" in detail.content.decode()


@pytest.mark.django_db
def test_an_erased_application_is_not_rechecked(world, intake):
    with scopes_disabled():
        Application.objects.filter(cin="CD111111").update(erased_at=timezone.now())
        type(intake).objects.filter(pk=intake.pk).update(max_age=50)
    with scope(school=world.smara):
        recheck = screening.eligibility_recheck(intake=intake, actor=world.users["admissions"])
    assert (recheck.checked, recheck.changed) == (3, 0)
    assert by_cin()["CD111111"].eligibility == INELIGIBLE


@pytest.mark.django_db
def test_a_staff_decision_made_during_the_recheck_is_kept(world, intake, monkeypatch):
    with scopes_disabled():
        type(intake).objects.filter(pk=intake.pk).update(max_age=50)
    evaluate = services.check_eligibility

    def staff_decide_meanwhile(application, rules, documents=None):
        if application.cin == "CD111111":  # read before the decision, written after it
            Application.objects.filter(pk=application.pk).update(
                eligibility_overridden=True, override_reason="Commission du 3 mars"
            )
        evaluate(application, rules, documents)

    monkeypatch.setattr(screening, "check_eligibility", staff_decide_meanwhile)
    with scope(school=world.smara):
        recheck = screening.eligibility_recheck(intake=intake, actor=world.users["admissions"])
    omar = by_cin()["CD111111"]
    assert (omar.eligibility, omar.eligibility_overridden) == (INELIGIBLE, True)
    assert recheck.changed == 0
    assert not events("tremplin.applications.eligibility_rechecked")


def notices() -> list:
    from tremplin.notify.models import Message

    with scopes_disabled():
        return list(Message.objects.filter(template="eligibility_changed").order_by("pk"))


@pytest.mark.django_db
def test_an_applicant_the_recheck_or_staff_turn_away_is_told_while_she_can_act(world, intake):
    """Rules tightened made applicants not eligible, and so did a staff decision: no word to
    them, who would learn it by chance, perhaps once the call had closed."""
    with scopes_disabled():
        type(intake).objects.filter(pk=intake.pk).update(min_age=24)  # Fatima, Salma: 23
        Application.objects.filter(cin="EF222222").update(
            status=Application.Status.WITHDRAWN, withdrawn_at=timezone.now()
        )
        intake.refresh_from_db()
    director = world.users["director"]
    with scope(school=world.smara):
        screening.eligibility_recheck(intake=intake, actor=director)
    (sms,) = notices()  # Fatima; Salma withdrew; Omar and Karim did not change
    fatima = by_cin()["AB123456"]
    assert (sms.channel, sms.recipient, sms.object_id) == ("sms", fatima.phone, str(fatima.pk))
    assert "no longer meets the conditions" in sms.body or "ne remplit plus" in sms.body
    assert fatima.reference in sms.body

    # Staff let her in, by mistake turn her away, then let her in again: each is told, and
    # those still waiting to go no longer say what is so: only the last one goes.
    with scope(school=world.smara):
        for eligible in (True, False, True):
            screening.eligibility_override(
                application=by_cin()["AB123456"], actor=director, eligible=eligible, reason="Vu"
            )
    written = notices()
    assert len(written) == 4
    still_to_go = [m for m in written if m.expires_at is None]
    assert still_to_go == [written[-1]]
    assert "now meets" in written[-1].body or "remplit désormais" in written[-1].body
    # Karim, let in already by the rules, confirmed eligible by staff: nothing moved.
    with scope(school=world.smara):
        screening.eligibility_override(
            application=by_cin()["GH333333"], actor=director, eligible=True, reason="Vu"
        )
    assert len(notices()) == 4
