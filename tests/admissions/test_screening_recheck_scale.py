"""The re-check of a call's rules at scale: its statements grow with its chunks, not with its
applications, and it writes what the re-check one application at a time wrote: the same
results, the same audit events, the same messages."""

import dataclasses
import io
import threading

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tests.admissions.builders import applicant, canonical_csv, make_import_intake
from tremplin.admissions import eligibility, screening, services
from tremplin.admissions.importing import import_applications
from tremplin.admissions.models import Application, Document, Intake
from tremplin.core import audit
from tremplin.core.audit import log_action
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message
from tremplin.notify.services import outbox_flush

ELIGIBLE, INELIGIBLE = Application.Eligibility.ELIGIBLE, Application.Eligibility.INELIGIBLE


def call_of(world, slug: str, rows: list[dict]) -> Intake:
    """An open call of Smara (18 to 35 years old on 1 September 2026) and ``rows`` imported."""
    intake = make_import_intake(world.smara, slug=slug)
    result = import_applications(
        intake=intake,
        fileobj=io.BytesIO(canonical_csv(rows)),
        filename="applicants.csv",
        mode="all",
        dry_run=False,
    )
    assert result.created == len(rows), result.report[:3]
    return intake


def change_rules(intake: Intake, **rules) -> None:
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(**rules)


def recheck(world, intake: Intake) -> screening.Recheck:
    with scope(school=world.smara):
        return screening.eligibility_recheck(intake=intake, actor=world.users["admissions"])


def tightened(world, slug: str, size: int, first: int) -> Intake:
    """A call of ``size`` applicants numbered from ``first`` (one in two with an email, in
    French or in Arabic), aged 23 but those numbered by a multiple of 5, aged 19, whose age
    limit then goes down to 20: the re-check turns away those of 23, and tells them."""
    rows = [
        applicant(
            n,
            birth_date="21/03/2007" if n % 5 == 0 else "21/03/2003",
            email=f"applicant{n}@example.ma" if n % 2 else "",
            language="ar" if n % 3 else "fr",
        )
        for n in range(first, first + size)
    ]
    intake = call_of(world, slug, rows)
    change_rules(intake, max_age=20)
    return intake


@pytest.mark.django_db
def test_the_queries_of_a_recheck_grow_with_its_chunks_not_its_applications(world, monkeypatch):
    monkeypatch.setattr(screening, "RECHECK_CHUNK", 10)

    def queries(size: int, first: int) -> int:
        intake = tightened(world, f"call-{first}", size, first)
        turned = [n for n in range(first, first + size) if n % 5]
        with scopes_disabled():
            messages = Message.objects.count()
        with CaptureQueriesContext(connection) as captured:
            done = recheck(world, intake)
        assert (done.checked, done.changed, done.staff_decided) == (size, len(turned), 0)
        with scopes_disabled():  # an SMS each, and an email to one in two
            told = sum(1 + n % 2 for n in turned)
            assert Message.objects.count() - messages == told
        return len(captured)

    queries(3, 0)  # warm the caches (content types) that a first re-check fills
    # Three chunks either way: of 10, 10 and 9 applications, or of 10, 10 and 3.
    assert queries(29, 100) == queries(23, 200)
    # Each chunk more: its applications read and locked; the results of those turned away,
    # with the time of their check; that time for the others; the notices still waiting
    # expired; the new ones written; the audit events. Six statements for ten applications,
    # their twelve messages and eight events.
    assert queries(89, 300) == queries(29, 400) + 6 * 6
    # Whatever the size of the call: the call's lock and its ranking, the rules (provinces,
    # communes), those staff decided (none) and the summary's event; and here the savepoint
    # of the test's transaction and its release.
    assert queries(9, 500) == 6 + 2 + 6


