"""Screening: the re-check of a call's applications against its rules (by chunks, a few
statements each), the staff's decision on an application's eligibility, and the rules
restored on an application (the evaluation on submission and on an applicant's correction
is in ``services``, on a document given in ``documents``).

Every decision writes an audit event in its transaction, and a result that moves without
the applicant doing is told to her through the outbox in that transaction too
(``services.tell_eligibility``).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import Case, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from tremplin.admissions import eligibility
from tremplin.admissions.models import Application, Document, Intake
from tremplin.admissions.services import (
    RULE_FIELDS,
    check_eligibility,
    eligibility_to_tell,
    rules_not_met,
    tell_eligibility,
    tell_eligibility_of_many,
)
from tremplin.core.audit import audit_event, log_action
from tremplin.core.models import AuditEvent

# The applications a re-check locks, decides and writes at a time: its statements grow with
# the chunks, not the applications, and it holds one chunk in memory, not a whole call.
# 500: the ids of a chunk fit one statement on any SQLite (999 variables), and their
# messages, two each at most, one INSERT on PostgreSQL (65,535 parameters).
RECHECK_CHUNK = 500
# What a re-check reads of an application: what the rules read, what its write re-asserts,
# and what the notice and the audit event say of her. Not the rest (her motivation, her
# dates of consent...): a quarter of the time of a call of 100,000 went into reading them.
RECHECK_FIELDS = (
    *RULE_FIELDS,
    "commune__province_id",
    "intake",
    "eligibility",
    "eligibility_reasons",
    "eligibility_overridden",
    "status",
    "erased_at",
    "deletion_requested_at",
    "number",
    "reference",
    "first_name",
    "first_name_ar",
    "last_name",
    "language",
    "phone",
    "email",
)


# The changes a preview lists, the first by number: enough for a school's call to read them
# all, and a call of 100,000 says how many more there are.
PREVIEW_LISTED = 200


@dataclass(frozen=True)
class Recheck:
    checked: int
    changed: int
    # Decided by staff: their decision stands, their reasons say what the rules say now.
    staff_decided: int = 0
    became_eligible: int = 0
    became_ineligible: int = 0
    # The applicants told of their new result (would be, for a preview).
    told: int = 0
    rules_digest: str = ""
    # A preview's first PREVIEW_LISTED changes: the ids of their applications.
    changes: tuple[int, ...] = ()


class RulesChanged(Exception):
    """The call's rules are no longer those its preview evaluated."""


@transaction.atomic
def eligibility_recheck(*, intake: Intake, actor, rules_digest: str = "") -> Recheck:
    """Evaluate the current rules again for the submitted applications (not withdrawn nor
    erased) that staff have not decided; each application whose result changes gets an
    audit event of its own. Those staff decided keep their decision, and their reasons
    follow the rules (as after the applicant's correction: ``check_eligibility``), so that
    their pages say what the new rules would decide.

    Each write re-asserts ``eligibility_overridden=False``: a staff decision committed
    while the rules were being evaluated is kept, not overwritten. Refused once a ranking of
    the call is published (``intakes.rules_frozen``); given the ``rules_digest`` of the
    preview it applies, refused (``RulesChanged``) if the rules are no longer those.

    In one transaction, by chunks of ``RECHECK_CHUNK`` applications in the order of their
    numbers, each locked, decided and written before the next is read (``_recheck_chunk``): a
    few statements a chunk, whatever its size, and a call of 100,000 applications never in
    memory at once.
    """
    return _recheck(intake, actor, preview=False, rules_digest=rules_digest)


def eligibility_preview(*, intake: Intake) -> Recheck:
    """What ``eligibility_recheck`` would change now, and the ids of the first
    ``PREVIEW_LISTED`` applications it would change: the same applications decided by the
    same code, which writes nothing, tells no one, and holds no lock nor transaction (on
    SQLite a transaction would take the database's write lock, and keep the portal waiting
    for as long as a large call takes to read). Refused as the re-check is, once a ranking of
    the call is published."""
    return _recheck(intake, None, preview=True)


