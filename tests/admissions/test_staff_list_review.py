"""The staff list and an application's page as staff use them: references typed loosely,
a stable order across pages, the way back to the list as left, the funnel's tables leading
to the lists they count, a single track wished, long reasons, and the export."""

import csv
import io
import re

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from tests.admissions.builders import by_column
from tests.admissions.open_intake import form_data
from tests.admissions.test_screening import APPLY, application, events, url
from tests.admissions.test_screening import intake as intake  # the fixture: 3 applications

pytestmark = pytest.mark.django_db


def listed(client, intake, **params) -> list[str]:
    response = client.get(url("application_list", intake), params)
    return [a.reference for a in response.context["page"]]


def test_a_reference_is_found_however_it_is_typed(world, intake):
    omar = application("CD111111")
    number = omar.number
    client = world.client("admissions")
    code, year = omar.reference.split("-")[:2]
    arabic_digits = str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    # Digits run together across a separator, and a CIN, are no reference.
    assert listed(client, intake, q=f"{year}-{number}") == []
    for typed in (
        f"{code}{year}{number:04d}",
        omar.reference,
        omar.reference.lower(),
        str(number),
        f"{number:04d}",
        f"{code} {year} {number}",
        f"{code}{year}-{number:04d}",
        f"{code}-{year}-{arabic_digits}",
    ):
        assert listed(client, intake, q=typed) == [omar.reference], typed
    # Another year's reference names someone else of this call: nothing.
    assert listed(client, intake, q=f"{code}-{int(year) + 1:02d}-{number:04d}") == []
    assert listed(client, intake, q="XYZ-26-0002") == []


def test_applications_equal_on_the_sort_keep_one_order(world, intake):
    """Without a last key, the database may return rows equal on the sort (a birth date, a
    name shared) in another order on each page: one would show twice, another never."""
    from tremplin.admissions.selectors import SORTS, applications_filtered

    for sort, order in SORTS.items():
        expected = order if sort in ("number", "-number") else (*order, "number")
        with scopes_disabled():
            assert applications_filtered(intake, {"sort": sort}).query.order_by == expected
    for n in range(4):  # the same birth date as the fixture's first application
        Client().post(APPLY, form_data(cin=f"GH33333{n}", phone=f"061111111{n}"))
    with scopes_disabled():
        numbers = {a.reference: a.number for a in intake.applications.all()}
    by_age = listed(world.client("admissions"), intake, sort="age")
    same = [ref for ref in by_age if ref != application("CD111111").reference]
    assert [numbers[r] for r in same] == sorted(numbers[r] for r in same)


def test_an_application_page_leads_back_to_the_list_as_it_was_left(world, intake):
    client = world.client("admissions")
    client.get(
        url("application_list", intake), {"sex": "F", "sort": "name", "page": "1", "q": "EF222222"}
    )
    # The search (a name, a CIN) is not kept in the session table.
    assert "EF222222" not in str(dict(client.session))
    salma = application("EF222222")
    page = client.get(url("application_detail", intake, reference=salma.reference))
    back = re.search(r'<p class="mb-1"><a href="([^"]+)"', page.content.decode()).group(1)
    assert back == url("application_list", intake) + "?sex=F&amp;sort=name"


def test_a_single_track_wished_is_shown(world, intake):
    salma = application("EF222222")
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    html = client.get(url("application_detail", intake, reference=salma.reference))
    assert "<dt>Track wished</dt>" in html.content.decode()


def test_each_count_of_the_funnel_tables_opens_the_list_it_counts(world, intake):
    client = world.client("director")
    html = client.get(url("intake_detail", intake)).content.decode()
    links = re.findall(
        r'<td class="text-end" data-label="[^"]+"><a href="([^"]+)">(\d+)</a></td>', html
    )
    assert len(links) == 4 * (2 + 5)  # four stages, by sex and by age band
    for href, count in links:
        response = client.get(href.replace("&amp;", "&"))
        assert response.context["page"].paginator.count == int(count), href


def test_a_long_reason_without_spaces_breaks_instead_of_widening_the_page(world, intake):
    omar = application("CD111111")
    client = world.client("admissions")
    target = url("application_eligibility", intake, reference=omar.reference)
    client.post(target, {"decision": "eligible", "reason": "x" * 900})
    html = client.get(url("application_detail", intake, reference=omar.reference)).content
    assert b'<p class="text-break"><strong>' in html
    assert b'<li class="list-group-item small text-break">' in html


def export(client, intake, fmt="csv", **params):
    return client.get(url("application_export", intake, fmt=fmt), params)


def exported_rows(client, intake) -> list[dict]:
    content = export(client, intake).getvalue().decode("utf-8-sig")
    return by_column(list(csv.DictReader(io.StringIO(content), delimiter=";")))


