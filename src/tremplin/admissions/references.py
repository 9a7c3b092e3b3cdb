"""Application references such as ``SMA-25-0042``: the school's code, the year the call opens
(Moroccan time), and a number that runs per school and year, across all of its calls."""

from django.db import connection
from django.db.models import F
from django.utils import timezone

from tremplin.core.prepared import prepared_cursor


def make_reference(school_code: str, year: int, number: int) -> str:
    return f"{school_code}-{year % 100:02d}-{number:04d}"


def reference_year(intake) -> int:
    """The year of the reference: when the call opens, in the school's time zone."""
    return timezone.localtime(intake.opens_at).year


def numbers_take(intake, count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers for ``intake``'s school and year; returns the
    first. A conditional UPDATE takes the counter's row lock, so two requests never get the
    same number, and two calls of one school in one year never give the same reference."""
    from tremplin.admissions.models import ReferenceCounter

    counters = ReferenceCounter.objects.filter(
        school_id=intake.school_id, year=reference_year(intake)
    )
    # UPDATE first: the counter exists for every number but a year's first.
    if not counters.update(last_number=F("last_number") + count):
        ReferenceCounter.objects.get_or_create(
            school_id=intake.school_id, year=reference_year(intake)
        )
        counters.update(last_number=F("last_number") + count)
    return counters.values_list("last_number", flat=True).get() - count + 1


# One statement does what a submission needs of the counter (see number_for_application).
_NUMBER_SQL = """
    UPDATE {counter} SET last_number = last_number + 1
    WHERE school_id = %(school)s AND year = %(year)s
      AND NOT EXISTS (
        SELECT 1 FROM {application} WHERE intake_id = %(intake)s AND cin = %(cin)s
      )
    RETURNING last_number
"""


def number_for_application(intake, cin: str) -> int | None:
    """The next number of ``intake``'s school and year for a new application by ``cin``, or
    None when this CIN has already applied to this call.

    One UPDATE ... RETURNING. Called before the submission's transaction, it holds the
    counter's row lock for this statement only, so deadline-day submissions do not queue
    behind each other's inserts. The NOT EXISTS spares a number to a repeated submission
    (double click, retry); between two simultaneous ones the unique constraint on
    (intake, CIN) decides, and the loser's number stays unused, a harmless gap (references
    identify applications, they do not count them).
    """
    from tremplin.admissions.models import Application, ReferenceCounter

    table = connection.ops.quote_name
    sql = _NUMBER_SQL.format(
        counter=table(ReferenceCounter._meta.db_table),
        application=table(Application._meta.db_table),
    )
    params = {
        "school": intake.school_id,
        "year": reference_year(intake),
        "intake": intake.pk,
        "cin": cin,
    }
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None and not Application.objects.filter(intake=intake, cin=cin).exists():
            # The year's first application: create the counter, then take its first number.
            ReferenceCounter.objects.get_or_create(school_id=intake.school_id, year=params["year"])
            cursor.execute(sql, params)
            row = cursor.fetchone()
    return row[0] if row else None
