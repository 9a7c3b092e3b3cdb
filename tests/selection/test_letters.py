"""Letters: convocations and decisions rendered as PDFs in batches, stored, and sent."""

import os
import shutil
import subprocess

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from tests.selection.letters_world import (
    applications,
    convene_to_interview,
    convene_to_test,
    publish_run,
    selection_intake,
)
from tremplin.admissions.models import Application
from tremplin.notify.models import Message
from tremplin.notify.services import outbox_flush
from tremplin.selection.decisions import REASON_TEXTS
from tremplin.selection.letters import letter_batch_start, letters_of
from tremplin.selection.models import Letter, LetterBatch

Kind = Letter.Kind


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, as poppler's pdftotext extracts it (logical order, shaped Arabic
    mapped back to its letters through the fonts' ToUnicode maps)."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but pdftotext is missing (apt-get install poppler-utils)")
        pytest.skip("pdftotext is not installed (poppler-utils)")
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


# pdftotext marks the direction of each run (RLE … PDF): not part of the letter's text.
_DIRECTION_MARKS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def normalized(text: str) -> str:
    return " ".join(text.translate(_DIRECTION_MARKS).split())


@pytest.fixture(autouse=True)
def one_process(settings):
    settings.LETTER_WORKERS = 1


@pytest.fixture
def intake(world):
    return selection_intake(world.smara)


def run_batch(
    django_capture_on_commit_callbacks, intake, kind, apps=None, notify=False, actor=None
):
    with django_capture_on_commit_callbacks(execute=True):
        batch = letter_batch_start(
            intake=intake,
            kind=kind,
            application_ids=[a.pk for a in apps or applications(intake)],
            notify=notify,
            actor=actor,
        )
    with scopes_disabled():
        batch.refresh_from_db()
    return batch


def letter_of(application, kind) -> Letter:
    with scopes_disabled():
        return Letter.objects.get(application=application, kind=kind)


def read(letter: Letter) -> bytes:
    with letter.file.open("rb") as stored:
        return stored.read()


def test_a_test_convocation_batch_stores_one_pdf_per_application_and_reaches_its_total(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    batch = run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION)
    assert (batch.status, batch.done, batch.total) == ("done", 6, 6)
    assert batch.progress_percent == 100
    with scopes_disabled():
        letters = list(Letter.objects.filter(batch=batch))
    assert len(letters) == 6
    for letter in letters:
        pdf = read(letter)
        assert pdf.startswith(b"%PDF-")
        assert letter.pages == 1
        assert letter.file.name.startswith("private/letters/")


def test_a_french_convocation_says_when_where_what_to_bring_and_the_candidate_number(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION)
    first = applications(intake)[0]  # French
    text = normalized(pdf_text(read(letter_of(first, Kind.TEST_CONVOCATION))))
    assert "vendredi 12 septembre 2025" in text
    assert "09:00" in text and "11:00" in text
    assert "Salle polyvalente" in text
    assert "Un stylo bleu" in text and "Une calculatrice" in text
    assert first.reference in text
    assert "SE****00" in text  # the CIN to bring, masked
    assert "Fatima Alaoui0" in text
    with translation.override("fr"):
        assert f"{_('Candidate number')} 1" in text


def test_an_arabic_convocation_is_right_to_left_in_arabic_with_moroccan_month_names(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION)
    second = applications(intake)[1]  # Arabic
    letter = letter_of(second, Kind.TEST_CONVOCATION)
    assert letter.language == "ar"
    text = normalized(pdf_text(read(letter)))
    assert "شتنبر" in text  # Moroccan month name for September
    assert "القاعة متعددة الاختصاصات" in text  # the place in Arabic, shaped and readable back
    assert "يوسف" in text and "العلوي" in text
    assert "قلم أزرق" in text


