"""Reads for the staff pages: the filtered list of applications, its counts and the funnel."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tremplin.admissions.choices import EducationLevel, Employment, Sex
from tremplin.admissions.models import Application, Intake
from tremplin.core.identifiers import normalize_cin
from tremplin.core.text import parse_id

AGE_BANDS = (
    ("-17", _("under 18"), 0, 17),
    ("18-24", _("18 to 24"), 18, 24),
    ("25-29", _("25 to 29"), 25, 29),
    ("30-35", _("30 to 35"), 30, 35),
    ("36-", _("36 and over"), 36, 150),
)

SORTS = {
    "number": ("number",),
    "-number": ("-number",),
    "name": ("last_name", "first_name"),
    "-name": ("-last_name", "-first_name"),
    "age": ("-birth_date",),
    "-age": ("birth_date",),
    "submitted": ("created_at",),
    "-submitted": ("-created_at",),
}

FILTERS = ("status", "eligibility", "sex", "age", "commune", "education", "employment", "wish")


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    options: list[tuple[str, str, int]]  # value, label, count in the current list


def _birth_range(
    reference: datetime.date, low: int, high: int
) -> tuple[datetime.date, datetime.date]:
    """Birth dates of people aged low..high on the reference date."""

    def years_before(years: int) -> datetime.date:
        try:
            return reference.replace(year=reference.year - years)
        except ValueError:  # 29 February
            return reference.replace(year=reference.year - years, day=28)

    latest = years_before(low)
    earliest = years_before(high + 1) + datetime.timedelta(days=1)
    return earliest, latest


def age_band_q(intake: Intake, band: str) -> Q:
    for code, _label, low, high in AGE_BANDS:
        if code == band:
            earliest, latest = _birth_range(intake.reference_date, low, high)
            return Q(birth_date__gte=earliest, birth_date__lte=latest)
    return Q()


def age_band_of(intake: Intake, birth_date: datetime.date) -> str:
    from tremplin.admissions.eligibility import age_on

    age = age_on(birth_date, intake.reference_date)
    return next(code for code, _label, low, high in AGE_BANDS if low <= age <= high)


def applications_filtered(intake: Intake, params) -> QuerySet[Application]:
    """The intake's applications narrowed by the list's query parameters."""
    qs = Application.objects.filter(intake=intake)
    value = params.get
    if value("queue") == "review":
        qs = qs.filter(
            Q(eligibility=Application.Eligibility.PENDING)
            | Q(eligibility=Application.Eligibility.INELIGIBLE, eligibility_overridden=False),
            status=Application.Status.SUBMITTED,
        )
    elif value("queue") == "deletion":  # asked by the applicant, not carried out yet
        qs = qs.filter(deletion_requested_at__isnull=False, erased_at__isnull=True)
    for field, param in (
        ("status", "status"),
        ("eligibility", "eligibility"),
        ("sex", "sex"),
        ("education_level", "education"),
        ("employment", "employment"),
    ):
        if value(param):
            qs = qs.filter(**{field: value(param)})
    if (commune := parse_id(value("commune", ""))) is not None:
        qs = qs.filter(commune_id=commune)
    if (wish := parse_id(value("wish", ""))) is not None:
        qs = qs.filter(wishes__track_id=wish)
    if value("age"):
        qs = qs.filter(age_band_q(intake, value("age")))
    search = (value("q") or "").strip()
    if search:
        cin = normalize_cin(search)
        words = Q()
        for word in search.split()[:4]:
            words &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(first_name_ar__icontains=word)
                | Q(last_name_ar__icontains=word)
            )
        qs = qs.filter(words | Q(reference__iexact=search) | (Q(cin=cin) if cin else Q(pk__in=[])))
    return qs.order_by(*SORTS.get(value("sort", ""), ("number",)))


def facets(intake: Intake, qs: QuerySet[Application]) -> list[Facet]:
    """For each filter, its values and how many applications of the current list have each."""
    base = qs.order_by()

    def counted(field: str) -> dict:
        return dict(base.values_list(field).annotate(n=Count("pk", distinct=True)))

    result = [
        Facet(
            "status",
            str(_("Status")),
            [(v, label, counted("status").get(v, 0)) for v, label in Application.Status.choices],
        ),
        Facet(
            "eligibility",
            str(_("Eligibility")),
            [
                (v, label, counted("eligibility").get(v, 0))
                for v, label in Application.Eligibility.choices
            ],
        ),
        Facet(
            "sex", str(_("Sex")), [(v, label, counted("sex").get(v, 0)) for v, label in Sex.choices]
        ),
    ]
    ages = _age_counts(intake, base)
    result.append(
        Facet(
            "age",
            str(_("Age band")),
            [(code, label, ages.get(code, 0)) for code, label, _low, _high in AGE_BANDS],
        )
    )
    communes = base.values_list("commune_id", "commune__name").annotate(
        n=Count("pk", distinct=True)
    )
    result.append(
        Facet(
            "commune",
            str(_("Commune")),
            [(str(pk), name, n) for pk, name, n in sorted(communes, key=lambda c: c[1])],
        )
    )
    education = counted("education_level")
    result.append(
        Facet(
            "education",
            str(_("Education level")),
            [
                (v, label, education.get(v, 0))
                for v, label in EducationLevel.choices
                if education.get(v)
            ],
        )
    )
    employment = counted("employment")
    result.append(
        Facet(
            "employment",
            str(_("Situation")),
            [
                (v, label, employment.get(v, 0))
                for v, label in Employment.choices
                if employment.get(v)
            ],
        )
    )
    wishes = base.values_list("wishes__track_id", "wishes__track__name").annotate(
        n=Count("pk", distinct=True)
    )
    result.append(
        Facet(
            "wish",
            str(_("Track wished")),
            [(str(pk), name, n) for pk, name, n in wishes if pk is not None],
        )
    )
    return result


def _age_counts(intake: Intake, qs: QuerySet[Application]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for birth_date, n in qs.values_list("birth_date").annotate(n=Count("pk", distinct=True)):
        band = age_band_of(intake, birth_date)
        counts[band] = counts.get(band, 0) + n
    return counts


def funnel(intake: Intake) -> dict:
    """Applied, eligible, ineligible and withdrawn, in total and by sex and age band."""
    rows = (
        Application.objects.filter(intake=intake)
        .values_list("status", "eligibility", "sex", "birth_date")
        .annotate(n=Count("pk"))
        .order_by()
    )
    stages = ("applied", "eligible", "ineligible", "withdrawn")
    total = dict.fromkeys(stages, 0)
    by_sex = {code: dict.fromkeys(stages, 0) for code, _label in Sex.choices}
    by_age = {code: dict.fromkeys(stages, 0) for code, *_rest in AGE_BANDS}
    for status, eligible, sex, birth_date, n in rows:
        hits = ["applied"]
        if status == Application.Status.WITHDRAWN:
            hits.append("withdrawn")
        elif eligible == Application.Eligibility.ELIGIBLE:
            hits.append("eligible")
        elif eligible == Application.Eligibility.INELIGIBLE:
            hits.append("ineligible")
        band = age_band_of(intake, birth_date)
        for stage in hits:
            total[stage] += n
            by_sex[sex][stage] += n
            by_age[band][stage] += n
    return {
        "stages": stages,
        "total": total,
        "by_sex": [(label, by_sex[code]) for code, label in Sex.choices],
        "by_age": [(label, by_age[code]) for code, label, *_rest in AGE_BANDS],
    }
