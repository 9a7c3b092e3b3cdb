"""The submit path on deadline day: what one submission costs the database, and what the
shortcuts it takes (geography held in memory, numbering before the transaction) keep."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled
from django_tasks_db.models import DBTaskResult

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import Application, Intake
from tremplin.admissions.portal_reads import Geography
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message
from tremplin.notify.services import outbox_flush
from tremplin.notify.sms import LocmemSmsBackend
from tremplin.schools.models import Commune, School

APPLY = "/schools/smara/calls/promo-2026/apply/"

# The call and its tracks and rules, the number, then the write: on PostgreSQL one statement
# (core.inserts.insert_family); elsewhere the application, its wish, its audit event and one
# outbox message per channel (SMS, email). Both in a savepoint here, inside the test's
# transaction (in production, on PostgreSQL, the statement is its own transaction).
READS = 2
SUBMISSION_QUERIES = {"postgresql": READS + 1 + 3, "sqlite": READS + 1 + 7}


@pytest.fixture
def database_tasks(settings):
    """Tasks as in production: rows of the database."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def intake(world):
    return make_open_intake(world.smara)


def applications():
    with scopes_disabled():
        return list(Application.objects.order_by("number"))


@pytest.mark.django_db
def test_a_submission_costs_a_fixed_number_of_queries(intake, database_tasks):
    Client().post(APPLY, form_data(cin="XY100001"))  # the process reads the geography once
    data = form_data(cin="XY100002", email="f@example.ma")
    with CaptureQueriesContext(connection) as captured:
        response = Client().post(APPLY, data)
    assert response.status_code == 302
    assert len(captured) == SUBMISSION_QUERIES[connection.vendor]
    # Reads come before the writes; nothing is read back after them.
    statements = [(q["sql"] or "prepared").split()[0].upper() for q in captured.captured_queries]
    assert statements[:READS] == ["SELECT"] * READS
    assert "SELECT" not in statements[READS:]
    with scopes_disabled():
        application = Application.objects.get(cin="XY100002")
        assert application.wishes.count() == 1
        assert AuditEvent.objects.filter(
            action="tremplin.applications.submitted", object_id=str(application.pk)
        ).exists()
        confirmations = Message.objects.filter(
            template="application_submitted", object_id=str(application.pk)
        )
        assert sorted(confirmations.values_list("channel", flat=True)) == ["email", "sms"]
    # No task per message: the outbox sweep sends the confirmations.
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_the_outbox_sweep_sends_the_confirmations(intake, mailoutbox, settings):
    settings.SMS_BACKEND = "tremplin.notify.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    Client().post(APPLY, form_data(email="fatima@example.ma"))
    with scopes_disabled():
        confirmations = Message.objects.filter(template="application_submitted")
        assert {m.status for m in confirmations} == {Message.Status.PENDING}
    assert outbox_flush()[Message.Status.SENT] == 2
    reference = applications()[0].reference
    assert [sms.to for sms in LocmemSmsBackend.outbox] == ["+212661234567"]
    assert reference in LocmemSmsBackend.outbox[0].text
    assert reference in mailoutbox[-1].body
    with scopes_disabled():
        assert {m.status for m in confirmations.all()} == {Message.Status.SENT}


@pytest.mark.django_db
def test_a_repeated_submission_gets_the_first_reference_without_using_a_number(intake):
    first = Client().post(APPLY, form_data())
    again = Client().post(APPLY, form_data(cin="AB 123456", first_name="Autre"))
    assert first.status_code == again.status_code == 302
    Client().post(APPLY, form_data(cin="CD654321"))
    year = intake.opens_at.year % 100
    assert [a.reference for a in applications()] == [f"SMA-{year:02d}-0001", f"SMA-{year:02d}-0002"]
    assert applications()[0].first_name == "Fatima"


@pytest.mark.django_db
def test_a_repeated_submission_writes_nothing(intake):
    Client().post(APPLY, form_data())
    with CaptureQueriesContext(connection) as captured:
        response = Client().post(APPLY, form_data())
    assert response.status_code == 302
    assert not [q for q in captured.captured_queries if q["sql"].startswith("INSERT")]


@pytest.mark.django_db
def test_a_commune_outside_the_chosen_province_is_refused(intake):
    with scopes_disabled():
        elsewhere = Commune.objects.exclude(province__code="221").first()
    response = Client().post(APPLY, form_data(commune=str(elsewhere.pk)))
    assert response.status_code == 400
    assert applications() == []


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["999999999", "12abc", "²", "9" * 5000, "-1"])
def test_an_unknown_commune_is_refused_without_a_server_error(intake, value):
    response = Client().post(APPLY, form_data(commune=value))
    assert response.status_code == 400
    assert applications() == []


@pytest.fixture
def forget_geography():
    yield
    Geography.forget()  # the commune this test adds is rolled back with it


@pytest.mark.django_db
def test_a_commune_added_after_the_geography_was_read_is_accepted(intake, forget_geography):
    Geography.communes()  # read now, before the new commune exists
    with scopes_disabled():
        semara = Commune.objects.get(code="221.01.01")
        added = Commune.objects.create(
            province=semara.province, code="221.99.99", kind="rural", name="Nouvelle", name_ar="ن"
        )
    response = Client().post(APPLY, form_data(commune=str(added.pk)))
    assert response.status_code == 302
    assert applications()[0].commune_id == added.pk


@pytest.mark.django_db
def test_the_htmx_commune_list_comes_from_the_same_geography(intake):
    with scopes_disabled():
        semara = Commune.objects.get(code="221.01.01")
    response = Client().get(reverse("portal:communes"), {"province": semara.province_id})
    options = response.content.decode().count("<option")
    with scopes_disabled():
        assert options == 1 + Commune.objects.filter(province_id=semara.province_id).count()


@pytest.mark.django_db
def test_a_change_to_the_call_is_seen_by_the_very_next_request(intake):
    assert Client().get(APPLY).status_code == 200  # the call's objects are built once
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(title="Promotion 2026 bis")
    assert "Promotion 2026 bis" in Client().get(APPLY).content.decode()
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(status=Intake.Status.CLOSED)
    assert Client().post(APPLY, form_data()).status_code == 403
    assert applications() == []


@pytest.mark.django_db
def test_the_call_of_a_school_made_inactive_is_gone_at_once(intake, world):
    assert Client().get(APPLY).status_code == 200
    with scopes_disabled():
        School.objects.filter(pk=world.smara.pk).update(is_active=False)
    assert Client().get(APPLY).status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
@pytest.mark.django_db
def test_every_statement_of_the_submit_is_prepared_once_it_has_run_a_few_times(intake):
    # Planning costs the server more than running these statements: after
    # DATABASE_PREPARE_THRESHOLD runs each is prepared, and planned no more.
    for number in range(1, 8):
        assert Client().post(APPLY, form_data(cin=f"XY20000{number}")).status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    for marker in (
        '"admissions_intake" i',  # the call
        '"admissions_intaketrack" it',  # its tracks and rules
        '"admissions_referencecounter"',  # the number
        "jsonb_populate_record",  # the write
    ):
        assert len([statement for statement in prepared if marker in statement]) == 1, marker
    assert [a.cin for a in applications()] == [f"XY20000{n}" for n in range(1, 8)]
