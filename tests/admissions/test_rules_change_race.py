"""Staff give a decision back to the rules at the instant a colleague changes the rules
(PostgreSQL): the application is decided by the rules that are committed, never by those
being replaced."""

import threading
from unittest import mock

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions import intakes, screening, services
from tremplin.admissions.forms import ApplicationForm
from tremplin.admissions.intakes import TrackPlaces, intake_save
from tremplin.admissions.models import Application, Intake
from tremplin.admissions.portal_reads import call_details

pytestmark = pytest.mark.postgres

ROUNDS = 3


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are proven on PostgreSQL (run with DATABASE_URL)")


def _apply(intake: Intake, cin: str) -> Application:
    """Fatima, 23 on the call's reference date, decided not eligible by staff."""
    with scopes_disabled():
        tracks, rules = call_details(intake)
        form = ApplicationForm(
            form_data(cin=cin), intake=intake, tracks=tracks, with_documents=False
        )
        assert form.is_valid(), form.errors
        application = services.application_submit(
            intake=intake,
            rules=rules,
            data=form.cleaned_data,
            wishes=tracks,
            documents=[],
            language="fr",
            space_url="https://tremplin.example/applicant/",
        ).application
        screening.eligibility_override(
            application=application, actor=None, eligible=False, reason="Vu au guichet"
        )
    return application


def _lower_the_age_limit(intake: Intake, locked: threading.Event, release: threading.Event):
    """Save the call with 20 as its age limit, holding its transaction open, ready to
    commit (its audit event, the last thing written), until ``release``."""

    def hold(*args, **kwargs):
        locked.set()
        release.wait(30)

    try:
        with scopes_disabled(), mock.patch.object(intakes, "log_action", hold):
            stale = Intake.objects.get(pk=intake.pk)
            stale.max_age = 20
            tracks = {
                it.track: TrackPlaces(it.seats, it.waitlist) for it in stale.intake_tracks.all()
            }
            intake_save(
                school=stale.school, actor=None, intake=stale,
                provinces=stale.provinces.all(), communes=stale.communes.all(), tracks=tracks,
            )  # fmt: skip
    finally:
        connection.close()


def test_a_decision_given_back_while_the_rules_change_follows_the_new_rules(postgres_only, world):
    intake = make_open_intake(world.smara, min_age=18, max_age=35)
    for round_number in range(ROUNDS):
        with scopes_disabled():
            Intake.objects.filter(pk=intake.pk).update(max_age=35)
        application = _apply(intake, f"EF{300000 + round_number}")
        locked, release = threading.Event(), threading.Event()
        change = threading.Thread(target=_lower_the_age_limit, args=(intake, locked, release))
        change.start()
        try:
            assert locked.wait(30)
            # The change commits a moment after the colleague's click, not before.
            threading.Timer(0.5, release.set).start()
            with scopes_disabled():
                restored = screening.eligibility_restore_rules(
                    application=application, actor=None, reason="Erreur de saisie"
                )
        finally:
            release.set()
            change.join(30)
        with scopes_disabled():
            assert Intake.objects.get(pk=intake.pk).max_age == 20
        # 23 years old: not eligible under the rules now in force.
        assert restored.eligibility == Application.Eligibility.INELIGIBLE
        assert [r["rule"] for r in restored.eligibility_reasons] == ["age"]