def _recheck(intake: Intake, actor, *, preview: bool, rules_digest: str = "") -> Recheck:
    from tremplin.admissions.intakes import rules_frozen
    from tremplin.admissions.selectors import applications_to_recheck
    from tremplin.selection.schemes import published_run

    # Under the call's lock, as ranking_publish takes it: a publication cannot slip in. The
    # call is read again under it: the rules are the committed ones (a change of them takes
    # the lock too), and its title and dates are those the messages must say.
    intakes = Intake.objects.select_related("school")
    if not preview:
        intakes = intakes.select_for_update(of=("self",))
    intake = intakes.get(pk=intake.pk)
    published = published_run(intake)
    if published is not None:
        raise ValidationError(rules_frozen(published))
    rules = eligibility.Rules.of(intake)
    if rules_digest and rules.digest() != rules_digest:
        raise RulesChanged
    now = timezone.now()
    checked = 0
    moved: list[tuple[Application, str]] = []
    tally = {"changed": 0, "became_eligible": 0, "became_ineligible": 0, "told": 0}
    # Locked: an applicant's correction committed meanwhile would be overwritten by a
    # result computed from her old answers.
    for chunk, documents in _locked_chunks(
        applications_to_recheck(intake), intake, rules, lock=not preview
    ):
        checked += len(chunk)
        chunk_moved = _recheck_chunk(
            chunk, documents, rules, now=now, actor=actor, write=not preview
        )
        _count(tally, chunk_moved)
        if preview and len(moved) < PREVIEW_LISTED:
            moved.extend(chunk_moved[: PREVIEW_LISTED - len(moved)])
    staff_decided = 0
    by_staff = Application.objects.filter(
        intake=intake,
        status=Application.Status.SUBMITTED,
        erased_at__isnull=True,
        eligibility_overridden=True,
    )
    if preview:
        staff_decided = by_staff.count()
    else:
        for chunk, documents in _locked_chunks(by_staff, intake, rules):
            staff_decided += len(chunk)
            _refresh_reasons(chunk, documents, rules, now=now)
        log_action(
            "tremplin.intakes.eligibility_rechecked",
            actor=actor,
            school=intake.school,
            obj=intake,
            data={"count": checked, "staff_decided": staff_decided, **tally},
        )
    return Recheck(
        checked=checked,
        staff_decided=staff_decided,
        rules_digest=rules.digest(),
        changes=tuple(application.pk for application, _before in moved),
        **tally,
    )


@dataclass(frozen=True)
class PreviewedChange:
    application: Application
    now: str  # its eligibility now, and its reasons
    now_reasons: list
    then: str  # what the current rules decide, and their reasons
    reasons: list


def preview_changes(intake: Intake, ids: list[int]) -> list[PreviewedChange]:
    """The applications ``ids`` of a preview's list (its rules the call's, as the page shows
    it only then) as the re-check would find them now, by number: one withdrawn, decided by
    staff or erased since is left out (the re-check would not decide it), and one corrected
    since may no longer change. Its reasons are computed here, not kept by the preview: an
    erased applicant's age must not outlive her."""
    from tremplin.admissions.selectors import applications_to_recheck

    rules = eligibility.Rules.of(intake)
    listed = list(
        applications_to_recheck(intake)
        .filter(pk__in=ids)
        .select_related("commune")
        .order_by("number")
    )
    documents: dict[int, list[str]] = {}
    if rules.required_documents:
        kinds = Document.objects.filter(application__in=listed).values_list(
            "application_id", "kind"
        )
        for application_id, kind in kinds:
            documents.setdefault(application_id, []).append(kind)
    changes = []
    for application in listed:
        reasons = rules_not_met(application, rules, documents.get(application.pk, []))
        then = Application.Eligibility.INELIGIBLE if reasons else Application.Eligibility.ELIGIBLE
        changes.append(
            PreviewedChange(
                application,
                application.eligibility,
                application.eligibility_reasons,
                then,
                reasons,
            )
        )
    return changes


def _count(tally: dict[str, int], moved: list[tuple[Application, str]]) -> None:
    """Add to ``tally`` the results ``moved`` changed, how, and whom they tell."""
    Eligibility = Application.Eligibility
    for application, before in moved:
        tally["changed"] += 1
        if application.eligibility != before:
            if application.eligibility == Eligibility.ELIGIBLE:
                tally["became_eligible"] += 1
            elif application.eligibility == Eligibility.INELIGIBLE:
                tally["became_ineligible"] += 1
        tally["told"] += eligibility_to_tell(application, before)


def _locked_chunks(
    applications, intake: Intake, rules: eligibility.Rules, *, lock: bool = True
) -> Iterator[tuple[list[Application], dict[int, list[str]]]]:
    """``applications`` of ``intake`` by chunks of ``RECHECK_CHUNK`` in the order of their
    numbers, each locked as it is read (unless not ``lock``), with the kinds of their
    documents by application when the rules require documents (else none is read: no rule
    looks at them)."""
    # By number, not id: the index (call, number) reads a chunk at once, however many other
    # calls' applications the table holds.
    if lock:
        applications = applications.select_for_update(of=("self",))
    last = -1  # below any number
    while chunk := list(
        applications.filter(number__gt=last)
        .order_by("number")
        .only(*RECHECK_FIELDS)
        .select_related("commune")[:RECHECK_CHUNK]
    ):
        documents: dict[int, list[str]] = {}
        if rules.required_documents:
            kinds = Document.objects.filter(application__in=chunk).values_list(
                "application_id", "kind"
            )
            for application_id, kind in kinds:
                documents.setdefault(application_id, []).append(kind)
        for application in chunk:
            application.intake = intake  # known: not read again for each
        yield chunk, documents
        if len(chunk) < RECHECK_CHUNK:
            return
        last = chunk[-1].number


