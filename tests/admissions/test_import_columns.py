"""Which field each column of a file holds, and what the person importing is told about it."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.admissions.builders import CONSENT, applicant, csv_bytes, make_import_intake
from tremplin.admissions.importing import describe_error, describe_note, import_applications
from tremplin.admissions.importing_headers import grid_column, header_field, rank_value
from tremplin.admissions.importing_report import FILE_PROBLEMS, field_label
from tremplin.admissions.models import Application, ImportJob, Wish


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
        # Words that also begin questions do not make a wish column one.
        ("Choix de filière ou option", "wish_1"),
        ("Filière (une seule)", "wish_1"),
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


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Quel est votre niveau d'études ?", "education_level"),
        ("Quelle est votre situation actuelle ?", "employment"),
        ("Quelles filières vous intéressent ?", "wish_1"),
        ("Quelle filière souhaitez-vous suivre ?", "wish_1"),
        ("Quelle est votre date de naissance ?", "birth_date"),
        ("Quel est votre numéro de CIN ?", "cin"),
        ("Quel est votre nom ?", "last_name"),
        ("Quel est votre nom en arabe ?", "last_name_ar"),
        ("Dans quelle commune habitez-vous ?", "commune"),
        ("Où habitez-vous ?", "commune"),
        ("Commune de résidence actuelle", "commune"),
        ("Niveau d'études actuel", "education_level"),
        ("Êtes-vous actuellement :", "employment"),
        ("Êtes-vous en situation de handicap ?", "needs_accommodation"),
        ("ما هو مستواك الدراسي؟", "education_level"),
        ("ما هي وضعيتك المهنية؟", "employment"),
        ("Quel est votre 2e choix de filière ?", "wish_2"),
        ("Avez-vous un handicap ?", "needs_accommodation"),
        # Questions about something else stay unknown: a wrong column is worse than none.
        ("Quel est votre âge ?", None),
        ("Quelle est votre adresse ?", None),
        ("Vous êtes :", None),
        ("Où êtes-vous né(e) ?", None),  # the birthplace, not the date
        ("Avez-vous WhatsApp ?", None),  # yes or no, not the phone
        ("Habitez-vous dans la commune ?", None),
        ("Avez-vous un diplôme ?", None),
        ("Quelle est votre filière ?", None),  # the stream of her bac, not a wish
        ("Etes-vous inscrit à l'ANAPEC ?", None),
    ],
)
def test_the_questions_of_a_form_are_recognised_by_what_they_ask(header, field):
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


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # What is in brackets says which script the name is in.
        ("Nom (en arabe)", "last_name_ar"),
        ("Prénom (en arabe)", "first_name_ar"),
        ("Nom (en français)", "last_name"),
        ("Prénom (en français)", "first_name"),
        ("Nom (arabic)", "last_name_ar"),
        ("Prénom (lettres latines)", "first_name"),
        ("Last name (Latin script)", "last_name"),
        ("الاسم العائلي (بالعربية)", "last_name_ar"),
        ("الاسم العائلي بالحروف العربية", "last_name_ar"),
        ("Langue (arabe/français)", "language"),
        # Dotted abbreviations, and the usual short forms.
        ("C.I.N", "cin"),
        ("N° C.I.N", "cin"),
        ("C.I.N.", "cin"),
        ("CINE", "cin"),
        ("Date Naiss.", "birth_date"),
        ("رقم البطاقة", "cin"),
        ("رقم البطاقة الوطنية", "cin"),
        # A consent question, as long as forms write them.
        ("J'accepte d'être contacté(e) pour le suivi de mon insertion", "follow_up_consent"),
        ("أوافق على تتبع مساري المهني", "follow_up_consent"),
        ("أوافق على تتبع الإدماج", "follow_up_consent"),
        ("J'accepte que mon besoin d'aménagement soit suivi", None),
        # Another follow-up is another purpose: its yes is no consent to the placement's.
        ("J'accepte d'être contacté(e) pour le suivi de ma candidature", None),
        ("Je consens au suivi de ma candidature et au traitement de mes données", None),
        ("أوافق على تتبع ملفي", None),
        # A full name cannot be split reliably: it is no name field.
        ("Nom et prénom", None),
        ("Nom complet", None),
    ],
)
def test_headers_as_real_files_write_them(header, field):
    assert header_field(header) == field


@pytest.mark.django_db
def test_names_in_both_scripts_are_read_from_their_own_columns(world):
    intake = make_import_intake(world.smara)
    headers = ["CIN", "Nom (en français)", "Prénom (en français)", "Nom (en arabe)",
               "Prénom (en arabe)", "Date de naissance", "Sexe", "Téléphone", "Commune",
               "Niveau d'études", "Situation professionnelle"]  # fmt: skip
    row = applicant(0)
    cells = [row["cin"], "El Idrissi", "Fatima", "الإدريسي", "فاطمة", row["birth_date"], "F",
             row["phone"], "Es-Semara", "bac", "neet"]  # fmt: skip
    result = run(intake, csv_bytes(headers, [cells]), dry_run=False)
    assert result.created == 1, result.report
    assert result.columns["last_name_ar"] == "Nom (en arabe)"
    with scopes_disabled():
        names = Application.objects.values_list(
            "last_name", "first_name", "last_name_ar", "first_name_ar"
        ).get()
    assert names == ("El Idrissi", "Fatima", "الإدريسي", "فاطمة")


@pytest.mark.django_db
def test_two_columns_of_one_field_refuse_the_file_naming_both(world):
    intake = make_import_intake(world.smara)
    row = applicant(0)
    headers = [*row, "Nom de famille"]
    result = run(intake, csv_bytes(headers, [[*row.values(), "Idrissi"]]), dry_run=False)
    assert [(e["code"], e["params"]) for e in result.report] == [
        ("column_repeated", {"field": "last_name", "columns": ["last_name", "Nom de famille"]})
    ]
    assert result.file_problems == result.report and result.created == 0
    with translation.override("en"):
        message = describe_error(result.report[0])
    assert message.startswith(
        "Several columns of the file hold “Last name (Latin script)”: “last_name”, "
        "“Nom de famille”."
    )


@pytest.mark.django_db
def test_google_forms_own_email_column_beside_an_email_question_reads_the_first(world):
    """Google Forms adds "Adresse e-mail" when it collects addresses; the form may also ask
    for one. Not an identity field: the first is read, and the page says which was left."""
    intake = make_import_intake(world.smara)
    row = applicant(0, email="compte@gmail.com")
    headers = [*row, "Adresse e-mail"]
    result = run(intake, csv_bytes(headers, [[*row.values(), "autre@example.ma"]]), dry_run=False)
    assert result.created == 1 and result.report == []
    with scopes_disabled():
        assert Application.objects.get().email == "compte@gmail.com"
    with translation.override("fr"):
        note = describe_note(result.notes["email"]).replace("\u00a0", " ")
    assert note == (
        "plusieurs colonnes la contiennent : seule la première, « email », a été lue "
        "(pas « Adresse e-mail »)"
    )


@pytest.mark.django_db
def test_a_bad_second_or_third_choice_is_reported_under_its_own_column(world):
    intake = make_import_intake(world.smara, tracks=("dev-web", "data"))
    headers = [*FORM_HEADERS, "Troisième choix"]
    rows = [
        [*form_row(0, "data", "cuisine"), ""],
        [*form_row(1, "data", "dev-web"), "Data"],
        [*form_row(2, "", ""), ""],
    ]
    result = run(intake, csv_bytes(headers, rows))
    assert [(e["line"], e["column"], e["code"]) for e in result.report] == [
        (2, "Deuxième choix", "track_unknown"),
        (3, "Troisième choix", "track_repeated"),
        (4, "Filière souhaitée (1er choix)", "wish_required"),
    ]


def test_a_missing_name_column_says_that_a_full_name_must_be_split():
    missing = {
        "line": 1, "column": "", "code": "column_missing",
        "params": {"field": "last_name", "ignored": ["Nom et prénom"], "full_name": True},
    }  # fmt: skip
    with translation.override("en"):
        assert describe_error(missing).endswith(
            "A single column with the full name cannot be read: split it into two columns, "
            "the last name and the first name."
        )


@pytest.mark.django_db
def test_a_form_with_arabic_names_only_says_to_add_them_in_latin_letters(world):
    """An Arabic form asks the names in Arabic: both are read, as the Arabic names, and the
    report asks for the Latin spelling of the card, not to split a full name."""
    intake = make_import_intake(world.smara)
    row = applicant(0)
    headers = ["رقم البطاقة الوطنية", "الاسم العائلي", "الاسم الشخصي", "تاريخ الازدياد", "الجنس",
               "الهاتف", "الجماعة", "المستوى الدراسي", "الوضعية المهنية"]  # fmt: skip
    fields = ("cin", "last_name_ar", "first_name_ar", "birth_date", "sex", "phone", "commune",
              "education_level", "employment")  # fmt: skip
    values = [row[name] for name in fields]
    result = run(intake, csv_bytes(headers, [values]))
    assert [e["params"]["field"] for e in result.report] == ["last_name", "first_name"]
    with translation.override("en"):
        last, first = (describe_error(e) for e in result.report)
    assert last == (
        "The required column “Last name (Latin script)” is missing. The file gives it in Arabic "
        "letters only (“الاسم العائلي”): add a column with it in Latin letters, as the national "
        "identity card writes it."
    )
    assert "“الاسم الشخصي”" in first
    assert "full name" not in last + first


@pytest.mark.django_db
def test_two_answer_time_columns_keep_both_notes(world):
    """The page says which column of answer times was read, and that only each CIN's latest
    answer is imported: one note used to replace the other."""
    intake = make_import_intake(world.smara)
    row = applicant(0)
    headers = [*row, "Horodateur", "Timestamp"]
    cells = [*row.values(), "15/03/2026 10:00:00", "16/03/2026 11:00:00"]
    result = run(intake, csv_bytes(headers, [cells]), dry_run=False)
    assert result.created == 1 and result.report == []
    with translation.override("fr"):
        note = describe_note(result.notes["answered_at"]).replace("\u00a0", " ")
    assert note == (
        "plusieurs colonnes la contiennent : seule la première, « Horodateur », a été lue "
        "(pas « Timestamp ») ; quand une CIN a répondu plusieurs fois, seule sa dernière "
        "réponse est importée"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [True, False])
def test_choices_under_a_header_merged_over_them_refuse_the_file_not_vanish(world, dry_run):
    """« Filière souhaitée » merged over three columns, « 1er choix », « 2e choix »,
    « 3e choix » below it: the second and third choices were dropped without a word, the
    dry run saying all would be created, and the applicants ranked on their first alone."""
    from openpyxl import Workbook

    intake = make_import_intake(world.smara, tracks=("dev-web", "data", "cyber"))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([*FORM_HEADERS[:-2], "Filière souhaitée", None, None])
    sheet.merge_cells(start_row=1, start_column=12, end_row=1, end_column=14)
    sheet.append([None] * 11 + ["1er choix", "2e choix", "3e choix"])
    sheet.append([*form_row(0, "dev-web", "")[:-1], "data", "cyber"])
    data = io.BytesIO()
    workbook.save(data)
    result = import_applications(
        intake=intake, fileobj=io.BytesIO(data.getvalue()), filename="candidats.xlsx",
        mode="valid", dry_run=dry_run,
    )  # fmt: skip
    assert result.created == 0
    assert [(e["code"], e["column"]) for e in result.report] == [
        ("column_unnamed", "M"),
        ("column_unnamed", "N"),
    ]
    with translation.override("en"):
        message = describe_error(result.report[0])
    assert message.startswith("Column M holds values (line 2: “2e choix”) but has no header")
    with translation.override("fr"):
        assert describe_error(result.report[1]).startswith("La colonne N contient des valeurs")
    with scopes_disabled():
        assert not Application.objects.filter(intake=intake).exists()


@pytest.mark.django_db
def test_a_column_without_a_header_elsewhere_is_left_out_as_before(world):
    """Row numbers on the left, a mark staff added at the right, an empty column: common in
    sheets made by hand, and no field of ours lost."""
    intake = make_import_intake(world.smara)
    headers = ["", *FORM_HEADERS[:-2], "", "Filière souhaitée (1er choix)", "Motivation", ""]
    row = form_row(0, "dev-web", "")
    data = csv_bytes(headers, [["1", *row[:-2], "", row[-2], "Apprendre", "doublon ?"]])
    result = run(intake, data)
    assert (result.valid, result.report) == (1, [])


@pytest.mark.django_db
def test_the_applicants_language_where_the_file_gives_none_is_the_one_chosen(
    world, django_capture_on_commit_callbacks, tmp_path
):
    """An Arabic Google Form has no language column: its applicants were recorded French,
    and told their reference by SMS in French."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    intake = make_import_intake(world.smara)
    data = csv_bytes(FORM_HEADERS[:-1], [form_row(0, "dev-web", "")[:-1]])
    client = world.client("admissions")
    client.cookies["django_language"] = "ar"
    page = client.get(reverse("admissions:import_form", args=["smara", intake.slug]))
    assert '<option value="ar" selected>' in page.content.decode()  # the page's, at first
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admissions:import_form", args=["smara", intake.slug]),
            {
                "file": SimpleUploadedFile("reponses.csv", data),
                "mode": "all",
                "language": "ar",
                **CONSENT,
            },
        )
    assert response.status_code == 302
    with scopes_disabled():
        assert Application.objects.get().language == "ar"
        job = ImportJob.objects.get()
    assert (job.language, job.dry_run) == ("ar", False)

    # The command's own option; a row's own language still wins.
    other = make_import_intake(world.smara, slug="promo-2027")
    path = tmp_path / "r.csv"
    rows = [form_row(1, "dev-web", "")[:-1], form_row(2, "dev-web", "")[:-1]]
    path.write_bytes(csv_bytes([*FORM_HEADERS[:-1], "Langue"], [rows[0] + [""], rows[1] + ["fr"]]))
    call_command(
        "import_applications", str(path), intake="promo-2027", applicants_language="ar",
        stdout=io.StringIO(),
    )  # fmt: skip
    with scopes_disabled():
        languages = dict(other.applications.values_list("cin", "language"))
    assert languages == {"JA100001": "ar", "JA100002": "fr"}


