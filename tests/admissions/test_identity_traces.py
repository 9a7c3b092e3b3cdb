"""What staff learn of an applicant's identity leaves a trace, and what identifies her goes with
an erasure: a search by her full CIN is audited like a reveal (the list, its export, a
ranking's results), a file checked against the call is audited even as a dry run (it names
the applications its CINs match), and her erasure forgets the addresses she connected from.
"""

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv
from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.importing import import_applications
from tremplin.admissions.models import Application
from tremplin.core.audit import current_ip
from tremplin.core.models import AuditEvent

APPLY = "/schools/smara/calls/promo-2026/apply/"
SEARCHED = "tremplin.applications.identity_searched"


@pytest.fixture
def applied(world) -> Application:
    intake = make_open_intake(world.smara)
    response = Client(REMOTE_ADDR="127.0.0.77").post(APPLY, form_data(cin="XB222222"))
    assert response.status_code == 302
    with scopes_disabled():
        return Application.objects.select_related("intake__school").get(intake=intake)


def events(application: Application, action: str | None = None) -> list[AuditEvent]:
    with scopes_disabled():
        found = AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Application),
            object_id=str(application.pk),
        )
        if action:
            found = found.filter(action=action)
        return list(found.select_related("actor").order_by("pk"))


def test_a_search_by_the_full_cin_is_audited_on_the_application_it_finds(world, applied):
    client = world.client("admissions")
    url = reverse("admissions:application_list", args=["smara", "promo-2026"])

    # By name, by reference, by a CIN that applied nowhere: nothing to record.
    for search in ("Fatima", applied.reference, "XB222223"):
        assert client.get(url, {"q": search}).status_code == 200
    assert events(applied, SEARCHED) == []

    # Typed as people type it, in the list then in its export.
    page = client.get(url, {"q": "xb 222222"})
    assert applied.reference in page.content.decode()
    export = reverse("admissions:application_export", args=["smara", "promo-2026", "csv"])
    assert client.get(export, {"q": "XB222222"}).status_code == 200
    searched = events(applied, SEARCHED)
    assert [event.actor for event in searched] == [world.users["admissions"]] * 2


@pytest.mark.parametrize("mode", ["valid", "all"])
def test_checking_a_file_against_the_call_is_audited_even_when_it_creates_nothing(
    world, applied, mode
):
    """A dry run names the application a row's CIN belongs to: trying a file of guessed CINs
    recovers a masked one, so the check is recorded, with who did it and what it found."""
    rows = [applicant(0, cin="XB222222"), applicant(1, cin="not a cin")]
    for dry_run in (True, False):
        result = import_applications(
            intake=applied.intake,
            fileobj=io.BytesIO(canonical_csv(rows)),
            filename="guesses.csv",
            mode=mode,
            dry_run=dry_run,
            actor=world.users["admissions"],
        )
        assert result.created == 0 and result.duplicates == 1
    with scopes_disabled():
        recorded = list(
            AuditEvent.objects.filter(action__startswith="tremplin.applications.import")
            .select_related("actor")
            .order_by("pk")
        )
    assert [event.action for event in recorded] == [
        "tremplin.applications.import_checked",
        "tremplin.applications.imported",
    ]
    for event in recorded:
        assert event.actor == world.users["admissions"]
        assert event.data["file"] == "guesses.csv"
        assert (event.data["duplicates"], event.data["invalid"], event.data["created"]) == (1, 1, 0)


def test_an_erasure_forgets_where_the_applicant_connected_from_not_where_staff_did(world, applied):
    from tremplin.admissions.personal_data import application_erase
    from tremplin.admissions.screening import eligibility_override

    director = world.users["director"]
    token = current_ip.set("10.0.0.5")
    try:
        with scopes_disabled():
            eligibility_override(
                application=applied, actor=director, eligible=False, reason="Hors province"
            )
    finally:
        current_ip.reset(token)
    assert {e.ip_address for e in events(applied) if e.actor is None} == {"127.0.0.77"}

    with scopes_disabled():
        application_erase(application=applied, actor=director, reason="Demande de l'intéressée")

    by_applicant = [e for e in events(applied) if e.actor is None]
    assert by_applicant and {e.ip_address for e in by_applicant} == {None}
    staff = [e for e in events(applied) if e.actor == director]
    assert [e.ip_address for e in staff] == ["10.0.0.5", None]  # the override, the erasure
