"""insert_family: a new row and the rows that point to it, written together or not at all,
with the values save() would write (one statement on PostgreSQL, a savepoint elsewhere)."""

import datetime

import pytest
from django.db import IntegrityError, connection
from django.forms.models import model_to_dict
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.open_intake import make_open_intake
from tremplin.admissions.models import Application, Wish
from tremplin.core.audit import audit_event
from tremplin.core.inserts import Dependent, insert_family
from tremplin.core.models import AuditEvent
from tremplin.schools.models import Commune, Track

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def intake(world):
    return make_open_intake(world.smara, tracks=("dev-web", "data"))


def tracks(intake):
    with scopes_disabled():
        return list(Track.objects.filter(school=intake.school).order_by("code"))


def new_application(intake, cin: str, number: int) -> Application:
    with scopes_disabled():
        commune = Commune.objects.get(code="221.01.01")
    return Application(
        intake=intake,
        number=number,
        reference=f"SMA-26-{number:04d}",
        cin=cin,
        first_name="Fatima",
        last_name="El Idrissi",
        first_name_ar="فاطمة",
        last_name_ar="الإدريسي",
        birth_date=datetime.date(2003, 3, 21),
        sex="F",
        phone="+212661234567",
        commune=commune,
        education_level="bac",
        employment="neet",
        motivation="<script>alert(1)</script> \u200f«تعلم»",
        privacy_notice=intake.privacy_notice,
        privacy_consent_at=NOW,
        created_at=NOW,
        language="ar",
        eligibility=Application.Eligibility.INELIGIBLE,
        eligibility_reasons=[{"rule": "age", "params": {"min": 18, "max": 35}}],
    )


def family(application, intake, ranks=(1, 2)):
    rows = [
        Dependent(Wish(application=application, track=track, rank=rank), ("application_id",))
        for rank, track in zip(ranks, tracks(intake), strict=True)
    ]
    event = audit_event("tremplin.applications.submitted", school=intake.school, obj=application)
    return [*rows, Dependent(event, ("object_id",))]


def stored(application):
    with scopes_disabled():
        row = model_to_dict(Application.objects.get(pk=application.pk))
    return {k: v for k, v in row.items() if k not in ("id", "cin", "number", "reference")}


def test_the_rows_are_those_save_would_write(intake):
    written = new_application(intake, "AB100001", 1)
    assert insert_family(written, family(written, intake), unless=("intake", "cin")) is True

    saved = new_application(intake, "AB100002", 2)
    saved.save()
    assert stored(written) == stored(saved)
    with scopes_disabled():
        both = Application.objects.filter(pk__in=[written.pk, saved.pk])
        # auto_now and defaults were applied as save() applies them.
        assert all(a.updated_at is not None and a.status == "submitted" for a in both)
        assert [(w.rank, w.track.code) for w in written.wishes.all()] == [
            (1, "data"),
            (2, "dev-web"),
        ]
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.applications.submitted")
    assert event.object_id == str(written.pk)
    assert event.object_repr == str(written)
    assert event.created_at is not None


def test_a_json_field_is_encoded_as_save_encodes_it(intake):
    data = {"when": NOW, "delay": datetime.timedelta(hours=72), "note": "«تعلم» <b>"}
    application = new_application(intake, "AB100001", 1)
    event = audit_event("tremplin.test", school=intake.school, obj=application, data=data)
    insert_family(application, [Dependent(event, ("object_id",))], unless=("intake", "cin"))
    twin = audit_event("tremplin.test", school=intake.school, data=data)
    twin.save()
    with scopes_disabled():
        stored = dict(AuditEvent.objects.filter(action="tremplin.test").values_list("pk", "data"))
    assert stored[event.pk] == stored[twin.pk]


def test_every_object_has_its_id_as_after_save(intake):
    application = new_application(intake, "AB100001", 1)
    rows = family(application, intake)
    insert_family(application, rows, unless=("intake", "cin"))
    assert application.pk is not None and not application._state.adding
    for row in rows:
        with scopes_disabled():
            assert type(row.obj).objects.filter(pk=row.obj.pk).exists()
        assert not row.obj._state.adding
    assert rows[0].obj.application_id == application.pk
    assert rows[-1].obj.object_id == str(application.pk)


def test_a_row_with_the_same_key_wins_and_nothing_is_written(intake):
    first = new_application(intake, "AB100001", 1)
    insert_family(first, family(first, intake), unless=("intake", "cin"))

    second = new_application(intake, "AB100001", 2)  # the same CIN, another number
    second.first_name = "Autre"
    assert insert_family(second, family(second, intake), unless=("intake", "cin")) is False
    assert second.pk is None
    with scopes_disabled():
        assert list(Application.objects.values_list("number", "first_name")) == [(1, "Fatima")]
        assert Wish.objects.count() == 2
        assert AuditEvent.objects.count() == 1


def test_any_other_conflict_raises_and_writes_nothing(intake):
    application = new_application(intake, "AB100001", 1)
    rows = family(application, intake, ranks=(1, 1))
    with pytest.raises(IntegrityError):
        # Two wishes with the same rank: the wishes' own constraint refuses them.
        insert_family(application, rows, unless=("intake", "cin"))
    assert application.pk is None and rows[0].obj.pk is None  # not saved, as it says
    with scopes_disabled():
        assert not Application.objects.exists()
        assert not Wish.objects.exists()
        assert not AuditEvent.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_the_statement_is_prepared_once_it_is_run_again(intake):
    for number in range(1, 8):
        application = new_application(intake, f"AB10000{number}", number)
        assert insert_family(application, family(application, intake), unless=("intake", "cin"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%jsonb_populate_record%"],
        )
        assert cursor.fetchone()[0] == 1
    with scopes_disabled():
        assert Application.objects.count() == Wish.objects.count() / 2 == 7