@pytest.mark.django_db
def test_tracks_ticked_in_one_cell_are_read_in_order_and_the_dry_run_says_so(world):
    """A form's ticked boxes come in the form's order: read as wishes 1 and 2, they ranked
    every applicant's tracks alike, with no word of it."""
    intake = make_import_intake(world.smara, tracks=("dev-web", "data", "cyber"))
    rows = [form_row(0, "dev-web", "")[:-1], form_row(1, "data, cyber", "")[:-1]]
    result = run(intake, csv_bytes(FORM_HEADERS[:-1], rows))
    assert (result.valid, result.report) == (2, [])
    with translation.override("en"):
        note = describe_note(result.notes["wish_1"])
    assert note == (
        "several tracks in one cell (e.g. line 3) are read as wishes in the order written: the "
        "boxes ticked on a form come in the form's order, not in the applicant's preference"
    )
    plain = run(intake, csv_bytes(FORM_HEADERS[:-1], rows[:1]))
    assert "wish_1" not in plain.notes


@pytest.mark.parametrize(
    ("header", "grid"),
    [
        ("Classez les filières par ordre de préférence [Développement web]",
         ("classez les filieres par ordre de preference", "Développement web")),
        ("رتب الشعب حسب الأولوية [تطوير الويب]", ("رتب الشعب حسب الاولويه", "تطوير الويب")),
        ("Rank the tracks [Data]", ("rank the tracks", "Data")),
        ("Filière souhaitée [Cyber]", ("filiere souhaitee", "Cyber")),
        # A rank in brackets is a wish column; brackets elsewhere say nothing of wishes.
        ("Vos choix [1er choix]", None),
        ("Nom [obligatoire]", None),
        ("Commentaires [Data]", None),
    ],
)  # fmt: skip
def test_the_columns_of_a_forms_ranking_grid_are_told_by_their_question(header, grid):
    assert grid_column(header) == grid


