"""What applicants type, the way they type it: digits from an Arabic keyboard, references
copied from an SMS, long email addresses."""

import re

import pytest
from django.core.validators import validate_email
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import Application
from tremplin.core.identifiers import ascii_digits, mask_cin, normalize_cin, normalize_phone
from tremplin.core.text import is_name_in
from tremplin.notify.models import Message

APPLY = "/schools/smara/calls/promo-2026/apply/"
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture
def intake(world):
    return make_open_intake(world.smara)


def applications() -> list[Application]:
    with scopes_disabled():
        return list(Application.objects.all())


def code_sent() -> str:
    with scopes_disabled():
        body = Message.objects.filter(template="applicant_code").latest("pk").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_digits_of_any_script_become_ascii_and_other_characters_stay():
    assert ascii_digits("06 61".translate(ARABIC)) == "06 61"
    assert ascii_digits("AB-123".translate(PERSIAN)) == "AB-123"
    assert ascii_digits("SMA-25") == "SMA-25"


@pytest.mark.parametrize("digits", [ARABIC, PERSIAN], ids=["arabic-indic", "persian"])
def test_cins_and_phones_in_arabic_keyboard_digits_are_understood(digits):
    assert normalize_cin("ab 123456".translate(digits)) == "AB123456"
    assert normalize_phone("06 61 23 45 67".translate(digits)) == "+212661234567"
    assert normalize_phone("+212 661-234567".translate(digits)) == "+212661234567"


def test_direction_marks_around_a_pasted_number_are_ignored():
    assert normalize_phone("\u200f0661234567\u200e") == "+212661234567"


def test_a_superscript_is_not_a_digit_of_a_phone_number():
    assert normalize_phone("066123456²") is None


@pytest.mark.parametrize(
    "raw", ["+212 05 22 12 34 56", "+212 06 61 23 45 6", "+212 00661234567", "21206612345678"]
)
def test_the_zero_after_the_country_code_does_not_let_other_numbers_through(raw):
    """A landline, a digit short, two zeros, a digit too many."""
    assert normalize_phone(raw) is None


@pytest.mark.django_db
@pytest.mark.parametrize("digits", [ARABIC, PERSIAN], ids=["arabic-indic", "persian"])
def test_an_application_typed_with_arabic_digits_is_accepted(intake, digits):
    response = Client().post(
        APPLY,
        form_data(cin="AB 123456".translate(digits), phone="06 61 23 45 67".translate(digits)),
    )
    assert response.status_code == 302
    (application,) = applications()
    assert application.cin == "AB123456"
    assert application.phone == "+212661234567"


@pytest.mark.django_db
def test_the_space_opens_with_a_reference_cin_and_code_typed_in_arabic_digits(intake):
    Client().post(APPLY, form_data())
    (application,) = applications()
    client = Client()
    # Lower case, spaces, Arabic digits: as read from an SMS and typed on a phone.
    typed = " " + application.reference.lower().replace("-", " - ", 1).translate(ARABIC)
    client.post(reverse("portal:access"), {"reference": typed, "cin": "ab ١٢٣٤٥٦"})
    code = code_sent().translate(ARABIC)
    response = client.post(reverse("portal:code"), {"code": code[:3] + " " + code[3:]})
    assert response["Location"] == reverse("portal:space")


LONG_EMAIL = "fatima." + "x" * 57 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 63, "e" * 5, "ma"])


@pytest.mark.django_db
def test_an_email_longer_than_the_column_is_refused_with_a_clear_error(intake):
    assert len(LONG_EMAIL) == 265
    validate_email(LONG_EMAIL)  # valid in form: only its length is wrong
    response = Client().post(APPLY, form_data(email=LONG_EMAIL))
    assert response.status_code == 400
    assert (
        response.context["form"]
        .errors["email"][0]
        .startswith("Assurez-vous que cette valeur comporte au plus 254")
    )
    assert applications() == []


@pytest.mark.django_db
def test_the_domain_of_an_email_is_stored_in_lower_case_and_the_rest_as_typed(intake):
    Client().post(APPLY, form_data(email="Fatima.Idrissi@Example.MA"))
    assert applications()[0].email == "Fatima.Idrissi@example.ma"


@pytest.mark.parametrize(
    "script,name",
    [
        ("latin", "Fatima"),
        ("latin", "Aït-Ahmed"),
        ("latin", "M'Barek"),
        ("latin", "Mʼbarek"),  # the modifier apostrophe some phones type
        ("latin", "Ma El Ainine"),
        ("latin", "He\u0301le\u0300ne"),  # é typed as e and a combining accent
        ("arabic", "فاطمة الزهراء"),
        ("arabic", "مُحَمَّد"),  # with its harakat
        ("arabic", "\u200fعبد الله\u200f"),  # the marks a right-to-left keyboard adds
        # What copying from a document or a spreadsheet brings, and French dead keys.
        ("latin", "Ahmed\u00a0Ali"),
        ("arabic", "عبد\u00a0الله"),
        ("latin", "Abd al\u2010Rahman"),
        ("latin", "M\u00b4Barek"),
        ("latin", "Sa\u02bfid"),
        ("arabic", "عبد \ufdf2"),
    ],
)
def test_names_as_people_write_them_are_names_in_their_script(script, name):
    assert is_name_in(script, name)


@pytest.mark.parametrize(
    "script,name",
    [
        ("latin", "فاطمة"),
        ("latin", "Fatima2"),
        ("latin", "<b>Fatima</b>"),
        ("latin", "\u202eamitaF"),  # reversed on screen: reads as another name
        ("latin", "-'."),
        ("arabic", "Fatima"),
        ("arabic", "محمد٢"),
        ("arabic", "ﷺ"),  # a word-ligature sign, not a letter of a name
    ],
)
def test_other_scripts_digits_and_symbols_are_not_names(script, name):
    assert not is_name_in(script, name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language,message",
    [
        ("fr", "Écrivez ce nom en lettres latines"),
        ("ar", "يرجى كتابة هذا الاسم بحروف لاتينية"),
    ],
)
def test_an_arabic_name_in_the_latin_field_is_refused_in_the_applicants_language(
    intake, language, message
):
    client = Client()
    client.cookies["django_language"] = language
    response = client.post(APPLY, form_data(first_name="فاطمة", last_name_ar="El Idrissi"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["first_name"][0].startswith(message)
    assert set(errors) == {"first_name", "last_name_ar"}
    assert applications() == []


@pytest.mark.django_db
def test_a_name_in_both_scripts_as_on_the_cin_is_stored_exactly(intake):
    response = Client().post(
        APPLY, form_data(first_name="Aït-Ahmed", last_name_ar="\u200fآيت أحمد\u200f")
    )
    assert response.status_code == 302
    (application,) = applications()
    assert (application.first_name, application.last_name_ar) == (
        "Aït-Ahmed",
        "\u200fآيت أحمد\u200f",
    )


@pytest.mark.parametrize(
    ("cin", "masked"),
    [
        ("AB123456", "AB****56"),
        ("A123456", "A****56"),
        ("AB12345", "AB****5"),
        ("AB1234", "AB****"),
        ("AB123", "AB***"),
        ("A1", "A*"),
    ],
)
def test_a_masked_cin_hides_at_least_four_digits(cin, masked):
    # The short numbers of old cards: "AB*23" would leave 10 guesses.
    assert mask_cin(cin) == masked
