"""Reads for the staff pages: the filtered list of applications, its counts and the funnel."""

import dataclasses
import datetime
import re
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlencode

from django.db.models import Count, Exists, IntegerField, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tremplin.admissions.choices import EducationLevel, Employment, Sex
from tremplin.admissions.models import Application, Intake, PrivacyNotice, Wish
from tremplin.admissions.references import reference_year
from tremplin.core.i18n import localized
from tremplin.core.identifiers import ascii_digits, normalize_cin
from tremplin.core.ordering import Unaccented
from tremplin.core.text import fold, parse_id, reading_order, typed_search
from tremplin.schools.models import Commune, Track

# Code, label, lowest and highest age. The first and last bands are open-ended, so every
# birth date falls in one band: one after the reference date (a typing slip, or a
# reference date moved back) counts as "under 18" rather than breaking the counts.
AGE_BANDS = (
    ("-17", _("under 18"), None, 17),
    ("18-24", _("18 to 24"), 18, 24),
    ("25-29", _("25 to 29"), 25, 29),
    ("30-35", _("30 to 35"), 30, 35),
    ("36-", _("36 and over"), 36, None),
)

SORTS = {
    "number": ("number",),
    "-number": ("-number",),
    # Whatever the case and the accents they were typed with ("alami" next to "Alaoui",
    # "Aït Ahmed" next to "Ait Bella"), on either database.
    "name": (Unaccented("last_name"), Unaccented("first_name")),
    "-name": (Unaccented("last_name").desc(), Unaccented("first_name").desc()),
    "age": ("-birth_date",),
    "-age": ("birth_date",),
    "submitted": ("created_at",),
    "-submitted": ("-created_at",),
}

# The orders of the list's menu, as it names them.
SORT_LABELS = {
    "number": _("reference"),
    "-number": _("reference, last first"),
    "name": _("name, A to Z"),
    "-name": _("name, Z to A"),
    "age": _("age, youngest first"),
    "-age": _("age, oldest first"),
    "submitted": _("first received first"),
    "-submitted": _("most recent first"),
}

FILTERS = ("status", "eligibility", "sex", "age", "commune", "education", "employment", "wish")


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    options: list[tuple[str, str, int]]  # value, label, count with the other filters
    selected: str = ""  # the value chosen, if any
    links: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # value -> query string choosing it
    clear: str = ""  # the query string without this filter

    @property
    def selected_label(self) -> str:
        return next((str(lb) for v, lb, _n in self.options if v == self.selected), self.selected)


def _years_before(reference: datetime.date, years: int) -> datetime.date:
    try:
        return reference.replace(year=reference.year - years)
    except ValueError:  # 29 February
        return reference.replace(year=reference.year - years, day=28)


def age_band_q(intake: Intake, band: str) -> Q:
    """Birth dates of the people in `band` on the intake's reference date."""
    for code, _label, low, high in AGE_BANDS:
        if code == band:
            q = Q()
            if low is not None:
                q &= Q(birth_date__lte=_years_before(intake.reference_date, low))
            if high is not None:
                earliest = _years_before(intake.reference_date, high + 1)
                q &= Q(birth_date__gt=earliest)
            return q
    return Q()


def age_band_of(intake: Intake, birth_date: datetime.date) -> str:
    from tremplin.admissions.eligibility import age_on

    age = age_on(birth_date, intake.reference_date)
    for code, _label, low, high in AGE_BANDS:
        if (low is None or low <= age) and (high is None or age <= high):
            return code
    raise AssertionError("AGE_BANDS leaves a gap")  # the bands are contiguous


def holds_a_seat() -> Q:
    """Applications holding a live or accepted offer, or enrolled: the selection gave them a
    seat, which a change of their eligibility must not leave taken."""
    from tremplin.selection.models import Offer
    from tremplin.training.models import Enrolment

    return Q(offers__status__in=[Offer.Status.LIVE, Offer.Status.ACCEPTED]) | Q(
        enrolment__status__in=[Enrolment.Status.ACTIVE, Enrolment.Status.COMPLETED]
    )


