"""The message templates: every one renders in every language, and SMS stay short."""

import re

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

CONTEXTS = {
    "application_submitted": {
        "first_name": "Fatima Zahra",
        "reference": "SMA-25-0042",
        "intake_title": "Promotion 2026",
        "school_name": "École Numérique de Smara",
        "space_url": "https://smara.tremplin.ma/espace/",
    },
    "applicant_code": {"code": "482913", "minutes": 10, "reference": "SMA-25-0042"},
}
# Imported while the call is open (without "closes_at": once it has closed).
CONTEXTS["application_imported"] = {
    **CONTEXTS["application_submitted"],
    "closes_at": "31/01/2027 23:59",
}
CONTEXTS["offer_withdrawn"] = CONTEXTS["application_submitted"]
CONTEXTS["contact_changed"] = {
    k: v for k, v in CONTEXTS["application_submitted"].items() if k != "space_url"
}
CONTEXTS["application_withdrawn"] = CONTEXTS["contact_changed"]
# Found not eligible while the call is open ("eligible": True says the opposite).
CONTEXTS["eligibility_changed"] = {
    **CONTEXTS["application_submitted"],
    "closes_at": "31/01/2027 23:59",
}
CONTEXTS["deletion_requested"] = CONTEXTS["contact_changed"]
LANGUAGES = [code for code, _name in settings.LANGUAGES]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", CONTEXTS)
def test_every_message_renders_in_every_language_with_all_its_values(template, language):
    context = CONTEXTS[template]
    with translation.override(language):
        subject = render_to_string(f"notify/{template}/subject.txt", context)
        body = render_to_string(f"notify/{template}/body.txt", context)
        sms = render_to_string(f"notify/{template}/sms.txt", context)
    assert "\n" not in subject.strip()
    assert context["reference"] in subject
    for value in context.values():
        assert str(value) in body
    assert context["reference"] in sms
    assert "&" not in body + sms  # text, not HTML: nothing escaped


@pytest.mark.parametrize("template", CONTEXTS)
def test_a_french_sms_fits_in_one_text_message(template):
    with translation.override("fr"):
        sms = " ".join(render_to_string(f"notify/{template}/sms.txt", CONTEXTS[template]).split())
    assert len(sms) < 160, sms


def test_the_arabic_sms_without_a_link_fit_in_two_parts():
    """Arabic is sent in UCS-2: two parts hold 134 characters (a school's name as long as
    Smara's). Those with a link are checked in ``tests/core/test_translations.py``."""
    from tremplin.notify.services import _render

    context = {**CONTEXTS["contact_changed"], "school_name": "المدرسة الرقمية بالسمارة"}
    for template in (
        "contact_changed",
        "offer_withdrawn",
        "application_withdrawn",
        "deletion_requested",
    ):
        _subject, text = _render("sms", template, {**context, "space_url": ""}, "ar")
        assert "SMA-25-0042" in text
        assert len(text) <= 2 * 67, (template, len(text), text)


# The school's name as the messages receive it, in the reader's language.
SCHOOL_NAMES = {"fr": "École Numérique de Smara", "ar": "المدرسة الرقمية بالسمارة"}
SCHOOL_NAMES["en"] = SCHOOL_NAMES["fr"]


