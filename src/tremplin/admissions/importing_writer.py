"""Writing validated import records to the database, a batch at a time (see ``Writer``)."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tremplin.admissions.models import Application, Intake, ReferenceCounter, Wish
from tremplin.admissions.references import make_reference, numbers_take, reference_year
from tremplin.core.text import search_key
from tremplin.notify.models import Message

# The columns a record fills, in record order (the wishes, last, go to their own table).
_RECORD_COLUMNS = (
    "cin",
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "birth_date",
    "sex",
    "phone",
    "email",
    "commune_id",
    "education_level",
    "diploma",
    "employment",
    "motivation",
    "needs_accommodation",
    "accommodation_consent",
    "follow_up_consent",
    "language",
    "eligibility",
    "eligibility_reasons",
)
# Where a record holds the eligibility the rules gave it.
ELIGIBILITY_AT = _RECORD_COLUMNS.index("eligibility")
# The four names, which ``search_name`` is derived from (``Application.refresh_search_name``).
_NAMES = slice(1, 5)


class RankingPublished(Exception):
    """A ranking of the call was published while the import ran: what is left of it is not
    written (its decisions stand; an applicant added now was never ranked)."""


class Writer:
    """Inserts validated records a batch at a time, with a fixed number of queries per batch:
    one conditional UPDATE takes the batch's numbers (unless reserved before: all or
    nothing, see ``numbers_reserve``), one read gets them back, one statement
    inserts the applications (COPY on PostgreSQL, a prepared multi-row insert elsewhere), one
    read gets their ids, one statement inserts their wishes.

    Why not ``bulk_create``: on 100,000 rows it spent more time turning model instances into
    SQL parameters than the database spent storing them (see bench/bench_import.py). The rows
    are already checked and converted here, so they go to the database as they are; every
    column that the import does not fill takes the model field's default, but the names
    folded for the search, derived here as the model derives them.
    """

    def __init__(self, intake: Intake, *, notify_url: str = "", consent_attested: bool = False):
        self.intake = intake
        # When set, each application written gets its confirmation, as from the portal.
        self.notify_url = notify_url
        self.school_code = intake.school.code
        self.year = reference_year(intake)  # as the portal does
        now = timezone.now()
        fixed = {
            "intake": intake.pk,
            "privacy_notice": intake.privacy_notice_id,
            "privacy_consent_at": now,
            "source": Application.Source.IMPORT,
            "consent_attested": consent_attested,
            # Until the outbox sends her the message with it (``imported_references``).
            "reference_unsent": True,
            "status": Application.Status.SUBMITTED,
            "eligibility_checked_at": now,
            "created_at": now,
            "updated_at": now,
        }
        by_column = {f.column: f for f in Application._meta.concrete_fields if not f.primary_key}
        variable = (*_RECORD_COLUMNS, "number", "reference", "search_name")
        constant_columns, constants = [], []
        for column, model_field in by_column.items():
            if column in variable:
                continue
            value = fixed.get(model_field.name, model_field.get_default())
            constant_columns.append(column)
            value = model_field.get_db_prep_save(value, connection)
            constants.append(str(value) if isinstance(value, str) else value)  # not the enum
        self.columns = [*variable, *constant_columns]
        self.constants = tuple(constants)
        self.adapt_date = connection.ops.adapt_datefield_value
        self.is_postgres = connection.vendor == "postgresql"

    def numbers_reserve(self, count: int) -> int:
        """Take ``count`` numbers for records to write later, in a transaction of its own;
        returns the first. The counter's row lock is held for this statement only, not for
        the whole write: the school's portal submissions, which take their numbers from the
        same row, do not wait for the file."""
        with transaction.atomic():
            return numbers_take(self.intake, count)

    def numbers_release(self, first: int, count: int) -> None:
        """Give back numbers reserved for a write that did not commit, unless others were
        taken after them (a gap then stays, as from a submission that lost a race)."""
        ReferenceCounter.objects.filter(
            school_id=self.intake.school_id, year=self.year, last_number=first + count - 1
        ).update(last_number=first - 1)

    def write(self, records: list[tuple], first: int | None = None) -> list[tuple]:
        """Insert ``records`` in one savepoint, numbered from ``first`` (reserved with
        ``numbers_reserve``; taken in the savepoint if None); returns those not inserted
        because the same CIN arrived meanwhile (from the portal), as (record, reference)
        pairs."""
        reserved = None if first is None else range(first, first + len(records))
        try:
            with transaction.atomic():
                self._refuse_once_published()
                numbers = self._numbers_take(len(records)) if reserved is None else reserved
                self._insert(records, numbers)
            return []
        except IntegrityError:
            # Someone applied with one of these CINs since the import started: drop those
            # rows (they are duplicates, not errors) and insert the others.
            taken = dict(
                Application.objects.filter(
                    intake=self.intake, cin__in=[r[0] for r in records]
                ).values_list("cin", "reference")
            )
            kept = [i for i, r in enumerate(records) if r[0] not in taken]
            with transaction.atomic():
                self._refuse_once_published()
                self._insert(
                    [records[i] for i in kept],
                    self._numbers_take(len(kept))
                    if reserved is None
                    else [reserved[i] for i in kept],
                )
            return [(r, taken[r[0]]) for r in records if r[0] in taken]

    def _numbers_take(self, count: int) -> range:
        if not count:
            return range(0)
        first = numbers_take(self.intake, count)
        return range(first, first + count)

    def _refuse_once_published(self) -> None:
        """Raise ``RankingPublished`` if a ranking of the call is published. Under the call's
        lock, which ``ranking_publish`` takes too: a publication waits for the batch being
        written (for the whole file, all or nothing), or the batch sees it. A lock that does
        not hold up the portal's submissions to the call (no_key: their rows' links to the
        call take a key share of its row, which FOR UPDATE would make wait for the file)."""
        from tremplin.selection.schemes import published_run

        Intake.objects.select_for_update(no_key=True).only("pk").get(pk=self.intake.pk)
        if published_run(self.intake) is not None:
            raise RankingPublished

    def _insert(self, records: list[tuple], numbers) -> None:
        """Insert ``records``, each with its number (in increasing order, taken for them)."""
        if not records:
            return
        first, last = numbers[0], numbers[-1]
        constants, code, year = self.constants, self.school_code, self.year
        if self.is_postgres:  # psycopg takes dates as they are
            rows = [
                (
                    *record[:20],
                    number,
                    make_reference(code, year, number),
                    search_key(*record[_NAMES]),
                    *constants,
                )
                for number, record in zip(numbers, records, strict=True)
            ]
        else:
            adapt_date = self.adapt_date
            rows = [
                (*record[:5], adapt_date(record[5]), *record[6:20], number,
                 make_reference(code, year, number), search_key(*record[_NAMES]), *constants)
                for number, record in zip(numbers, records, strict=True)
            ]  # fmt: skip
        self._copy(Application._meta.db_table, self.columns, rows)
        ids = dict(
            Application.objects.filter(
                intake=self.intake, number__gte=first, number__lte=last
            ).values_list("number", "pk")
        )
        wishes = [
            (ids[number], track, rank)
            for number, record in zip(numbers, records, strict=True)
            for rank, track in enumerate(record[20], start=1)
        ]
        wish_columns = [Wish._meta.get_field(n).column for n in ("application", "track", "rank")]
        self._copy(Wish._meta.db_table, wish_columns, wishes)
        if self.notify_url:
            Message.objects.bulk_create(
                self._confirmations(
                    (ids[number], make_reference(code, year, number), record)
                    for number, record in zip(numbers, records, strict=True)
                )
            )

    def _confirmations(self, written) -> list[Message]:
        """The confirmation of each application written, (id, reference, record), in its
        applicant's language, on each channel she gave: what the portal sends on submission
        (her reference and the way to her space), written in the same transaction and sent by
        the outbox sweep. A kind of its own: several applicants of a file may share a phone
        (a youth centre's), which the limit on the portal's confirmations must not hold."""
        from tremplin.admissions.services import applicant_channels, imported_message_context
        from tremplin.notify.services import message_build

        messages = []
        for pk, reference, record in written:
            application = Application(
                pk=pk,
                intake=self.intake,
                reference=reference,
                first_name=record[1],
                first_name_ar=record[3],
                phone=record[7],
                email=record[8],
                language=record[17],
            )
            context = imported_message_context(application, self.notify_url)
            messages += [
                message_build(
                    channel=channel,
                    to=recipient,
                    template="application_imported",
                    context=context,
                    language=application.language,
                    school=self.intake.school,
                    related=application,
                )
                for channel, recipient in applicant_channels(application)
            ]
        return messages

    def _copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            if self.is_postgres:
                statement = f"COPY {quote(table)} ({names}) FROM STDIN"
                with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608


# --- The import ---------------------------------------------------------------------------