@pytest.mark.parametrize(
    ("value", "rank"),
    [("1er choix", 1), ("2", 2), ("Troisième", 3), ("الاختيار الثاني", 2), ("Choix n° 2", 2),
     ("2nd choice", 2), ("Rang 3", 3), ("", 0), ("Non", 0), ("Pas intéressé(e)", 0),
     ("oui", None), ("10", None), ("1er, 2e", None), ("Data", None),
     # As forms write their columns (Google's own default is « Colonne 1 »).
     ("الخيار الأول", 1), ("المرتبة الأولى", 1), ("الأولوية 1", 1), ("1re préférence", 1),
     ("Préférence 2", 2), ("Option 1", 1), ("Colonne 3", 3), ("1 - Premier choix", 1),
     ("Sixième", 6)],
)  # fmt: skip
def test_a_cell_of_a_ranking_grid_gives_a_rank_none_or_is_refused(value, rank):
    assert rank_value(value) == rank


GRID = "Classez les filières par ordre de préférence"
GRID_HEADERS = [*FORM_HEADERS[:-2], f"{GRID} [Développement web]", f"{GRID} [Data]",
                f"{GRID} [Cyber]"]  # fmt: skip


def grid_row(n: int, *ranks: str) -> list[str]:
    return [*form_row(n, "", "")[:-2], *ranks]