def messages_naming_the_school(name: str) -> list[tuple[str, dict]]:
    """Every message that names the school (all but the one-time code), with its values;
    the decision once per way its text names the school."""
    submitted = {**CONTEXTS["application_submitted"], "school_name": name}
    letter = {
        "applicant": {"salutation_name": "Fatima Zahra", "reference": "SMA-25-0042"},
        "intake": {"title": "Promotion 2026"},
        "school": {"local_name": name},
        "space_url": "https://smara.tremplin.ma/espace/",
    }
    when = {"date": "lundi 15 septembre 2025", "day": "15/09", "start": "09:00", "end": "11:00"}
    decision = {
        "status": "offer",
        "track": "Développement web",
        "deadline": "22 septembre 2025 à 18:00",
        "deadline_short": "22/09 18:00",
        "waitlist_position": 3,
        "ahead": 2,
        "reason": "",
    }
    return [
        ("application_submitted", submitted),
        ("application_imported", submitted),
        ("application_reminder", submitted),
        ("offer_withdrawn", submitted),
        ("contact_changed", submitted),
        ("application_withdrawn", submitted),
        ("deletion_requested", submitted),
        ("eligibility_changed", submitted),
        ("eligibility_changed", {**submitted, "eligible": True}),
        *(
            ("decision", {**letter, "decision": {**decision, "status": status}})
            for status in ("offer", "waitlisted", "not_retained")
        ),
        ("interview_convocation", {**letter, "slots": [{**when, "place": "Salle 2"}]}),
        (
            "test_convocation",
            {
                **letter,
                "sittings": [
                    {**when, "place": "Salle 1", "component": "Logique", "candidate_number": 17}
                ],
            },
        ),
    ]


def test_every_message_but_the_code_is_checked_for_how_it_names_the_school():
    from tremplin.notify.services import MESSAGE_TEMPLATES

    checked = {template for template, _context in messages_naming_the_school("x")}
    assert checked | {"applicant_code"} == set(MESSAGE_TEMPLATES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_schools_name_stands_apart_from_the_sentences_of_every_message(language):
    """École…, Lycée…, Centre…: in French a name inside a sentence needs an article that
    depends on the name (« l'équipe de l'École… », « du Centre… »), and in Arabic the verb
    agrees with it. The messages name the school where no grammar depends on it: before a
    colon (« École Numérique de Smara : candidature reçue ») or after a dash (« … — École
    Numérique de Smara »)."""
    name = SCHOOL_NAMES[language]
    spaces = " \u00a0\u202f"
    for template, context in messages_naming_the_school(name):
        with translation.override(language):
            texts = [
                render_to_string(f"notify/{template}/{part}.txt", context)
                for part in ("subject", "body", "sms")
            ]
        for text in texts:
            assert name in text
            for found in re.finditer(re.escape(name), text):
                line = text[: found.start()].rpartition("\n")[2].rstrip(spaces)
                after = text[found.end() :].lstrip(spaces)
                after_a_dash = line.endswith("—")
                a_label = line == "" and after[:1] in (":", "\n", "")
                assert after_a_dash or a_label, (template, language, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_eligibility_notice_says_which_way_and_what_she_can_do(language):
    from tremplin.notify.services import _render

    lost = CONTEXTS["eligibility_changed"]
    after_closing = {**lost, "closes_at": ""}
    regained = {**lost, "eligible": True}
    with translation.override("en"):
        english = {
            name: _render("email", "eligibility_changed", context, "en")[1]
            for name, context in [("lost", lost), ("closed", after_closing), ("ok", regained)]
        }
    assert "no longer meets the conditions" in english["lost"]
    assert "until 31/01/2027 23:59, you can correct your application" in english["lost"]
    assert "contact the school" in english["closed"] and "until" not in english["closed"]
    assert "now meets the conditions" in english["ok"] and "why" not in english["ok"]
    texts = {_render("sms", "eligibility_changed", c, language)[1] for c in (lost, regained)}
    assert len(texts) == 2  # two different texts, in every language

    # Decided by staff: said so, and a correction is not promised to change it.
    by_staff = _render("email", "eligibility_changed", {**lost, "by_staff": True}, "en")[1]
    assert "The school decided that your application SMA-25-0042" in by_staff
    assert "does not meet the conditions" in by_staff and "correct your application" not in by_staff
    # Without the site's address (SITE_URL unset), no sentence left hanging on it.
    for context in (lost, regained):
        text = _render("sms", "eligibility_changed", {**context, "space_url": ""}, language)[1]
        assert text.rstrip().endswith("."), text
