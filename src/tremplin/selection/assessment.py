"""The written test: sessions, who sits where, candidate numbers, convocations, attendance.

Marks themselves are recorded by ``assessment_marks`` (entry and the jury) and
``marks_import``. Every service runs in one transaction and writes its audit event there.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tremplin.admissions.models import Application, Intake
from tremplin.core.audit import log_action
from tremplin.core.formatting import format_list
from tremplin.selection.models import Component, Letter, Mark, TestSession, TestSitting

# Candidate numbers start above 1000: four digits on every paper, none that looks like a rank.
FIRST_NUMBER = 1001
NAME_ORDER = ("last_name", "first_name", "number")


def intake_of(component: Component) -> Intake:
    return component.scheme.intake


def candidates_of_intake(intake: Intake) -> QuerySet[Application]:
    """Who is assessed: eligible applications that were not withdrawn."""
    return Application.objects.filter(
        intake=intake,
        status=Application.Status.SUBMITTED,
        eligibility=Application.Eligibility.ELIGIBLE,
    )


def test_candidates(component: Component) -> QuerySet[Application]:
    """Who sits the written test: eligible applications that were not withdrawn."""
    return Application.objects.filter(
        intake_id=component.scheme.intake_id,
        status=Application.Status.SUBMITTED,
        eligibility=Application.Eligibility.ELIGIBLE,
    )


def sessions_with_counts(component: Component) -> QuerySet[TestSession]:
    return TestSession.objects.filter(component=component).annotate(
        seated=Count("sittings", distinct=True)
    )


# --- Sessions -------------------------------------------------------------------------------


@transaction.atomic
def test_session_save(*, session: TestSession, actor) -> TestSession:
    """Create or change a session. Its capacity never drops below the applicants seated."""
    session.full_clean(exclude=["component"])
    if session.pk:
        TestSession.objects.select_for_update(of=("self",)).filter(pk=session.pk).get()
        seated = TestSitting.objects.filter(session_id=session.pk).count()
        if session.capacity < seated:
            raise ValidationError(
                {
                    "capacity": ngettext(
                        "%(n)s applicant is already seated in this session.",
                        "%(n)s applicants are already seated in this session.",
                        seated,
                    )
                    % {"n": seated}
                }
            )
    created = session.pk is None
    session.save()
    log_action(
        "tremplin.selection.test_session.created"
        if created
        else "tremplin.selection.test_session.changed",
        actor=actor,
        school=intake_of(session.component).school,
        obj=session,
        data={
            "component": session.component.code,
            "starts_at": session.starts_at.isoformat(),
            "capacity": session.capacity,
        },
    )
    return session


@transaction.atomic
def test_session_delete(*, session: TestSession, actor) -> None:
    """Delete a session nobody is seated in."""
    TestSession.objects.select_for_update(of=("self",)).filter(pk=session.pk).get()
    if TestSitting.objects.filter(session_id=session.pk).exists():
        raise ValidationError(_("Applicants are seated in this session: move them first."))
    log_action(
        "tremplin.selection.test_session.deleted",
        actor=actor,
        school=intake_of(session.component).school,
        data={"component": session.component.code, "session": str(session)},
    )
    session.delete()


# --- Assignment and candidate numbers -------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    placed: int
    already: int


def _new_numbers(component: Component, count: int, *, shuffle: bool) -> list[int]:
    """`count` unused candidate numbers. Shuffled under anonymous marking, so that a number
    tells nothing of the name order, the session or the time of assignment."""
    highest = TestSitting.objects.filter(component=component).aggregate(n=Max("candidate_number"))
    start = max(highest["n"] or 0, FIRST_NUMBER - 1) + 1
    numbers = list(range(start, start + count))
    if shuffle:
        secrets.SystemRandom().shuffle(numbers)
    return numbers


@transaction.atomic
def sittings_assign(*, component: Component, actor) -> Assignment:
    """Seat every candidate not yet seated, in name order, filling the sessions in time order
    within their capacity. All or nothing: refused when the free seats are too few."""
    sessions = list(
        TestSession.objects.select_for_update(of=("self",))
        .filter(component=component)
        .order_by("starts_at")
    )
    if not sessions:
        raise ValidationError(_("Create at least one session first."))
    seated = dict(
        TestSitting.objects.filter(component=component)
        .values_list("session_id")
        .annotate(n=Count("id"))
        .values_list("session_id", "n")
    )
    already = set(
        TestSitting.objects.filter(component=component).values_list("application_id", flat=True)
    )
    waiting = [a for a in test_candidates(component).order_by(*NAME_ORDER) if a.pk not in already]
    free = {s.pk: s.capacity - seated.get(s.pk, 0) for s in sessions}
    total_free = sum(max(n, 0) for n in free.values())
    if len(waiting) > total_free:
        raise ValidationError(
            _(
                "Not enough seats: %(waiting)s applicants to seat, %(free)s free seats. "
                "Add a session or raise a capacity; nobody was seated."
            )
            % {"waiting": len(waiting), "free": total_free}
        )
    numbers = _new_numbers(component, len(waiting), shuffle=component.scheme.anonymous_marking)
    rows, queue = [], iter(waiting)
    for session in sessions:
        for _seat in range(max(free[session.pk], 0)):
            application = next(queue, None)
            if application is None:
                break
            rows.append(
                TestSitting(
                    session=session,
                    component=component,
                    application=application,
                    candidate_number=numbers[len(rows)],
                )
            )
    TestSitting.objects.bulk_create(rows)
    if rows:
        log_action(
            "tremplin.selection.test.assigned",
            actor=actor,
            school=intake_of(component).school,
            obj=component,
            data={"component": component.code, "placed": len(rows)},
        )
    return Assignment(placed=len(rows), already=len(already))


@transaction.atomic
def sitting_move(*, sitting: TestSitting, session: TestSession, actor) -> TestSitting:
    """Move one applicant to another session of the same test, within its capacity. The
    candidate number stays; the applicant must be convened again."""
    if session.component_id != sitting.component_id:
        raise ValidationError(_("This session belongs to another test."))
    target = TestSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if sitting.session_id == target.pk:
        return sitting
    if TestSitting.objects.filter(session=target).count() >= target.capacity:
        raise ValidationError(_("This session is full."))
    before = sitting.session
    sitting.session = target
    sitting.convened_at = None
    sitting.save(update_fields=["session", "convened_at"])
    log_action(
        "tremplin.selection.test.moved",
        actor=actor,
        school=target.component.scheme.intake.school,
        obj=sitting.application,
        data={"component": sitting.component.code, "from": str(before), "to": str(target)},
    )
    return sitting


# --- Convocations ---------------------------------------------------------------------------


def convene(
    *, component: Component, places: QuerySet, order: str, kind: str, action: str, actor, again
) -> int:
    """Convene the applicants of `places` (test sittings or interview slots of `component`)
    not convened yet, or all of them with `again`: mark them convened and start a batch of
    convocation letters, each sent with a message. Call inside a transaction."""
    from tremplin.selection.letters import letter_batch_start

    places = places.select_for_update(of=("self",)).filter(
        component=component, application__status=Application.Status.SUBMITTED
    )
    if not again:
        places = places.filter(convened_at__isnull=True)
    ids = list(places.order_by(order).values_list("application_id", flat=True))
    if not ids:
        raise ValidationError(_("Nobody is waiting for a convocation."))
    places.model.objects.filter(component=component, application_id__in=ids).update(
        convened_at=timezone.now()
    )
    intake = intake_of(component)
    letter_batch_start(intake=intake, kind=kind, application_ids=ids, notify=True, actor=actor)
    log_action(
        action,
        actor=actor,
        school=intake.school,
        obj=component,
        data={"component": component.code, "applications": len(ids)},
    )
    return len(ids)


@transaction.atomic
def test_convocations_send(*, component: Component, actor, again: bool = False) -> int:
    """Convene the seated applicants not convened yet (all of them with `again`): a PDF letter
    in their language and a message, made by the letters' batch task."""
    return convene(
        component=component,
        places=TestSitting.objects.all(),
        order="candidate_number",
        kind=Letter.Kind.TEST_CONVOCATION,
        action="tremplin.selection.test.convened",
        actor=actor,
        again=again,
    )


