"""Money and dates in each language's Moroccan conventions (Babel's fr_MA and ar_MA).

French: ``500 000,00 MAD``, ``15 septembre 2025``. Arabic: ``500.000,00 د.م.``,
``15 شتنبر 2025`` (Moroccan month names, Latin digits). English: Babel's ``en``.
"""

import datetime
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
    return babel_format_date(value, fmt, locale=babel_locale(language))


def format_datetime(
    value: datetime.datetime | None, fmt: str = "medium", language: str | None = None
) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return babel_format_datetime(local, fmt, tzinfo=local.tzinfo, locale=babel_locale(language))


def format_list(items, style: str = "standard", language: str | None = None) -> str:
    """``A, B et C`` in French, ``A وB وC`` in Arabic (its own separators, not a Latin comma);
    ``style="or"`` for alternatives (``A, B ou C``)."""
    return babel_format_list([str(item) for item in items], style, locale=babel_locale(language))
