"""Every string a person reads exists in French and Arabic, and the compiled catalogues
match their sources."""

import contextlib
import gettext
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.core.management import call_command

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "tremplin"
LOCALE = PACKAGE / "locale"


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


def test_a_file_extension_in_arabic_is_isolated_left_to_right():
    """In a right-to-left line ".xlsx" shows as "xlsx.": its dot goes to the other end."""
    import re

    with open(LOCALE / "ar" / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po, locale="ar")
    bare = re.compile(r"(?<!\u2066)\.(xlsx|csv|pdf|ics|json)\b")
    found = 0
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not any(bare.search(s) for s in strings), message.id
        found += any("\u2066.xlsx\u2069" in s for s in strings)
    assert found >= 3


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (make messages)")
def test_every_string_of_the_code_is_in_the_catalogues(tmp_path, settings):
    """What ``make messages`` would extract today, on a copy: a string added to the code or a
    template without being translated shows up here, not in front of an applicant."""
    copy = tmp_path / "tremplin"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo"))
    settings.LOCALE_PATHS = [copy / "locale"]  # never the real catalogues
    with contextlib.chdir(copy):
        call_command("makemessages", locale=["fr", "ar"], no_obsolete=True, verbosity=0)
    for language in ("fr", "ar"):
        with open(copy / "locale" / language / "LC_MESSAGES" / "django.po", "rb") as po:
            catalog = read_po(po, locale=language)
        missing = [
            message.id
            for message in catalog
            if message.id
            and (
                message.fuzzy
                or not all(
                    message.string if isinstance(message.string, tuple) else (message.string,)
                )
            )
        ]
        assert missing == [], language


# GSM 03.38's basic alphabet: an SMS written in it takes 160 characters a part; one character
# outside it (ê, ç, °, ’) sends the whole message in UCS-2, 70 characters a part.
GSM_ALPHABET = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def test_french_text_messages_keep_to_the_gsm_alphabet():
    with open(LOCALE / "fr" / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po, locale="fr")
    sms = [m for m in catalog if any(path.endswith("sms.txt") for path, _ in m.locations)]
    assert len(sms) >= 6
    for message in sms:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        outside = set("".join(strings)) - GSM_ALPHABET
        assert not outside, (strings, outside)


def test_the_arabic_code_text_message_fits_in_one_part():
    """Arabic is sent in UCS-2: 70 characters for a one-part SMS, 67 a part beyond. The code
    is the message applicants receive most (each return to their space)."""
    from tremplin.admissions.codes import CODE_TTL
    from tremplin.notify.services import _render

    context = {
        "code": "482913",
        "reference": "SMA-26-0042",
        "minutes": int(CODE_TTL.total_seconds() // 60),
    }
    _subject, text = _render("sms", "applicant_code", context, "ar")
    assert "482913" in text and "SMA-26-0042" in text
    assert len(text) <= 70, (len(text), text)


# The placeholders that carry the count of a plural message.
_COUNTS = (
    r"%\((?:n|count|counter|total|months|weeks|days|hours|minutes|pages|codes|seats|ahead)\)[sd]"
)


def test_arabic_says_one_and_two_without_repeating_the_number():
    """Arabic's singular and dual carry their number: «ترشيحان» is two applications, and
    «2 ترشيحان» says it twice. One is «ترشيح واحد». A number may still follow in brackets."""
    import re

    with open(LOCALE / "ar" / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po, locale="ar")
    # The number before a word («2 مدرستان»), but for the words «دون» (without), «من» (of)
    # and «في» (in), which do not count anything.
    counted = re.compile(_COUNTS + r"[ \u00a0](?!(?:دون|من|في)(?:[ \u00a0.،:]|$))[\u0621-\u064A]")
    repeated = [
        (message.id[0], form, message.string[form])
        for message in catalog
        if isinstance(message.id, tuple) and message.id[0]
        for form in (1, 2)  # one, two
        if counted.search(message.string[form])
    ]
    assert repeated == []


@pytest.mark.django_db
def test_the_text_messages_with_a_link_fit_their_parts_and_end_it_on_a_letter(client):
    """Arabic is sent in UCS-2: two parts hold 134 characters. The confirmation and the
    reminder carry the link to the applicant space, with a school's name as long as Smara's.
    The link ends without its slash, which a right-to-left SMS would draw on its left
    («/https://…»), and the site leads from there to the applicant space."""
    from django.urls import reverse

    from tremplin.notify.services import _render

    access = reverse("portal:access")
    context = {
        "school_name": "المدرسة الرقمية بالسمارة",
        "reference": "SMA-26-0042",
        "space_url": "https://tremplin.example.ma" + access,
    }
    link = context["space_url"].rstrip("/")
    for template, values in [
        ("application_submitted", context),
        ("application_reminder", context),
        ("eligibility_changed", context),
        ("eligibility_changed", {**context, "eligible": True}),
    ]:
        _subject, text = _render("sms", template, values, "ar")
        assert text.endswith(f" {link}"), text
        assert len(text) <= 2 * 67, (template, len(text), text)
        _subject, text = _render("sms", template, {**values, "school_name": "Smara"}, "fr")
        assert text.endswith(f" {link}") and len(text) <= 160, text
    response = client.get(access.rstrip("/"))
    assert response.status_code == 301 and response["Location"] == access


def test_french_punctuation_keeps_its_no_break_space():
    """French puts a space before « : ; ? ! » and inside « »: a plain one lets a narrow
    screen start a line with the colon or the closing quote. Text messages keep the plain
    space of the GSM alphabet (and a message's spaces are made plain when it is rendered)."""
    import re

    with open(LOCALE / "fr" / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po, locale="fr")
    breakable = re.compile(r" [:;?!]|« | »")
    wrong = []
    for message in catalog:
        if not message.id or any(path.endswith("sms.txt") for path, _ in message.locations):
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if any(breakable.search(s) for s in strings):
            wrong.append(strings[0])
    assert wrong == []
