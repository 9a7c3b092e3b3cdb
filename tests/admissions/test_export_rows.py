"""An export read by chunks of applications (their values, then the wishes of the chunk, and
the communes and tracks not met before): each application keeps its own tracks in its order
across chunks, in the page's language, and the queries grow with the chunks; the CSV of the
staff list is streamed, recorded in the audit log before it is read."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, by_column, canonical_csv, make_import_intake
from tremplin.admissions import exporting
from tremplin.admissions.importing import import_applications
from tremplin.admissions.models import Application
from tremplin.core import permissions
from tremplin.core.identifiers import mask_cin
from tremplin.core.models import AuditEvent, Role
from tremplin.schools.models import Commune, Track

pytestmark = pytest.mark.django_db

# Which tracks each applicant asks for, in order: a chunk of two then holds applications
# with two wishes, one, and none, and the last one is alone in its chunk.
WISHES = [("data", "dev-web"), ("dev-web", ""), ("data", ""), ("dev-web", "data"), ("data", "")]
MEN = {1, 2}  # the others are women


@pytest.fixture
def intake(world):
    intake = make_import_intake(world.smara, tracks=("dev-web", "data"))
    rows = [
        applicant(
            n,
            wish_1=first,
            wish_2=second,
            commune="Amgala" if n % 2 else "Es-Semara",
            sex="M" if n in MEN else "F",
            needs_accommodation="1",
            accommodation_consent="1",
        )
        for n, (first, second) in enumerate(WISHES)
    ]
    result = import_applications(
        intake=intake, fileobj=io.BytesIO(canonical_csv(rows)), filename="a.csv", mode="all",
        dry_run=False,
    )  # fmt: skip
    assert result.created == len(rows), result.report
    return intake


def exported(intake, **options) -> list[dict]:
    out = io.BytesIO()
    with scopes_disabled():
        queryset = Application.objects.order_by("number")
    exporting.applications_export(
        intake=intake, queryset=queryset, fmt="csv", include_identity=True, actor=None, out=out,
        **options,
    )  # fmt: skip
    return rows_of(out.getvalue())


def rows_of(data: bytes) -> list[dict]:
    return by_column(list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")))


def names(model, field: str) -> dict[str, str]:
    with scopes_disabled():
        key = "code" if model is Track else "name"
        return {getattr(each, key): getattr(each, field) for each in model.objects.all()}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_each_application_keeps_its_tracks_in_its_order_across_chunks(
    intake, monkeypatch, language
):
    monkeypatch.setattr(exporting, "CHUNK", 2)
    tracks = names(Track, "name_ar" if language == "ar" else "name")
    communes = names(Commune, "name_ar" if language == "ar" else "name")
    with translation.override(language):
        rows = exported(intake)
    assert [(row["wish_1"], row["wish_2"]) for row in rows] == [
        (tracks[first], tracks[second] if second else "") for first, second in WISHES
    ]
    assert [row["commune"] for row in rows] == [
        communes["Amgala" if n % 2 else "Es-Semara"] for n in range(len(WISHES))
    ]
    assert [row["cin"] for row in rows] == [applicant(n)["cin"] for n in range(len(WISHES))]


def test_the_queries_grow_with_the_chunks_not_with_the_applications(intake, monkeypatch):
    monkeypatch.setattr(exporting, "CHUNK", 2)
    with scopes_disabled():
        Application.objects.filter(number__gt=2).delete()  # one chunk left
    with CaptureQueriesContext(connection) as one_chunk:
        assert len(exported(intake)) == 2
    more = [applicant(n, wish_1="data", wish_2="dev-web") for n in range(10, 20)]
    result = import_applications(
        intake=intake, fileobj=io.BytesIO(canonical_csv(more)), filename="b.csv", mode="all",
        dry_run=False,
    )  # fmt: skip
    assert result.created == 10
    with CaptureQueriesContext(connection) as six_chunks:
        assert len(exported(intake)) == 12
    # Each more chunk reads its wishes; its communes and tracks were met before.
    assert len(six_chunks) - len(one_chunk) == 5


def export_of_women(client, intake):
    export = reverse("admissions:application_export", args=["smara", intake.slug, "csv"])
    return client.get(export, {"sex": "F", "commune": ""})


def test_the_streamed_csv_is_audited_before_it_is_read_and_keeps_the_page_language(world, intake):
    client = world.client("admissions")
    client.cookies["django_language"] = "ar"
    response = export_of_women(client, intake)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].endswith(".csv")
    women = [n for n in range(len(WISHES)) if n not in MEN]
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.applications.exported")
        references = dict(Application.objects.values_list("cin", "reference"))
    assert event.actor == world.users["admissions"]
    assert event.data == {
        "format": "csv", "count": len(women), "identity": True, "filters": {"sex": "F"}
    }  # fmt: skip

    with translation.override("fr"):  # whatever the thread does next, the file is in Arabic
        data = response.getvalue()
        rows = rows_of(data)
    assert data.decode("utf-8-sig").startswith("المرجع;تاريخ التقديم;حالة الترشيح;")
    wanted = [references[applicant(n)["cin"]] for n in women]
    assert [row["reference"] for row in rows] == wanted
    with translation.override("ar"):
        assert rows == [row for row in exported(intake) if row["reference"] in wanted]
        submitted = str(Application.Status.SUBMITTED.label)
    assert rows[0]["status"] == submitted != "Soumise"


def test_a_role_that_may_not_see_identities_exports_them_masked(world, intake, monkeypatch):
    """No role of today may export without seeing identities; the day one may, its export
    masks the CIN and leaves out the accommodation columns."""
    granted = permissions.ROLE_PERMISSIONS[Role.ADMISSIONS] - {permissions.IDENTITY_VIEW}
    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, Role.ADMISSIONS, granted)
    rows = rows_of(export_of_women(world.client("admissions"), intake).getvalue())
    assert [row["cin"] for row in rows] == [
        mask_cin(applicant(n)["cin"]) for n in range(len(WISHES)) if n not in MEN
    ]
    assert "needs_accommodation" not in rows[0] and "accommodation_consent" not in rows[0]
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.applications.exported")
    assert event.data["identity"] is False


def test_an_error_after_the_first_bytes_stops_the_file_and_is_logged(
    world, intake, monkeypatch, caplog
):
    monkeypatch.setattr(exporting, "CHUNK", 2)
    written = []

    def failing(phone):  # the third woman's phone, in the second chunk
        written.append(phone)
        if len(written) == 3:
            raise RuntimeError("the disk is full")
        return phone

    monkeypatch.setattr(exporting, "format_phone", failing)
    response = export_of_women(world.client("admissions"), intake)
    chunks = iter(response.streaming_content)
    assert rows_of(next(chunks))  # the header and the first two women have left
    with pytest.raises(RuntimeError, match="the disk is full"):
        next(chunks)
    assert f"The CSV export of {intake.slug} ({intake.pk}) stopped short" in caplog.text