def _recheck_chunk(
    chunk: list[Application],
    documents: dict,
    rules: eligibility.Rules,
    *,
    now,
    actor,
    write: bool = True,
) -> list[tuple[Application, str]]:
    """Decide ``chunk`` (locked, decided by the rules) again and write it (unless not
    ``write``): its results, the audit event of each that changed and the notices to their
    applicants, in a few statements whatever its size. The applications whose result
    changed, each with its eligibility before."""
    moved, unchanged = [], []
    for application in chunk:
        before = (application.eligibility, application.eligibility_reasons)
        check_eligibility(application, rules, documents.get(application.pk, []))
        if (application.eligibility, application.eligibility_reasons) == before:
            unchanged.append(application)
        else:
            moved.append((application, before[0]))
    if not write:
        return moved
    by_rules = Application.objects.filter(eligibility_overridden=False)
    changed = [application for application, _before in moved]
    written = _update_each(
        by_rules, changed, ["eligibility", "eligibility_reasons"], eligibility_checked_at=now
    )
    by_rules.filter(pk__in=[a.pk for a in unchanged]).update(eligibility_checked_at=now)
    if written < len(changed):
        # Decided by staff since the chunk was read: that decision stands, and nothing is
        # told nor logged of a result that was not written.
        kept = set(by_rules.filter(pk__in=[a.pk for a in changed]).values_list("pk", flat=True))
        moved = [(application, before) for application, before in moved if application.pk in kept]
    tell_eligibility_of_many(moved)
    AuditEvent.objects.bulk_create(
        audit_event(
            "tremplin.applications.eligibility_rechecked",
            actor=actor,
            school=application.intake.school,
            obj=application,
            data={
                "from": before,
                "to": application.eligibility,
                "reasons": [r["rule"] for r in application.eligibility_reasons],
            },
        )
        for application, before in moved
    )
    return moved


def _refresh_reasons(
    chunk: list[Application], documents: dict, rules: eligibility.Rules, *, now
) -> None:
    """The reasons of ``chunk`` (locked, decided by staff) follow the rules; the decisions
    stand."""
    moved, unchanged = [], []
    for application in chunk:
        before = application.eligibility_reasons
        check_eligibility(application, rules, documents.get(application.pk, []))
        if application.eligibility_reasons == before:
            unchanged.append(application)
        else:
            moved.append(application)
    by_staff = Application.objects.filter(eligibility_overridden=True)
    _update_each(by_staff, moved, ["eligibility_reasons"], eligibility_checked_at=now)
    by_staff.filter(pk__in=[a.pk for a in unchanged]).update(eligibility_checked_at=now)


def _update_each(applications, chosen: list[Application], fields: list[str], **same) -> int:
    """Write ``fields`` of each of ``chosen`` (those ``applications`` still has), and the
    values ``same`` to all of them, in one statement; how many rows it wrote.

    As ``bulk_update``, but with a branch of its CASE per value rather than per
    application: the results of a chunk take few values (eligible or not, the reasons of a
    few ages), and Django spends a third of a millisecond building each branch (a second
    for 3,000 results). Each row is written once: its time of check with its result."""
    if not chosen:
        return 0
    cast = connections[applications.db].features.requires_casted_case_in_updates
    values = dict(same)
    for name in fields:
        field = Application._meta.get_field(name)
        by_value: dict[str, tuple[object, list[int]]] = {}
        for application in chosen:
            value = getattr(application, name)
            # The reasons are lists: their JSON tells equal ones.
            key = json.dumps(value, sort_keys=True)
            by_value.setdefault(key, (value, []))[1].append(application.pk)
        case = Case(
            *(
                When(pk__in=pks, then=Value(value, output_field=field))
                for value, pks in by_value.values()
            ),
            output_field=field,
        )
        values[name] = Cast(case, output_field=field) if cast else case
    return applications.filter(pk__in=[a.pk for a in chosen]).update(**values)


def _holds_a_seat(application: Application) -> bool:
    """Whether the applicant holds a live or accepted offer, or is enrolled."""
    from tremplin.admissions.selectors import holds_a_seat

    return Application.objects.filter(holds_a_seat(), pk=application.pk).exists()


def _check_can_be_ineligible(application: Application) -> None:
    """Someone offered a seat, or enrolled, is not made ineligible behind the offer's back:
    the seat would stay taken by a person the screening now turns away."""
    if _holds_a_seat(application):
        raise ValidationError(
            _(
                "This applicant holds an offer (awaiting an answer or accepted) or is "
                "enrolled: they cannot be marked not eligible. Take the offer back first: "
                "“Withdraw the offer”, on the “Offers and waiting list” page."
            )
        )


