"""The rubric of an interview: criteria with weights and level descriptors in French and
Arabic (``Criterion.levels``: a short list of ``{"mark", "text", "text_ar"}``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tremplin.core.audit import log_action
from tremplin.selection.models import Component, Criterion, ScoreSheet


def plain(value: Decimal) -> str:
    """``15.00`` -> ``"15"``, ``12.50`` -> ``"12.5"``: how a level's mark is written."""
    return format(value.quantize(Decimal("0.01")).normalize(), "f")


def parse_levels(text: str) -> list[dict]:
    """Level descriptors written one per line as ``mark | French | Arabic``, e.g.
    ``16 | Très clair | واضح جدا``. Raises ValidationError naming the bad line."""
    levels = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or not parts[1]:
            raise ValidationError(
                _("Line %(n)s: write “mark | text in French | text in Arabic”.") % {"n": number}
            )
        try:
            mark = Decimal(parts[0].replace(",", "."))
        except InvalidOperation:
            mark = None
        if mark is None or not mark.is_finite() or not 0 <= mark <= 20:
            raise ValidationError(
                _("Line %(n)s: the mark is a number between 0 and 20.") % {"n": number}
            )
        levels.append(
            {
                "mark": plain(mark),
                "text": parts[1][:300],
                "text_ar": (parts[2] if len(parts) > 2 else "")[:300],
            }
        )
    marks = [level["mark"] for level in levels]
    if len(set(marks)) != len(marks):
        raise ValidationError(_("Two levels have the same mark."))
    return sorted(levels, key=lambda level: Decimal(level["mark"]), reverse=True)


def levels_text(levels: list[dict]) -> str:
    return "\n".join(
        " | ".join(filter(None, [lv["mark"], lv.get("text", ""), lv.get("text_ar", "")]))
        for lv in levels
    )


@transaction.atomic
def criteria_save(*, component: Component, criteria: list[Criterion], actor) -> list[Criterion]:
    """Replace the rubric of an interview. Refused once a juror has started a sheet: the
    sheets must all be read against the same rubric."""
    if ScoreSheet.objects.filter(component=component).exists():
        raise ValidationError(_("Jurors have started scoring: the rubric can no longer change."))
    for position, criterion in enumerate(criteria, start=1):
        criterion.component = component
        criterion.position = position
        criterion.full_clean()
    Criterion.objects.filter(component=component).delete()
    Criterion.objects.bulk_create(criteria)
    log_action(
        "tremplin.selection.rubric.changed",
        actor=actor,
        school=component.scheme.intake.school,
        obj=component,
        data={
            "component": component.code,
            "criteria": [{"label": c.label, "weight": str(c.weight)} for c in criteria],
        },
    )
    return criteria
