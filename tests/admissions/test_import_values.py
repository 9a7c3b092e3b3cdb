"""Answers as people write them: dates, the wordings of the closed lists, communes."""

import datetime
import io

import pytest
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv, excel_serial, make_import_intake
from tremplin.admissions.choices import EducationLevel, Employment
from tremplin.admissions.importing import describe_error, import_applications
from tremplin.admissions.importing_columns import parse_date
from tremplin.admissions.importing_headers import choice_lookup
from tremplin.admissions.models import Application

TODAY = datetime.date(2026, 1, 15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2001", "date_year_only"),
        ("1998", "date_year_only"),
        ("٢٠٠١", "date_year_only"),
        ("450", "date_invalid"),  # 1901 for Excel: no applicant's birth date
        ("1850", "date_invalid"),
        ("3000", "date_invalid"),
        ("99999", "date_invalid"),  # 2173
        (str(excel_serial(datetime.date(1929, 12, 31))), "date_invalid"),
        (str(excel_serial(datetime.date(1930, 1, 1))), datetime.date(1930, 1, 1)),
        (str(excel_serial(datetime.date(2004, 7, 9))), datetime.date(2004, 7, 9)),
        (str(excel_serial(TODAY + datetime.timedelta(days=1))), "date_invalid"),
        ("21/03/2003", datetime.date(2003, 3, 21)),
    ],
)
def test_a_number_is_a_date_only_if_it_gives_a_plausible_birth_date(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("31/02/2001", "day_first", "date_no_such_day"),
        ("29/02/2001", "day_first", "date_no_such_day"),
        ("29/02/2004", "day_first", datetime.date(2004, 2, 29)),
        ("2001-04-31", "day_first", "date_no_such_day"),
        ("02/31/2001", "month_first", "date_no_such_day"),
        ("31/13/2001", "day_first", "date_invalid"),  # no such month: the order is to explain
        ("00/01/2001", "day_first", "date_invalid"),
    ],
)
def test_a_day_its_month_lacks_is_told_as_such_not_as_a_format(text, order, expected):
    """31/02/2001 is written dd/mm/yyyy: "write it as dd/mm/yyyy" would not help."""
    assert parse_date(text, TODAY, order) == expected
    if isinstance(expected, str):
        with translation.override("en"):
            reason = describe_error({"line": 2, "column": "Né le", "code": expected})
        said = "This date does not exist: check the day and the month."
        assert (reason == said) == (expected == "date_no_such_day")


def test_a_year_alone_is_refused_with_its_own_reason():
    with translation.override("en"):
        reason = describe_error({"line": 2, "column": "Né le", "code": "date_year_only"})
    assert reason == "Only the year is given: give the full date, dd/mm/yyyy."


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Chômeur(se)", "neet"),
        ("Chômeuse", "neet"),
        ("Chômeur/Chômeuse", "neet"),
        ("En recherche d'emploi", "neet"),
        ("Demandeuse d'emploi", "neet"),
        ("Femme au foyer", "neet"),
        ("ربة بيت", "neet"),
        ("Étudiant(e)", "student"),
        ("ÉTUDIANT (E)", "student"),
        ("Salarié(e)", "employed"),
        ("Salariée", "employed"),
        ("Indépendant(e)", "self_employed"),
        # The platform's labels, and those of files exported before they changed.
        ("en études", "student"),
        ("en emploi salarié", "employed"),
        ("بدون عمل ولا دراسة", "neet"),
        ("لا يعمل ولا يدرس", "neet"),
        ("لا تعمل ولا تدرس", "neet"),
        ("في طور الدراسة", "student"),
        ("يعمل لحسابه الخاص", "self_employed"),
        ("Sans diplôme", None),
        ("Retraité(e)", None),
    ],
)
def test_employment_answers_with_gender_forms_are_read(answer, expected):
    assert choice_lookup("employment", Employment.choices)[answer] == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("الثانوي التأهيلي", "secondary"),
        ("Secondaire qualifiant", "secondary"),
        ("الثانوي الإعدادي", "middle"),
        ("Technicien(ne) spécialisé(e)", "bac2"),
        ("Middle school (collège)", "middle"),
        # No level means "no diploma" or "university": they stay for the person to correct.
        ("Sans diplôme", None),
        ("Universitaire", None),
    ],
)
def test_education_answers_are_read_when_they_name_one_level(answer, expected):
    assert choice_lookup("education_level", EducationLevel.choices)[answer] == expected


def import_communes(intake, *communes: str):
    rows = [applicant(n, commune=commune) for n, commune in enumerate(communes)]
    return import_applications(
        intake=intake, fileobj=io.BytesIO(canonical_csv(rows)), filename="c.csv", mode="valid",
        dry_run=False,
    )  # fmt: skip


SPELLINGS_OF_SMARA = ["Smara", "Es Smara", "Essemara", "Es-Smara", "ES-SMARA", "سمارة", "السمارة"]


@pytest.mark.django_db
def test_the_usual_spellings_of_a_commune_are_read(world):
    intake = make_import_intake(world.smara)
    result = import_communes(intake, *SPELLINGS_OF_SMARA)
    assert result.created == len(SPELLINGS_OF_SMARA), result.report
    with scopes_disabled():
        communes = set(Application.objects.values_list("commune__name", flat=True))
    assert communes == {"Es-Semara"}


@pytest.mark.django_db
def test_an_unknown_commune_suggests_the_closest_names(world):
    intake = make_import_intake(world.smara)
    result = import_communes(intake, "Tifarity", "Xyzzy")
    assert [(e["code"], e["params"]) for e in result.report] == [
        ("commune_unknown", {"value": "Tifarity", "suggestions": ["Tifariti"]}),
        ("commune_unknown", {"value": "Xyzzy"}),
    ]
    with translation.override("en"):
        assert describe_error(result.report[0]) == (
            "Unknown commune “Tifarity”: use its name or its code. Did you mean “Tifariti”?"
        )


@pytest.mark.django_db
def test_a_loose_spelling_of_two_communes_is_ambiguous_not_guessed(world):
    from tremplin.schools.models import Commune, Province

    with scopes_disabled():
        Commune.objects.create(
            province=Province.objects.get(code="321"), code="321.09.99", kind="rural",
            name="Semmara", name_ar="سيمارة",
        )  # fmt: skip
    intake = make_import_intake(world.smara)
    result = import_communes(intake, "Smara", "Es Smara", "Es-Semara", "Semmara")
    assert [(e["line"], e["code"]) for e in result.report] == [
        (2, "commune_ambiguous"),
        (3, "commune_ambiguous"),
    ]
    assert result.created == 2  # as written, each name is one commune
