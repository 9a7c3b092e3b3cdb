"""The jurors' score sheets and the interview mark.

Each juror scores alone against the rubric; a submitted sheet is locked and an amendment
needs a reason (audited). The interview mark of every applicant is then recomputed from all
the submitted sheets of the component with the engine's ``scoring.jury_marks`` (mean,
optional severity correction across all sheets, disagreement flag).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tremplin.core.audit import log_action
from tremplin.selection import scoring
from tremplin.selection.models import (
    Component,
    Criterion,
    CriterionScore,
    InterviewSlot,
    Mark,
    ScoreSheet,
)

Scores = dict[int, Decimal | None]  # criterion id -> mark out of 20 (None: not scored yet)


def sheet_mark(criteria: list[Criterion], scores: Scores) -> Decimal:
    """The weighted mean of the criteria, out of 20, rounded half up to 2 places."""
    result = scoring.composite(
        {str(c.pk): scores.get(c.pk) for c in criteria},
        [scoring.Component(name=str(c.pk), weight=c.weight) for c in criteria],
    )
    if result.value is None:
        raise ValidationError(_("Score every criterion before submitting."))
    return result.value


def _write(sheet: ScoreSheet, criteria: list[Criterion], scores: Scores, overall) -> None:
    """Store the criteria's scores (or the single overall mark of a rubric without criteria)."""
    if not criteria:
        sheet.mark = overall
        return
    existing = {s.criterion_id: s for s in CriterionScore.objects.filter(sheet=sheet)}
    for criterion in criteria:
        value, score = scores.get(criterion.pk), existing.get(criterion.pk)
        if value is None and score is not None:
            score.delete()
        elif value is not None and score is None:
            CriterionScore.objects.create(sheet=sheet, criterion=criterion, value=value)
        elif value is not None and score.value != value:
            score.value = value
            score.save(update_fields=["value"])


def _final_mark(criteria: list[Criterion], scores: Scores, overall) -> Decimal:
    if criteria:
        return sheet_mark(criteria, scores)
    if overall is None:
        raise ValidationError(_("Give a mark before submitting."))
    return overall


@transaction.atomic
def sheet_save(
    *,
    slot: InterviewSlot,
    juror,
    scores: Scores,
    comment: str,
    submit: bool,
    overall: Decimal | None = None,
) -> ScoreSheet:
    """Save a juror's draft, or submit it: the sheet then locks, and the interview marks are
    recomputed. The caller has checked that the juror sits on the slot's panel."""
    component = slot.component
    # Locked: staff recording the applicant absent at the same moment wait for this sheet.
    slot = InterviewSlot.objects.select_for_update(of=("self",)).get(pk=slot.pk)
    if slot.present is False:
        raise ValidationError(_("The applicant was recorded absent."))
    sheet, _created = ScoreSheet.objects.get_or_create(
        component=component, application_id=slot.application_id, juror=juror
    )
    sheet = ScoreSheet.objects.select_for_update(of=("self",)).get(pk=sheet.pk)
    if sheet.locked:
        raise ValidationError(_("This sheet is submitted: amending it needs a reason."))
    criteria = list(component.criteria.all())
    mark = _final_mark(criteria, scores, overall) if submit else None
    _write(sheet, criteria, scores, overall)
    sheet.comment = comment.strip()[:2000]
    if submit:
        sheet.mark, sheet.status, sheet.submitted_at = (
            mark,
            ScoreSheet.Status.SUBMITTED,
            timezone.now(),
        )
    sheet.save()
    if submit:
        if slot.present is None:
            InterviewSlot.objects.filter(pk=slot.pk).update(present=True)
        log_action(
            "tremplin.selection.sheet.submitted",
            actor=juror,
            school=component.scheme.intake.school,
            obj=sheet,
            data={
                "component": component.code,
                "application": sheet.application_id,
                "mark": str(mark),
            },
        )
        interview_marks_recompute(
            component=component, actor=juror, application_id=sheet.application_id
        )
    return sheet


