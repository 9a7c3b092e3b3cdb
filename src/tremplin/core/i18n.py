"""Helpers for content stored in two scripts (French/Latin and Arabic)."""

from django.utils import translation


def localized(obj: object, field: str) -> str:
    """The Arabic value of ``field`` on an Arabic page when there is one, else the French one.

    Content fields are stored as ``<field>`` (French, also shown in English) and
    ``<field>_ar``; a missing Arabic value falls back to French rather than showing nothing.
    """
    if translation.get_language() == "ar":
        value = getattr(obj, f"{field}_ar", "")
        if value:
            return value
    return getattr(obj, field)
