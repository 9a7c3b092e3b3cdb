"""The private files a process killed before its commit leaves behind: the retention sweep
deletes them a day later, and nothing a row names."""

import io
import os
import re
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django_scopes import scopes_disabled

import tremplin
from tests.admissions.open_intake import form_data, make_open_intake
from tests.selection.letters_world import applications, convene_to_test, selection_intake
from tremplin.admissions.models import Document, ImportJob
from tremplin.core.private_files import DIRECTORIES
from tremplin.notify.models import Message
from tremplin.selection.letters import letter_batch_start
from tremplin.selection.models import Letter

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TWO_DAYS = 2 * 24 * 3600


@pytest.fixture(autouse=True)
def own_media(settings, tmp_path):
    """A storage of the test's own: other tests of this process leave files in theirs."""
    settings.MEDIA_ROOT = tmp_path
    settings.LETTER_WORKERS = 1


def age(name: str, seconds: float = TWO_DAYS) -> str:
    path = default_storage.path(name)
    then = time.time() - seconds
    os.utime(path, (then, then))
    return name


def write(name: str, *, seconds: float = TWO_DAYS) -> str:
    """A file as a process killed before its commit leaves it: written, and no row."""
    return age(default_storage.save(name, ContentFile(b"personal data")), seconds)


def sweep(*args: str) -> str:
    out = io.StringIO()
    call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def named(world, django_capture_on_commit_callbacks) -> list[str]:
    """The files rows name, all old: an applicant's document, a letter, the two copies
    attached to its email, an import's file."""
    intake = make_open_intake(world.smara, required_documents=["cin"])
    file = SimpleUploadedFile("cin.pdf", PDF, content_type="application/pdf")
    assert Client().post(
        intake.get_absolute_url() + "apply/", {**form_data(), "document_cin": file}
    )
    selection = selection_intake(world.smara)
    convene_to_test(selection)
    second = applications(selection)[1]  # has an email
    with django_capture_on_commit_callbacks(execute=True):
        letter_batch_start(
            intake=selection,
            kind=Letter.Kind.TEST_CONVOCATION,
            application_ids=[second.pk],
            notify=True,
            actor=None,
        )
    with scopes_disabled():
        job = ImportJob.objects.create(
            intake=intake, original_name="a.csv", mode="valid", dry_run=True
        )
        job.file.save("a.csv", ContentFile(b"cin;nom\n"))
        email = Message.objects.get(channel="email", recipient=second.email)
        names = [
            Document.objects.get().file.name,
            Letter.objects.get().file.name,
            *(entry["path"] for entry in email.attachments),
            job.file.name,
        ]
    assert len(names) == 5 and all(default_storage.exists(name) for name in names)
    return [age(name) for name in names]


@pytest.mark.django_db
def test_the_retention_sweep_deletes_the_old_files_no_row_names_and_nothing_else(named):
    orphans = [
        write("private/applications/7/0a1b2c"),
        write("private/letters/3d4e5f.pdf"),
        write("private/outbox/6a7b8c.pdf"),
        write("private/imports/9d0e1f.csv"),
        write("private/import-reports/2a3b4c.jsonl.gz"),
    ]
    # Written an hour ago: its row may still be about to commit.
    fresh = write("private/applications/7/5d6e7f", seconds=3600)
    # A marks file checked by a dry run: the marks import's own sweep deals with it.
    marks = write("private/imports/marks/8a9b0c.csv")

    assert "Would delete 5 private files that no row names" in sweep("--dry-run")
    assert all(default_storage.exists(name) for name in orphans)

    assert "Deleted 5 private files that no row names" in sweep()
    assert not any(default_storage.exists(name) for name in orphans)
    assert all(default_storage.exists(name) for name in [*named, fresh, marks])
    assert "private files" not in sweep()  # nothing left to say


class ClientError(Exception):
    """What django-storages' S3 backend raises (botocore's), not an OSError."""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "refusal", [PermissionError(13, "Permission denied"), ClientError("AccessDenied")]
)
def test_a_file_the_storage_cannot_delete_is_said_and_left_for_the_next_sweep(
    world, monkeypatch, refusal
):
    orphan = write("private/letters/3d4e5f.pdf")

    def refuse(name):
        raise refusal

    monkeypatch.setattr(default_storage, "delete", refuse)
    err = io.StringIO()
    call_command("apply_retention", stdout=io.StringIO(), stderr=err)
    assert "1 private files could not be deleted" in err.getvalue()
    monkeypatch.undo()
    assert default_storage.exists(orphan)
    assert "Deleted 1 private files" in sweep()
    assert not default_storage.exists(orphan)


def test_a_document_held_for_a_form_sent_back_goes_once_a_day_old(world):
    """No row ever names it: the form that used it stored a copy, or was never sent again."""
    old = write("private/held/5f0c1e2d3a4b6c7d/a1b2.pdf")
    recent = write("private/held/5f0c1e2d3a4b6c7d/c3d4.pdf", seconds=60)
    assert "Deleted 1 private files" in sweep()
    assert not default_storage.exists(old) and default_storage.exists(recent)


def test_a_connection_s_directory_of_held_documents_left_empty_goes_a_day_later(world):
    """One directory per connection that held a file: at national scale, millions left
    empty on a local disk unless the sweep removes them once nothing touched them for a
    day."""
    emptied = Path(default_storage.path(write("private/held/aaaa1111/a1.pdf"))).parent
    kept = Path(default_storage.path(write("private/held/bbbb2222/b1.pdf", seconds=60))).parent
    fresh = Path(default_storage.path("private/held/cccc3333"))
    fresh.mkdir()
    sweep()
    # Emptied by this sweep, so touched just now: it goes with the next one.
    assert emptied.is_dir() and not any(emptied.iterdir())
    for directory in (emptied, kept, fresh):
        os.utime(directory, (time.time() - TWO_DAYS,) * 2)
    os.utime(fresh, None)  # a connection holding its first file now

    sweep()
    assert not emptied.exists()
    assert kept.is_dir() and default_storage.exists("private/held/bbbb2222/b1.pdf")
    assert fresh.is_dir()
    assert Path(default_storage.path("private/held")).is_dir()


def test_every_private_directory_the_code_writes_to_is_swept():
    """A new kind of private file must say what names it, or its orphans stay for ever."""
    written = {
        match
        for path in Path(tremplin.__file__).parent.rglob("*.py")
        if "migrations" not in path.parts
        for match in re.findall(r"[\"'](private/[a-z-]+(?:/marks)?)[/\"']", path.read_text())
    }
    swept_elsewhere = {"private/imports/marks"}  # selection.marks_import.marks_stashes_forget
    assert written - swept_elsewhere <= set(DIRECTORIES), "register it in core.private_files"
    assert written >= set(DIRECTORIES)