@transaction.atomic
def sheet_amend(
    *,
    sheet: ScoreSheet,
    scores: Scores,
    comment: str,
    reason: str,
    actor,
    overall: Decimal | None = None,
) -> ScoreSheet:
    """Change a submitted sheet: every score needed, a reason always, audited with the old and
    new values; the interview marks are recomputed."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for this change.")})
    sheet = (
        ScoreSheet.objects.select_for_update(of=("self",))
        .select_related("component")
        .get(pk=sheet.pk)
    )
    if not sheet.locked:
        raise ValidationError(_("This sheet is a draft: save it instead."))
    component = sheet.component
    criteria = list(component.criteria.all())
    mark = _final_mark(criteria, scores, overall)
    before = {str(s.criterion_id): str(s.value) for s in sheet.scores.all()}
    old_mark, old_comment = sheet.mark, sheet.comment
    _write(sheet, criteria, scores, overall)
    sheet.mark = mark
    sheet.comment = comment.strip()[:2000]
    sheet.save()
    after = {str(c.pk): str(scores[c.pk]) for c in criteria}
    log_action(
        "tremplin.selection.sheet.amended",
        actor=actor,
        school=component.scheme.intake.school,
        obj=sheet,
        data={
            "component": component.code,
            "application": sheet.application_id,
            "old": {"mark": str(old_mark), "scores": before},
            "new": {"mark": str(mark), "scores": after},
            "comment_changed": old_comment != sheet.comment,
        },
        reason=reason.strip(),
    )
    interview_marks_recompute(component=component, actor=actor, application_id=sheet.application_id)
    return sheet


@transaction.atomic
def interview_marks_recompute(
    *, component: Component, actor=None, application_id: int | None = None
) -> int:
    """Recompute the applicants' interview marks (source "jury") from the submitted sheets.

    Severity correction, when the scheme asks for it, puts each juror's marks on the common
    scale using all the sheets of the component, so one submission may move others' marks:
    all are then recomputed. Without it, an applicant's mark depends on their own sheets
    only, and `application_id` limits the work to that applicant. The changes are audited
    in one event (old -> new).
    """
    # One recomputation at a time per component: two jurors submitting at once would each
    # miss the other's sheet (not committed yet) and the last write would drop one.
    Component.objects.select_for_update(of=("self",)).filter(pk=component.pk).first()
    scheme = component.scheme
    submitted = ScoreSheet.objects.filter(component=component, status=ScoreSheet.Status.SUBMITTED)
    if application_id is not None and not scheme.severity_correction:
        submitted = submitted.filter(application_id=application_id)
    sheets = list(submitted.values_list("juror_id", "application_id", "mark"))
    results = scoring.jury_marks(
        sheets,
        correct_severity=scheme.severity_correction,
        disagreement_bound=scheme.disagreement_threshold,
    )
    raw: dict[int, dict[str, str]] = {}
    for juror_id, application_id, mark in sheets:
        raw.setdefault(application_id, {})[str(juror_id)] = str(mark)
    marks = {
        m.application_id: m
        for m in Mark.objects.select_for_update(of=("self",)).filter(
            component=component, application_id__in=list(results)
        )
    }
    now, created, updated, changes = timezone.now(), [], [], {}
    for application_id, jury in results.items():
        detail = {
            "jurors": raw[application_id],
            "averaged": [str(m) for m in jury.marks],
            "spread": str(jury.spread),
            "corrected": scheme.severity_correction,
        }
        mark = marks.get(application_id)
        if mark is None:
            mark = Mark(component=component, application_id=application_id)
            created.append(mark)
        elif (mark.value, mark.disagreement, mark.detail, mark.absent) == (
            jury.mean,
            jury.disagreement,
            detail,
            False,
        ) and mark.source == Mark.Source.JURY:
            continue
        else:
            updated.append(mark)
        if mark.value != jury.mean:
            changes[str(application_id)] = [
                None if mark.value is None else str(mark.value),
                str(jury.mean),
            ]
        mark.value, mark.absent, mark.source = jury.mean, False, Mark.Source.JURY
        mark.disagreement, mark.detail = jury.disagreement, detail
        mark.updated_by, mark.updated_at = actor, now
    Mark.objects.bulk_create(created)
    Mark.objects.bulk_update(
        updated, ["value", "absent", "source", "disagreement", "detail", "updated_by", "updated_at"]
    )
    if changes:
        log_action(
            "tremplin.selection.interview.marks_recomputed",
            actor=actor,
            school=scheme.intake.school,
            obj=component,
            data={"component": component.code, "changes": changes},
        )
    return len(changes)