def test_the_export_gives_reasons_as_staff_read_them_and_the_staff_decisions(world, intake):
    omar = application("CD111111")  # too old for the call
    client = world.client("admissions")
    rows = exported_rows(client, intake)
    reasons = {r["reference"]: r["eligibility_reasons"] for r in rows}
    assert "Âge au " in reasons[omar.reference] and "vous" not in reasons[omar.reference]

    target = url("application_eligibility", intake, reference=omar.reference)
    client.post(target, {"decision": "eligible", "reason": "Date de naissance mal saisie."})
    rows = exported_rows(client, intake)
    reason = {r["reference"]: r["eligibility_reasons"] for r in rows}[omar.reference]
    assert reason.replace("\xa0", " ").startswith(
        "Décidé par l'équipe : Date de naissance mal saisie. Âge au "
    )


@pytest.mark.parametrize(
    ("language", "params", "name"),
    [
        ("fr", {"sort": "name"}, "smara-{slug}-{stamp}.xlsx"),  # ordered, not narrowed
        ("fr", {"sex": "F", "sort": "name"}, "smara-{slug}-filtrée-{stamp}.xlsx"),
        ("ar", {"q": "Omar"}, "smara-{slug}-مصفاة-{stamp}.csv"),
        ("en", {"eligibility": "eligible"}, "smara-{slug}-filtered-{stamp}.xlsx"),
    ],
)
def test_the_export_is_named_after_the_school_the_call_whether_filtered_and_the_time(
    world, intake, language, params, name
):
    """Two files of one call, the whole list and the women, say which is which once in a
    downloads folder."""
    from urllib.parse import unquote

    client = world.client("admissions")
    client.cookies["django_language"] = language
    fmt = name.rsplit(".", 1)[1]
    response = export(client, intake, fmt=fmt, **params)
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    if "filename*=" in disposition:  # not ASCII: RFC 5987, which every browser reads
        filename = unquote(disposition.split("filename*=utf-8''", 1)[1])
    else:
        filename = re.fullmatch(r'attachment; filename="([^"]+)"', disposition).group(1)
    stamp = r"\d{8}-\d{4}"
    pattern = re.escape(name.format(slug=intake.slug, stamp="STAMP")).replace("STAMP", stamp)
    assert re.fullmatch(pattern, filename), filename


def test_the_csv_writes_every_date_day_first(world, intake):
    row = exported_rows(world.client("admissions"), intake)[0]
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", row["submitted_at"])
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", row["birth_date"])


@pytest.mark.parametrize(("language", "right_to_left"), [("fr", False), ("ar", True)])
def test_the_workbook_keeps_its_header_in_view_and_reads_in_the_pages_direction(
    world, intake, language, right_to_left
):
    from openpyxl import load_workbook

    client = world.client("admissions")
    client.cookies["django_language"] = language
    sheet = load_workbook(io.BytesIO(export(client, intake, fmt="xlsx").content)).active
    assert sheet.freeze_panes == "A2"
    assert bool(sheet.sheet_view.rightToLeft) is right_to_left


def test_the_next_page_of_an_unfiltered_list_has_a_plain_link(world, intake):
    for n in range(48):
        Client().post(APPLY, form_data(cin=f"JK4444{n:02d}", phone=f"06222222{n:02d}"))
    html = world.client("admissions").get(url("application_list", intake)).content.decode()
    assert 'href="?page=2"' in html and "?&amp;page" not in html


def test_giving_the_decision_back_to_the_rules_is_offered_only_after_a_staff_decision(
    world, intake
):
    omar = application("CD111111")
    client = world.client("admissions")
    detail = url("application_detail", intake, reference=omar.reference)
    assert 'value="rules"' not in client.get(detail).content.decode()
    target = url("application_eligibility", intake, reference=omar.reference)
    # Sent from a page left open while a colleague gave it back: nothing to do, and said so.
    client.cookies["django_language"] = "en"
    stale = client.post(target, {"decision": "rules", "reason": "x"}, follow=True)
    assert "The rules already decide for this application." in stale.content.decode()
    assert not events("tremplin.applications.eligibility_rules_restored")

    client.post(target, {"decision": "eligible", "reason": "Date de naissance erronée"})
    assert 'value="rules"' in client.get(detail).content.decode()


def test_the_history_starts_with_the_submission_and_what_the_rules_said(world, intake):
    omar = application("CD111111")  # too old: the rules said no
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    target = url("application_eligibility", intake, reference=omar.reference)
    client.post(target, {"decision": "eligible", "reason": "Date de naissance erronée"})
    html = client.get(url("application_detail", intake, reference=omar.reference)).content
    lines = re.findall(r'<li class="list-group-item small text-break">(.*?)</li>', html.decode())
    assert "Application submitted · online form · not eligible" in lines[0]
    assert "Eligibility decided by staff · eligible" in lines[-1]
    # Given back to the rules: which way they then decided.
    client.post(target, {"decision": "rules", "reason": "Erreur de saisie"})
    (event,) = events("tremplin.applications.eligibility_rules_restored")
    assert (event.data["from"], event.data["to"], event.data["reasons"]) == (
        "eligible",
        "ineligible",
        ["age"],
    )
    html = client.get(url("application_detail", intake, reference=omar.reference)).content
    lines = re.findall(r'<li class="list-group-item small text-break">(.*?)</li>', html.decode())
    assert "· not eligible" in lines[-1] and "Erreur de saisie" in lines[-1]