def test_an_interview_convocation_names_the_panel_and_the_place(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_interview(intake)
    run_batch(django_capture_on_commit_callbacks, intake, Kind.INTERVIEW_CONVOCATION)
    first, second = applications(intake)[:2]
    text = normalized(pdf_text(read(letter_of(first, Kind.INTERVIEW_CONVOCATION))))
    assert "Jury A" in text and "Bureau 2" in text and "10:00" in text and "10:20" in text
    text_ar = normalized(pdf_text(read(letter_of(second, Kind.INTERVIEW_CONVOCATION))))
    # pdftotext gives Arabic runs in logical order but a number beside them in visual order.
    assert "المكتب" in text_ar and "10:25" in text_ar


def test_decision_letters_explain_each_outcome_with_marks_rank_and_cut_off(
    world, intake, django_capture_on_commit_callbacks
):
    publish_run(intake, world.users["admissions"])
    run_batch(django_capture_on_commit_callbacks, intake, Kind.DECISION)
    apps = applications(intake)
    offer = normalized(pdf_text(read(letter_of(apps[0], Kind.DECISION))))
    assert "Votre candidature est retenue" in offer
    assert "16,00" in offer and "15,50" in offer  # marks per component, French decimals
    assert "15,67" in offer  # composite
    assert "14,00" in offer  # cut-off
    with translation.override("fr"):
        rank = _("%(rank)s of %(ranked)s ranked applicants") % {"rank": 1, "ranked": 5}
    assert rank in offer
    waiting = normalized(pdf_text(read(letter_of(apps[2], Kind.DECISION))))
    not_retained = normalized(pdf_text(read(letter_of(apps[4], Kind.DECISION))))
    with translation.override("fr"):
        position = _("You are on the waiting list, at position %(position)s.") % {"position": 1}
        reason = str(REASON_TEXTS["beyond_waitlist"])
    assert position in waiting
    with translation.override("fr"):
        assert _("Today, nobody is ahead of you on the list.") in waiting  # the first in line
    assert reason in not_retained
    ineligible = letter_of(apps[5], Kind.DECISION)
    assert ineligible.language == "ar"
    with translation.override("ar"):
        # Without its final stop, which the extraction moves in right-to-left paragraphs.
        reason = str(REASON_TEXTS["ineligible"]).rstrip(".")
    assert reason in normalized(pdf_text(read(ineligible)))


def test_applications_with_nothing_to_announce_get_no_letter_but_count_as_done(
    world, intake, django_capture_on_commit_callbacks
):
    apps = applications(intake)
    convene_to_test(intake, apps[:2])
    with scopes_disabled():
        Application.objects.filter(pk=apps[1].pk).update(status=Application.Status.WITHDRAWN)
    batch = run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION)
    assert (batch.status, batch.done) == ("done", 6)
    with scopes_disabled():
        assert list(Letter.objects.values_list("application", flat=True)) == [apps[0].pk]


def test_a_batch_refuses_applications_of_another_call_and_unknown_kinds(world, intake):
    other = selection_intake(world.smara, slug="promo-2024", n=1)
    with pytest.raises(ValidationError):
        letter_batch_start(
            intake=intake,
            kind=Kind.DECISION,
            application_ids=[applications(other)[0].pk],
            notify=False,
        )
    with pytest.raises(ValidationError):
        letter_batch_start(intake=intake, kind="love_letter", application_ids=[], notify=False)
    with scopes_disabled():
        assert not LetterBatch.objects.exists()


def test_a_new_rendering_replaces_the_letter_and_deletes_the_old_file(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    first = applications(intake)[0]
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [first])
    old = letter_of(first, Kind.TEST_CONVOCATION)
    second = run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [first])
    new = letter_of(first, Kind.TEST_CONVOCATION)
    assert new.pk == old.pk and new.batch_id == second.pk
    assert new.file.name != old.file.name
    storage = new.file.storage
    assert storage.exists(new.file.name) and not storage.exists(old.file.name)


