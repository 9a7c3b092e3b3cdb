"""Letters, part by part: the calendar file, the HTML and its escaping, the URL fetcher, the
message templates, the system check, and the downloads and progress pages."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from tests.selection.letters_world import applications, convene_to_test, selection_intake
from tests.selection.test_letters import letter_of, run_batch
from tremplin.admissions.models import Application
from tremplin.admissions.views_portal import SESSION_APPLICANT
from tremplin.selection import ics, system_checks
from tremplin.selection.letter_contexts import contexts_for
from tremplin.selection.letter_pdf import FONTS_DIR, _local_fonts_fetcher, letter_html
from tremplin.selection.letters import calendar_events, letter_batch_start
from tremplin.selection.models import Letter, LetterBatch

Kind = Letter.Kind
CASABLANCA = ZoneInfo("Africa/Casablanca")


@pytest.fixture(autouse=True)
def one_process(settings):
    settings.LETTER_WORKERS = 1


@pytest.fixture
def intake(world):
    return selection_intake(world.smara)


# --- The calendar file ---------------------------------------------------------------


def unfold(data: bytes) -> list[str]:
    """Content lines of an .ics, checking the wire format on the way (RFC 5545 §3.1)."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    physical = text[:-2].split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    lines: list[str] = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def test_an_ics_event_parses_back_with_utc_times_and_escaped_text():
    start = datetime.datetime(2025, 9, 12, 9, 0, tzinfo=CASABLANCA)
    event = ics.Event(
        uid="sitting-7.SMA-25-0042@tremplin",
        start=start,
        end=start + datetime.timedelta(hours=2),
        summary="Test écrit — École Numérique de Smara",
        location="Salle 3; bâtiment B, 1er étage",
        description="Apportez votre CIN\net cette lettre.",
        sequence=4,
    )
    stamp = datetime.datetime(2025, 9, 1, 12, 30, tzinfo=datetime.UTC)
    lines = unfold(ics.calendar([event], stamp=stamp))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and "METHOD:PUBLISH" in lines
    props = dict(line.split(":", 1) for line in lines[lines.index("BEGIN:VEVENT") + 1 : -2])
    assert props["UID"] == "sitting-7.SMA-25-0042@tremplin"
    assert props["DTSTAMP"] == "20250901T123000Z"
    assert props["DTSTART"] == "20250912T080000Z"  # 09:00 in Morocco is 08:00 UTC
    assert props["DTEND"] == "20250912T100000Z"
    assert props["SEQUENCE"] == "4"
    assert props["SUMMARY"] == "Test écrit — École Numérique de Smara"
    assert props["LOCATION"] == "Salle 3\\; bâtiment B\\, 1er étage"
    assert props["DESCRIPTION"] == "Apportez votre CIN\\net cette lettre."


def test_long_arabic_lines_fold_between_characters_never_inside_one():
    start = datetime.datetime(2025, 9, 20, 10, 0, tzinfo=CASABLANCA)
    place = "القاعة متعددة الاختصاصات، المدرسة الرقمية بالسمارة، شارع محمد الخامس"
    data = ics.calendar([ics.Event("x@t", start, start, "مقابلة الانتقاء", place)])
    lines = unfold(data)  # every physical line decodes alone: no character was cut
    assert f"LOCATION:{place}" in lines
    for physical in data.split(b"\r\n"):
        physical.decode("utf-8")  # raises if a fold cut a character in two


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        ics.utc(datetime.datetime(2025, 9, 12, 9, 0))


def test_a_convocations_events_come_from_its_sittings(world, intake):
    convene_to_test(intake)
    first = applications(intake)[0]
    batch = LetterBatch(pk=3, intake=intake, kind=Kind.TEST_CONVOCATION)
    with scopes_disabled():
        (context,) = contexts_for(batch, [first])
    (event,) = calendar_events(context, sequence=3)
    assert event.start == datetime.datetime(2025, 9, 12, 9, 0, tzinfo=CASABLANCA)
    assert event.location == "Salle polyvalente" and event.sequence == 3
    assert event.uid.endswith(f".{first.reference}@tremplin")


# --- The letter's HTML ---------------------------------------------------------------


