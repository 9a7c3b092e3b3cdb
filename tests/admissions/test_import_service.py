"""The import's rules: dry run, all or nothing, valid only, duplicates, the report, eligibility,
wishes, and a number of queries that grows with batches, not rows."""

import datetime
import io

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv, make_import_intake
from tremplin.admissions.eligibility import describe
from tremplin.admissions.importing import describe_error, import_applications
from tremplin.admissions.models import Application, ReferenceCounter, Wish
from tremplin.admissions.references import numbers_take, reference_year
from tremplin.core.models import AuditEvent


def run(intake, rows, *, mode="valid", dry_run=False, **options):
    return import_applications(
        intake=intake,
        fileobj=io.BytesIO(canonical_csv(rows)),
        filename="applicants.csv",
        mode=mode,
        dry_run=dry_run,
        **options,
    )


def count(model=Application, **filters) -> int:
    with scopes_disabled():
        return model.objects.filter(**filters).count()


BAD_ROWS = [
    applicant(0),
    applicant(1, phone="12 34"),
    applicant(2, birth_date="31/02/2003", sex="X"),
    applicant(3),
]


def last_number(intake) -> int:
    counter = ReferenceCounter.objects.filter(
        school=intake.school, year=reference_year(intake)
    ).first()
    return counter.last_number if counter else 0


@pytest.mark.django_db
def test_a_dry_run_writes_nothing_and_says_what_would_happen(world):
    intake = make_import_intake(world.smara)
    result = run(intake, BAD_ROWS, dry_run=True)
    assert (result.rows, result.valid, result.invalid, result.created) == (4, 2, 2, 0)
    assert count() == 0 and count(Wish) == 0
    assert count(AuditEvent, action="tremplin.applications.imported") == 0
    assert last_number(intake) == 0


@pytest.mark.django_db
def test_all_or_nothing_writes_nothing_when_a_row_is_bad(world):
    intake = make_import_intake(world.smara)
    result = run(intake, BAD_ROWS, mode="all")
    assert (result.valid, result.invalid, result.created) == (2, 2, 0)
    assert count() == 0
    good = run(intake, [applicant(0), applicant(3)], mode="all")
    assert good.created == 2 and count() == 2


@pytest.mark.django_db
def test_valid_only_imports_the_good_rows_and_reports_the_bad_ones_by_line_and_column(world):
    intake = make_import_intake(world.smara)
    result = run(intake, BAD_ROWS, mode="valid")
    assert (result.created, result.invalid) == (2, 2)
    assert count(cin__in=["JA100000", "JA100003"]) == 2
    assert [(e["line"], e["column"], e["code"]) for e in result.report] == [
        (3, "phone", "phone_invalid"),
        (4, "birth_date", "date_no_such_day"),  # 31/02
        (4, "sex", "choice_invalid"),
    ]
    with translation.override("en"):
        reasons = [describe_error(e) for e in result.report]
    assert reasons[0] == "Not a Moroccan mobile number (e.g. 06 61 23 45 67)."
    assert reasons[2].startswith("Unknown value “X”. Accepted values: F (woman), M (man)")


@pytest.mark.django_db
def test_the_report_names_columns_as_the_file_does(world):
    intake = make_import_intake(world.smara)
    rows = [{"N° CIN" if k == "cin" else k: v for k, v in applicant(0, cin="123").items()}]
    result = run(intake, rows)
    assert result.report == [{"line": 2, "column": "N° CIN", "code": "cin_invalid", "params": {}}]


@pytest.mark.django_db
def test_importing_the_same_file_again_creates_nothing(world):
    intake = make_import_intake(world.smara)
    rows = [applicant(n) for n in range(5)]
    assert run(intake, rows, mode="all").created == 5
    again = run(intake, rows, mode="all")
    assert (again.created, again.duplicates, again.invalid) == (0, 5, 0)
    assert count() == 5
    assert again.report[0]["code"] == "duplicate_existing"
    assert again.report[0]["params"]["reference"].startswith("SMA-")