def test_running_the_same_batch_again_neither_duplicates_letters_nor_sends_twice(
    world, intake, django_capture_on_commit_callbacks
):
    from tremplin.selection.letters import letter_batch_run

    convene_to_test(intake)
    batch = run_batch(
        django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, notify=True
    )
    with scopes_disabled():
        messages = Message.objects.count()
        assert messages == 6 + 4  # an SMS each, an email to the four who gave one
        # A task delivered twice finds the batch done and does nothing...
        letter_batch_run(batch_id=batch.pk)
        # ...and a batch run again from the start (after a failure) renders again, sends nothing.
        LetterBatch.objects.filter(pk=batch.pk).update(status=LetterBatch.Status.PENDING)
        letter_batch_run(batch_id=batch.pk)
        assert Message.objects.count() == messages
        assert Letter.objects.count() == 6
        assert LetterBatch.objects.get(pk=batch.pk).done == 6


def test_the_email_carries_the_letter_and_a_calendar_file_the_sms_is_short(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    apps = applications(intake)
    mail.outbox.clear()
    run_batch(
        django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, apps[1:3], notify=True
    )
    outbox_flush()  # the tasks sent them already (immediate backend): this sends nothing twice
    emails = {m.to[0]: m for m in mail.outbox}
    email = emails[apps[1].email]
    assert apps[1].reference in email.subject
    assert email.extra_headers["Content-Language"] == "ar"
    (pdf_name, pdf, pdf_type), (ics_name, ics_bytes, ics_type) = email.attachments
    assert pdf_name == f"convocation-test-{apps[1].reference}.pdf" and pdf_type == "application/pdf"
    assert pdf.startswith(b"%PDF-") and pdf == read(letter_of(apps[1], Kind.TEST_CONVOCATION))
    assert ics_name == "convocation.ics" and ics_type.startswith("text/calendar")
    text = ics_bytes if isinstance(ics_bytes, str) else ics_bytes.decode()
    assert "DTSTART:20250912T080000Z" in text  # 09:00 in Casablanca (UTC+1)
    with scopes_disabled():
        sms = Message.objects.filter(channel="sms", recipient=apps[2].phone).get()
    assert "12/09/2025" in sms.body and "09:00" in sms.body and "Salle polyvalente" in sms.body
    assert len(sms.body) < 160 and "\n" not in sms.body


def test_decisions_are_emailed_without_a_calendar(
    world, intake, django_capture_on_commit_callbacks
):
    publish_run(intake, world.users["admissions"])
    apps = applications(intake)
    mail.outbox.clear()
    run_batch(django_capture_on_commit_callbacks, intake, Kind.DECISION, [apps[1]], notify=True)
    outbox_flush()
    (email,) = mail.outbox
    assert [a[0] for a in email.attachments] == [f"decision-{apps[1].reference}.pdf"]


@pytest.mark.parametrize("site", ["https://tremplin.example.org", ""])
def test_the_decision_email_links_to_the_applicant_space_when_the_site_is_known(
    world, intake, django_capture_on_commit_callbacks, settings, site
):
    settings.SITE_URL = site
    publish_run(intake, world.users["admissions"])
    apps = applications(intake)
    mail.outbox.clear()
    run_batch(django_capture_on_commit_callbacks, intake, Kind.DECISION, [apps[1]], notify=True)
    (email,) = mail.outbox
    link = "https://tremplin.example.org" + reverse("portal:access")
    assert (link in email.body) is bool(site)
    assert "http" not in email.body.replace(link, "")  # no half-made link without the site
    with scopes_disabled():
        sms = Message.objects.get(channel="sms", recipient=apps[1].phone)
    assert "http" not in sms.body  # 160 characters: no room


def test_letters_of_lists_the_applicants_own_letters(
    world, intake, django_capture_on_commit_callbacks
):
    convene_to_test(intake)
    convene_to_interview(intake)
    first, second = applications(intake)[:2]
    run_batch(django_capture_on_commit_callbacks, intake, Kind.INTERVIEW_CONVOCATION, [first])
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [first, second])
    with scope(school=world.smara):
        kinds = [letter.kind for letter in letters_of(first)]
    assert kinds == [Kind.TEST_CONVOCATION, Kind.INTERVIEW_CONVOCATION]