def applications_to_recheck(intake: Intake) -> QuerySet[Application]:
    """The applications a re-check of the rules decides again: submitted, not withdrawn
    nor erased, not decided by staff, and holding no seat (an offer is taken back by staff,
    on the offers page, before its holder can be made ineligible)."""
    return Application.objects.filter(
        intake=intake,
        status=Application.Status.SUBMITTED,
        erased_at__isnull=True,
        eligibility_overridden=False,
    ).exclude(holds_a_seat())


def decided_before_the_rules(intake: Intake) -> tuple[datetime.datetime | None, int]:
    """When the call's eligibility rules last changed, and how many of the applications a
    re-check would decide again were last checked before that (under the former rules):
    until a re-check, the funnel counts them as decided then. (None, 0) when the rules
    never changed, or none waits."""
    from tremplin.admissions.intakes import intake_changes

    changed_at = (
        intake_changes(intake.pk)
        .filter(data__has_key="rules")
        .values_list("created_at", flat=True)
        .first()
    )
    if changed_at is None:
        return None, 0
    before = applications_to_recheck(intake).filter(
        Q(eligibility_checked_at__lt=changed_at) | Q(eligibility_checked_at__isnull=True)
    )
    count = before.count()
    return (changed_at, count) if count else (None, 0)


def waits_for_review() -> Q:
    """The applications a person has to look at (the review queue, with the submitted
    ones): eligibility still pending; found ineligible by the rules, for staff to confirm
    or overturn, until a ranking of the call is published (its decisions were taken on
    those results, which then stand: ``intakes.rules_frozen``); decided by staff, then
    changed by the applicant (``services.decision_to_review``)."""
    from tremplin.selection.schemes import published_runs

    published = published_runs(OuterRef("intake"))
    return (
        Q(eligibility=Application.Eligibility.PENDING)
        | (
            Q(eligibility=Application.Eligibility.INELIGIBLE, eligibility_overridden=False)
            & ~Exists(published)
        )
        | Q(eligibility_overridden=True, changed_since_decision_at__isnull=False)
    )


# The list's search box: a name, a reference or a CIN.
SEARCH = "q"


def applications_filtered(intake: Intake, params) -> QuerySet[Application]:
    """The intake's applications narrowed by the list's query parameters."""
    qs = Application.objects.filter(intake=intake)
    value = params.get
    if value("queue") == "review":
        qs = qs.filter(
            waits_for_review(), status=Application.Status.SUBMITTED, erased_at__isnull=True
        )
    elif value("queue") == "deletion":  # asked by the applicant, not carried out yet
        qs = qs.filter(deletion_requested_at__isnull=False, erased_at__isnull=True)
    for field, param, known in (
        ("status", "status", Application.Status.values),
        ("eligibility", "eligibility", Application.Eligibility.values),
        ("sex", "sex", Sex.values),
        ("education_level", "education", EducationLevel.values),
        ("employment", "employment", Employment.values),
    ):
        # An unknown value (a link typed or cut short) filters nothing, as its facet shows.
        if value(param) in known:
            qs = qs.filter(**{field: value(param)})
    # An id that names no commune or track (a link cut short, a track since removed) filters
    # nothing either, as its facet shows no chip for it.
    # (Tested in the query itself: the facets run this eight times a page.)
    if (commune := parse_id(value("commune", ""))) is not None:
        qs = qs.filter(Q(commune_id=commune) | ~Exists(Commune.objects.filter(pk=commune)))
    if (wish := parse_id(value("wish", ""))) is not None:
        # The wishes of the applications listed, which are the school's already: the
        # scoped manager's join to the school, in the subquery, had PostgreSQL read every
        # application of every school (a list 4-9 times slower at 6,000 applications).
        qs = qs.filter(
            Exists(Wish._base_manager.filter(application=OuterRef("pk"), track_id=wish))
            | ~Exists(Track.objects.filter(pk=wish))
        )
    if value("age"):
        qs = qs.filter(age_band_q(intake, value("age")))
    search = typed_search(value(SEARCH))
    if search:
        cin = normalize_cin(search)
        qs = qs.filter(
            names_q(search)
            | Q(reference__iexact=search)
            | reference_q(intake, search)
            | (Q(cin=cin) if cin else Q(pk__in=[]))
        )
    # The number last, so that applications equal on the sort (a birth date shared) keep
    # one order from page to page.
    order = SORTS.get(value("sort", ""), SORTS["number"])
    return qs.order_by(
        *order, *(() if order in (SORTS["number"], SORTS["-number"]) else ("number",))
    )


