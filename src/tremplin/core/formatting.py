"""Money and dates in each language's Moroccan conventions (Babel's fr_MA and ar_MA).

French: ``500 000,00 MAD``, ``15 septembre 2025``. Arabic: ``500.000,00 د.م.``,
``15 شتنبر 2025`` (Moroccan month names, Latin digits). English: Babel's ``en``.
"""

import datetime
import re
from decimal import Decimal

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.lists import format_list as babel_format_list
from babel.numbers import format_currency
from django.utils import timezone, translation

BABEL_LOCALES = {"fr": "fr_MA", "ar": "ar_MA", "en": "en"}


def babel_locale(language: str | None = None) -> str:
    return BABEL_LOCALES.get(language or translation.get_language() or "fr", "fr_MA")


def format_money(amount: Decimal | int | None, language: str | None = None) -> str:
    if amount is None:
        return ""
    return format_currency(amount, "MAD", locale=babel_locale(language))


def format_date(value: datetime.date | None, fmt: str = "long", language: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    text = babel_format_date(value, fmt, locale=babel_locale(language))
    return _first_of_month(text, value, fmt, language)


def _first_of_month(text: str, value: datetime.date, fmt: str, language: str | None) -> str:
    """French writes the first of a month as an ordinal, ``1er février`` (CLDR does not)."""
    if value.day == 1 and fmt in ("long", "full") and babel_locale(language).startswith("fr"):
        return re.sub(r"(?<!\d)1 ", "1er ", text, count=1)
    return text


def format_datetime(
    value: datetime.datetime | None, fmt: str = "medium", language: str | None = None
) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = babel_format_datetime(local, fmt, tzinfo=local.tzinfo, locale=babel_locale(language))
    return _first_of_month(text, local, fmt, language)


def format_list(items, style: str = "standard", language: str | None = None) -> str:
    """``A, B et C`` in French, ``A وB وC`` in Arabic (its own separators, not a Latin comma);
    ``style="or"`` for alternatives (``A, B ou C``)."""
    return babel_format_list([str(item) for item in items], style, locale=babel_locale(language))