def test_the_batch_start_is_audited_and_waits_for_the_commit(world, intake):
    from tremplin.core.models import AuditEvent

    convene_to_test(intake)
    batch = letter_batch_start(
        intake=intake,
        kind=Kind.TEST_CONVOCATION,
        application_ids=[a.pk for a in applications(intake)],
        notify=True,
        actor=world.users["admissions"],
    )
    with scopes_disabled():
        assert LetterBatch.objects.get(pk=batch.pk).status == "pending"  # no commit, no task
        event = AuditEvent.objects.get(action="tremplin.letters.batch_started")
    assert event.actor == world.users["admissions"] and event.data["letters"] == 6


def test_a_batch_renders_in_a_pool_of_processes_the_same_letters(
    world, intake, django_capture_on_commit_callbacks, settings, monkeypatch
):
    from tremplin.selection import letters

    settings.LETTER_WORKERS = 2
    monkeypatch.setattr(letters, "CHUNK", 2)
    convene_to_test(intake)
    batch = run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION)
    assert (batch.status, batch.done) == ("done", 6)
    second = applications(intake)[1]
    text = normalized(pdf_text(read(letter_of(second, Kind.TEST_CONVOCATION))))
    assert "شتنبر" in text and "يوسف" in text


def test_an_erasure_deletes_the_letters_and_the_attachments_sent(
    world, intake, django_capture_on_commit_callbacks
):
    from tremplin.admissions.personal_data import application_erase

    convene_to_test(intake)
    second = applications(intake)[1]  # has an email
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [second], True)
    letter = letter_of(second, Kind.TEST_CONVOCATION)
    with scopes_disabled():
        email = Message.objects.get(channel="email", recipient=second.email)
    paths = [letter.file.name] + [entry["path"] for entry in email.attachments]
    storage = letter.file.storage
    assert len(paths) == 3 and all(storage.exists(path) for path in paths)
    with scope(school=world.smara), django_capture_on_commit_callbacks(execute=True):
        application_erase(application=second, actor=world.users["director"], reason="Asked")
    with scopes_disabled():
        assert not Letter.objects.filter(application=second).exists()
        email.refresh_from_db()
    assert email.attachments == [] and email.body == ""
    assert not any(storage.exists(path) for path in paths)


@pytest.mark.parametrize("failing", ["end of the chunk", "second copy"])
def test_a_chunk_that_rolls_back_leaves_neither_its_letters_nor_their_emailed_copies(
    world, intake, django_capture_on_commit_callbacks, monkeypatch, failing
):
    """The copies attached to the emails (a letter is personal data) stayed in storage, with
    no row pointing to them, for no erasure or retention to find."""
    from django.core.files.storage import default_storage

    from tremplin.selection import letters

    convene_to_test(intake)
    second = applications(intake)[1]  # has an email
    written = []
    save = default_storage.save

    def save_and_note(name, content, *args, **kwargs):
        copies = [n for n in written if n.startswith("private/outbox/")]
        if failing == "second copy" and name.startswith("private/outbox/") and copies:
            raise OSError("No space left on device")
        written.append(save(name, content, *args, **kwargs))
        return written[-1]

    def fails_at_the_end(*args):
        record(*args)
        raise RuntimeError("deadlock detected")

    record = letters._record
    monkeypatch.setattr(default_storage, "save", save_and_note)
    if failing == "end of the chunk":
        monkeypatch.setattr(letters, "_record", fails_at_the_end)
    batch = run_batch(
        django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [second], True
    )
    assert batch.status == LetterBatch.Status.FAILED
    with scopes_disabled():
        assert not Message.objects.exists() and not Letter.objects.filter(file__gt="").exists()
    copies = [name for name in written if name.startswith("private/outbox/")]
    # The letter and the convocation's calendar, or the letter alone.
    assert len(copies) == (2 if failing == "end of the chunk" else 1)
    assert not any(default_storage.exists(name) for name in written)


