"""Template filters of the written test and interview pages."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext

from tremplin.selection.assessment_marks import ABSENT, format_mark

register = template.Library()


@register.filter
def mark(value):
    """``{{ m.value|mark }}``: ``12,5`` in French and Arabic, ``12.5`` in English; also reads
    the audit's labels (``"12.50"``, ``"absent"``)."""
    if value in (None, ""):
        return ""
    if value == ABSENT:
        return gettext("absent")
    return format_mark(Decimal(value))


@register.filter
def level_text(level: dict) -> str:
    """A rubric level's descriptor in the page's language (Arabic when there is one)."""
    from django.utils import translation

    if translation.get_language() == "ar" and level.get("text_ar"):
        return level["text_ar"]
    return level.get("text", "")