# A reference as people type or read it out: its number alone ("42", "0042"), or the school's
# code, the year and the number, the number set apart ("SMA-25-0042", "sma 25 42",
# "SMA25-0042") or written in full ("SMA250042"). Digits run together with a separator in
# between ("26-42") are no reference, and a CIN (one or two letters, then digits) is not
# read as one: the school code must then be followed by a separator, or be three letters.
_TYPED_REFERENCES = (
    re.compile(r"()()(\d{1,6})"),
    re.compile(r"([A-Z]+)[\W_]*(\d{2})[\W_]+(\d{1,6})"),
    re.compile(r"([A-Z]{3,})(\d{2})(\d{4,6})"),
)


def reference_q(intake: Intake, search: str) -> Q:
    """The application of ``intake`` whose reference ``search`` is, typed loosely; nothing
    when it is no reference, or one of another school or year (its number would name
    someone else here)."""
    typed = ascii_digits(search).strip().upper()
    found = next(filter(None, (shape.fullmatch(typed) for shape in _TYPED_REFERENCES)), None)
    if found is None:
        return Q(pk__in=[])
    code, year, number = found.groups()
    if code and (code, int(year)) != (intake.school.code.upper(), reference_year(intake) % 100):
        return Q(pk__in=[])
    return Q(number=int(number))


def names_q(search: str, *, to_application: str = "") -> Q:
    """The applications whose names hold every word of ``search`` (four at most), each
    folded as the names were (``core.text.fold``): "ait ahmed" finds "Aït-Ahmed", "ابراهيم"
    finds "إبراهيم". Nothing when no word is left (only punctuation typed).
    ``to_application``: the path from another model, e.g. ``"application__"``."""
    words = [word for word in map(fold, search.split()) if word][:4]
    if not words:
        return Q(pk__in=[])
    column = f"{to_application}search_name__contains"
    return Q(*(Q(**{column: word}) for word in words))


