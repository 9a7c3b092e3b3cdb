"""Import of the written test's marks from CSV or XLSX: by reference, CIN or candidate
number, a dry run that changes nothing, bad lines reported, all or nothing."""

import io
import os
import re
import time
from decimal import Decimal

import pytest
from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from openpyxl import Workbook

from tests.selection.assessment_builders import make_selection, make_session
from tremplin.core.models import AuditEvent
from tremplin.selection import assessment
from tremplin.selection import models as sm
from tremplin.selection.marks_import import STASH_SALT, marks_import
from tremplin.selection.models import Mark


@pytest.fixture
def seated(world):
    selection = make_selection(world.smara, n=5)
    session = make_session(selection.test, capacity=10)
    with scope(school=world.smara):
        assessment.sittings_assign(component=selection.test, actor=world.users["admissions"])
    return selection, session


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def _run(world, selection, data, name="notes.csv", dry_run=True):
    with scope(school=world.smara):
        return marks_import(
            component=selection.test,
            fileobj=data,
            filename=name,
            actor=world.users["admissions"],
            dry_run=dry_run,
        )


def _marks(selection) -> dict:
    with scopes_disabled():
        return {
            m.application.reference: m
            for m in Mark.objects.filter(component=selection.test).select_related("application")
        }


def test_a_dry_run_reports_the_changes_and_records_nothing(world, seated):
    selection, _ = seated
    apps = selection.applications
    text = "Référence;Note\n" + "".join(f"{a.reference};1{i},5\n" for i, a in enumerate(apps))
    result = _run(world, selection, _csv(text))
    assert result.problems == []
    assert result.key == "reference"
    assert [c["new"] for c in result.changes] == ["10.50", "11.50", "12.50", "13.50", "14.50"]
    assert not result.written
    assert _marks(selection) == {}
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action__startswith="selection.mark").exists()


def test_the_real_import_records_the_marks_with_their_source_and_audit(world, seated):
    selection, _ = seated
    apps = selection.applications
    text = "reference,mark\n" + "".join(f"{a.reference},{10 + i}\n" for i, a in enumerate(apps))
    result = _run(world, selection, _csv(text), dry_run=False)
    assert result.written
    marks = _marks(selection)
    assert marks[apps[2].reference].value == Decimal(12)
    assert {m.source for m in marks.values()} == {Mark.Source.IMPORT}
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="tremplin.selection.mark.changed").count() == 5
        assert AuditEvent.objects.filter(action="tremplin.selection.marks.imported").count() == 1


def test_bad_lines_are_reported_by_line_and_column_and_nothing_is_recorded(world, seated):
    selection, _ = seated
    apps = selection.applications
    text = (
        "Relevé des notes du test\n"  # a title above the header
        "reference;note\n"
        f"{apps[0].reference};12\n"
        f"{apps[1].reference};21\n"
        "SMA-99-9999;10\n"
        f"{apps[2].reference};douze\n"
        f"{apps[0].reference};13\n"
        f"{apps[3].reference};abs\n"
    )
    result = _run(world, selection, _csv(text), dry_run=False)
    assert not result.written
    assert [(p["line"], p["column"]) for p in result.problems] == [
        (4, "note"),
        (5, "reference"),
        (6, "note"),
        (7, "reference"),
    ]
    assert "between 0 and 20" in result.problems[0]["reason"]
    assert "Already on line 3" in result.problems[3]["reason"]
    assert _marks(selection) == {}


def test_marks_are_found_by_cin_or_by_candidate_number(world, seated):
    selection, session = seated
    apps = selection.applications
    by_cin = "CIN,Note /20\n" + f"{apps[0].cin.lower()},8\n"
    assert _run(world, selection, _csv(by_cin), dry_run=False).written
    with scopes_disabled():
        sitting = sm.TestSitting.objects.get(session=session, application=apps[1])
    by_number = "Numéro de candidat;Note\n" + f"{sitting.candidate_number};9,25\n"
    result = _run(world, selection, _csv(by_number), dry_run=False)
    assert result.key == "number" and result.written
    marks = _marks(selection)
    assert marks[apps[0].reference].value == Decimal(8)
    assert marks[apps[1].reference].value == Decimal("9.25")