@pytest.mark.django_db
def test_the_documents_are_read_only_when_the_rules_require_some(world, monkeypatch):
    monkeypatch.setattr(screening, "RECHECK_CHUNK", 10)
    intake = tightened(world, "documents", 25, 0)

    def documents_read() -> int:
        with CaptureQueriesContext(connection) as captured:
            recheck(world, intake)
        return sum("admissions_document" in query["sql"] for query in captured)

    assert documents_read() == 0
    change_rules(intake, required_documents=["cin"])
    assert documents_read() == 3  # one statement per chunk


@pytest.mark.django_db
def test_the_notices_of_a_recheck_go_with_the_next_pass_of_the_outbox_sweep(
    world, sms_outbox, mailoutbox
):
    """Written without a task each (thousands after a change of the rules), as the portal's
    confirmations: due at once, so the sweep, which runs every few seconds, sends them, and
    a worker that dies loses none."""
    intake = tightened(world, "told", 4, 1)
    assert recheck(world, intake).changed == 4
    with scopes_disabled():
        notices = Message.objects.filter(template="eligibility_changed")
        assert all(m.status == Message.Status.PENDING for m in notices)
        assert all(m.next_attempt_at <= timezone.now() for m in notices)
    assert outbox_flush() == {"sent": 6}
    assert len(sms_outbox) == 4 and len(mailoutbox) == 2


# --- What the re-check one application at a time wrote ------------------------------------


def per_row_recheck(*, intake: Intake, actor) -> screening.Recheck:
    """The re-check as it was before it went by chunks (``screening.eligibility_recheck``
    then): every application of the call read at once, then each decided, written, told and
    logged on its own, its messages queued with a task each. The reference that what the
    chunked re-check writes is compared with."""
    from tremplin.admissions.selectors import applications_to_recheck

    rules = eligibility.Rules.of(intake)
    applications = list(
        applications_to_recheck(intake)
        .select_for_update(of=("self",))
        .select_related("commune", "intake__school")
        .prefetch_related("documents")
    )
    now = timezone.now()
    unchanged, changed = [], 0
    tally = {"became_eligible": 0, "became_ineligible": 0, "told": 0}
    for application in applications:
        before = (application.eligibility, application.eligibility_reasons)
        services.check_eligibility(application, rules)
        if (application.eligibility, application.eligibility_reasons) == before:
            unchanged.append(application.pk)
            continue
        written = Application.objects.filter(
            pk=application.pk, eligibility_overridden=False
        ).update(
            eligibility=application.eligibility,
            eligibility_reasons=application.eligibility_reasons,
            eligibility_checked_at=now,
        )
        if written:
            changed += 1
            if application.eligibility != before[0]:
                moved_to = {"eligible": "became_eligible", "ineligible": "became_ineligible"}
                tally[moved_to[application.eligibility]] += 1
            tally["told"] += services.eligibility_to_tell(application, before[0])
            services.tell_eligibility(application, before[0])
            log_action(
                "tremplin.applications.eligibility_rechecked",
                actor=actor,
                school=intake.school,
                obj=application,
                data={
                    "from": before[0],
                    "to": application.eligibility,
                    "reasons": [r["rule"] for r in application.eligibility_reasons],
                },
            )
    Application.objects.filter(pk__in=unchanged, eligibility_overridden=False).update(
        eligibility_checked_at=now
    )
    staff_decided = list(
        Application.objects.filter(
            intake=intake,
            status=Application.Status.SUBMITTED,
            erased_at__isnull=True,
            eligibility_overridden=True,
        )
        .select_related("commune")
        .prefetch_related("documents")
    )
    for application in staff_decided:
        services.check_eligibility(application, rules)
        Application.objects.filter(pk=application.pk, eligibility_overridden=True).update(
            eligibility_reasons=application.eligibility_reasons, eligibility_checked_at=now
        )
    log_action(
        "tremplin.intakes.eligibility_rechecked",
        actor=actor,
        school=intake.school,
        obj=intake,
        data={
            "count": len(applications),
            "staff_decided": len(staff_decided),
            "changed": changed,
            **tally,
        },
    )
    return screening.Recheck(
        checked=len(applications),
        changed=changed,
        staff_decided=len(staff_decided),
        rules_digest=rules.digest(),
        **tally,
    )


