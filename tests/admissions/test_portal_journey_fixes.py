"""The applicant's journey as a QA review walked it: what each page promises, how it says
what went wrong, and what it keeps of what was typed."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from tests.admissions.intake_pages import in_english
from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.models import AccessRequest, Application
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.notify.models import Message

APPLY = "/schools/smara/calls/promo-2026/apply/"
TOO_OLD = "1980-01-01"


@pytest.fixture
def intake(world):
    return make_open_intake(world.smara)


def applications() -> list[Application]:
    with scopes_disabled():
        return list(Application.objects.all())


def applied(**changes) -> Application:
    assert Client().post(APPLY, form_data(**changes)).status_code == 302
    (application,) = applications()
    return application


def in_space(application: Application) -> Client:
    """A browser whose session has opened ``application``'s space, reading English."""
    client = in_english(Client())
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    return client


def page_of(response) -> str:
    return response.content.decode()


def without_csrf(text: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


# 1. Withdrawing is final, and the pages say so.


@pytest.mark.django_db
def test_the_withdraw_confirmation_says_it_is_final_and_the_cin_cannot_apply_again(intake):
    page = page_of(in_space(applied()).get(reverse("portal:space")))
    assert (
        "Withdrawing is final: you will no longer take part in the selection of this call, "
        "and you cannot apply to it again with the same CIN."
    ) in page


@pytest.mark.django_db
def test_a_withdrawn_application_is_not_advised_to_correct_itself(intake):
    client = in_space(applied(birth_date=TOO_OLD))
    assert "correct your application" in page_of(client.get(reverse("portal:space")))
    client.post(reverse("portal:withdraw"), {"confirm": "yes"})
    page = page_of(client.get(reverse("portal:space")))
    assert applications()[0].status == Application.Status.WITHDRAWN
    assert "correct your application" not in page
    # Nor told again that it does not meet the conditions: it is withdrawn.
    assert 'data-testid="eligibility"' not in page


@pytest.mark.django_db
def test_the_cin_taken_page_promises_no_correction(intake):
    applied()
    client = in_english(Client())
    response = client.post(APPLY, form_data(first_name="Karim", phone="0700000001"))
    page = page_of(client.get(response["Location"]))
    assert 'data-testid="cin-taken"' in page
    assert "correct" not in page.lower()
    assert "If it is your application, use that reference and your CIN to follow it." in page


# 2. A code works only in the browser that asked for it, and the pages say so.

ONLY_HERE = "A code works only in the browser (on the phone or computer) where it was asked for."


def asked_for_a_code(reference: str, cin: str) -> Client:
    client = in_english(Client())
    client.post(reverse("portal:access"), {"reference": reference, "cin": cin})
    return client


@pytest.mark.django_db
def test_the_code_page_says_up_front_that_a_code_works_only_where_it_was_asked_for(intake):
    application = applied()
    page = page_of(asked_for_a_code(application.reference, "AB123456").get(reverse("portal:code")))
    assert 0 < page.index(ONLY_HERE) < page.index('class="tp-form')


@pytest.mark.django_db
def test_a_refused_code_says_where_codes_work_whether_the_pair_matched_or_not(intake):
    application = applied()
    matching = asked_for_a_code(application.reference, "AB123456")
    stranger = asked_for_a_code(application.reference, "ZZ999999")
    with scopes_disabled():
        sent = Message.objects.get(template="applicant_code", channel="sms").body
    wrong = "111111" if "000000" in sent else "000000"
    answers = [
        client.post(reverse("portal:code"), {"code": wrong}) for client in (matching, stranger)
    ]
    assert answers[0].status_code == answers[1].status_code == 400
    assert without_csrf(page_of(answers[0])) == without_csrf(page_of(answers[1]))
    error = answers[0].context["form"].errors["code"][0]
    assert ONLY_HERE in error


# 3. The access form refuses what cannot be a reference or a CIN, and says which.


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reference", "cin", "field"),
    [
        ("hello", "AB123456", "reference"),
        ("SMA-2026-0042", "AB123456", "reference"),
        ("SMA-26", "AB123456", "reference"),
        ("SMA-26-0042", "x", "cin"),
        ("SMA-26-0042", "123456", "cin"),
    ],
)
def test_the_access_form_refuses_nonsense_with_a_field_error(intake, reference, cin, field):
    response = Client().post(reverse("portal:access"), {"reference": reference, "cin": cin})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    with scopes_disabled():
        assert not AccessRequest.objects.exists()


