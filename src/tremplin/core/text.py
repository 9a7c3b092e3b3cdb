"""Free text typed by people: the checks it passes (it is stored exactly as typed, except
what a database cannot hold) and its folding for search."""

import re
import unicodedata

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


# Letters written more than one way, as NFKD leaves them (it has already turned أ إ آ into ا
# and ؤ ئ into و ي: their hamza and madda are combining marks, dropped with the harakat):
# alef wasla, alef maksura, teh marbuta, the Persian and Maghrebi kaf, gaf and veh that some
# keyboards type; and the Latin letters that NFKD keeps whole. Then what is alphanumeric
# without being a letter of a name: the tatweel that stretches Arabic words, and the
# modifier letters typed as apostrophes (ʼ in Mʼbarek).
_VARIANTS = (
    ("\u0671", "\u0627"),  # ٱ -> ا
    ("\u0649", "\u064a"),  # ى -> ي
    ("\u06cc", "\u064a"),  # ی -> ي
    ("\u0629", "\u0647"),  # ة -> ه
    ("\u06a9", "\u0643"),  # ک -> ك
    ("\u06af", "\u0643"),  # گ -> ك
    ("\u06ad", "\u0643"),  # ڭ -> ك
    ("\u06a4", "\u0641"),  # ڤ -> ف
    ("\u0153", "oe"),  # œ
    ("\u00e6", "ae"),  # æ
    ("\u00f8", "o"),  # ø
    ("\u0142", "l"),  # ł
    ("\u0111", "d"),  # đ
    ("\u0131", "i"),  # ı
    ("\u0640", ""),  # tatweel
    *((apostrophe, "") for apostrophe in "\u02b9\u02bb\u02bc\u02bd\u02be\u02bf\u02c8\u02ca\u02cb"),
)


def fold(text: str) -> str:
    """``text`` as the search compares it: without accents, harakat or tatweel, in lower
    case, its Arabic letter variants unified, and only its letters and digits (spaces,
    hyphens, apostrophes and dots go): ``"Aït-Ahmed"`` -> ``"aitahmed"``,
    ``"M'barek"`` -> ``"mbarek"``, ``"فاطِمة"`` -> ``"فاطمه"``.

    The same for a name and for a word typed in the search box, so that "El Amrani",
    "El-Amrani" and "Elamrani" all find each other."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    if not folded.isascii():
        for variant, letter in _VARIANTS:
            if variant in folded:
                folded = folded.replace(variant, letter)
    # Combining marks (accents, harakat, hamza, madda) are not alphanumeric: they go too.
    return "".join(filter(str.isalnum, folded))


def search_key(*names: str) -> str:
    """The names, each folded (``fold``) into one word, separated by spaces: a word typed in
    the search box is found inside one name, never across two. Names of punctuation alone
    have a key of no word (a space), which no search finds: only the names of an erased
    application (none at all) have an empty key, the mark of a key still to derive
    (``search_names_backfill``)."""
    key = " ".join(folded for folded in map(fold, names) if folded)
    return key or (" " if any(names) else "")
