"""Moroccan identifiers: the national identity card number (CIN) and mobile phone numbers.

Pure functions, no Django import: the portal form, the importer and the API share them.
"""

import re
import unicodedata

_CIN = re.compile(r"^[A-Z]{1,2}[0-9]{1,6}$")
_NATIONAL_MOBILE = re.compile(r"[67][0-9]{8}")
# Spaces, dashes, dots, slashes, underscores, and the invisible direction marks that an
# Arabic keyboard or a copy from a right-to-left text leaves around numbers.
_SEPARATORS = re.compile(r"[\s\-./_\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]+")


def ascii_digits(raw: str) -> str:
    """Any decimal digit as its ASCII one: ``٠٦٦١`` (Arabic-Indic, as an Arabic keyboard
    types it) and ``۰۶۶۱`` (Persian) -> ``0661``. Other characters are kept."""
    if raw.isascii():
        return raw
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in raw
    )


def normalize_cin(raw: str) -> str | None:
    """``ab 123456`` -> ``AB123456``; None when it cannot be a CIN.

    Lenient on spacing, case, separators and the script of the digits, strict on the shape:
    one or two letters, then up to six digits (old cards have fewer).
    """
    value = _SEPARATORS.sub("", ascii_digits(raw or "")).upper()
    return value if _CIN.match(value) else None


def mask_cin(cin: str) -> str:
    """``AB123456`` -> ``AB****56``: enough to recognise, not enough to reuse. At least four
    digits stay hidden, so the shorter numbers of old cards show fewer of theirs
    (``AB12345`` -> ``AB****5``, ``AB1234`` -> ``AB****``)."""
    letters = len(cin) - len(cin.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    digits = len(cin) - letters
    shown = min(2, max(0, digits - 4))
    return cin[:letters] + "*" * (digits - shown) + cin[len(cin) - shown :]


def normalize_phone(raw: str) -> str | None:
    """A Moroccan mobile number as E.164 (``+212661234567``), or None.

    Accepts the ways people type it: ``06 61 23 45 67``, ``0661234567``,
    ``+212 661-234567``, ``00212661234567``, ``212661234567``, with or without the
    ``(0)`` some add after the country code, or the 0 itself (``+212 06 61 23 45 67``), in
    ASCII or Arabic digits. Mobile numbers start with 6 or 7.
    """
    value = _SEPARATORS.sub("", ascii_digits(raw or ""))
    value = value.replace("(0)", "").replace("(", "").replace(")", "")
    if value.startswith("+"):
        value = "00" + value[1:]
    if value.startswith("00212"):
        national = value[5:]
    elif value.startswith("212") and len(value) in (12, 13):
        national = value[3:]
    elif value.startswith("0") and len(value) == 10:
        national = value[1:]
    else:
        return None
    if len(national) == 10 and national.startswith("0"):
        # The national 0 kept after the country code (+212 06 61 23 45 67), as a number
        # written down locally is often prefixed later.
        national = national[1:]
    # Not str.isdigit(): it takes "²" for a digit.
    if not _NATIONAL_MOBILE.fullmatch(national):
        return None
    return "+212" + national


def format_phone(e164: str) -> str:
    """``+212661234567`` -> ``06 61 23 45 67``, the way Moroccans write it."""
    if not e164.startswith("+212") or len(e164) != 13:
        return e164
    national = "0" + e164[4:]
    return " ".join(national[i : i + 2] for i in range(0, 10, 2))


def mask_phone(e164: str) -> str:
    """``+212661234567`` -> ``06 ** ** ** 67``."""
    shown = format_phone(e164)
    return shown[:2] + " ** ** ** " + shown[-2:] if len(shown) == 14 else "****"