@pytest.mark.django_db
def test_a_malformed_pair_gets_the_same_answer_whether_the_application_exists_or_not(intake):
    application = applied()
    existing = Client().post(reverse("portal:access"), {"reference": "hello", "cin": "AB123456"})
    unknown = Client().post(reverse("portal:access"), {"reference": "hello", "cin": "ZZ999999"})
    real_reference = Client().post(
        reverse("portal:access"), {"reference": application.reference, "cin": "x"}
    )
    other_reference = Client().post(
        reverse("portal:access"), {"reference": "SMA-26-9999", "cin": "x"}
    )
    assert without_csrf(page_of(existing)) == without_csrf(page_of(unknown)).replace(
        "ZZ999999", "AB123456"
    )
    assert without_csrf(page_of(real_reference)).replace(
        application.reference, "SMA-26-9999"
    ) == without_csrf(page_of(other_reference))


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("SMA-26-0042", "SMA-26-0042"),
        (" sma - 26-0042 ", "SMA-26-0042"),
        ("SMA 26 0042", "SMA-26-0042"),
        ("SMA260042", "SMA-26-0042"),
        ("\u200fSMA\u201126\u20130042\u200e", "SMA-26-0042"),
        ("AB-26-12345", "AB-26-12345"),
    ],
)
def test_references_are_read_the_ways_people_type_them(typed, read):
    from tremplin.admissions.forms import AccessForm

    form = AccessForm({"reference": typed, "cin": "ab 123456"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"reference": read, "cin": "AB123456"}


@pytest.mark.django_db
def test_the_reference_example_carries_this_years_number():
    page = page_of(in_english(Client()).get(reverse("portal:access")))
    year = timezone.localdate().year % 100
    assert f"It looks like SMA-{year:02d}-0042." in page
    assert year == 25 or "SMA-25-0042" not in page


# 4. Changing the language keeps what was typed.


def switched(client: Client, url: str, language: str, data: dict):
    return client.post(url, {**data, "language": language})


@pytest.mark.django_db
def test_changing_language_on_the_form_keeps_what_was_typed_and_sends_nothing(intake):
    client = Client()
    typed = form_data(first_name="Salka", diploma="Bac sciences", privacy_consent="")
    del typed["privacy_consent"], typed["cin"]
    response = switched(client, APPLY, "ar", typed)
    assert response.status_code == 200
    page = page_of(response)
    assert '<html lang="ar" dir="rtl">' in page
    assert 'value="Salka"' in page
    assert 'value="Bac sciences"' in page
    assert 'value="2003-03-21"' in page
    assert re.search(r'<option value="bac" selected>', page)
    assert re.search(r'value="F"[^>]*checked', page)
    # Nothing was checked, so nothing is said to be wrong.
    assert "errorlist" not in page and 'aria-invalid="true"' not in page
    assert 'id="error-summary"' not in page
    assert applications() == []
    assert response.cookies["django_language"].value == "ar"
    # The next pages follow the cookie.
    assert '<html lang="ar"' in page_of(client.get(APPLY))


@pytest.mark.django_db
def test_changing_language_to_an_unknown_one_keeps_the_page_as_it_is(intake):
    response = switched(Client(), APPLY, "xx", form_data(first_name="Salka"))
    assert response.status_code == 200
    assert '<html lang="fr"' in page_of(response)
    assert 'value="Salka"' in page_of(response)
    assert "django_language" not in response.cookies
    assert applications() == []


@pytest.mark.django_db
def test_changing_language_on_the_edit_page_keeps_the_corrections_typed(intake):
    application = applied()
    client = in_space(application)
    data = form_data(first_name="Fatiha", motivation="")
    del data["cin"], data["privacy_consent"]
    response = switched(client, reverse("portal:edit"), "fr", data)
    assert response.status_code == 200
    assert '<html lang="fr"' in page_of(response)
    assert 'value="Fatiha"' in page_of(response)
    assert applications()[0].first_name == "Fatima"


@pytest.mark.django_db
def test_the_language_buttons_send_the_form_of_the_page_on_the_long_forms(intake):
    switcher = re.compile(r'<button[^>]*name="language"[^>]*>')
    buttons = switcher.findall(page_of(Client().get(APPLY)))
    assert len(buttons) == 3
    for button in buttons:
        assert 'form="tp-answers"' in button
        assert f'formaction="{APPLY}"' in button
        assert 'formenctype="application/x-www-form-urlencoded"' in button
    assert 'id="tp-answers"' in page_of(Client().get(APPLY))
    # Elsewhere they go to Django's set_language, as before.
    elsewhere = switcher.findall(page_of(Client().get(reverse("portal:access"))))
    assert elsewhere and not any("form=" in button for button in elsewhere)


# 5. The confirmation says whether the call's conditions are met.


def confirmation(**changes) -> str:
    client = in_english(Client())
    response = client.post(APPLY, form_data(**changes))
    return page_of(client.get(response["Location"]))


@pytest.mark.django_db
def test_the_confirmation_of_an_applicant_too_old_says_so_with_the_reason(intake):
    from tremplin.admissions.eligibility import describe

    page = confirmation(birth_date=TOO_OLD)
    (application,) = applications()
    assert 'data-testid="eligibility"' in page
    assert "You do not meet the conditions of this call:" in page
    with translation.override("en"):
        reason = describe(application.eligibility_reasons[0])
    assert reason in page


@pytest.mark.django_db
def test_the_confirmation_of_an_eligible_applicant_says_the_conditions_are_met(intake):
    assert "You meet the conditions of this call." in confirmation()


# 6. The long form lists its errors at the top, each a link to its field.


@pytest.mark.django_db
def test_the_form_lists_its_errors_at_the_top_as_links_to_the_fields(intake):
    data = form_data(cin="12345")
    del data["privacy_consent"], data["sex"]
    response = in_english(Client()).post(APPLY, data)
    assert response.status_code == 400
    page = page_of(response)
    summary = re.search(r'<div id="error-summary"[^>]*>(.*?)</div>', page, re.S)
    assert summary, "no error summary"
    tag = re.search(r'<div id="error-summary"[^>]*>', page).group(0)
    assert 'tabindex="-1"' in tag and "autofocus" in tag
    assert page.index('id="error-summary"') < page.index('class="tp-form')
    links = re.findall(r'<a href="#([^"]+)">', summary.group(1))
    assert links == ["id_cin", "id_sex_0", "id_privacy_consent"]
    assert all(f'id="{target}"' in page for target in links)
    assert "To apply, you must accept the privacy notice." in summary.group(1)


@pytest.mark.django_db
def test_a_form_without_errors_has_no_summary(intake):
    assert 'id="error-summary"' not in page_of(Client().get(APPLY))


# 7. The notice comes before the consent; the wishes say what they are.


@pytest.mark.django_db
def test_the_privacy_notice_comes_before_the_consent_checkbox(intake):
    page = page_of(Client().get(APPLY))
    assert page.index("<details") < page.index('id="id_privacy_consent"')


@pytest.mark.django_db
def test_the_track_choices_have_a_legend_saying_they_are_wishes_in_order(world):
    make_open_intake(world.smara, tracks=("dev-web", "data"))
    page = page_of(in_english(Client()).get(APPLY))
    fieldsets = re.findall(
        r"<fieldset[^>]*>\s*<legend[^>]*>([^<]*)</legend>(.*?)</fieldset>", page, re.S
    )
    wishes = {legend.strip(): inside for legend, inside in fieldsets}.get(
        "The tracks you wish to join, in your order of preference", ""
    )
    assert 'id="id_wish_1"' in wishes and 'id="id_wish_2"' in wishes
    # The tracks are chosen before the consents are given.
    assert page.index('id="id_wish_2"') < page.index('id="id_privacy_consent"')


# 8. The personal data downloads as readable UTF-8.


@pytest.mark.django_db
def test_the_personal_data_downloads_as_a_utf8_file_with_arabic_as_typed(intake):
    response = in_space(applied()).get(reverse("portal:data"))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert "فاطمة".encode() in body
    assert b"\\u" not in body
    assert json.loads(body.decode("utf-8"))["first_name_ar"] == "فاطمة"
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")


# 9. No Latin comma between Arabic words.


@pytest.mark.django_db
def test_who_can_apply_is_one_arabic_sentence_without_a_latin_comma(intake):
    client = Client()
    client.cookies["django_language"] = "ar"
    page = page_of(client.get(APPLY.removesuffix("apply/")))
    with translation.override("ar"):
        living_in = translation.gettext("living in")
    assert f"، {living_in}" in page
    assert not re.search(r",\s*[\u0600-\u06ff]", page)


# 10. The reference stays on one line.


@pytest.mark.django_db
def test_the_reference_in_the_space_heading_does_not_break(intake):
    application = applied()
    page = page_of(in_space(application).get(reverse("portal:space")))
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    assert f'<bdi dir="ltr" class="text-nowrap">{application.reference}</bdi>' in heading


# 11. The phone is shown as people write it.


@pytest.mark.django_db
def test_the_edit_form_shows_the_phone_in_the_national_format(intake):
    page = page_of(in_space(applied(phone="+212776356716")).get(reverse("portal:edit")))
    assert 'value="07 76 35 67 16"' in page
    assert "+212776356716" not in page


# 12. Following the application after applying: the reference is already there.


@pytest.mark.django_db
def test_the_confirmation_leads_to_the_access_form_with_the_reference_filled_in(intake):
    page = confirmation()
    (application,) = applications()
    link = f"{reverse('portal:access')}?reference={application.reference}"
    assert f'href="{link}"' in page
    assert "AB123456" not in page and "cin=" not in page
    access = page_of(Client().get(link))
    assert f'value="{application.reference}"' in access
    assert 'name="cin"' in access and 'value="AB' not in access


# 13. Free text keeps its own direction.


@pytest.mark.django_db
def test_free_text_boxes_take_the_direction_of_what_is_typed(intake):
    client = Client()
    client.cookies["django_language"] = "ar"
    page = page_of(client.get(APPLY))
    for name in ("diploma", "motivation"):
        tag = re.search(rf'<(?:input|textarea)[^>]*id="id_{name}"[^>]*>', page).group(0)
        assert 'dir="auto"' in tag


# 14. A favicon of our own.


@pytest.mark.django_db
def test_pages_link_a_small_favicon_of_ours(intake):
    page = page_of(Client().get(APPLY))
    link = re.search(r'<link rel="icon" href="/static/([^"]+)" type="image/svg\+xml">', page)
    assert link
    path = finders.find(link.group(1))
    assert path
    with open(path, "rb") as icon:
        assert len(icon.read()) < 1024