def facets(intake: Intake, params) -> list[Facet]:
    """For each filter, its values and how many applications each would show: the list
    narrowed by all the other filters (so that choosing "women" still shows how many men
    there are). One query per filter, whatever the number of applications."""

    def others(name: str) -> QuerySet[Application]:
        return applications_filtered(intake, {k: v for k, v in params.items() if k != name})

    def counted(name: str, column: str) -> dict:
        rows = others(name).order_by().values_list(column).annotate(n=Count("pk", distinct=True))
        return dict(rows)

    def facet(name: str, label, options, name_of=None) -> Facet:
        options = list(options)
        # A value chosen that shows nothing with the other filters is not among the counted
        # ones: it stays, with 0, so that its chip names it instead of showing a raw id.
        chosen = params.get(name) or ""
        missing = chosen and name_of and chosen not in {value for value, *_rest in options}
        if missing and (chosen_label := name_of(chosen)) is not None:
            options.append((chosen, chosen_label, 0))
        return _with_links(Facet(name, str(label), options), params)

    def named(model):
        def name_of(value: str) -> str | None:
            pk = parse_id(value)
            found = model.objects.filter(pk=pk).first() if pk else None
            return None if found is None else str(found)  # in the page's language

        return name_of

    status = counted("status", "status")
    eligible = counted("eligibility", "eligibility")
    sex = counted("sex", "sex")
    ages = _age_counts(intake, others("age").order_by())
    communes = (
        (pk, _local_name(name, name_ar), n)
        for pk, name, name_ar, n in others("commune")
        .order_by()
        .values_list("commune_id", "commune__name", "commune__name_ar")
        .annotate(n=Count("pk", distinct=True))
    )
    education = counted("education", "education_level")
    employment = counted("employment", "employment")
    wishes = (
        (pk, _local_name(name, name_ar), n)
        for pk, name, name_ar, n in others("wish")
        .order_by()
        .values_list("wishes__track_id", "wishes__track__name", "wishes__track__name_ar")
        .annotate(n=Count("pk", distinct=True))
    )
    return [
        facet(
            "status",
            _("Status"),
            ((v, lb, status.get(v, 0)) for v, lb in Application.Status.choices),
        ),
        facet(
            "eligibility",
            _("Eligibility"),
            ((v, lb, eligible.get(v, 0)) for v, lb in Application.Eligibility.choices),
        ),
        facet("sex", _("Sex"), ((v, lb, sex.get(v, 0)) for v, lb in Sex.choices)),
        facet(
            "age",
            _("Age band"),
            ((code, lb, ages.get(code, 0)) for code, lb, _low, _high in AGE_BANDS),
        ),
        facet(
            "commune",
            _("Commune"),
            ((str(pk), name, n) for pk, name, n in sorted(communes, key=in_reading_order)),
            named(Commune),
        ),
        facet(
            "education",
            _("Education level"),
            ((v, lb, education[v]) for v, lb in EducationLevel.choices if education.get(v)),
            dict(EducationLevel.choices).get,
        ),
        facet(
            "employment",
            _("Situation"),
            ((v, lb, employment[v]) for v, lb in Employment.choices if employment.get(v)),
            dict(Employment.choices).get,
        ),
        facet(
            "wish",
            _("Track wished"),
            (
                (str(pk), name, n)
                for pk, name, n in sorted(wishes, key=in_reading_order)
                if pk is not None
            ),
            named(Track),
        ),
    ]


def in_reading_order(choice: tuple) -> tuple[str, str]:
    """A facet's choices (value, name, count) by their names (none for no track wished)."""
    return reading_order(choice[1] or "")


def _local_name(name: str, name_ar: str) -> str:
    """A commune's or track's name as its ``__str__`` gives it: Arabic on an Arabic page."""
    return localized(SimpleNamespace(name=name, name_ar=name_ar), "name")


def _with_links(facet: Facet, params) -> Facet:
    """`facet` with the query strings that choose each value (in place of the facet's own)
    and that remove its filter; the other parameters stay, the page goes back to 1."""
    kept = {k: v for k, v in params.items() if v and k not in ("page", facet.name)}
    chosen = params.get(facet.name) or ""
    return dataclasses.replace(
        facet,
        # A value that names nothing (age=abc) filters nothing: no chip claims it does.
        selected=chosen if chosen in {value for value, *_rest in facet.options} else "",
        links={value: urlencode({**kept, facet.name: value}) for value, *_rest in facet.options},
        clear=urlencode(kept),
    )


