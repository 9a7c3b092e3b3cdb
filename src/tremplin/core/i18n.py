"""Helpers for content stored in two scripts (French/Latin and Arabic)."""

from django.utils import translation
from django.utils.translation import pgettext_lazy


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


# The site's languages as a sentence names them ("sent in French", « envoyés en français »):
# the menu's labels are capitalised, which French writes in lower case inside a sentence.
_IN_A_SENTENCE = {
    "fr": pgettext_lazy("a language, inside a sentence", "French"),
    "ar": pgettext_lazy("a language, inside a sentence", "Arabic"),
    "en": pgettext_lazy("a language, inside a sentence", "English"),
}


def language_in_a_sentence(code: str) -> str:
    """The name of the language ``code`` inside a sentence, in the active language."""
    return str(_IN_A_SENTENCE[code])