def varied_call(world) -> Intake:
    """24 applicants aged 18 to 41 (on 1 September 2026), some with an email, in French or
    in Arabic, six with a copy of their CIN; one decided by staff, one withdrawn, one
    erased. The age limit went down to 30 and was checked again: two were told they are no
    longer eligible (one by SMS and email), and one of those messages has gone."""
    rows = [
        applicant(
            n,
            birth_date=f"15/06/{1985 + n}",
            email=f"applicant{n}@example.ma" if n % 3 == 0 else "",
            language="ar" if n % 2 else "fr",
        )
        for n in range(24)
    ]
    intake = call_of(world, "varied", rows)
    with scopes_disabled():
        people = {a.cin: a for a in Application.objects.filter(intake=intake)}
        cin = lambda n: applicant(n)["cin"]  # noqa: E731
        Application.objects.filter(pk=people[cin(6)].pk).update(
            eligibility_overridden=True, override_reason="Vu en commission"
        )
        Application.objects.filter(pk=people[cin(7)].pk).update(
            status=Application.Status.WITHDRAWN, withdrawn_at=timezone.now()
        )
        Application.objects.filter(pk=people[cin(8)].pk).update(erased_at=timezone.now())
        for n in range(10, 16):
            Document.objects.create(
                application=people[cin(n)],
                kind="cin",
                file=f"documents/{n}.pdf",
                content_type="application/pdf",
                size=1000,
            )
    change_rules(intake, max_age=30)
    # Those of 31 and 32 turned away, and the reasons of the six older than 35 changed.
    assert recheck(world, intake).changed == 8
    with scopes_disabled():
        sent = Message.objects.filter(object_id=str(people[cin(9)].pk)).first()
        Message.objects.filter(pk=sent.pk).update(status=Message.Status.SENT)
    return intake