def test_an_imported_application_s_history_starts_where_it_arrived(world, intake):
    from tremplin.core.models import AuditEvent

    salma = application("EF222222")
    with scopes_disabled():
        AuditEvent.objects.filter(object_id=str(salma.pk)).delete()
        type(salma).objects.filter(pk=salma.pk).update(source="import")
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    html = client.get(url("application_detail", intake, reference=salma.reference)).content
    assert b"Nothing recorded yet." not in html
    assert b"Application submitted \xc2\xb7 import" in html


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("age", "abc"),
        ("commune", "abc"),
        ("commune", "999999"),
        ("wish", "999999"),
        ("status", "xyz"),
        ("sex", "abc"),
        ("employment", "abc"),
    ],
)
def test_a_value_that_names_nothing_filters_nothing_and_claims_no_chip(world, intake, param, value):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    response = client.get(url("application_list", intake), {param: value})
    assert response.context["page"].paginator.count == 3
    assert not any(f.selected for f in response.context["facets"])
    html = response.content.decode()
    assert "(remove this filter)" not in html and "Clear the filters" not in html


def test_an_erased_staff_decision_exports_no_empty_reason(world, intake):
    from tremplin.admissions.personal_data import application_erase

    omar = application("CD111111")
    client = world.client("admissions")
    target = url("application_eligibility", intake, reference=omar.reference)
    client.post(target, {"decision": "eligible", "reason": "Date de naissance erronée"})
    with scopes_disabled():
        application_erase(application=omar, actor=world.users["admissions"], reason="Demande")
    rows = exported_rows(client, intake)
    reason = {r["reference"]: r["eligibility_reasons"] for r in rows}[omar.reference]
    assert "équipe" not in reason and " : ." not in reason


def test_sorted_by_name_whatever_the_case_and_the_accents_the_names_were_typed_with(world, intake):
    typed = ["zerouali", "amrani", "Bennani", "AMZIL", "Aït Ahmed", "AÏT BELLA", "Élalami"]
    for n, last_name in enumerate(typed):
        Client().post(
            APPLY,
            form_data(cin=f"JK5555{n:02d}", phone=f"06333333{n:02d}", last_name=last_name),
        )
    client = world.client("admissions")

    def names(sort: str) -> list[str]:
        page = client.get(url("application_list", intake), {"sort": sort}).context["page"]
        return [a.last_name for a in page if a.last_name in typed]  # the call has others

    # Not after "zerouali", where the code points of "ï" and "É" would put them.
    expected = ["Aït Ahmed", "AÏT BELLA", "amrani", "AMZIL", "Bennani", "Élalami", "zerouali"]
    assert names("name") == expected
    assert names("-name") == expected[::-1]


def test_the_sort_menu_offers_every_order_and_shows_the_one_in_use(world, intake):
    """A list sorted Z to A showed "reference" chosen: the next search sorted it by number."""
    from tremplin.admissions.selectors import SORTS

    client = world.client("admissions")
    page = client.get(url("application_list", intake), {"sort": "-name", "sex": "F"})
    html = page.content.decode()
    menu = html[html.index('<select id="sort"') : html.index("</select>")]
    assert re.findall(r'<option value="([^"]+)"', menu) == list(SORTS)
    assert re.findall(r'<option value="([^"]+)" selected', menu) == ["-name"]
    unknown = client.get(url("application_list", intake), {"sort": "nonsense"}).content.decode()
    assert re.findall(r'<option value="([^"]+)" selected', unknown) == ["number"]


def test_the_commune_filter_lists_its_names_in_the_order_of_the_readers_alphabet(world, intake):
    """An Arabic list counted أمكالة (U+0623) before السمارة, by code point; the portal and
    the call's form read the forms of alef as one letter."""
    from tremplin.admissions.models import Application
    from tremplin.schools.models import Commune

    with scopes_disabled():
        for cin, name in (("CD111111", "أمكالة"), ("EF222222", "الجديرية")):
            commune = Commune.objects.get(name_ar=name, province__code="221")
            Application.objects.filter(cin=cin).update(commune=commune)
    client = world.client("admissions")
    client.cookies["django_language"] = "ar"
    facets = client.get(url("application_list", intake)).context["facets"]
    (communes,) = [facet for facet in facets if facet.name == "commune"]
    assert [option[1] for option in communes.options] == ["الجديرية", "السمارة", "أمكالة"]