@pytest.mark.django_db
def test_a_forms_ranking_grid_gives_each_applicant_her_own_order_of_tracks(world):
    """Google Forms' multiple-choice grid, one column per track: the file was refused, its
    three columns unknown, with a hint to name a column « Track choice 1 »."""
    intake = make_import_intake(world.smara, tracks=("dev-web", "data", "cyber"))
    rows = [
        grid_row(0, "2e choix", "1er choix", "3e choix"),
        grid_row(1, "", "2", "1"),  # dev-web not wished
        grid_row(2, "Premier choix", "Pas intéressée", ""),
    ]
    result = run(intake, csv_bytes(GRID_HEADERS, rows), dry_run=False)
    assert (result.created, result.report, result.ignored_columns) == (3, [], [])
    with scopes_disabled():
        wishes = list(
            Wish.objects.order_by("application__cin", "rank").values_list(
                "application__cin", "track__code"
            )
        )
    assert wishes == [
        ("JA100000", "data"), ("JA100000", "dev-web"), ("JA100000", "cyber"),
        ("JA100001", "cyber"), ("JA100001", "data"),
        ("JA100002", "dev-web"),
    ]  # fmt: skip
    with translation.override("en"):
        assert field_label("wish_grid") == "Track choices, ranked in a grid"
    assert result.columns["wish_grid"] == f"{GRID} [Développement web / Data / Cyber]"


