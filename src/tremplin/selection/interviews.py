"""Interviews: panels of jurors, slots, declared conflicts of interest, who is interviewed
when and by whom, convocations and attendance.

The rubric is in ``interviews_rubric``; the jurors' score sheets and the interview mark are in
``interviews_scoring``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tremplin.admissions.models import Application
from tremplin.core.audit import log_action
from tremplin.core.formatting import format_list
from tremplin.core.models import Role, User
from tremplin.selection.assessment import NAME_ORDER, convene
from tremplin.selection.assessment_marks import audit_mark_change, mark_label
from tremplin.selection.models import (
    Component,
    ConflictOfInterest,
    InterviewSlot,
    Letter,
    Mark,
    Panel,
    ScoreSheet,
)

JUROR_ROLES = (Role.JUROR, Role.DIRECTOR, Role.ADMISSIONS)
MAX_SLOTS = 200

# Why an applicant is not interviewed, or could not be given a slot.
REASONS = {
    "test_missing": gettext_lazy("no mark yet in the written test"),
    "test_absent": gettext_lazy("absent from the written test"),
    "test_below": gettext_lazy("below the threshold of the written test"),
    "conflict": gettext_lazy(
        "every panel with a free slot has a juror with a conflict of interest"
    ),
    "no_slot": gettext_lazy("not enough free slots"),
}

CONFLICT_REMOVED = "tremplin.selection.conflict.removed"


def _school(component: Component):
    return component.scheme.intake.school


def juror_choices(school) -> QuerySet[User]:
    """The people who may sit on a panel: the school's jurors, directors and officers."""
    return (
        User.objects.filter(
            memberships__school=school,
            memberships__role__in=JUROR_ROLES,
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


# --- Panels and slots -----------------------------------------------------------------------


def juror_slots(user: User, school) -> QuerySet[InterviewSlot]:
    """The interviews ``user`` scores in ``school``: the slots of the panels they sit on that
    have an applicant, except those they declared a conflict of interest with (another juror
    of the panel scores them)."""
    return InterviewSlot.objects.filter(
        panel__jurors=user,
        application__isnull=False,
        component__scheme__intake__school=school,
    ).exclude(application__in=ConflictOfInterest.objects.filter(juror=user).values("application"))


@transaction.atomic
def panel_save(*, panel: Panel, jurors: list[User], actor) -> Panel:
    """Create or change a panel and who sits on it (only the school's jurors, directors and
    admissions officers)."""
    allowed = set(juror_choices(_school(panel.component)).values_list("pk", flat=True))
    if any(j.pk not in allowed for j in jurors):
        raise ValidationError(_("Only the school's jurors, directors and officers can sit."))
    panel.full_clean(exclude=["component", "jurors"])
    if Panel.objects.filter(component=panel.component, name=panel.name).exclude(pk=panel.pk):
        raise ValidationError({"name": _("Another panel has this name.")})
    created = panel.pk is None
    panel.save()
    panel.jurors.set(jurors)
    log_action(
        "tremplin.selection.panel.created" if created else "tremplin.selection.panel.changed",
        actor=actor,
        school=_school(panel.component),
        obj=panel,
        data={"component": panel.component.code, "jurors": sorted(j.pk for j in jurors)},
    )
    return panel


@transaction.atomic
def panel_delete(*, panel: Panel, actor) -> None:
    if InterviewSlot.objects.filter(panel=panel, application__isnull=False).exists():
        raise ValidationError(_("Applicants have interviews with this panel: move them first."))
    log_action(
        "tremplin.selection.panel.deleted",
        actor=actor,
        school=_school(panel.component),
        data={"component": panel.component.code, "panel": panel.name},
    )
    panel.delete()


def _aware(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, at))


@transaction.atomic
def slots_generate(
    *,
    panel: Panel,
    day: datetime.date,
    start: datetime.time,
    end: datetime.time,
    minutes: int,
    break_start: datetime.time | None = None,
    break_end: datetime.time | None = None,
    actor,
) -> int:
    """Cut a time window of one day (Moroccan time) into slots of `minutes`, leaving out an
    optional break and any time the panel already has a slot. Returns how many were made."""
    if not 5 <= minutes <= 240:
        raise ValidationError({"minutes": _("A slot lasts between 5 and 240 minutes.")})
    if end <= start:
        raise ValidationError({"end": _("The end comes after the start.")})
    if (break_start is None) != (break_end is None):
        raise ValidationError({"break_end": _("Give both ends of the break, or neither.")})
    if break_start is not None and not start <= break_start < break_end <= end:
        raise ValidationError({"break_end": _("The break lies inside the window.")})
    Panel.objects.select_for_update(of=("self",)).filter(pk=panel.pk).get()
    taken = list(InterviewSlot.objects.filter(panel=panel).values_list("starts_at", "ends_at"))
    pause = (_aware(day, break_start), _aware(day, break_end)) if break_start is not None else None
    step = datetime.timedelta(minutes=minutes)
    at, stop, new = _aware(day, start), _aware(day, end), []
    while at + step <= stop:
        if pause and at < pause[1] and pause[0] < at + step:
            at = pause[1]
            continue
        if not any(at < t_end and t_start < at + step for t_start, t_end in taken):
            new.append(
                InterviewSlot(
                    panel=panel, component=panel.component, starts_at=at, ends_at=at + step
                )
            )
        at += step
    if len(new) > MAX_SLOTS:
        raise ValidationError(_("That makes more than %(n)s slots at once.") % {"n": MAX_SLOTS})
    InterviewSlot.objects.bulk_create(new)
    if new:
        log_action(
            "tremplin.selection.slots.generated",
            actor=actor,
            school=_school(panel.component),
            obj=panel,
            data={"day": day.isoformat(), "slots": len(new), "minutes": minutes},
        )
    return len(new)


@transaction.atomic
def slots_delete_empty(*, panel: Panel, actor, slot: InterviewSlot | None = None) -> int:
    """Delete one empty slot, or every empty slot of the panel."""
    empty = InterviewSlot.objects.filter(panel=panel, application__isnull=True)
    if slot is not None:
        if (
            InterviewSlot.objects.select_for_update(of=("self",)).get(pk=slot.pk).application_id
            is not None
        ):
            raise ValidationError(_("An applicant has this slot: move them first."))
        empty = empty.filter(pk=slot.pk)
    count, _details = empty.delete()
    if count:
        log_action(
            "tremplin.selection.slots.deleted",
            actor=actor,
            school=_school(panel.component),
            obj=panel,
            data={"slots": count},
        )
    return count


# --- Conflicts of interest ------------------------------------------------------------------


@transaction.atomic
def conflict_declare(
    *, juror: User, application: Application, reason: str, actor
) -> ConflictOfInterest:
    """Record that `juror` must not interview `application` (declared by the juror or by
    staff). The juror then no longer sees that applicant anywhere."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why, in a few words.")})
    conflict, created = ConflictOfInterest.objects.get_or_create(
        juror=juror, application=application, defaults={"reason": reason[:200]}
    )
    if created:
        log_action(
            "tremplin.selection.conflict.declared",
            actor=actor,
            school=application.intake.school,
            obj=application,
            data={"juror": juror.pk, "by_juror": actor is not None and actor.pk == juror.pk},
            reason=conflict.reason,
        )
    return conflict


@transaction.atomic
def conflict_remove(*, conflict: ConflictOfInterest, actor, reason: str) -> None:
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for removing this conflict.")})
    log_action(
        CONFLICT_REMOVED,
        actor=actor,
        school=conflict.application.intake.school,
        obj=conflict.application,
        data={"juror": conflict.juror_id, "declared_reason": conflict.reason},
        reason=reason.strip(),
    )
    conflict.delete()


# --- Who is interviewed ---------------------------------------------------------------------


def interview_candidates(component: Component) -> tuple[list[Application], dict[int, str]]:
    """The applicants the interview is for, in name order, and those left out with the reason
    (a key of REASONS): eligible, not withdrawn, and not eliminated by a written test (present,
    marked, and at or above its threshold when it has one)."""
    applications = list(
        Application.objects.filter(
            intake_id=component.scheme.intake_id,
            status=Application.Status.SUBMITTED,
            eligibility=Application.Eligibility.ELIGIBLE,
        ).order_by(*NAME_ORDER)
    )
    tests = list(
        Component.objects.filter(scheme_id=component.scheme_id, kind=Component.Kind.WRITTEN_TEST)
    )
    marks = {
        (m.component_id, m.application_id): m
        for m in Mark.objects.filter(component__in=tests).only(
            "component_id", "application_id", "value", "absent"
        )
    }
    kept, left_out = [], {}
    for application in applications:
        reason = None
        for test in tests:
            mark = marks.get((test.pk, application.pk))
            if mark is not None and mark.absent:
                # "Absence counts as 0": still interviewed unless 0 is below the threshold.
                if test.absence == Component.Absence.ELIMINATES or test.threshold:
                    reason = "test_absent"
            elif mark is None or mark.value is None:
                reason = "test_missing"
            elif test.threshold is not None and mark.value < test.threshold:
                reason = "test_below"
            if reason:
                break
        if reason:
            left_out[application.pk] = reason
        else:
            kept.append(application)
    return kept, left_out


@dataclass
class InterviewAssignment:
    placed: int = 0
    already: int = 0
    unplaced: list[tuple[Application, str]] = field(default_factory=list)


def _panel_jurors(component: Component) -> dict[int, set[int]]:
    through = Panel.jurors.through.objects.filter(panel__component=component)
    jurors: dict[int, set[int]] = {}
    for panel_id, user_id in through.values_list("panel_id", "user_id"):
        jurors.setdefault(panel_id, set()).add(user_id)
    return jurors


def _conflicts(application_ids) -> dict[int, set[int]]:
    conflicts: dict[int, set[int]] = {}
    for application_id, juror_id in ConflictOfInterest.objects.filter(
        application_id__in=application_ids
    ).values_list("application_id", "juror_id"):
        conflicts.setdefault(application_id, set()).add(juror_id)
    return conflicts


def _match(applicants: list[int], slots: list[int], allowed) -> dict[int, int]:
    """A maximum matching applicant -> slot (Kuhn's augmenting paths), applicants and slots
    taken in the order given so the result is deterministic. Each applicant first takes the
    earliest free slot they may have; only when none is left does it re-route others."""
    owner: dict[int, int] = {}
    options = {a: [s for s in slots if allowed(a, s)] for a in applicants}

    def augment(applicant: int, seen: set[int]) -> bool:
        for slot in options[applicant]:
            if slot in seen:
                continue
            seen.add(slot)
            if slot not in owner or augment(owner[slot], seen):
                owner[slot] = applicant
                return True
        return False

    for applicant in applicants:
        free = next((s for s in options[applicant] if s not in owner), None)
        if free is not None:
            owner[free] = applicant
        else:
            augment(applicant, set())
    return {a: s for s, a in owner.items()}


@transaction.atomic
def interviews_assign(*, component: Component, actor) -> InterviewAssignment:
    """Give each applicant to interview a free slot, in name and time order, never with a
    panel where a juror declared a conflict with them. Panels without jurors are skipped.
    Places as many as possible and reports who could not be placed, and why."""
    slots = list(
        InterviewSlot.objects.select_for_update(of=("self",))
        .filter(component=component)
        .order_by("starts_at", "panel__name", "id")
    )
    candidates, _left_out = interview_candidates(component)
    placed_ids = {s.application_id for s in slots if s.application_id}
    waiting = [a for a in candidates if a.pk not in placed_ids]
    jurors = _panel_jurors(component)
    free = {s.pk: s for s in slots if s.application_id is None and jurors.get(s.panel_id)}
    conflicts = _conflicts([a.pk for a in waiting])

    def allowed(application_id: int, slot_id: int) -> bool:
        return not jurors[free[slot_id].panel_id] & conflicts.get(application_id, set())

    matching = _match([a.pk for a in waiting], list(free), allowed)
    result = InterviewAssignment(already=len(placed_ids))
    changed = []
    for application in waiting:
        slot_id = matching.get(application.pk)
        if slot_id is None:
            possible = any(allowed(application.pk, s) for s in free)
            result.unplaced.append((application, "no_slot" if possible else "conflict"))
            continue
        slot = free[slot_id]
        slot.application, slot.convened_at, slot.present = application, None, None
        changed.append(slot)
    InterviewSlot.objects.bulk_update(changed, ["application", "convened_at", "present"])
    result.placed = len(changed)
    log_action(
        "tremplin.selection.interview.assigned",
        actor=actor,
        school=_school(component),
        obj=component,
        data={
            "component": component.code,
            "placed": result.placed,
            "unplaced": {a.reference: reason for a, reason in result.unplaced},
        },
    )
    return result


@transaction.atomic
def slot_assign(*, slot: InterviewSlot, application: Application | None, actor) -> InterviewSlot:
    """Put an applicant in a slot (moving them from their previous slot), or empty the slot.
    Refused when a juror of the panel declared a conflict with them, or when the jurors have
    started scoring their interview."""
    slot = (
        InterviewSlot.objects.select_for_update(of=("self",))
        .select_related("panel")
        .get(pk=slot.pk)
    )
    component = slot.component
    if application is not None and slot.application_id == application.pk:
        return slot
    if slot.application_id is not None and application is not None:
        raise ValidationError(_("This slot is taken: empty it first."))
    moving = slot.application_id if application is None else application.pk
    if ScoreSheet.objects.filter(component=component, application_id=moving).exists():
        raise ValidationError(_("The jurors have started scoring this interview."))
    if application is None:
        before = slot.application
        slot.application, slot.convened_at, slot.present = None, None, None
        slot.save(update_fields=["application", "convened_at", "present"])
        log_action(
            "tremplin.selection.interview.unassigned",
            actor=actor,
            school=_school(component),
            obj=before,
            data={"component": component.code, "slot": str(slot)},
        )
        return slot
    candidates, left_out = interview_candidates(component)
    if application.pk not in {a.pk for a in candidates}:
        reason = REASONS.get(left_out.get(application.pk, ""), _("withdrawn or not eligible"))
        raise ValidationError(
            _("This applicant is not called to the interview: %(reason)s.") % {"reason": reason}
        )
    conflicted = ConflictOfInterest.objects.filter(
        application=application, juror__in=slot.panel.jurors.all()
    ).select_related("juror")
    if conflicted:
        raise ValidationError(
            _("Conflict of interest: %(jurors)s declared one with this applicant.")
            % {"jurors": format_list(c.juror for c in conflicted)}
        )
    previous = InterviewSlot.objects.select_for_update(of=("self",)).filter(
        component=component, application=application
    )
    before = [str(s) for s in previous]
    previous.update(application=None, convened_at=None, present=None)
    slot.application, slot.convened_at, slot.present = application, None, None
    slot.save(update_fields=["application", "convened_at", "present"])
    log_action(
        "tremplin.selection.interview.assigned",
        actor=actor,
        school=_school(component),
        obj=application,
        data={"component": component.code, "from": before, "to": str(slot)},
    )
    return slot


@transaction.atomic
def interview_convocations_send(*, component: Component, actor, again: bool = False) -> int:
    """Convene the applicants with a slot not convened yet (everyone with `again`)."""
    return convene(
        component=component,
        places=InterviewSlot.objects.filter(application__isnull=False),
        order="starts_at",
        kind=Letter.Kind.INTERVIEW_CONVOCATION,
        action="tremplin.selection.interview.convened",
        actor=actor,
        again=again,
    )


@transaction.atomic
def slot_attendance_set(*, slot: InterviewSlot, present: bool | None, actor) -> InterviewSlot:
    """Record whether the applicant came. Absence becomes their mark in the interview (what it
    means is the component's absence rule); refused once a juror submitted a sheet."""
    slot = (
        InterviewSlot.objects.select_for_update(of=("self",))
        .select_related("application")
        .get(pk=slot.pk)
    )
    if slot.application_id is None:
        raise ValidationError(_("Nobody has this slot."))
    if slot.present == present:
        return slot
    component = slot.component
    if present is False and ScoreSheet.objects.filter(
        component=component, application_id=slot.application_id, status=ScoreSheet.Status.SUBMITTED
    ):
        raise ValidationError(_("A juror has already submitted a sheet for this interview."))
    slot.present = present
    slot.save(update_fields=["present"])
    mark = (
        Mark.objects.select_for_update(of=("self",))
        .filter(component=component, application_id=slot.application_id)
        .first()
    )
    before = mark_label(mark)
    if present is False:
        mark = mark or Mark(component=component, application=slot.application)
        mark.absent, mark.value, mark.source, mark.updated_by = True, None, Mark.Source.ENTRY, actor
        mark.disagreement = False
        mark.save()
    elif mark is not None and mark.absent:
        mark.absent, mark.updated_by = False, actor
        mark.save(update_fields=["absent", "updated_by", "updated_at"])
    if mark_label(mark) != before:
        audit_mark_change(
            component=component,
            application=slot.application,
            before=before,
            after=mark_label(mark),
            source=Mark.Source.ENTRY,
            actor=actor,
        )
    log_action(
        "tremplin.selection.interview.attendance",
        actor=actor,
        school=_school(component),
        obj=slot.application,
        data={"component": component.code, "present": present},
    )
    return slot
