"""The message templates: every one renders in every language, and SMS stay short."""

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