@pytest.mark.django_db
def test_a_ranking_grids_bad_cells_are_reported_under_their_own_column(world):
    intake = make_import_intake(world.smara, tracks=("dev-web", "data", "cyber"))
    rows = [
        grid_row(0, "1er choix", "1er choix", ""),
        grid_row(1, "oui", "2", ""),
        grid_row(2, "", "Non", ""),
        grid_row(3, "1", "2", "3"),
    ]
    result = run(intake, csv_bytes(GRID_HEADERS, rows))
    assert result.valid == 1
    with translation.override("en"):
        reported = [(e["line"], e["column"], describe_error(e)) for e in result.report]
    assert reported == [
        (2, f"{GRID} [Data]",
         "Rank 1 is also given to “Développement web”: each rank goes to one track."),
        (3, f"{GRID} [Développement web]",
         "“oui” is not a rank: write 1, 2, 3… (or “1st choice”), or leave the cell empty for a "
         "track not wished."),
        (4, f"{GRID} [Développement web]", "Choose at least one track."),
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_grid_ranking_a_track_the_call_lacks_refuses_the_file(world):
    intake = make_import_intake(world.smara, tracks=("dev-web", "data"))
    rows = [grid_row(0, "1", "2", "")]
    result = run(intake, csv_bytes(GRID_HEADERS, rows), dry_run=False)
    assert result.created == 0
    (refused,) = result.report
    with translation.override("en"):
        assert describe_error(refused) == (
            f"The column “{GRID} [Cyber]” ranks “Cyber”, which is not a track of this call: "
            "write in its brackets the name of one of the call's tracks, or delete the column, "
            "then send the file again."
        )
    assert refused["code"] in FILE_PROBLEMS


@pytest.mark.django_db
def test_track_choices_given_twice_refuse_the_file_naming_both(world):
    """Choice columns beside a grid: which of the two is her choice is not for us to guess."""
    intake = make_import_intake(world.smara, tracks=("dev-web", "data", "cyber"))
    headers = [*GRID_HEADERS, "Premier choix"]
    result = run(intake, csv_bytes(headers, [[*grid_row(0, "1", "2", "3"), "data"]]))
    (refused,) = result.report
    with translation.override("en"):
        assert describe_error(refused) == (
            f"The file gives the track choices twice, in “Premier choix” and “{GRID}”: keep one "
            "of them (delete the other columns) and send the file again."
        )
    assert result.valid == 0


@pytest.mark.django_db
def test_the_import_pages_say_a_ranking_grid_is_read_and_how(
    world, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_import_intake(world.smara, tracks=("dev-web", "data", "cyber"))
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    url = reverse("admissions:import_form", args=["smara", "promo-2026"])
    assert "or from a form's ranking grid (one column per track" in client.get(url).content.decode()
    data = csv_bytes(GRID_HEADERS, [grid_row(0, "2", "1", "")])
    upload = SimpleUploadedFile("candidats.csv", data, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": upload, "mode": "valid", "dry_run": "on"})
    page = client.get(response["Location"]).content.decode()
    assert (
        f"<bdi>{GRID} [Développement web / Data / Cyber]</bdi></td>"
        '<td data-label="Read as">Track choices, ranked in a grid</td>'
    ) in page
    with scopes_disabled():
        assert (ImportJob.objects.get().created_count, ImportJob.objects.get().report) == (1, [])


@pytest.mark.django_db
def test_a_call_of_one_track_says_nothing_of_track_choices_on_the_import_page(world):
    make_import_intake(world.smara)
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    url = reverse("admissions:import_form", args=["smara", "promo-2026"])
    assert "ranking grid" not in client.get(url).content.decode()


@pytest.mark.django_db
def test_bracketed_wish_columns_that_rank_no_track_are_read_as_before(world):
    """« Choix de filière [obligatoire] » and « [facultatif] » ask for two choices: taken for
    a grid, the file was refused, told to write a track's name in the brackets."""
    intake = make_import_intake(world.smara, tracks=("dev-web", "data"))
    headers = [
        *FORM_HEADERS[:-2],
        "Choix de filière [obligatoire]",
        "Choix de filière [facultatif]",
    ]
    result = run(intake, csv_bytes(headers, [form_row(0, "data", "dev-web")]))
    assert result.valid == 1, result.report
    assert result.columns["wish_1"] == "Choix de filière [obligatoire]"


@pytest.mark.django_db
def test_a_grid_with_the_ranks_as_its_rows_reads_the_tracks_in_its_cells(world):
    """Google Forms' grid the other way round: a row per rank, the tracks as its columns."""
    intake = make_import_intake(world.smara, tracks=("dev-web", "data", "cyber"))
    headers = [*FORM_HEADERS[:-2], f"{GRID} [1er choix]", f"{GRID} [2e choix]"]
    result = run(intake, csv_bytes(headers, [form_row(0, "Cyber", "Data")]), dry_run=False)
    assert (result.created, result.report) == (1, [])
    with scopes_disabled():
        wishes = list(Wish.objects.order_by("rank").values_list("track__code", flat=True))
    assert wishes == ["cyber", "data"]
