"""Application references such as ``SMA-25-0042``: the school's code, the year the call opens
(Moroccan time), and a number that runs per school and year, across all of its calls."""

from django.db.models import F
from django.utils import timezone


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