def test_an_older_batch_never_replaces_the_letter_of_a_newer_one(
    world, intake, django_capture_on_commit_callbacks
):
    from tremplin.selection.letters import letter_batch_run

    convene_to_test(intake)
    first = applications(intake)[0]
    older = run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [first])
    newer = run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, [first])
    kept = letter_of(first, Kind.TEST_CONVOCATION)
    assert kept.batch_id == newer.pk
    with scopes_disabled():
        LetterBatch.objects.filter(pk=older.pk).update(status=LetterBatch.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        letter_batch_run(batch_id=older.pk)
    after = letter_of(first, Kind.TEST_CONVOCATION)
    assert (after.batch_id, after.file.name) == (newer.pk, kept.file.name)
    assert after.file.storage.exists(after.file.name)


def test_a_batch_whose_worker_died_is_resumed_and_nobody_gets_a_message_twice(
    world, intake, django_capture_on_commit_callbacks, monkeypatch
):
    import datetime

    from django.utils import timezone

    from tremplin.selection import letters

    convene_to_test(intake)
    monkeypatch.setattr(letters, "CHUNK", 2)
    stored = letters._store

    def dies_after_the_first_chunk(batch, rendered, sources):
        stored(batch, rendered, sources)
        if LetterBatch.objects.get(pk=batch.pk).done >= 2:
            raise SystemExit("SIGKILL")  # not an Exception: nothing marks the batch failed

    monkeypatch.setattr(letters, "_store", dies_after_the_first_chunk)
    # The task backend records the task as failed; the batch itself is left running.
    run_batch(django_capture_on_commit_callbacks, intake, Kind.TEST_CONVOCATION, notify=True)
    monkeypatch.setattr(letters, "_store", stored)
    with scopes_disabled():
        batch = LetterBatch.objects.get()
        assert (batch.status, batch.done) == (LetterBatch.Status.RUNNING, 2)
        sent_before = set(Message.objects.values_list("dedupe_key", flat=True))
        # A live batch is left alone...
        assert letters.letter_batches_resume() == 0
        # ...one that stopped moving ten minutes ago is started again.
        LetterBatch.objects.update(heartbeat_at=timezone.now() - datetime.timedelta(minutes=11))
        with django_capture_on_commit_callbacks(execute=True):
            assert letters.letter_batches_resume() == 1
        batch.refresh_from_db()
        assert (batch.status, batch.done) == (LetterBatch.Status.DONE, 6)
        assert Letter.objects.count() == 6
        keys = list(Message.objects.values_list("dedupe_key", flat=True))
        assert len(keys) == len(set(keys)) == 6 + 4
        assert sent_before < set(keys)


def test_the_decisions_of_a_chunk_of_letters_are_read_with_a_fixed_number_of_queries(world, intake):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tremplin.selection.letter_contexts import contexts_for

    publish_run(intake, world.users["admissions"])
    apps = applications(intake)
    with scopes_disabled():
        batch = LetterBatch.objects.create(
            intake=intake, kind=Kind.DECISION, total=len(apps), application_ids=[]
        )
        contexts_for(batch, apps[:1])  # the batch's intake and school, read once
        queries = []
        for chunk in (apps[2:3], apps):  # one on the waiting list; every outcome
            with CaptureQueriesContext(connection) as captured:
                contexts = contexts_for(batch, chunk)
            assert all(contexts)
            queries.append(len(captured))
    # One query each: the run, the results, the offers, the components, the waiting list,
    # and the count of the ranked (this run's summary does not give it).
    assert queries[0] == queries[1] == 6, queries
