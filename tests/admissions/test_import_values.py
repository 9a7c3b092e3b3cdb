"""Answers as people write them: dates, and the wordings of the closed lists."""

import datetime

import pytest
from django.utils import translation

from tests.admissions.builders import excel_serial
from tremplin.admissions.choices import EducationLevel, Employment
from tremplin.admissions.importing import describe_error
from tremplin.admissions.importing_columns import parse_date
from tremplin.admissions.importing_headers import choice_lookup

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