def hostile_context(world, intake, language="fr") -> dict:
    convene_to_test(intake)
    with scopes_disabled():
        Application.objects.filter(number=1).update(
            first_name="<script>alert(1)</script>",
            last_name="O\u202eRLO\u202c",
            first_name_ar="<b>سارة</b>",
            language=language,
        )
        first = Application.objects.select_related("intake__school__commune__province").get(
            intake=intake, number=1
        )
        batch = LetterBatch(pk=1, intake=intake, kind=Kind.TEST_CONVOCATION)
        (context,) = contexts_for(batch, [first])
    return context


def test_hostile_names_are_escaped_and_lose_their_direction_overrides(world, intake):
    html = letter_html(hostile_context(world, intake))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;سارة&lt;/b&gt;" in html
    assert "\u202e" not in html and "\u202c" not in html  # overrides dropped
    assert "ORLO" in html


def test_values_are_isolated_because_weasyprint_ignores_bdi(world, intake):
    html = letter_html(hostile_context(world, intake, language="ar"))
    assert '<html lang="ar" dir="rtl">' in html
    assert "<bdi>\u2068SE****00\u2069</bdi>" in html  # FSI … PDI inside each <bdi>
    assert html.count("<bdi") == html.count("\u2068") == html.count("\u2069")


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [
        ("ar", "المدرسة الرقمية بالسمارة · شارع محمد الخامس، السمارة", "Avenue Mohammed V"),
        ("fr", "École smara · Avenue Mohammed V, Es-Semara", "شارع محمد الخامس"),
    ],
)
def test_the_footer_names_the_school_and_its_address_in_the_letters_language(
    world, intake, language, shown, not_shown
):
    with scopes_disabled():
        world.smara.name_ar = "المدرسة الرقمية بالسمارة"
        world.smara.address = "Avenue Mohammed V, Es-Semara"
        world.smara.address_ar = "شارع محمد الخامس، السمارة"
        world.smara.save()
    html = letter_html(hostile_context(world, intake, language=language))
    footer = html.split('<div class="page-footer">', 1)[1].split("</div>", 1)[0]
    text = re.sub(r"</?bdi>|[\u2068\u2069]", "", footer)  # the isolation, not the words
    assert shown in text and not_shown not in text


def test_an_english_letter_is_left_to_right_in_english(world, intake):
    context = hostile_context(world, intake, language="en")
    assert context["language"] == "en"
    html = letter_html(context)
    assert '<html lang="en" dir="ltr">' in html and "Friday, September 12, 2025" in html


def test_an_unknown_language_falls_back_to_french(world, intake):
    context = hostile_context(world, intake, language="es")
    assert context["language"] == settings.LANGUAGE_CODE == "fr"


def test_the_renderer_fetches_the_fonts_and_nothing_else(tmp_path):
    fetcher = _local_fonts_fetcher()
    font = fetcher.fetch((FONTS_DIR / "NotoNaskhArabic-Regular.ttf").as_uri())
    assert font.read(4) == b"\x00\x01\x00\x00"
    font.close()
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "https://example.org/logo.png",
        secret.as_uri(),
        (FONTS_DIR / ".." / ".." / "settings.py").as_uri(),
        "data:text/plain,hello",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


# --- Message templates ---------------------------------------------------------------


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("kind", Kind.values)
def test_every_letter_message_renders_in_every_language(
    world, intake, django_capture_on_commit_callbacks, kind, language
):
    from tests.selection.letters_world import convene_to_interview, publish_run

    convene_to_test(intake)
    convene_to_interview(intake)
    publish_run(intake, world.users["admissions"])
    apps = applications(intake)
    batch = LetterBatch(pk=9, intake=intake, kind=kind)
    with scopes_disabled():
        for context in contexts_for(batch, apps):
            with translation.override(language):
                subject = render_to_string(f"notify/{kind}/subject.txt", context)
                body = render_to_string(f"notify/{kind}/body.txt", context)
                sms = " ".join(render_to_string(f"notify/{kind}/sms.txt", context).split())
            assert "\n" not in subject.strip() and context["applicant"]["reference"] in subject
            assert context["applicant"]["salutation_name"] in body
            assert "&" not in body + sms  # text, not HTML
            if language == "en":  # the source; translations are checked by the catalogues
                assert len(sms) < 160, sms


# --- System check ----------------------------------------------------------------------


