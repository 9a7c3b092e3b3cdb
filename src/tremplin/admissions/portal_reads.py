"""What the applicant portal reads on every request, read for deadline day.

The submit form is the busiest request of the year, and on it the ORM's cost is CPU, not
the database: building a query and the objects it returns costs several times reading the
same rows as plain values. So the portal reads its rows with plain SQL and keeps objects
only where they cannot go stale:

- the call, its school and privacy notice: read on every request, rebuilt as objects only
  when the row changed (``published_call``);
- the call's tracks and residence rules: one query, fresh each time (``call_details``);
- the reference geography: read once per process (``Geography``), since it does not
  change while the application runs.
"""

from django.db import connection
from django.db.models.signals import post_migrate
from django.utils import translation
from django_scopes import scopes_disabled

from tremplin.admissions import eligibility
from tremplin.admissions.models import Intake, IntakeTrack, PrivacyNotice
from tremplin.core.prepared import prepared_cursor
from tremplin.core.text import reading_order
from tremplin.schools.models import Commune, Province, School, Track

# The call's row with its school's and notice's, as plain values.
_CALL_ROW_SQL = """
    SELECT i.id, i.*, s.*, n.* FROM {intake} i
      JOIN {school} s ON s.id = i.school_id
      LEFT JOIN {notice} n ON n.id = i.privacy_notice_id
    WHERE s.slug = %(school)s AND s.is_active = %(active)s AND i.slug = %(intake)s
      AND i.status <> %(draft)s
"""

# (school slug, call slug) -> (the rows, the objects built from them)
_built_calls: dict[tuple[str, str], tuple[tuple, Intake]] = {}


def published_call(school_slug: str, intake_slug: str) -> Intake | None:
    """The published call of an active school, with its school and privacy notice.

    The rows are read on every request, so nothing here goes stale; only building the
    objects (ten times the CPU of reading the rows) is skipped when the rows are those they
    were last built from. The objects are shared: read them, never change them.
    """
    table = connection.ops.quote_name
    sql = _CALL_ROW_SQL.format(
        intake=table(Intake._meta.db_table),
        school=table(School._meta.db_table),
        notice=table(PrivacyNotice._meta.db_table),
    )
    params = {
        "school": school_slug,
        "active": True,
        "intake": intake_slug,
        "draft": Intake.Status.DRAFT,
    }
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    key = (school_slug, intake_slug)
    built = _built_calls.get(key)
    if built is None or built[0] != row:
        with scopes_disabled():
            intake = Intake.objects.select_related("school", "privacy_notice").get(pk=row[0])
        built = _built_calls[key] = (row, intake)
    return built[1]


# The call's tracks and the ids its residence rules name, in one round trip.
_CALL_DETAILS_SQL = """
    SELECT 'track', t.id, t.name, t.name_ar FROM {intake_track} it
      JOIN {track} t ON t.id = it.track_id WHERE it.intake_id = %(intake)s
    UNION ALL
    SELECT 'province', p.province_id, NULL, NULL FROM {provinces} p WHERE p.intake_id = %(intake)s
    UNION ALL
    SELECT 'commune', c.commune_id, NULL, NULL FROM {communes} c WHERE c.intake_id = %(intake)s
"""


def call_details(intake: Intake) -> tuple[list[Track], eligibility.Rules]:
    """The tracks of the call (by name) and its eligibility rules."""
    table = connection.ops.quote_name
    sql = _CALL_DETAILS_SQL.format(
        intake_track=table(IntakeTrack._meta.db_table),
        track=table(Track._meta.db_table),
        provinces=table(Intake.provinces.through._meta.db_table),
        communes=table(Intake.communes.through._meta.db_table),
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, {"intake": intake.pk})
        rows = cursor.fetchall()
    # Tracks with only what the form shows: any other field loads if something reads it.
    fields = ["id", "school_id", "name", "name_ar"]
    tracks = sorted(
        (
            Track.from_db(None, fields, (pk, intake.school_id, name, name_ar))
            for kind, pk, name, name_ar in rows
            if kind == "track"
        ),
        key=lambda track: track.name,
    )
    rules = eligibility.Rules.of(
        intake,
        province_ids={pk for kind, pk, *_ in rows if kind == "province"},
        commune_ids={pk for kind, pk, *_ in rows if kind == "commune"},
    )
    return tracks, rules


class Geography:
    """The provinces and communes of the reference geography, read once per process.

    The geography is reference data loaded with the database and never changed while the
    application runs, so the portal checks the chosen province and commune against this copy
    instead of asking the database on every submission. An id that is not in the copy reloads
    it once (a commune added since start-up is not refused); ``forget`` drops it (after a
    flush, in tests). The objects are shared between requests: read them, never change them.
    """

    _places: tuple[dict[int, Province], dict[int, Commune]] | None = None
    _ordered: dict[bool, tuple[list[Province], list[Commune]]] = {}

    @classmethod
    def provinces(cls) -> dict[int, Province]:
        """The provinces that have communes, by id, ordered by name."""
        return cls._load()[0]

    @classmethod
    def communes(cls) -> dict[int, Commune]:
        """Every commune with its province, by id, ordered by province then name."""
        return cls._load()[1]

    @classmethod
    def communes_of(cls, province_id: int) -> list[Commune]:
        """The communes of one province, in the page's order (reloaded once for a province
        the copy lacks, as ``find`` does)."""
        if province_id not in cls.provinces():
            cls.forget()
        return [c for c in cls.in_order()[1] if c.province_id == province_id]

    @classmethod
    def in_order(cls) -> tuple[list[Province], list[Commune]]:
        """The provinces, and the communes by province, in the order of the page's language:
        by their Arabic names on an Arabic page, the forms of a letter as one (أ, إ and آ
        as ا: "أزيلال" before "آسفي"), else by their names without accents ("Béni Mellal"
        before "Boulemane"); as the search folds them (``fold``). Sorted once per language."""
        arabic = translation.get_language() == "ar"
        ordered = cls._ordered.get(arabic)
        if ordered is None:

            def key(place) -> tuple[str, str]:
                return reading_order((place.name_ar or place.name) if arabic else place.name)

            provinces = sorted(cls.provinces().values(), key=key)
            rank = {province.pk: n for n, province in enumerate(provinces)}
            communes = sorted(cls.communes().values(), key=lambda c: (rank[c.province_id], key(c)))
            ordered = cls._ordered[arabic] = (provinces, communes)
        return ordered

    @classmethod
    def find(cls, kind: str, pk: int) -> Province | Commune | None:
        places = cls.provinces if kind == "province" else cls.communes
        found = places().get(pk)
        if found is None:
            cls.forget()
            found = places().get(pk)
        return found

    @classmethod
    def forget(cls, **kwargs) -> None:
        cls._places = None
        cls._ordered = {}

    @classmethod
    def _load(cls) -> tuple[dict[int, Province], dict[int, Commune]]:
        places = cls._places
        if places is None:
            communes = Commune.objects.select_related("province").order_by("province__name", "name")
            by_id = {commune.pk: commune for commune in communes}
            provinces = {c.province_id: c.province for c in by_id.values()}
            places = cls._places = (provinces, by_id)
        return places


post_migrate.connect(Geography.forget, dispatch_uid="tremplin.admissions.forget_geography")