def test_an_xlsx_file_with_absences_is_imported(world, seated):
    selection, _ = seated
    apps = selection.applications
    book = Workbook()
    sheet = book.active
    sheet.append(["Référence", "Note"])
    sheet.append([apps[0].reference, 14.5])
    sheet.append([apps[1].reference, "ABS"])
    sheet.append([apps[2].reference, None])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    result = _run(world, selection, data, name="notes.xlsx", dry_run=False)
    assert result.written and result.blank == 1
    marks = _marks(selection)
    assert marks[apps[0].reference].value == Decimal("14.5")
    assert marks[apps[1].reference].absent
    with scopes_disabled():
        assert sm.TestSitting.objects.get(application=apps[1]).present is False


def test_a_file_without_a_mark_column_is_refused(world, seated):
    selection, _ = seated
    result = _run(world, selection, _csv("reference;commentaire\nX;bien\n"))
    assert result.problems and "mark" in result.problems[0]["reason"]


def test_the_import_page_checks_then_records_the_same_file(world, seated):
    selection, _ = seated
    apps = selection.applications
    url = reverse("selection:test_import", args=selection.urls["test"])
    client = world.client("admissions")
    upload = SimpleUploadedFile(
        "notes.csv", f"reference;note\n{apps[0].reference};15\n".encode(), "text/csv"
    )
    checked = client.post(url, {"file": upload, "dry_run": "on"})
    assert checked.status_code == 200
    assert _marks(selection) == {}
    token = checked.context["token"]
    assert token
    done = client.post(url, {"token": token})
    assert done.status_code == 200 and done.context["result"].written
    assert _marks(selection)[apps[0].reference].value == Decimal(15)


def test_the_import_page_refuses_a_tampered_confirmation(world, seated):
    selection, _ = seated
    url = reverse("selection:test_import", args=selection.urls["test"])
    response = world.client("admissions").post(url, {"token": "forged"})
    assert response.status_code == 302
    assert _marks(selection) == {}


def test_the_command_checks_then_records_a_file(world, seated, tmp_path):
    from django.core.management import CommandError

    selection, _ = seated
    apps = selection.applications
    path = tmp_path / "notes.csv"
    path.write_text(f"reference;note\n{apps[0].reference};11\n{apps[1].reference};22\n")
    with pytest.raises(CommandError):
        call_command("import_marks", str(path), intake=selection.intake.slug)
    assert _marks(selection) == {}
    path.write_text(f"reference;note\n{apps[0].reference};11\n")
    call_command("import_marks", str(path), intake=selection.intake.slug, dry_run=True)
    assert _marks(selection) == {}
    call_command("import_marks", str(path), intake=selection.intake.slug)
    assert _marks(selection)[apps[0].reference].value == Decimal(11)


def test_the_import_page_opens_with_a_dry_run_ticked_and_no_error(world, seated):
    selection, _ = seated
    url = reverse("selection:test_import", args=selection.urls["test"])
    response = world.client("admissions").get(url)
    assert response.status_code == 200
    assert not response.context["form"].is_bound
    assert re.search(r'<input[^>]*name="dry_run"[^>]*checked', response.content.decode())


def test_a_checked_file_never_confirmed_is_deleted_once_its_hour_is_over(world, seated):
    selection, _ = seated
    apps = selection.applications
    url = reverse("selection:test_import", args=selection.urls["test"])
    client = world.client("admissions")
    tokens = []
    for mark in (12, 13):
        upload = SimpleUploadedFile(
            "notes.csv", f"reference;note\n{apps[0].reference};{mark}\n".encode(), "text/csv"
        )
        tokens.append(client.post(url, {"file": upload, "dry_run": "on"}).context["token"])
    old, recent = (signing_path(token) for token in tokens)
    an_hour_ago = time.time() - 3601
    os.utime(default_storage.path(old), (an_hour_ago, an_hour_ago))

    call_command("resume_stalled")

    # The marks and identifiers of the abandoned check are gone; the recent one waits.
    assert not default_storage.exists(old)
    assert default_storage.exists(recent)
    expired = client.post(url, {"token": tokens[0]})
    assert expired.status_code == 302 and _marks(selection) == {}
    done = client.post(url, {"token": tokens[1]})
    assert done.context["result"].written
    assert _marks(selection)[apps[0].reference].value == Decimal(13)
    assert not default_storage.exists(recent)  # used: deleted at once


def signing_path(token: str) -> str:
    return signing.loads(token, salt=STASH_SALT)["path"]
