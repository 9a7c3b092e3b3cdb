"""Marks of the written test (and of any component marked by hand): reading what people type,
recording it, and the audit trail of every change (who, old -> new)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_decimal
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tremplin.admissions.importing_headers import DIGITS, fold
from tremplin.core.audit import log_action
from tremplin.core.formatting import babel_locale, format_list
from tremplin.selection.models import Component, Mark, TestSitting

ABSENT = "absent"
# What markers write for a no-show, in French, English and Arabic.
ABSENT_WORDS = frozenset({"abs", "absent", "absente", "غايب", "غايبه", "غ"})
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
CENT = Decimal("0.01")

Value = Decimal | None | str  # a mark, nothing (cleared), or ABSENT


def parse_mark(raw: str, *, allow_absent: bool = False) -> Value:
    """A mark out of 20 as people type it: ``12,5``, ``12.5``, ``١٢٫٥``; empty is None.

    Raises ValidationError with a message in the active language.
    """
    text = (raw or "").strip().translate(DIGITS).replace("٫", ".").replace(",", ".")
    text = text.replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if allow_absent and fold(text) in ABSENT_WORDS:
        return ABSENT
    if not _NUMBER.match(text):
        raise ValidationError(
            _("“%(value)s” is not a mark: write a number between 0 and 20, such as 12,5.")
            % {"value": raw.strip()[:20]},
            code="not_a_number",
        )
    value = Decimal(text)
    if not 0 <= value <= 20:
        raise ValidationError(_("A mark lies between 0 and 20."), code="out_of_range")
    if value != value.quantize(CENT):
        raise ValidationError(_("A mark has at most two decimals."), code="too_precise")
    return value.quantize(CENT)


def format_mark(value: Decimal | None, language: str | None = None) -> str:
    """A mark as people read it: ``12,5`` in French and Arabic, ``12.5`` in English."""
    if value is None:
        return ""
    return format_decimal(value, format="0.##", locale=babel_locale(language))


def mark_label(mark: Mark | None) -> str | None:
    """How a mark is written in the audit log: ``"12.50"``, ``"absent"`` or None."""
    if mark is None:
        return None
    if mark.absent:
        return ABSENT
    return None if mark.value is None else str(mark.value)


def audit_mark_change(*, component, application, before, after, source, actor, reason=""):
    """One change of one applicant's mark, on the applicant's history."""
    log_action(
        "tremplin.selection.mark.changed",
        actor=actor,
        school=component.scheme.intake.school,
        obj=application,
        data={"component": component.code, "old": before, "new": after, "source": source},
        reason=reason,
    )


@dataclass(frozen=True)
class MarkChange:
    application_id: int
    old: str | None
    new: str | None


@transaction.atomic
def marks_record(
    *, component: Component, values: dict[int, Value], actor, source: str = Mark.Source.ENTRY
) -> list[MarkChange]:
    """Record marks (application id -> mark, None to clear, ABSENT for a no-show).

    A mark means the applicant sat the test: their attendance becomes "present" if it was not
    recorded. An applicant recorded absent gets no mark (correct the attendance first). All or
    nothing: one refused line and nothing is saved. Every change is audited.
    """
    ids = list(values)
    marks = {
        m.application_id: m
        for m in Mark.objects.select_for_update(of=("self",))
        .filter(component=component, application_id__in=ids)
        .select_related("application")
    }
    sittings = {
        s.application_id: s
        for s in TestSitting.objects.select_for_update(of=("self",)).filter(
            component=component, application_id__in=ids
        )
    }
    refused = [
        sittings[i].candidate_number
        for i, value in values.items()
        if value not in (None, ABSENT) and i in sittings and sittings[i].present is False
    ]
    if refused:
        raise ValidationError(
            _("Recorded absent, so no mark can be entered: %(numbers)s.")
            % {"numbers": format_list(sorted(refused))}
        )
    from tremplin.admissions.models import Application

    applications = Application.objects.in_bulk([i for i in ids if i not in marks])
    created, updated, sittings_changed, changes = [], [], [], []
    now = timezone.now()
    for application_id, value in values.items():
        mark = marks.get(application_id)
        before = mark_label(mark)
        after = ABSENT if value == ABSENT else (None if value is None else str(value))
        if before == after or (mark is None and after is None):
            continue
        if mark is None:
            mark = Mark(
                component=component,
                application=applications[application_id],
                source=source,
            )
            created.append(mark)
        else:
            updated.append(mark)
        mark.absent = value == ABSENT
        mark.value = None if value in (None, ABSENT) else value
        mark.source = source
        mark.updated_by = actor
        mark.updated_at = now
        sitting = sittings.get(application_id)
        if sitting is not None:
            present = False if value == ABSENT else (True if value is not None else None)
            if present is not None and sitting.present != present:
                sitting.present = present
                sittings_changed.append(sitting)
        changes.append((mark, before, after))
    Mark.objects.bulk_create(created)
    Mark.objects.bulk_update(updated, ["value", "absent", "source", "updated_by", "updated_at"])
    TestSitting.objects.bulk_update(sittings_changed, ["present"])
    for mark, before, after in changes:
        audit_mark_change(
            component=component,
            application=mark.application,
            before=before,
            after=after,
            source=source,
            actor=actor,
        )
    return [MarkChange(m.application_id, before, after) for m, before, after in changes]