def test_the_system_check_warns_when_harfbuzz_subset_is_missing(monkeypatch):
    monkeypatch.setattr(system_checks, "find_library", lambda name: None)
    (warning,) = system_checks.check_harfbuzz_subset(None)
    assert isinstance(warning, CheckWarning) and warning.id == "tremplin.W003"
    assert "libharfbuzz-subset0" in warning.hint


def test_the_system_check_is_quiet_when_harfbuzz_subset_is_there(monkeypatch):
    monkeypatch.setattr(system_checks, "find_library", lambda name: "libharfbuzz-subset.so.0")
    assert system_checks.check_harfbuzz_subset(None) == []


# --- Downloads and progress ------------------------------------------------------------


def applicant_client(client, application):
    session = client.session
    session[SESSION_APPLICANT] = application.pk
    session.save()
    return client


def test_an_applicant_downloads_their_letter_privately(
    world, intake, client, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    first, second = applications(intake)[:2]
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION)
    mine, theirs = letter_of(first, Kind.TEST_CONVOCATION), letter_of(second, Kind.TEST_CONVOCATION)
    applicant_client(client, first)
    response = client.get(reverse("selection:applicant_letter", args=[mine.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="convocation-test-{first.reference}.pdf"'
    )
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert client.get(reverse("selection:applicant_letter", args=[theirs.pk])).status_code == 404


def test_the_applicant_links_list_their_letters(
    world, intake, client, django_capture_on_commit_callbacks
):
    from tremplin.selection.letters import letters_of

    convene_to_test(intake)
    first = applications(intake)[0]
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [first])
    with scopes_disabled():
        letters = letters_of(first)
    html = render_to_string("selection/letters/_applicant_links.html", {"letters": letters})
    assert reverse("selection:applicant_letter", args=[letters[0].pk]) in html
    # Each isolated: on an Arabic page, "PDF" cut the date in two ("(2025/09/PDF، 19)").
    with translation.override("ar"):
        html = render_to_string("selection/letters/_applicant_links.html", {"letters": letters})
    assert re.search(r"\(<bdi>PDF</bdi>، <bdi>[^<]*\d{4}</bdi>\)", html), html


def test_staff_download_the_letters_of_their_school_only(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    first = applications(intake)[0]
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [first])
    letter = letter_of(first, Kind.TEST_CONVOCATION)
    url = reverse("selection:letter_download", args=[world.smara.slug, letter.pk])
    response = world.client("admissions").get(url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    other = reverse("selection:letter_download", args=[world.other.slug, letter.pk])
    assert world.client("other_admissions").get(other).status_code == 404
    assert world.client("juror").get(url).status_code == 404


def test_the_batch_page_polls_while_it_runs_then_lists_the_letters(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    client = world.client("admissions")
    with scopes_disabled():
        batch = letter_batch_start(
            intake=intake,
            kind=Kind.TEST_CONVOCATION,
            application_ids=[a.pk for a in applications(intake)],
            notify=False,
        )
        LetterBatch.objects.filter(pk=batch.pk).update(status="running", done=3)
    url = reverse("selection:letter_batch", args=[world.smara.slug, intake.slug, batch.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'hx-trigger="every 1s"' in page.content and b'value="50"' in page.content
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b'id="letter-batch-status"' in partial.content
    with scopes_disabled():
        LetterBatch.objects.filter(pk=batch.pk).update(status="pending", done=0)
    with django_capture_on_commit_callbacks(execute=True):
        from tremplin.selection.letter_tasks import render_letter_batch

        render_letter_batch.enqueue(batch_id=batch.pk)
    done = client.get(url)
    assert b"hx-trigger" not in done.content
    assert done.content.count(b"/staff/smara/letters/") == 6


def test_a_failed_batch_can_be_started_again_by_staff(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    with scopes_disabled():
        batch = LetterBatch.objects.create(
            intake=intake,
            kind=Kind.TEST_CONVOCATION,
            status=LetterBatch.Status.FAILED,
            total=6,
            done=2,
            application_ids=[a.pk for a in applications(intake)],
            error="OSError: disk full",
        )
    url = reverse("selection:letter_batch_retry", args=[world.smara.slug, intake.slug, batch.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("admissions").post(url)
    assert response.status_code == 302
    with scopes_disabled():
        batch.refresh_from_db()
        assert (batch.status, batch.done, batch.error) == ("done", 6, "")
        assert Letter.objects.filter(batch=batch).count() == 6
