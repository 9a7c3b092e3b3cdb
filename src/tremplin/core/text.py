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


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def typed_search(value: str | None) -> str:
    """What was typed (or pasted) in a search box, as it can be looked for: each control
    character a space (a tab between two cells copied from a spreadsheet separates two
    words; PostgreSQL refuses NUL in a query), without the spaces around it."""
    return _CONTROLS.sub(" ", value or "").strip()


def _letters(script: str, *blocks: tuple[int, int]) -> str:
    """A regular-expression class of the letters of ``script`` in ``blocks`` (as Unicode
    names them: "LATIN ...", "ARABIC ...") and of the combining marks of those blocks."""
    chars = []
    for start, end in blocks:
        for ch in map(chr, range(start, end + 1)):
            kind = unicodedata.category(ch)[0]
            if kind == "M" or (kind == "L" and unicodedata.name(ch, "").startswith(script)):
                chars.append(re.escape(ch))
    return "".join(chars)


# What a name holds beside its letters: spaces (the no-break ones that text copied from a
# document or a spreadsheet carries too), hyphens (and the Unicode ones, and the en dash),
# apostrophes (' ’ ‘ ʼ ʻ, and ´ ` typed with a French keyboard's dead keys), dots
# ("M. Ali"), and the invisible marks that phones and copied text carry (the zero-width
# space, the joiners, left-to-right and right-to-left marks). Not the controls that reorder
# text on screen (U+202A-E, U+2066-9): one of them can make a name read as another.
_NAME_JOINERS = (
    " \u00a0\u202f\\-\u2010\u2011\u2013'`\u00b4\u2018\u2019\u02bb\u02bc\u02bf.\u200b-\u200f\u061c"
)
_SCRIPTS = {
    "latin": _letters("LATIN", (0x41, 0x24F), (0x300, 0x36F), (0x1E00, 0x1EFF)),
    "arabic": _letters(
        "ARABIC",
        (0x600, 0x6FF),
        (0x750, 0x77F),
        (0x8A0, 0x8FF),
        (0xFB50, 0xFDCF),
        (0xFDF2, 0xFDF2),  # ﷲ, in names like عبد ﷲ (not the other word ligatures, as ﷺ)
        (0xFE70, 0xFEFF),
    ),
}
_NAME_IN = {
    script: re.compile(f"[{_NAME_JOINERS}]*[{letters}][{letters}{_NAME_JOINERS}]*")
    for script, letters in _SCRIPTS.items()
}


def is_name_in(script: str, value: str) -> bool:
    """Whether ``value`` is a name written in ``script`` ("latin" or "arabic"): its letters,
    at least one, with spaces, hyphens, apostrophes and dots; no digit, no symbol, no letter
    of another script. A CIN prints the holder's name in both scripts, and the letters and
    certificates print the one of their language: "فاطمة" in the Latin field would come
    out as is on a French certificate."""
    return _NAME_IN[script].fullmatch(value) is not None


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


def reading_order(name: str) -> tuple[str, str]:
    """A key that sorts names as a reader of either script expects: by their letters
    (``fold``: "Béni Mellal" before "Boulemane", and أ, إ and آ as ا, "أزيلال" before
    "آسفي"), then as written. Code points put "É" after "z" and each form of alef apart."""
    return fold(name), name


def search_key(*names: str) -> str:
    """The names, each folded (``fold``) into one word, separated by spaces: a word typed in
    the search box is found inside one name, never across two. Names of punctuation alone
    have a key of no word (a space), which no search finds: only the names of an erased
    application (none at all) have an empty key, the mark of a key still to derive
    (``search_names_backfill``)."""
    key = " ".join(folded for folded in map(fold, names) if folded)
    return key or (" " if any(names) else "")
