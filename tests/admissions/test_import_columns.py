"""Which field each column of a file holds, and what the person importing is told about it."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, csv_bytes, make_import_intake
from tremplin.admissions.importing import describe_error, import_applications
from tremplin.admissions.importing_headers import header_field
from tremplin.admissions.models import ImportJob, Wish


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Premier choix", "wish_1"),
        ("Deuxième choix", "wish_2"),
        ("Troisième choix", "wish_3"),
        ("Second choice", "wish_2"),
        ("First choice", "wish_1"),
        ("Third track", "wish_3"),
        ("الاختيار الأول", "wish_1"),
        ("الاختيار الثاني", "wish_2"),
        ("الرغبة الثالثة", "wish_3"),
        ("المسلك الأول", "wish_1"),
        ("Filière souhaitée (1er choix)", "wish_1"),
        ("Filière souhaitée (2e choix)", "wish_2"),
        ("Formation choisie - 3ème choix", "wish_3"),
        ("2nd choice", "wish_2"),
        ("Choix de filière n°2", "wish_2"),
        ("Vos vœux (cochez les filières qui vous intéressent)", "wish_1"),
        ("Vœu 1", "wish_1"),
        ("Choix 10", None),
        ("1er choix, 2e choix", None),
        ("Choix de la langue", None),
        ("Formation professionnelle suivie", None),
        ("Deuxième prénom", None),
        # A yes/no question about training is not a wish column.
        ("En formation ?", None),
        ("Par formation", None),
        ("Option", None),
        ("Formation souhaitée", "wish_1"),
        ("Option 2", "wish_2"),
    ],
)
def test_ordinal_wish_headers_name_their_rank(header, field):
    assert header_field(header) == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("عنوان البريد الإلكتروني", "email"),
        ("Ville de résidence", "commune"),
        ("City of residence", "commune"),
        ("مدينة الإقامة", "commune"),
        ("Niveau d'étude", "education_level"),
        ("Dernier niveau d'études", "education_level"),
        ("Dernier niveau d'étude atteint", "education_level"),
        ("Situation professionnelle actuelle", "employment"),
        ("Statut professionnel", "employment"),
        ("Dernier diplôme obtenu", "diploma"),
    ],
)
def test_common_wordings_of_headers_are_recognised(header, field):
    assert header_field(header) == field


def run(intake, data: bytes, **options):
    return import_applications(
        intake=intake, fileobj=io.BytesIO(data), filename="candidats.csv", mode="valid", **options
    )


FORM_HEADERS = ["Horodateur", "عنوان البريد الإلكتروني", "CIN", "Nom", "Prénom",
                "Date de naissance", "Sexe", "Téléphone", "Ville de résidence",
                "Niveau d'étude", "Situation professionnelle actuelle",
                "Filière souhaitée (1er choix)", "Deuxième choix"]  # fmt: skip


def form_row(n: int, first: str, second: str) -> list[str]:
    row = applicant(n)
    return ["01/09/2025 10:15", f"a{n}@example.ma", row["cin"], row["last_name"],
            row["first_name"], row["birth_date"], "Femme", row["phone"], "Es-Semara", "Bac",
            "Chômeur(se)", first, second]  # fmt: skip


@pytest.mark.django_db
def test_second_choices_and_arabic_email_headers_are_imported_not_dropped(world):
    intake = make_import_intake(world.smara, tracks=("dev-web", "data"))
    data = csv_bytes(FORM_HEADERS, [form_row(0, "Data", "Dev-Web"), form_row(1, "dev-web", "")])
    result = run(intake, data, dry_run=False)
    assert result.created == 2, result.report
    assert result.ignored_columns == []
    assert result.columns["wish_2"] == "Deuxième choix"
    assert result.columns["email"] == "عنوان البريد الإلكتروني"
    with scopes_disabled():
        wishes = list(
            Wish.objects.order_by("application__number", "rank").values_list(
                "application__cin", "rank", "track__code"
            )
        )
    assert wishes == [
        ("JA100000", 1, "data"),
        ("JA100000", 2, "dev-web"),
        ("JA100001", 1, "dev-web"),
    ]


@pytest.mark.django_db
def test_a_missing_column_is_named_by_its_label_with_the_headers_that_could_be_it(world):
    intake = make_import_intake(world.smara)
    headers = ["CIN", "Nom", "Prénom", "Date de naissance", "Sexe", "Téléphone", "Commune",
               "Niveau", "Occupation actuelle", "Remarques"]  # fmt: skip
    result = run(intake, csv_bytes(headers, []))
    (missing,) = result.report
    assert (missing["code"], missing["params"]["field"]) == ("column_missing", "employment")
    with translation.override("fr"):
        message = describe_error(missing).replace("\xa0", " ")
    assert "« employment »" not in message
    assert message.startswith("La colonne obligatoire « Situation professionnelle » est absente.")
    assert "« Occupation actuelle », « Remarques »" in message
    assert message.endswith("renommez-la « Situation professionnelle ».")  # a header we read
    with translation.override("en"):
        assert describe_error(missing).startswith(
            "The required column “Employment situation” is missing."
        )


def test_a_missing_column_reported_before_labels_still_reads():
    old = {"line": 1, "column": "sex", "code": "column_missing", "params": {"column": "sex"}}
    with translation.override("en"):
        assert describe_error(old) == "The required column “Sex” is missing."


@pytest.mark.django_db
def test_the_dry_run_page_shows_how_each_column_was_read_and_what_was_ignored(
    world, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_import_intake(world.smara, tracks=("dev-web", "data"))
    data = csv_bytes([*FORM_HEADERS, "Code promo"], [[*form_row(0, "data", ""), "X"]])
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    url = reverse("admissions:import_form", args=["smara", "promo-2026"])
    upload = SimpleUploadedFile("candidats.csv", data, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": upload, "mode": "valid", "dry_run": "on"})
    with scopes_disabled():
        job = ImportJob.objects.get()
    assert job.columns["ignored"] == ["Code promo"]
    assert ["Deuxième choix", "wish_2"] in job.columns["read"]
    page = client.get(response["Location"]).content.decode()
    assert "How the columns of the file were read" in page
    assert '<bdi>Deuxième choix</bdi></td><td data-label="Read as">Track choice 2</td>' in page
    assert "Mobile phone" in page
    assert "1 column was not recognised" in page and "<bdi>Code promo</bdi>" in page


@pytest.mark.django_db
def test_the_command_prints_how_each_column_was_read(world, tmp_path):
    make_import_intake(world.smara, tracks=("dev-web", "data"))
    path = tmp_path / "candidats.csv"
    path.write_bytes(csv_bytes(FORM_HEADERS, [form_row(0, "data", "")]))
    out = io.StringIO()
    call_command("import_applications", str(path), "--intake", "promo-2026", "--dry-run",
                 "--language", "fr", stdout=out)  # fmt: skip
    printed = out.getvalue()
    assert "Deuxième choix -> wish_2 (" in printed
    assert "Ville de résidence -> commune (Commune)" in printed
    assert "Horodateur -> answered_at (" in printed