@pytest.mark.django_db
def test_a_cin_twice_in_the_file_gives_one_application(world):
    intake = make_import_intake(world.smara)
    rows = [applicant(1), applicant(2), applicant(1, first_name="Autre", cin="ja 100001")]
    result = run(intake, rows, mode="all")
    assert (result.created, result.duplicates) == (2, 1)
    # The later answer is the person's correction (see test_import_edge_cases).
    assert result.report == [
        {"line": 2, "column": "cin", "code": "replaced_later", "params": {"by_line": 4}}
    ]
    with scopes_disabled():
        assert Application.objects.get(cin="JA100001").first_name == "Autre"


@pytest.mark.django_db
def test_a_cin_repeated_in_the_file_is_counted_apart_from_those_already_in_the_call(world):
    intake = make_import_intake(world.smara)
    rows = [applicant(n) for n in range(8)] + [applicant(0, first_name="Fatma")]  # lines 2, 10
    result = run(intake, rows, mode="all", dry_run=True)
    counts = (result.valid, result.duplicates, result.repeated, result.already_present)
    assert counts == (8, 1, 1, 0)
    assert result.notes["cin"] == {"code": "cin_repeated", "params": {"count": 1}}

    run(intake, rows[:3], mode="all")
    again = run(intake, rows, mode="all", actor=world.users["admissions"])
    # Line 2 is the earlier answer of line 10; lines 3, 4 and 10 were imported before.
    assert (again.created, again.repeated, again.already_present) == (5, 1, 3)
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.applications.imported", data__created=5)
    assert (event.data["duplicates"], event.data["repeated"]) == (4, 1)


@pytest.mark.django_db
def test_a_corrected_row_later_in_the_file_is_imported(world):
    # People submit a form again to correct a mistake: the first (bad) row does not block it.
    intake = make_import_intake(world.smara)
    result = run(intake, [applicant(1, phone="0"), applicant(1)])
    assert (result.created, result.invalid, result.duplicates) == (1, 0, 1)


@pytest.mark.django_db
def test_applications_get_numbers_references_eligibility_and_an_audit_event(world):
    intake = make_import_intake(world.smara)
    rows = [applicant(0), applicant(1, birth_date="01/01/1980"), applicant(2, commune="Boujdour")]
    before = timezone.now()
    result = run(intake, rows, mode="all", actor=world.users["admissions"])
    assert result.created == 3
    with scopes_disabled():
        apps = list(Application.objects.filter(intake=intake).order_by("number"))
        event = AuditEvent.objects.get(action="tremplin.applications.imported")
    year = intake.opens_at.year % 100
    assert [a.reference for a in apps] == [f"SMA-{year:02d}-{n:04d}" for n in (1, 2, 3)]
    assert [a.eligibility for a in apps] == ["eligible", "ineligible", "ineligible"]
    assert apps[1].eligibility_reasons[0]["rule"] == "age"
    [residence] = apps[2].eligibility_reasons
    assert residence["rule"] == "residence"
    with translation.override("fr"):
        # Where the call recruits, named: Boujdour's applicant learns she is not from there.
        assert describe(residence) == (
            "Cet appel est réservé aux habitants de ce lieu\u00a0: Es-Semara (province)."
        )
    assert all(a.eligibility_checked_at >= before and a.privacy_consent_at >= before for a in apps)
    assert event.actor == world.users["admissions"]
    assert event.school == world.smara
    assert event.data["created"] == 3 and event.data["mode"] == "all"
    assert last_number(intake) == 3


@pytest.mark.django_db
def test_numbers_continue_after_those_the_portal_gave(world):
    intake = make_import_intake(world.smara)
    numbers_take(intake, 41)  # as if the portal had given 41 references this year
    run(intake, [applicant(0)])
    with scopes_disabled():
        assert Application.objects.get(intake=intake).number == 42


@pytest.mark.django_db
def test_a_single_track_intake_gives_everyone_its_track_as_first_wish(world):
    intake = make_import_intake(world.smara)
    run(intake, [applicant(0), applicant(1)])
    with scopes_disabled():
        wishes = list(Wish.objects.values_list("rank", "track__code"))
    assert wishes == [(1, "dev-web"), (1, "dev-web")]


