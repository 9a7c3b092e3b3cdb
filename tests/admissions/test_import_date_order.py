"""A column of text dates read the way most of them are written: a few dates written the other
way (a typo, one applicant on a US phone) are errors of their own rows, not a reason to refuse
every date of the column that reads both ways."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv, make_import_intake
from tremplin.admissions.importing import describe_error, describe_note, import_applications
from tremplin.admissions.importing_columns import (
    DAY_FIRST,
    MAX_STRAYS,
    MIXED,
    MONTH_FIRST,
    STRAY_SHARE,
    date_order,
)
from tremplin.admissions.models import Application


@pytest.fixture
def intake(world):
    return make_import_intake(world.smara)


def run(intake, rows: list[dict], *, dry_run=False):
    return import_applications(
        intake=intake,
        fileobj=io.BytesIO(canonical_csv(rows)),
        filename="candidats.csv",
        mode="valid",
        dry_run=dry_run,
    )


def born(intake) -> dict[str, datetime.date]:
    with scopes_disabled():
        return dict(Application.objects.filter(intake=intake).values_list("cin", "birth_date"))


def reported(result) -> list[tuple[int, str, str]]:
    with translation.override("en"):
        return [(e["line"], e["code"], describe_error(e)) for e in result.report]


def note(result) -> str:
    with translation.override("en"):
        return describe_note(result.notes.get("birth_date"))


def day_first(n: int) -> str:
    """A date that only reads day first (the 13th to the 28th), different for each ``n``."""
    return f"{13 + n % 16}/{1 + n % 12:02d}/2003"


def month_first(n: int) -> str:
    return f"{1 + n % 12:02d}/{13 + n % 16}/2003"


def column(*dates: str) -> list[tuple[int, list[str]]]:
    """Rows of a one-column sheet, the first on line 2."""
    return [(line, [value]) for line, value in enumerate(dates, start=2)]


# --- Which way a column is read ----------------------------------------------------------------


def test_one_stray_among_nineteen_dates_of_the_other_order_is_outvoted():
    dates = [day_first(n) for n in range(19)] + [month_first(0)]
    order = date_order(column(*dates), 0)
    assert (order.order, order.strays, order.day_first_line, order.month_first_line) == (
        DAY_FIRST,
        1,
        2,
        21,
    )


def test_one_stray_among_eighteen_makes_the_column_mixed():
    dates = [day_first(n) for n in range(18)] + [month_first(0)]
    order = date_order(column(*dates), 0)
    assert (order.order, order.strays) == (MIXED, 0)


def test_more_than_a_few_strays_make_the_column_mixed_however_long_it_is():
    assert (MAX_STRAYS, STRAY_SHARE) == (5, 20)  # the edges below
    many = [day_first(n) for n in range(400)]
    five = date_order(column(*many, *(month_first(n) for n in range(5))), 0)
    six = date_order(column(*many, *(month_first(n) for n in range(6))), 0)
    assert (five.order, five.strays) == (DAY_FIRST, 5)
    assert (six.order, six.strays) == (MIXED, 0)


def test_each_row_counts_even_when_several_write_the_same_date():
    dates = [day_first(n) for n in range(100)] + [month_first(0)] * 6
    assert date_order(column(*dates), 0).order == MIXED


def test_a_month_first_column_outvotes_a_stray_written_day_first_too():
    dates = [month_first(n) for n in range(19)] + ["04/05/2003", day_first(0)]
    order = date_order(column(*dates), 0)
    assert (order.order, order.strays, order.day_first_line) == (MONTH_FIRST, 1, 22)


# --- What the import does with them ------------------------------------------------------------


@pytest.mark.django_db
def test_a_stray_us_date_in_a_day_first_column_is_the_only_error(intake):
    rows = [applicant(n, birth_date=day_first(n)) for n in range(40)]
    rows += [applicant(60, birth_date="04/05/2003"), applicant(61, birth_date="01/12/2002")]
    rows.insert(30, applicant(99, birth_date="05/13/2001"))  # line 32: the stray
    result = run(intake, rows)

    assert reported(result) == [
        (
            32,
            "date_not_day_first",
            "The column reads its dates as day/month/year (e.g. line 2) and this one does not "
            "fit: it is written month first. Write it as dd/mm/yyyy or yyyy-mm-dd.",
        )
    ]
    assert result.report[0]["column"] == "birth_date"
    assert (result.created, result.invalid) == (len(rows) - 1, 1)
    dates = born(intake)
    assert "JA100099" not in dates
    assert dates["JA100000"] == datetime.date(2003, 1, 13)
    assert dates["JA100060"] == datetime.date(2003, 5, 4)  # read day first, as the column
    assert dates["JA100061"] == datetime.date(2002, 12, 1)
    assert note(result) == (
        "dates read as day/month/year; 1 date, on line 32, is written month first: it does not "
        "fit and is reported as an error"
    )


@pytest.mark.django_db
def test_the_dry_run_says_how_many_dates_did_not_fit(
    world, intake, django_capture_on_commit_callbacks
):
    rows = [applicant(n, birth_date=day_first(n)) for n in range(40)]
    rows += [applicant(50, birth_date="05/13/2001"), applicant(51, birth_date="12/31/2001")]
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    upload = SimpleUploadedFile("candidats.csv", canonical_csv(rows), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admissions:import_form", args=["smara", "promo-2026"]),
            {"file": upload, "mode": "valid", "dry_run": "on"},
        )
    page = client.get(response["Location"]).content.decode()
    assert (
        "dates read as day/month/year; 2 dates are written month first (e.g. line 42): they do "
        "not fit and are reported as errors"
    ) in page
    assert "this one does not fit: it is written month first" in page


@pytest.mark.django_db
def test_a_stray_day_first_date_in_a_us_column_is_the_only_error(intake):
    rows = [applicant(n, birth_date=month_first(n)) for n in range(25)]
    rows += [applicant(30, birth_date="04/05/2003"), applicant(31, birth_date="25/03/2003")]
    result = run(intake, rows)
    assert reported(result) == [
        (
            28,
            "date_not_month_first",
            "The column reads its dates as month/day/year (e.g. line 2) and this one does not "
            "fit: it is written day first. Write it as mm/dd/yyyy or yyyy-mm-dd.",
        )
    ]
    assert born(intake)["JA100030"] == datetime.date(2003, 4, 5)
    assert note(result) == (
        "dates read as month/day/year, as the file writes them (e.g. line 2); 1 date, on line "
        "28, is written day first: it does not fit and is reported as an error"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("clear", "refused"),
    [
        (19, [(22, "date_not_day_first")]),  # 1 of 20: 5 %, the stray alone is refused
        (18, [(2, "date_order_unclear")]),  # 1 of 19: the column is mixed
    ],
)
def test_at_the_threshold_the_dates_that_read_both_ways_are_read_or_refused(intake, clear, refused):
    rows = [applicant(0, birth_date="04/05/2003")]  # line 2: reads both ways
    rows += [applicant(1 + n, birth_date=day_first(n)) for n in range(clear)]
    rows.append(applicant(99, birth_date="05/13/2001"))
    result = run(intake, rows)
    assert [(e["line"], e["code"]) for e in result.report] == refused
    if clear == 19:
        assert born(intake)["JA100000"] == datetime.date(2003, 5, 4)


@pytest.mark.django_db
def test_a_column_typed_both_ways_still_refuses_the_dates_that_read_both_ways(intake):
    dates = [day_first(n) for n in range(30)] + [month_first(n) for n in range(10)]
    rows = [applicant(n, birth_date=d) for n, d in enumerate(dates)]
    rows.append(applicant(99, birth_date="04/05/2003"))
    result = run(intake, rows)
    assert reported(result) == [
        (
            42,
            "date_order_unclear",
            "This date can be read day first or month first, and the column has both kinds (day "
            "first on line 2, month first on line 32): write all its dates the same way, or "
            "this one as yyyy-mm-dd.",
        )
    ]
    assert result.created == 40
    assert note(result) == (
        "dates written both day first (e.g. line 2) and month first (e.g. line 32): those that "
        "can be read both ways are not imported"
    )


@pytest.mark.django_db
def test_a_date_corrected_by_answering_the_form_again_is_not_counted_as_a_stray(intake):
    """Six people typed their birth date month first, then sent the form again to correct
    it: the earlier answers are replaced, and their dates say nothing about the column."""
    rows = [applicant(n, birth_date=day_first(n)) for n in range(40)]
    rows += [applicant(n, birth_date=month_first(n)) for n in range(6)]
    rows += [applicant(n, birth_date=day_first(n)) for n in range(6)]  # the corrections
    rows.append(applicant(60, birth_date="04/05/2003"))
    result = run(intake, rows)

    assert {code for _line, code, _text in reported(result)} == {"replaced_later"}
    assert note(result) == "dates read as day/month/year"
    assert born(intake)["JA100060"] == datetime.date(2003, 5, 4)
