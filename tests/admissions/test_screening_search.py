"""The staff's search of applications by name: accents, hyphens, apostrophes and the ways of
writing Arabic do not matter; every way of writing a name fills the folded key it searches
(the portal, the applicant's corrections, the import, the demo), and an erasure empties it."""

import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv
from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.importing import import_applications
from tremplin.admissions.models import Application
from tremplin.admissions.personal_data import application_erase
from tremplin.admissions.selectors import applications_filtered
from tremplin.admissions.services import APPLICANT_FIELDS, application_update
from tremplin.core.text import fold, search_key

APPLY = "/schools/smara/calls/promo-2026/apply/"

# Typed on the form: Latin names with accents, hyphens and apostrophes, Arabic names with
# hamzas, madda, alef maksura, teh marbuta, harakat and tatweel.
PEOPLE = [
    ("AA100001", "Yassine", "Aït-Ahmed", "ياسين", "آيت أحمد"),
    ("AA100002", "Khadija", "El-Amrani", "خديجة", "العمراني"),
    ("AA100003", "Hamid", "M'barek", "حميد", "امبارك"),
    ("AA100004", "Ibrahim", "Laâroussi", "إبراهيم", "العروسي"),
    ("AA100005", "Mustapha", "Bennani", "مُصْطَفَى", "بنـــاني"),
    ("AA100006", "Salma", "Ben Ali", "سلمى", "بن علي"),
]


@pytest.fixture
def intake(world):
    intake = make_open_intake(world.smara)
    for n, (cin, first, last, first_ar, last_ar) in enumerate(PEOPLE):
        response = Client().post(
            APPLY,
            form_data(
                cin=cin,
                first_name=first,
                last_name=last,
                first_name_ar=first_ar,
                last_name_ar=last_ar,
                phone=f"06123456{n:02d}",
            ),
        )
        assert response.status_code == 302
    return intake


def found(intake, search: str) -> list[str]:
    """The CINs the list finds for ``search``."""
    with scopes_disabled():
        return sorted(applications_filtered(intake, {"q": search}).values_list("cin", flat=True))


def application(cin: str) -> Application:
    with scopes_disabled():
        return Application.objects.select_related("intake__school", "commune").get(cin=cin)


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Aït-Ahmed", "aitahmed"),
        ("M'barek", "mbarek"),
        ("M\u2019barek", "mbarek"),  # a typographic apostrophe
        ("M\u02bcbarek", "mbarek"),  # a modifier letter apostrophe
        ("El Amrani", "elamrani"),
        ("LAÂROUSSI", "laaroussi"),
        ("Œuvre", "oeuvre"),
        ("Straße", "strasse"),
        ("أحمد إبراهيم آمنة", "احمدابراهيمامنه"),
        ("مُحَمَّد", "محمد"),
        ("مـحـمـد", "محمد"),
        ("مصطفى", "مصطفي"),
        ("فاطمة", "فاطمه"),
        ("ٱلله", "الله"),
        ("ﻻلة", "لاله"),  # a presentation-form ligature
        ("\u200fسلمى\u200e", "سلمي"),  # direction marks left by a copy from an RTL text
        (" - ' . ", ""),
    ],
)
def test_folding_drops_accents_punctuation_and_the_ways_of_writing_arabic(typed, folded):
    assert fold(typed) == folded


def test_the_key_keeps_each_name_a_word_of_its_own():
    assert search_key("Fatima Zahra", "El-Idrissi", "", "الإدريسي") == (
        "fatimazahra elidrissi الادريسي"
    )
    assert search_key("", "", "", "") == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("search", "cin"),
    [
        ("Ait Ahmed", "AA100001"),
        ("ait-ahmed", "AA100001"),
        ("AITAHMED yassine", "AA100001"),
        ("el amrani", "AA100002"),
        ("Elamrani", "AA100002"),
        ("Mbarek", "AA100003"),
        ("m'barek hamid", "AA100003"),
        ("laaroussi", "AA100004"),
        ("Laâroussi", "AA100004"),
        ("ايت احمد", "AA100001"),  # typed with ا for آ and أ
        ("ابراهيم", "AA100004"),  # ا for إ
        ("مصطفي", "AA100005"),  # ي for ى, and no harakat
        ("بناني", "AA100005"),  # no tatweel
        ("خديجه", "AA100002"),  # ه for ة
        ("سلمي", "AA100006"),
        ("benali", "AA100006"),
        ("ben ali", "AA100006"),
        ("Ben-Ali Salma", "AA100006"),
    ],
)
def test_a_name_is_found_however_it_is_typed(intake, search, cin):
    assert found(intake, search) == [cin]


@pytest.mark.django_db
def test_every_word_must_be_in_a_name_and_punctuation_alone_finds_no_name(intake):
    assert found(intake, "ahmed") == ["AA100001"]
    assert found(intake, "ahmed khadija") == []
    assert found(intake, "' - .") == []
    assert found(intake, "zzz") == []


@pytest.mark.django_db
def test_the_cin_and_the_reference_are_still_found(intake):
    hamid = application("AA100003")
    assert found(intake, "aa 100003") == ["AA100003"]
    assert found(intake, hamid.reference.lower()) == ["AA100003"]