@pytest.mark.django_db
def test_several_tracks_take_the_wishes_in_order_by_code_or_name(world):
    intake = make_import_intake(world.smara, tracks=("dev-web", "data", "secu"))
    rows = [
        applicant(0, wish_1="data", wish_2="Dev-Web", wish_3=""),
        applicant(1, wish_1="", wish_2="secu", wish_3=""),
        applicant(2, wish_1="data", wish_2="data", wish_3=""),
        applicant(3, wish_1="cuisine", wish_2="", wish_3=""),
        applicant(4, wish_1="", wish_2="", wish_3=""),
    ]
    result = run(intake, rows)
    assert result.created == 2
    assert [(e["line"], e["code"]) for e in result.report] == [
        (4, "track_repeated"),
        (5, "track_unknown"),
        (6, "wish_required"),
    ]
    with scopes_disabled():
        wishes = list(
            Wish.objects.order_by("application__number", "rank").values_list(
                "application__cin", "rank", "track__code"
            )
        )
    assert wishes == [("JA100000", 1, "data"), ("JA100000", 2, "dev-web"), ("JA100001", 1, "secu")]


@pytest.mark.django_db
def test_a_multi_track_intake_needs_a_wish_column(world):
    intake = make_import_intake(world.smara, tracks=("dev-web", "data"))
    result = run(intake, [applicant(0)])
    missing = [e["params"]["field"] for e in result.report if e["code"] == "column_missing"]
    assert missing == ["wish_1"]


@pytest.mark.django_db
def test_an_accommodation_need_without_its_consent_is_refused(world):
    intake = make_import_intake(world.smara)
    rows = [
        applicant(0, needs_accommodation="oui", accommodation_consent="non"),
        applicant(1, needs_accommodation="oui", accommodation_consent="oui"),
        applicant(2, needs_accommodation="peut-être", accommodation_consent=""),
    ]
    result = run(intake, rows)
    assert [(e["line"], e["code"]) for e in result.report] == [
        (2, "accommodation_consent_missing"),
        (4, "boolean_invalid"),
    ]
    with scopes_disabled():
        imported = Application.objects.get()
    assert imported.needs_accommodation and imported.accommodation_consent


@pytest.mark.django_db
def test_an_intake_without_privacy_notice_refuses_the_import(world):
    intake = make_import_intake(world.smara, status="draft", privacy_notice=None)
    result = run(intake, [applicant(0)])
    assert [e["code"] for e in result.report] == ["no_privacy_notice"]
    assert count() == 0


@pytest.mark.django_db
def test_a_call_whose_ranking_is_published_refuses_the_import_and_the_command_says_why(
    world, tmp_path
):
    from django.core.management import CommandError, call_command

    from tremplin.selection.models import RankingRun

    intake = make_import_intake(world.smara, status="closed")
    with scopes_disabled():
        RankingRun.objects.create(
            intake=intake, number=1, status=RankingRun.Status.DONE,
            created_by=world.users["director"], published_at=timezone.now(),
        )  # fmt: skip
    result = run(intake, [applicant(0)], mode="all")
    assert [e["code"] for e in result.report] == ["ranking_published"]
    assert result.file_problems == result.report and count() == 0

    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv([applicant(0)]))
    with pytest.raises(CommandError, match=r"^A ranking of this call is published"):
        call_command("import_applications", str(path), "--intake", "promo-2026", "--valid-only",
                     "--language", "en", stdout=io.StringIO())  # fmt: skip
    assert count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["all", "valid"])
