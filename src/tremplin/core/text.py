"""Checks on free text typed by people: stored exactly as typed, except what a database
cannot hold."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def refuse_control_characters(value: str) -> None:
    """NUL and other C0 control characters (but tab and newlines) are refused: PostgreSQL
    cannot store NUL, and the others are never typed on purpose."""
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValidationError(
            _("This text contains invisible control characters; please retype it."),
            code="control_characters",
        )


_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value: str | None) -> int | None:
    """A database id typed or posted by someone, or None. Only ASCII digits, and short enough
    for a bigint: `"²".isdigit()` is true, and int() of it raises."""
    if value and _ID.fullmatch(value):
        return int(value)
    return None
