"""The call's form after a review by a director setting up a call: what it let through
(rules changed under a published ranking, a closing date in the past, a moved address, an
absurd number of seats or reference date, a placeholder CNDP number) and how it lists the
communes."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.intake_pages import detail_url, edit_url, form_post, in_english, track
from tests.admissions.open_intake import make_open_intake
from tests.factories import commune
from tests.selection.offers_world import published_call
from tremplin.admissions.intakes import TrackPlaces, intake_save
from tremplin.admissions.models import Application, Intake, PrivacyNotice
from tremplin.admissions.staff_forms import RULE_FORM_FIELDS

CREATE = reverse("admissions:intake_create", kwargs={"school_slug": "smara"})


def fresh(intake) -> Intake:
    with scopes_disabled():
        return Intake.objects.get(pk=intake.pk)


def errors(response) -> dict:
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def as_it_stands(intake, **changes) -> dict:
    """The form of a published call as its page shows it (a call of one track ranks with the
    call's own seats and waiting list), with ``changes``."""
    intake = fresh(intake)
    return form_post(intake, {"dev-web": (intake.seats, intake.waitlist)}, **changes)


@pytest.fixture
def published(world, monkeypatch):
    return published_call(world, monkeypatch)


@pytest.mark.django_db
def test_the_rules_of_a_call_with_a_published_ranking_no_longer_change(world, published):
    client = in_english(world.client("director"))
    # The form shows them as they are, not to be changed, and says why.
    page = client.get(edit_url(published))
    form = page.context["form"]
    assert all(form.fields[name].disabled for name in RULE_FORM_FIELDS)
    assert not form.fields["title"].disabled
    assert "Run #1 is published" in page.content.decode()
    # A page opened before the publication sends its rules: a change of them is refused,
    # with its reason, not ignored.
    max_age = fresh(published).max_age
    response = client.post(edit_url(published), as_it_stands(published, max_age="20"))
    assert response.status_code == 400 and fresh(published).max_age == max_age
    assert "Run #1 is published" in response.content.decode()
    assert "Nothing was saved:" in response.content.decode()
    # The page as it is now sends none of them (disabled): its rules stay as they were, its
    # places of residence included.
    with scopes_disabled():
        smara = commune()
        published.communes.add(smara)
        published.provinces.add(smara.province)
        places = ({smara.province}, {smara})
    post = {
        name: value
        for name, value in as_it_stands(published, title="Promotion 2025 ter").items()
        if name not in RULE_FORM_FIELDS
    }
    assert client.post(edit_url(published), post).status_code == 302
    saved = fresh(published)
    assert (saved.title, saved.max_age) == ("Promotion 2025 ter", max_age)
    with scopes_disabled():
        assert (set(saved.provinces.all()), set(saved.communes.all())) == places
    # The service refuses it too, whoever calls it.
    with scopes_disabled():
        call = Intake.objects.get(pk=published.pk)
        call.max_age = 20
        tracks = {it.track: TrackPlaces(it.seats, it.waitlist) for it in call.intake_tracks.all()}
        with pytest.raises(ValidationError, match="Run #1 is published"):
            intake_save(
                school=world.smara, actor=world.users["director"], intake=call,
                provinces=call.provinces.all(), communes=call.communes.all(), tracks=tracks,
            )  # fmt: skip
    assert fresh(published).max_age == max_age
    # Its title still may: a typo in a published call is corrected.
    response = client.post(edit_url(published), as_it_stands(published, title="Promotion 2025 bis"))
    assert response.status_code == 302 and fresh(published).title == "Promotion 2025 bis"


@pytest.mark.django_db
def test_the_recheck_of_a_published_call_is_refused_with_its_reason(world, published):
    client = in_english(world.client("director"))
    with scopes_disabled():
        before = dict(Application.objects.filter(intake=published).values_list("pk", "eligibility"))
        Intake.objects.filter(pk=published.pk).update(max_age=19)
    page = client.get(reverse("admissions:intake_detail", args=["smara", published.slug]))
    assert "Run #1 is published" in page.content.decode()
    assert b"See what the current rules would change" not in page.content
    import_form = reverse("admissions:import_form", args=["smara", published.slug])
    assert import_form not in page.content.decode()  # its decisions stand: nobody joins now
    url = reverse("admissions:intake_recheck", args=["smara", published.slug])
    page = client.post(url, follow=True)
    assert "Run #1 is published" in page.content.decode()
    with scopes_disabled():
        after = dict(Application.objects.filter(intake=published).values_list("pk", "eligibility"))
    assert after == before


@pytest.mark.django_db
def test_absurd_seats_are_refused_on_their_field_not_with_a_server_error(world):
    intake = make_open_intake(world.smara)
    client = in_english(world.client("director"))
    huge = "5000000000000000000"
    response = client.post(edit_url(intake), form_post(intake, {"dev-web": (huge, huge)}))
    assert response.status_code == 400
    field = f"track_{track('dev-web').pk}"
    assert errors(response)[field] == ["Ensure this value is less than or equal to 10000."]
    negative = client.post(edit_url(intake), form_post(intake, {"dev-web": ("-5", "30")}))
    # One message, on the seats: not a second one about the waiting list of the same track.
    assert list(errors(negative)) == [field]


@pytest.mark.django_db
def test_an_open_call_cannot_be_given_a_closing_date_already_past(world):
    intake = make_open_intake(world.smara)
    client = in_english(world.client("director"))
    past = (timezone.localtime() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    opens = (timezone.localtime() - datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(edit_url(intake), form_post(intake, opens_at=opens, closes_at=past))
    assert response.status_code == 400
    assert errors(response)["closes_at"][0].startswith("This closing date is already past")
    assert fresh(intake).closes_at > timezone.now()


@pytest.mark.django_db
def test_a_new_call_cannot_close_in_the_past(world):
    intake = make_open_intake(world.smara)
    client = in_english(world.client("director"))
    data = form_post(intake, slug="promo-2024", title="Promotion 2024",
                     opens_at="2024-01-10T09:00", closes_at="2024-02-28T18:00",
                     reference_date="2024-02-28")  # fmt: skip
    response = client.post(CREATE, data)
    assert response.status_code == 400
    assert "closes_at" in errors(response)
    with scopes_disabled():
        assert not Intake.objects.filter(slug="promo-2024").exists()


@pytest.mark.django_db
def test_a_closed_call_keeps_its_past_dates_when_its_title_is_corrected(world, published):
    client = world.client("director")
    response = client.post(edit_url(published), as_it_stands(published, title="Promotion 2025 (1)"))
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_address_of_a_call_that_has_opened_stays_as_it_is(world):
    intake = make_open_intake(world.smara)
    client = in_english(world.client("director"))
    response = client.post(edit_url(intake), form_post(intake, slug="promo-autre"))
    assert response.status_code == 302
    assert fresh(intake).slug == intake.slug
    assert client.get(reverse("portal:intake", args=["smara", intake.slug])).status_code == 200
    page = client.get(edit_url(intake)).content.decode()
    assert "links to it are already shared" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "dates",
    [
        {"closes_at": "9999-12-31T23:59"},  # "no end"
        {"opens_at": "0001-01-01T00:00"},
        {
            "opens_at": "9998-06-01T00:00",
            "closes_at": "9998-12-01T00:00",
            "reference_date": "9998-09-01",
        },
    ],
    ids=["closing in 9999", "opening in year 1", "all in 9998"],
)
def test_dates_outside_the_years_of_a_call_are_refused_on_their_field(world, dates):
    """They broke the dates computed from them (the reference date's span, the erasure date)
    with a server error, on the form or on the call's page ever after."""
    intake = make_open_intake(world.smara, status=Intake.Status.DRAFT)
    client = in_english(world.client("director"))
    response = client.post(edit_url(intake), form_post(intake, **dates))
    assert response.status_code == 400
    for name in {"opens_at", "closes_at"} & set(dates):
        assert errors(response)[name] == ["Give a date between 2000 and 2100."]
    assert fresh(intake).closes_at == intake.closes_at
    assert (
        client.get(reverse("admissions:intake_detail", args=["smara", intake.slug])).status_code
        == 200
    )


@pytest.mark.django_db
def test_a_call_cannot_take_the_slug_of_the_page_that_creates_calls(world):
    """/staff/smara/intakes/new/ would open the empty form, never the call."""
    client = in_english(world.client("director"))
    intake = make_open_intake(world.smara, status=Intake.Status.DRAFT)
    response = client.post(edit_url(intake), form_post(intake, slug="new"))
    assert response.status_code == 400
    assert errors(response)["slug"] == ["“new” names a page of the site: choose another slug."]
    assert fresh(intake).slug == intake.slug


@pytest.mark.django_db
def test_an_opened_call_keeps_its_address_and_odd_opening_year_editable(world):
    """A call that opened as "new", or in 1999, before those were refused: its slug cannot
    change any more, nor its opening leave the year its references carry. Refusing them on
    every save would leave it impossible to correct."""
    intake = make_open_intake(
        world.smara,
        slug="new",
        opens_at=timezone.make_aware(datetime.datetime(1999, 9, 1, 9, 0)),
    )
    client = in_english(world.client("director"))
    response = client.post(edit_url(intake), form_post(intake, title="Promotion 2026 bis"))
    assert response.status_code == 302, errors(response)
    assert fresh(intake).title == "Promotion 2026 bis"


@pytest.mark.django_db
def test_a_reference_date_far_from_the_calls_dates_is_refused(world):
    intake = make_open_intake(world.smara)
    client = in_english(world.client("director"))
    response = client.post(edit_url(intake), form_post(intake, reference_date="1990-01-01"))
    assert response.status_code == 400
    assert errors(response)["reference_date"][0].startswith("Ages are computed on this date")
    # Written day first, in Arabic-Indic digits, a sensible one passes.
    closes = fresh(intake).closes_at.date()
    typed = closes.strftime("%d/%m/%Y").translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = client.post(edit_url(intake), form_post(intake, reference_date=typed))
    assert response.status_code == 302 and fresh(intake).reference_date == closes


@pytest.mark.django_db
def test_communes_are_listed_with_their_province_in_the_pages_language(world):
    intake = make_open_intake(world.smara)
    client = world.client("director")
    client.cookies["django_language"] = "ar"
    form = client.get(edit_url(intake)).context["form"]
    labels = [label for _value, label in form.fields["communes"].choices]
    assert "السمارة — السمارة" in labels  # the commune and the province of the same name
    page = in_english(client).get(edit_url(intake)).content.decode()
    assert "Applicants living in one of the provinces or in one of the communes" in page


@pytest.mark.django_db
def test_a_privacy_notice_needs_a_real_cndp_number(world):
    client = in_english(world.client("director"))
    url = reverse("admissions:notice_create", kwargs={"school_slug": "smara"})
    with scopes_disabled():
        before = PrivacyNotice.objects.count()
    response = client.post(url, {"cndp_authorisation": "-", "text": "Avis", "text_ar": "إشعار"})
    assert response.status_code == 400
    assert "as the CNDP wrote it" in str(response.context["form"].errors["cndp_authorisation"])
    with scopes_disabled():
        assert PrivacyNotice.objects.count() == before


@pytest.mark.django_db
def test_the_errors_of_the_call_are_listed_at_the_top_each_linking_to_its_field(world):
    """On a phone the dates' error sits a thousand pixels below the top of the form."""
    intake = make_open_intake(world.smara)
    client = in_english(world.client("director"))
    response = client.post(edit_url(intake), form_post(intake, reference_date="1990-01-01"))
    page = response.content.decode()
    summary = page[
        page.index('id="error-summary"') : page.index("</ul>", page.index("error-summary"))
    ]
    assert 'href="#id_reference_date"' in summary and "Ages are computed" in summary


@pytest.mark.django_db
def test_an_open_call_cannot_be_given_an_opening_still_to_come(world):
    """It would stop applications and corrections until then, with no word to anybody."""
    intake = make_open_intake(world.smara)
    client = in_english(world.client("admissions"))
    later = (timezone.localtime() + datetime.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(edit_url(intake), form_post(intake, opens_at=later))
    assert response.status_code == 400
    assert errors(response)["opens_at"][0].startswith("This call is open: an opening still to")
    assert fresh(intake).opens_at < timezone.now()
    # A draft opens when it likes.
    draft = make_open_intake(world.smara, slug="promo-2027", status=Intake.Status.DRAFT)
    response = client.post(edit_url(draft), form_post(draft, opens_at=later))
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_slug_is_one_address_whatever_its_capitals(world):
    """ "Promotion-2026" typed from a poster is the address of "promotion-2026"."""
    make_open_intake(world.smara)
    client = in_english(world.client("director"))
    draft = make_open_intake(world.smara, slug="brouillon", status=Intake.Status.DRAFT)
    response = client.post(edit_url(draft), form_post(draft, slug="Promo-2026"))
    assert response.status_code == 400
    assert errors(response)["slug"] == ["Another call of the school already uses this slug."]
    response = client.post(edit_url(draft), form_post(draft, slug="Promo-2027"))
    assert response.status_code == 302
    assert fresh(draft).slug == "promo-2027"


@pytest.mark.django_db
def test_the_provinces_are_listed_in_the_order_of_the_readers_alphabet(world):
    client = world.client("director")
    page = client.get(CREATE).content.decode()
    names = ["Béni Mellal", "Boulemane", "Fès", "Fquih Ben Salah", "Tétouan", "Tiznit"]
    assert sorted(names, key=page.index) == names
    # In Arabic, the forms of alef as one letter, as on the application form: by code
    # point, آسفي (U+0622) came before أزيلال (U+0623) and إفران (U+0625).
    client.cookies["django_language"] = "ar"
    page = client.get(CREATE).content.decode()
    provinces = page.split('name="provinces"')[1].split("</select>")[0]
    names = ["أزيلال", "آسفي", "إفران"]
    assert sorted(names, key=lambda name: provinces.index(f">{name}<")) == names
    # The communes by province, then by name: أمكالة (U+0623) after السمارة.
    communes = page.split('name="communes"')[1].split("</select>")[0]
    names = ["الجديرية — السمارة", "السمارة — السمارة", "أمكالة — السمارة", "الدشيرة — العيون"]
    assert sorted(names, key=communes.index) == names


@pytest.mark.django_db
def test_a_page_opened_before_a_colleague_saved_the_call_does_not_undo_her_changes(world):
    """Tab B gives a track more seats; tab A, opened before, lowers the maximum age: A is
    refused, with nothing changed, and shown the call as it is now."""
    import re

    intake = make_open_intake(world.smara, slug="promo-2026")
    client = in_english(world.client("admissions"))

    def shown_version() -> dict:
        page = client.get(edit_url(intake)).content.decode()
        return {
            name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1)
            for name in ("version", "page")
        }

    tab_a, tab_b = shown_version(), shown_version()
    saved = client.post(edit_url(intake), {**form_post(intake, {"dev-web": (75, 30)}), **tab_b})
    assert saved.status_code == 302
    stale = client.post(
        edit_url(intake), {**form_post(intake, max_age="34", slug="autre"), **tab_a}
    )
    assert stale.status_code == 302 and stale["Location"] == edit_url(intake)
    call = fresh(intake)
    assert (call.seats, call.max_age, call.slug) == (75, 35, "promo-2026")
    shown = client.get(stale["Location"]).content.decode()
    assert "Someone else changed this call while you were editing it" in shown
    # Made again on the call as it is now, the change goes through.
    again = client.post(
        edit_url(intake),
        {**form_post(fresh(intake), {"dev-web": (75, 30)}, max_age="34"), **shown_version()},
    )
    assert again.status_code == 302
    assert (fresh(intake).seats, fresh(intake).max_age) == (75, 34)


@pytest.mark.django_db
def test_the_dates_of_a_published_call_stand_and_every_change_of_a_call_is_audited(
    world, published
):
    """Moving the closing of a published call to 2099 moved the erasure of its applicants'
    data by 75 years, and the audit log kept no trace of the dates."""
    from tremplin.core.models import AuditEvent

    client = in_english(world.client("director"))
    closes = fresh(published).closes_at
    response = client.post(
        edit_url(published), as_it_stands(published, closes_at="2099-12-31T23:59")
    )
    assert response.status_code == 400
    assert errors(response)["closes_at"][0].startswith("A ranking of this call is published: its")
    assert fresh(published).closes_at == closes

    response = client.post(
        edit_url(published), as_it_stands(published, title="Promotion 2025 (Smara)")
    )
    assert response.status_code == 302, errors(response)
    with scopes_disabled():
        event = AuditEvent.objects.filter(action="tremplin.intakes.changed").latest("pk")
    assert event.data["fields"] == {
        "title": {"from": "Promotion 2026", "to": "Promotion 2025 (Smara)"}
    }


@pytest.mark.django_db
def test_the_call_form_sent_twice_is_saved_once_and_says_so(world):
    """A double click on Save, a resend on a slow line: the second request finds the version
    its page showed changed, by the first. It is told saved, not "someone else changed"."""
    import re

    intake = make_open_intake(world.smara, slug="promo-2026")
    client = in_english(world.client("admissions"))
    page = client.get(edit_url(intake)).content.decode()
    shown = {
        name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1)
        for name in ("version", "page")
    }
    data = {**form_post(intake, max_age="34"), **shown}
    assert client.post(edit_url(intake), data).status_code == 302
    again = client.post(edit_url(intake), data, follow=True)
    assert again.redirect_chain[-1][0] == detail_url(intake)
    assert "The call is saved." in again.content.decode()
    assert "Someone else" not in again.content.decode()
    assert fresh(intake).max_age == 34


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "Use only lower-case letters without accents, digits and hyphens, such as "
               "promotion-2026: it is the call's address."),
        ("ar", "استعملوا فقط حروفًا لاتينية صغيرة بدون نبرات وأرقامًا وشرطات، مثل "
               "\u2066promotion-2026\u2069: إنه عنوان الإعلان."),
    ],
)  # fmt: skip
def test_an_address_that_is_not_a_slug_says_what_to_type_in_the_readers_words(
    world, language, said
):
    """Django's own message named the « slug », a word staff do not use (in Arabic too)."""
    client = world.client("director")
    client.cookies["django_language"] = language
    intake = make_open_intake(world.smara, status=Intake.Status.DRAFT)
    response = client.post(edit_url(intake), form_post(intake, slug="promo 2026 é"))
    assert response.status_code == 400
    assert errors(response)["slug"] == [said]
    # And the lists of several choices say how to choose several (a click replaces them).
    helps = [
        str(response.context["form"].fields[name].help_text) for name in ("provinces", "communes")
    ]
    several = {"en": "To choose several, hold Ctrl (⌘ on a Mac) as you click.",
               "ar": "لاختيار عدة عناصر، اضغطوا باستمرار على مفتاح"}[language]  # fmt: skip
    assert all(several in text for text in helps)
    assert fresh(intake).slug == intake.slug


@pytest.mark.django_db
def test_a_refusal_of_the_whole_form_is_not_announced_as_errors_at_its_fields(world, published):
    """The summary at the top sent staff looking for a message at each field, when there
    was none: the refusal was the form's."""
    client = in_english(world.client("director"))
    intake = fresh(published)
    post = form_post(intake, {"dev-web": (intake.seats + 1, intake.waitlist)})
    response = client.post(edit_url(published), post)
    assert response.status_code == 400
    summary = response.content.decode().split('id="error-summary"')[1].split("</div>")[0]
    assert "Nothing was saved:" in summary and "Run #1 is published" in summary
    assert "see the message at each field" not in summary
    # With an error at a field, it still says to look there.
    response = client.post(edit_url(published), {**post, "title": ""})
    summary = response.content.decode().split('id="error-summary"')[1].split("</div>")[0]
    assert "see the message at each field" in summary
    # A form that saves nothing anyway (a wrong password) does not say it.
    login = in_english(Client()).post(reverse("core:login"), {"username": "x", "password": "y"})
    summary = login.content.decode().split('id="error-summary"')[1].split("</div>")[0]
    assert "Please enter a correct username and password" in summary
    assert "Nothing was saved" not in summary