def test_a_ranking_published_while_the_file_is_read_stops_its_writing(world, mode):
    """Checked at the start, and again under the call's lock before each batch is written:
    a director who publishes during a long import adds no unranked applicant to it."""
    from tremplin.admissions import importing_rows
    from tremplin.selection.models import RankingRun

    intake = make_import_intake(world.smara, status="closed")
    original = importing_rows.Validator.__init__

    def then_the_ranking_is_published(self, *args, **kwargs):
        original(self, *args, **kwargs)
        with scopes_disabled():
            RankingRun.objects.create(
                intake=intake, number=1, status=RankingRun.Status.DONE,
                created_by=world.users["director"], published_at=timezone.now(),
            )  # fmt: skip

    importing_rows.Validator.__init__ = then_the_ranking_is_published
    try:
        result = run(intake, [applicant(0), applicant(1)], mode=mode)
    finally:
        importing_rows.Validator.__init__ = original
    assert [e["code"] for e in result.report] == ["ranking_published"]
    assert result.created == 0 and count() == 0
    # The numbers taken for the rows not written are given back: the next one is the first.
    from tremplin.admissions.references import numbers_take

    with transaction.atomic():
        assert numbers_take(intake) == 1


@pytest.mark.django_db
def test_a_cin_that_arrives_from_the_portal_during_the_import_is_a_duplicate(world):
    """The CINs of the intake are read once; one arriving after that hits the database's
    unique constraint, and the import drops that row only."""
    intake = make_import_intake(world.smara)
    rows = [applicant(0), applicant(1), applicant(2)]
    from tremplin.admissions import importing_rows

    original = importing_rows.Validator.__init__

    def then_someone_applies(self, *args, **kwargs):
        original(self, *args, **kwargs)
        with scopes_disabled():
            Application.objects.create(
                intake=intake, number=999, reference="SMA-99-0999", cin="JA100001",
                first_name="Portail", last_name="X", birth_date=datetime.date(2000, 1, 1),
                sex="F", phone="+212600000000", commune_id=world.smara.commune_id,
                education_level="bac", employment="neet",
                privacy_notice_id=intake.privacy_notice_id,
                privacy_consent_at=timezone.now(), language="fr",
            )  # fmt: skip

    importing_rows.Validator.__init__ = then_someone_applies
    try:
        result = run(intake, rows, mode="all")
    finally:
        importing_rows.Validator.__init__ = original
    assert (result.created, result.duplicates) == (2, 1)
    assert count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["all", "valid"])
def test_queries_grow_with_batches_not_rows(world, mode):
    intake = make_import_intake(world.smara)

    def queries(first: int, rows: int) -> int:
        data = [applicant(n) for n in range(first, first + rows)]
        with CaptureQueriesContext(connection) as captured:
            result = run(intake, data, mode=mode, batch_size=50)
        assert result.created == rows
        return len(captured)

    queries(0, 10)  # warm the caches (content types) that a first import fills
    one_batch = queries(1000, 50)
    two_batches = queries(2000, 100)
    four_batches = queries(3000, 200)
    per_batch = two_batches - one_batch
    # Per batch: savepoint, lock the call and look for a published ranking, take numbers
    # (UPDATE), read them, insert, read ids, insert wishes.
    assert 0 < per_batch <= 9
    assert four_batches == one_batch + 3 * per_batch


@pytest.mark.django_db
def test_an_imported_applications_history_names_who_imported_it_and_from_which_file(world):
    """Its first line said « applicant or system · Application submitted · import », though
    the import's event knows the member of staff and the file."""
    import re

    from django.urls import reverse

    intake = make_import_intake(world.smara)
    run(intake, [applicant(0)], mode="all")  # an earlier import, by a script (no one)
    run(intake, [applicant(1)], mode="all", actor=world.users["admissions"])
    client = world.client("director")
    client.cookies["django_language"] = "en"
    with scopes_disabled():
        first, second = Application.objects.filter(intake=intake).order_by("number")
    staff = world.users["admissions"]
    name = staff.get_full_name() or staff.username

    def arrival(application) -> str:
        page = client.get(
            reverse(
                "admissions:application_detail",
                args=["smara", intake.slug, application.reference],
            )
        ).content.decode()
        line = re.search(r'<li class="list-group-item small text-break">(.*?)</li>', page, re.S)
        return " ".join(line[1].split())

    assert arrival(second).endswith(f"· {name} · Application submitted · import · applicants.csv")
    assert "applicant or system · Application submitted · import · applicants.csv" in (
        arrival(first)
    )