# --- Attendance -----------------------------------------------------------------------------


def _absent_mark(component: Component, application_id: int, actor) -> Mark:
    return Mark(
        component=component,
        application_id=application_id,
        absent=True,
        source=Mark.Source.ENTRY,
        updated_by=actor,
    )


@transaction.atomic
def sittings_attendance_set(
    *, session: TestSession, presence: dict[int, bool | None], actor
) -> int:
    """Record who came (sitting id -> True, False, or None for "not recorded").

    Absence is also the applicant's mark in the component (what it means is the component's
    absence rule), so the ranking reads one place. An applicant who already has a mark cannot
    be recorded absent: the mark is cleared first, on purpose. All or nothing.
    """
    from tremplin.selection.assessment_marks import audit_mark_change, mark_label

    component = session.component
    sittings = {
        s.pk: s
        for s in TestSitting.objects.select_for_update(of=("self",))
        .filter(session=session, pk__in=list(presence))
        .select_related("application")
    }
    marks = {
        m.application_id: m
        for m in Mark.objects.select_for_update(of=("self",)).filter(
            component=component, application_id__in=[s.application_id for s in sittings.values()]
        )
    }
    changed, refused = [], []
    for sitting_id, present in presence.items():
        sitting = sittings.get(sitting_id)
        if sitting is None or sitting.present == present:
            continue
        mark = marks.get(sitting.application_id)
        if present is False and mark is not None and mark.value is not None:
            refused.append(sitting)
            continue
        sitting.present = present
        changed.append(sitting)
    if refused:
        raise ValidationError(
            _("These applicants have a mark: clear it before recording them absent: %(list)s")
            % {"list": format_list(s.candidate_number for s in refused)}
        )
    TestSitting.objects.bulk_update(changed, ["present"])
    for sitting in changed:
        mark = marks.get(sitting.application_id)
        before = mark_label(mark)
        if sitting.present is False:
            mark = mark or _absent_mark(component, sitting.application_id, actor)
            mark.absent, mark.value, mark.source, mark.updated_by = (
                True,
                None,
                Mark.Source.ENTRY,
                actor,
            )
            mark.save()
        elif mark is not None and mark.absent:
            mark.absent = False
            mark.updated_by = actor
            mark.save(update_fields=["absent", "updated_by", "updated_at"])
        else:
            continue
        audit_mark_change(
            component=component,
            application=sitting.application,
            before=before,
            after=mark_label(mark),
            source=Mark.Source.ENTRY,
            actor=actor,
        )
    if changed:
        log_action(
            "tremplin.selection.test.attendance",
            actor=actor,
            school=intake_of(component).school,
            obj=session,
            data={
                "component": component.code,
                "present": [s.candidate_number for s in changed if s.present],
                "absent": [s.candidate_number for s in changed if s.present is False],
                "unknown": [s.candidate_number for s in changed if s.present is None],
            },
        )
    return len(changed)
