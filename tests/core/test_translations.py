"""Every string a person reads exists in French and Arabic, and the compiled catalogues
match their sources."""

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[2] / "src" / "tremplin" / "locale"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_message_is_translated_and_none_is_fuzzy(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po, locale=language)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id)
    assert missing == []
    assert len(catalog) > 200


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_compiled_catalogue_matches_its_source(language):
    folder = LOCALE / language / "LC_MESSAGES"
    with open(folder / "django.po", "rb") as po:
        catalog = read_po(po, locale=language)
    with open(folder / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        key = f"{message.context}\x04{message.id}" if message.context else message.id
        assert compiled._catalog.get(key) == message.string, message.id


def test_arabic_digits_stay_latin():
    with open(LOCALE / "ar" / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po, locale="ar")
    arabic_indic = set("٠١٢٣٤٥٦٧٨٩")
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not any(arabic_indic & set(s) for s in strings), message.id