def _age_counts(intake: Intake, qs: QuerySet[Application]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for birth_date, n in qs.values_list("birth_date").annotate(n=Count("pk", distinct=True)):
        band = age_band_of(intake, birth_date)
        counts[band] = counts.get(band, 0) + n
    return counts


# Each stage of the funnel as the list's filters (the list of the applications it counts).
FUNNEL_FILTERS = {
    "applied": {},
    "eligible": {"status": Application.Status.SUBMITTED, "eligibility": "eligible"},
    "ineligible": {"status": Application.Status.SUBMITTED, "eligibility": "ineligible"},
    "withdrawn": {"status": Application.Status.WITHDRAWN},
}
FUNNEL_LABELS = {
    "applied": _("Applied"),
    "eligible": _("Eligible"),
    "ineligible": _("Not eligible"),
    "withdrawn": pgettext_lazy("funnel", "Withdrawn"),
}


def funnel(intake: Intake) -> dict:
    """Applied, eligible, ineligible and withdrawn, in total and by sex and age band, with
    the query string of the list each stage counts. ``stages``: (stage, its name) in order."""
    rows = (
        Application.objects.filter(intake=intake)
        .values_list("status", "eligibility", "sex", "birth_date")
        .annotate(n=Count("pk"))
        .order_by()
    )
    stages = tuple(FUNNEL_FILTERS)
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
    for rows_of, param in ((by_sex, "sex"), (by_age, "age")):
        for code, row in rows_of.items():
            # Each count of the table opens the list it counts, as the totals do.
            row["links"] = {
                stage: urlencode({**FUNNEL_FILTERS[stage], param: code}) for stage in stages
            }
    return {
        "stages": [(stage, FUNNEL_LABELS[stage]) for stage in stages],
        "total": total,
        "queries": {stage: urlencode(FUNNEL_FILTERS[stage]) for stage in stages},
        "by_sex": [(label, by_sex[code]) for code, label in Sex.choices],
        "by_age": [(label, by_age[code]) for code, label, *_rest in AGE_BANDS],
    }


def intakes_on_an_older_notice(school) -> tuple[PrivacyNotice | None, list[Intake]]:
    """The school's latest privacy notice, and its calls not closed yet that still take
    applications under an earlier version (each call keeps its notice until staff choose
    another in its form)."""
    latest = PrivacyNotice.objects.filter(school=school).order_by("-version").first()
    if latest is None:
        return None, []
    older = (
        Intake.objects.filter(school=school, privacy_notice__isnull=False)
        .exclude(status=Intake.Status.CLOSED)
        .exclude(privacy_notice=latest)
        .order_by("-opens_at")
    )
    return latest, list(older)


def _queue_count(params: dict) -> Coalesce:
    """For each call, the number of applications the list shows with ``params``: the list's
    own filters, as a subquery, so that the dashboard and the list never disagree."""
    rows = (
        applications_filtered(OuterRef("pk"), params)
        .order_by()
        .values("intake")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def calls_waiting(school, *, review: bool, offers: bool) -> list[Intake]:
    """In one query, the calls of ``school`` that wait for staff: with ``review``, those open
    and those with applications to review or to delete, with the counts of the list's
    queues; with ``offers``, those with offers awaiting an answer, with the earliest
    deadline (the staff dashboard)."""
    from tremplin.selection.models import Offer

    if not review and not offers:
        return []
    calls = Intake.objects.filter(school=school)
    wanted = Q(pk__in=[])
    if review:
        calls = calls.annotate(
            applied=_queue_count({}),
            review_count=_queue_count({"queue": "review"}),
            deletion_count=_queue_count({"queue": "deletion"}),
        )
        wanted |= Q(status=Intake.Status.OPEN) | Q(review_count__gt=0) | Q(deletion_count__gt=0)
    if offers:
        live = (
            Offer.objects.filter(pool__intake=OuterRef("pk"), status=Offer.Status.LIVE)
            .order_by()
            .values("pool__intake")
        )
        calls = calls.annotate(
            live_offers=Coalesce(
                Subquery(live.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
                0,
            ),
            first_deadline=Subquery(live.annotate(first=Min("deadline")).values("first")),
        )
        wanted |= Q(live_offers__gt=0)
    calls = list(calls.filter(wanted).order_by("-opens_at"))
    now = timezone.now()
    for call in calls:
        call.needs_review = review and (
            call.status == Intake.Status.OPEN or call.review_count or call.deletion_count
        )
        call.taking_applications = call.status == Intake.Status.OPEN and call.closes_at > now
        # A call closed early by staff has its closing date still ahead: no date then.
        passed = call.status != Intake.Status.DRAFT and call.closes_at <= now
        call.closed_since = call.closes_at if passed else None
        if not offers:
            call.live_offers = 0
    return calls