@pytest.mark.django_db
def test_the_list_page_searches_with_the_folded_names(world, intake):
    client = world.client("admissions")
    page = client.get(
        reverse(
            "admissions:application_list",
            kwargs={"school_slug": "smara", "intake_slug": intake.slug},
        ),
        {"q": "ait ahmed"},
    )
    assert [a.cin for a in page.context["page"]] == ["AA100001"]
    html = page.content.decode()
    assert "Aït-Ahmed" in html
    assert "aitahmed" not in html  # the key is for searching, never shown


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed", ["ait ahmed\x00", "AA100001\x00", "\x00\x1baa 100001\x7f", "Yassine\tAït-Ahmed"]
)
def test_the_list_page_searches_past_a_control_character_pasted_in(world, intake, typed):
    # PostgreSQL refuses NUL in a query: the page answered 500.
    page = world.client("admissions").get(
        reverse(
            "admissions:application_list",
            kwargs={"school_slug": "smara", "intake_slug": intake.slug},
        ),
        {"q": typed},
    )
    assert [a.cin for a in page.context["page"]] == ["AA100001"]


@pytest.mark.django_db
def test_the_portal_writes_the_key_of_what_was_typed(intake):
    yassine = application("AA100001")
    assert yassine.search_name == "yassine aitahmed ياسين ايتاحمد"


@pytest.mark.django_db
def test_a_correction_by_the_applicant_changes_what_the_search_finds(intake):
    hamid = application("AA100003")
    data = {field: getattr(hamid, field) for field in APPLICANT_FIELDS}
    data.update(last_name="Ou-Mbarek", last_name_ar="أومبارك")
    with scopes_disabled():
        wishes = [w.track for w in hamid.wishes.select_related("track")]
        application_update(application=hamid, data=data, wishes=wishes)
    assert found(intake, "Mbarek") == ["AA100003"]
    assert found(intake, "ou mbarek") == ["AA100003"]
    assert found(intake, "اومبارك") == ["AA100003"]
    assert found(intake, "مبارك") == ["AA100003"]  # inside the new name
    assert found(intake, "hamid m'barek") == ["AA100003"]
    hamid_again = application("AA100003")
    assert hamid_again.search_name == search_key("Hamid", "Ou-Mbarek", "حميد", "أومبارك")


@pytest.mark.django_db
def test_an_erased_application_is_not_found_by_its_old_name(world, intake):
    salma = application("AA100006")
    with scopes_disabled():
        application_erase(application=salma, actor=world.users["admissions"], reason="Demande")
    assert found(intake, "ben ali") == []
    assert found(intake, "سلمى") == []
    assert application(f"~{salma.pk}").search_name == ""
    assert found(intake, "ahmed") == ["AA100001"]  # the others are still found


@pytest.mark.django_db
def test_imported_applications_are_found_by_their_folded_names(world):
    from tests.admissions.builders import make_import_intake

    intake = make_import_intake(world.smara)
    rows = [
        applicant(0, last_name="Aït-Ahmed", first_name="Nadia", last_name_ar="آيت أحمد"),
        applicant(1, last_name="El-Amrani", first_name="Omar", first_name_ar="عُمَر"),
        applicant(2, last_name="M'barek", first_name="Hamid"),
    ]
    result = import_applications(
        intake=intake,
        fileobj=io.BytesIO(canonical_csv(rows)),
        filename="applicants.csv",
        mode="all",
        dry_run=False,
    )
    assert result.created == 3
    assert found(intake, "ait ahmed") == ["JA100000"]
    assert found(intake, "ايت احمد") == ["JA100000"]
    assert found(intake, "elamrani") == ["JA100001"]
    assert found(intake, "عمر") == ["JA100001"]
    assert found(intake, "mbarek") == ["JA100002"]
    nadia = application("JA100000")
    assert nadia.search_name == search_key("Nadia", "Aït-Ahmed", "فاطمة", "آيت أحمد")


@pytest.mark.django_db
def test_the_demo_fills_the_key_of_its_applications(world):
    from tremplin.admissions.demo import _applications

    intake = make_open_intake(world.smara, tracks=("dev-web", "data", "security"))
    with scopes_disabled():
        _applications(intake, count=20, seed=1)
        rows = list(Application.objects.filter(intake=intake))
    assert len(rows) == 20
    for row in rows:
        assert row.search_name
        assert row.search_name == search_key(
            row.first_name, row.last_name, row.first_name_ar, row.last_name_ar
        )


@pytest.mark.django_db
def test_the_migration_fills_the_key_of_the_applications_already_there(intake, monkeypatch):
    migration = importlib.import_module(
        "tremplin.admissions.migrations.0011_application_search_name_fill"
    )
    monkeypatch.setattr(migration, "BATCH", 4)  # several batches
    with scopes_disabled():
        Application.objects.update(search_name="")
        erased = Application.objects.get(cin="AA100006")
        Application.objects.filter(pk=erased.pk).update(
            first_name="", last_name="", first_name_ar="", last_name_ar=""
        )
    with scopes_disabled():
        migration.fill(apps, SimpleNamespace(connection=connection))
    assert found(intake, "ait ahmed") == ["AA100001"]
    with scopes_disabled():
        for row in Application.objects.all():
            assert row.search_name == search_key(
                row.first_name, row.last_name, row.first_name_ar, row.last_name_ar
            )