def _check_not_erased(application: Application) -> None:
    if application.erased_at is not None:
        raise ValidationError(
            _(
                "The personal data of this application is erased: its eligibility can no "
                "longer be decided."
            )
        )


@transaction.atomic
def eligibility_override(
    *, application: Application, actor, eligible: bool, reason: str
) -> Application:
    """Staff decide eligibility against the rules; always with a reason, always audited.
    Refused for an erased application, and "not eligible" for one that holds a live or
    accepted offer or is enrolled (the offer must go first)."""
    if not reason.strip():
        raise ValidationError(_("Give the reason for this decision."))
    published = _published_run_locked(application.intake_id)
    locked = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
    _check_not_erased(locked)
    if not eligible:
        _check_can_be_ineligible(locked)
    before = locked.eligibility
    locked.eligibility = (
        Application.Eligibility.ELIGIBLE if eligible else Application.Eligibility.INELIGIBLE
    )
    _check_published_allows(published, before, locked.eligibility)
    locked.eligibility_overridden = True
    locked.override_reason = reason.strip()
    locked.changed_since_decision_at = None
    locked.save(
        update_fields=[
            "eligibility",
            "eligibility_overridden",
            "override_reason",
            "changed_since_decision_at",
        ]
    )
    log_action(
        "tremplin.applications.eligibility_overridden",
        actor=actor,
        school=application.intake.school,
        obj=locked,
        data={"from": before, "to": locked.eligibility},
        reason=locked.override_reason,
    )
    tell_eligibility(locked, before)
    return locked


def _published_run_locked(intake_id: int):
    """The call's published ranking run, or None, read under the call's lock, which a change
    of its rules (``intakes.intake_save``), the recheck and the publication take: a
    publication cannot slip in, and the rules read after it are the committed ones. "No
    key": submissions, which only point to the call, go on."""
    from tremplin.selection.schemes import published_run

    Intake.objects.select_for_update(no_key=True).only("pk").get(pk=intake_id)
    return published_run(intake_id)


def eligibility_frozen_reason(application: Application) -> str:
    """Why staff can no longer make ``application`` eligible, or "": it is not, and a ranking
    of its call is published (``_check_published_allows``)."""
    from tremplin.admissions.intakes import eligibility_frozen
    from tremplin.selection.schemes import published_run

    if application.eligibility == Application.Eligibility.ELIGIBLE:
        return ""
    published = published_run(application.intake_id)
    return eligibility_frozen(published) if published is not None else ""


def _check_published_allows(published, before: str, after: str) -> None:
    """Once a ranking of the call is published, nobody becomes eligible (by staff, or by the
    rules given back): the ranking was made on the eligibility then, and she would read an
    outcome and an eligibility that contradict each other, and still not be ranked. The
    other way stays possible: false information found after the publication, once the
    offer is withdrawn (``_check_can_be_ineligible``)."""
    from tremplin.admissions.intakes import eligibility_frozen

    eligible = Application.Eligibility.ELIGIBLE
    if published is not None and after == eligible and before != eligible:
        raise ValidationError(eligibility_frozen(published))


@transaction.atomic
def eligibility_restore_rules(
    *, application: Application, actor, reason: str
) -> Application | None:
    """Undo a staff decision: the rules decide again. Refused like an override when they
    would make ineligible someone who holds an offer or is enrolled. Returns None, and
    changes and logs nothing, when the rules decide already (a colleague gave the decision
    back meanwhile, a repeated request)."""
    # The call's lock first: the rules read below are the committed ones, not those a change
    # is replacing, and a recheck started meanwhile waits, then sees this application back in
    # the rules' hands.
    published = _published_run_locked(application.intake_id)
    locked = (
        Application.objects.select_for_update(of=("self",))  # see services._reference_remind
        .select_related("commune", "intake")
        .get(pk=application.pk)
    )
    _check_not_erased(locked)
    if not locked.eligibility_overridden:
        return None
    before = locked.eligibility
    locked.eligibility_overridden = False
    locked.override_reason = ""
    locked.changed_since_decision_at = None
    check_eligibility(locked, eligibility.Rules.of(locked.intake))
    if locked.eligibility == Application.Eligibility.INELIGIBLE:
        _check_can_be_ineligible(locked)
    _check_published_allows(published, before, locked.eligibility)
    locked.save()
    log_action(
        "tremplin.applications.eligibility_rules_restored",
        actor=actor,
        school=locked.intake.school,
        obj=locked,
        reason=reason,
        # Which way the rules then decided, as the other decisions say.
        data={
            "from": before,
            "to": locked.eligibility,
            "reasons": [r["rule"] for r in locked.eligibility_reasons],
        },
    )
    tell_eligibility(locked, before)
    return locked