def written(intake: Intake, since: int, started) -> dict:
    """What the applications of ``intake`` say, every message about them, and the audit
    events after ``since``: without ids nor times (but whether each application was checked
    after ``started``)."""
    with scopes_disabled():
        applications = Application.objects.filter(intake=intake)
        cins = dict(applications.values_list("pk", "cin"))
        return {
            "applications": sorted(
                (a.cin, a.eligibility, a.eligibility_reasons, a.eligibility_overridden,
                 a.eligibility_checked_at is not None and a.eligibility_checked_at > started)
                for a in applications
            ),
            "messages": [
                (cins[int(m.object_id)], m.template, m.channel, m.recipient, m.language,
                 m.subject, m.body, m.status, m.expires_at is None, m.school_id)
                for m in Message.objects.order_by("pk")
            ],
            "events": [
                (e.action, e.actor_id, e.school_id, e.content_type.model,
                 cins[int(e.object_id)] if e.content_type.model == "application" else e.object_id,
                 e.object_repr, e.data, e.reason, e.ip_address)
                for e in AuditEvent.objects.filter(pk__gt=since).order_by("pk")
            ],
        }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rules",
    [
        # Those of 31 and 32 let in again, those of 18 and 19 turned away.
        {"min_age": 20, "max_age": 33},
        # Read from the documents of each chunk: those without a copy of their CIN turned
        # away, the one of 31 who has one let in again.
        {"max_age": 33, "required_documents": ["cin"]},
    ],
)
def test_a_recheck_by_chunks_writes_what_the_recheck_one_application_at_a_time_wrote(
    world, monkeypatch, rules
):
    monkeypatch.setattr(screening, "RECHECK_CHUNK", 4)
    intake = varied_call(world)
    change_rules(intake, **rules)
    actor = world.users["admissions"]
    with scopes_disabled():
        since = AuditEvent.objects.order_by("pk").last().pk
    ip = audit.current_ip.set("196.200.10.20")
    try:
        untouched = written(intake, since, timezone.now())
        with transaction.atomic():
            started = timezone.now()
            with scope(school=world.smara):
                one_at_a_time = per_row_recheck(
                    intake=Intake.objects.get(pk=intake.pk), actor=actor
                )
            expected = written(intake, since, started)
            transaction.set_rollback(True)
        assert written(intake, since, started) == untouched
        # A preview finds what the re-check then does, and writes nothing.
        with scope(school=world.smara):
            preview = screening.eligibility_preview(intake=intake)
        assert written(intake, since, started) == untouched
        assert dataclasses.replace(preview, changes=()) == one_at_a_time
        with scopes_disabled():
            cins = dict(Application.objects.values_list("pk", "cin"))
        listed = [cins[pk] for pk in preview.changes]
        logged = [e[4] for e in expected["events"] if e[3] == "application"]
        assert listed == logged  # in the order of their numbers, as they are written
        started = timezone.now()
        assert recheck(world, intake) == one_at_a_time
        assert written(intake, since, started) == expected
    finally:
        audit.current_ip.reset(ip)
    # What was compared covers every case: results moved both ways or only their reasons,
    # notices expired and one already sent kept, both channels and both languages.
    assert expected != untouched
    notices = expected["messages"]
    new = notices[len(untouched["messages"]) :]
    assert {m[2] for m in new} == {"sms", "email"} and {m[4] for m in new} == {"fr", "ar"}
    assert [m[7] for m in notices].count("sent") == 1
    assert any(not m[8] for m in notices)  # one still waiting expired, the new one goes
    told = {m[0] for m in new}
    logged = {e[4] for e in expected["events"] if e[3] == "application"}
    assert told < logged  # reasons moved without the result: logged, not told
    assert one_at_a_time.staff_decided == 1


# --- The locks, chunk by chunk (PostgreSQL) --------------------------------------------


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are proven on PostgreSQL (run with DATABASE_URL)")


@pytest.mark.postgres
def test_a_chunk_stays_locked_to_the_end_and_the_next_is_read_as_it_is_then(
    postgres_only, world, monkeypatch
):
    """The re-check locks each chunk as it reads it, until it commits: an applicant's
    correction of an application already read waits for it (else the result written, from
    her old answers, would overwrite what her correction decided); one not read yet is read
    as corrected."""
    monkeypatch.setattr(screening, "RECHECK_CHUNK", 2)
    intake = tightened(world, "locks", 4, 1)
    with scopes_disabled():
        first, _second, _third, last = Application.objects.filter(intake=intake).order_by("number")
    read_one, go_on = threading.Event(), threading.Event()
    decide = screening._recheck_chunk

    def pause_after_the_first_chunk(chunk, *args, **kwargs):
        changed = decide(chunk, *args, **kwargs)
        if chunk[0].pk == first.pk:
            read_one.set()
            go_on.wait(30)
        return changed

    monkeypatch.setattr(screening, "_recheck_chunk", pause_after_the_first_chunk)
    done = []

    def run():
        try:
            done.append(recheck(world, intake))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert read_one.wait(30)
        with scopes_disabled():
            with pytest.raises(DatabaseError), transaction.atomic():
                Application.objects.select_for_update(nowait=True).get(pk=first.pk)
            # Born in 2008: 18 on the reference date, within the new limit of 20.
            Application.objects.filter(pk=last.pk).update(birth_date="2008-03-21")
    finally:
        go_on.set()
        thread.join(30)
    assert done and done[0].changed == 3
    with scopes_disabled():
        assert Application.objects.get(pk=first.pk).eligibility == INELIGIBLE
        assert Application.objects.get(pk=last.pk).eligibility == ELIGIBLE
