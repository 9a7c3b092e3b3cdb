"""The retention schedule (law 09-08): the personal data of applicants who did not join the
school is erased RETENTION_MONTHS after their call closed; learners and offer holders keep
theirs, the statistics stay, and each erasure is audited. On the Smara demo."""

import datetime
from collections import Counter

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.conftest import verified_client
from tremplin.admissions.eligibility import age_on
from tremplin.admissions.models import Application, Intake
from tremplin.admissions.retention import erasure_date, retention_apply, retention_due
from tremplin.core.models import AuditEvent, User
from tremplin.notify.services import message_enqueue
from tremplin.selection.models import Offer


def promotion(slug="promotion-2025") -> Intake:
    with scopes_disabled():
        return Intake.objects.get(slug=slug)


def months_after_close(months: int, days: int = 0) -> datetime.datetime:
    closes = promotion().closes_at
    return closes.replace(year=closes.year + months // 12) + datetime.timedelta(
        days=30 * (months % 12) + days
    )


def applications(**filters) -> list[Application]:
    with scopes_disabled():
        return list(Application.objects.filter(intake__slug="promotion-2025", **filters))


def kept() -> set[int]:
    """Those of Promotion 2025 who joined the school or still hold an offer."""
    with scopes_disabled():
        learners = set(
            Application.objects.filter(
                intake__slug="promotion-2025", enrolment__isnull=False
            ).values_list("pk", flat=True)
        )
        holders = set(
            Offer.objects.filter(
                application__intake__slug="promotion-2025", status__in=["live", "accepted"]
            ).values_list("application_id", flat=True)
        )
    return learners | holders


@pytest.mark.django_db
def test_nothing_is_erased_before_the_retention_period_is_over(demo):
    assert retention_apply(now=months_after_close(23)).erased == 0
    assert not applications(erased_at__isnull=False)


@pytest.mark.django_db
def test_after_it_those_who_did_not_join_are_erased_and_the_others_kept(demo):
    before = {a.pk: a for a in applications()}
    statuses = Counter(a.status for a in before.values())
    staying = kept()
    assert 60 < len(staying) < len(before)

    run = retention_apply(now=months_after_close(25))

    assert (run.erased, run.calls) == (len(before) - len(staying), 1)
    for application in applications():
        was = before[application.pk]
        if application.pk in staying:
            assert application.erased_at is None
            assert (application.cin, application.first_name) == (was.cin, was.first_name)
            continue
        assert application.erased_at is not None
        assert application.cin != was.cin and application.cin.startswith("~")
        assert (application.first_name, application.last_name_ar, application.phone) == ("", "", "")
        # The year, and the age on the reference date that the statistics count.
        reference = application.intake.reference_date
        assert application.birth_date.year == was.birth_date.year
        assert age_on(application.birth_date, reference) == age_on(was.birth_date, reference)
        assert (application.birth_date.month, application.birth_date.day) in ((1, 1), (12, 31))
        # What the funder's statistics need stays, and so does the status: the funnel of
        # the call still adds up (an erasure on request withdraws; this one does not).
        assert (application.sex, application.commune_id, application.employment) == (
            was.sex,
            was.commune_id,
            was.employment,
        )
    assert Counter(a.status for a in applications()) == statuses
    # The open call of 2026 is untouched.
    with scopes_disabled():
        assert not Application.objects.filter(
            intake__slug="promotion-2026", erased_at__isnull=False
        ).exists()


@pytest.mark.django_db
def test_their_messages_lose_their_text_and_each_erasure_is_audited_by_the_system(demo):
    staying = kept()
    leaving = next(a for a in applications() if a.pk not in staying)
    with scopes_disabled():
        message = message_enqueue(
            channel="sms",
            to=leaving.phone,
            template="application_submitted",
            context={"school_name": "Smara", "reference": leaving.reference, "space_url": ""},
            language="fr",
            school=leaving.intake.school,
            related=leaving,
        )
    assert leaving.reference in message.body

    retention_apply(now=months_after_close(25))

    erased = {a.pk for a in applications(erased_at__isnull=False)}
    with scopes_disabled():
        message.refresh_from_db()
        events = list(AuditEvent.objects.filter(action="tremplin.applications.erased"))
    assert (message.recipient, message.body) == ("", "")
    assert {int(e.object_id) for e in events} == erased
    assert {e.actor for e in events} == {None}  # the system
    assert events[0].reason == (
        "Durée de conservation écoulée\u00a0: l'appel a été clos il y a plus de 24 mois."
    )
    assert events[0].data["retention_months"] == 24
    # Events recorded before name the application by its reference only, from now on.
    with scopes_disabled():
        about = AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Application), object_id=str(leaving.pk)
        )
        reprs = set(about.values_list("object_repr", flat=True))
    assert reprs == {leaving.reference}


@pytest.mark.django_db
def test_a_dry_run_counts_and_changes_nothing_and_a_second_run_erases_nothing_more(demo):
    with scopes_disabled():  # the sweep runs for every school
        due = retention_due(now=months_after_close(25)).count()
    dry = retention_apply(now=months_after_close(25), dry_run=True)
    assert (dry.erased, dry.calls) == (due, 1) and due > 0
    assert not applications(erased_at__isnull=False)
    assert retention_apply(now=months_after_close(25)).erased == due
    assert retention_apply(now=months_after_close(26)).erased == 0


@pytest.mark.django_db
@override_settings(RETENTION_MONTHS=6)
def test_the_period_is_a_setting(demo):
    assert retention_apply(now=months_after_close(5)).erased == 0
    assert retention_apply(now=months_after_close(7)).erased > 0


@pytest.mark.django_db
def test_the_command_reports_what_it_erases(demo, capsys):
    call_command("apply_retention", "--dry-run")
    # The demo's call closed in 2025: nothing is due yet.
    assert "Would erase the personal data of 0 applications" in capsys.readouterr().out
    assert not applications(erased_at__isnull=False)


@pytest.mark.django_db
def test_the_staff_see_when_the_personal_data_of_a_call_will_be_erased(demo):
    intake = promotion()
    client = verified_client(User.objects.get(username="directrice"))
    url = reverse("admissions:intake_detail", args=["smara", intake.slug])
    response = client.get(url, headers={"accept-language": "fr"})
    assert response.status_code == 200, response.status_code
    when = erasure_date(intake)
    assert when > intake.closes_at.date()
    assert response.context["erasure_date"] == when
    assert "seront effacées le" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("months", "language", "said"),
    [
        (1, "en", ", 1 month after the call closes."),
        (24, "en", ", 24 months after the call closes."),
        (1, "ar", "، بعد شهر واحد من إغلاق باب الترشيح."),
        (2, "ar", "، بعد شهرين من إغلاق باب الترشيح."),
        (6, "ar", "، بعد 6 أشهر من إغلاق باب الترشيح."),
        (24, "ar", "، بعد 24 شهرا من إغلاق باب الترشيح."),
        (100, "ar", "، بعد 100 شهر من إغلاق باب الترشيح."),
        (6, "fr", ", 6 mois après la clôture de l'appel."),
    ],
)
def test_the_privacy_notice_says_the_period_in_the_grammar_of_its_number(
    demo, settings, months, language, said
):
    from django.template.loader import render_to_string
    from django.utils import translation

    settings.RETENTION_MONTHS = months
    intake = promotion()
    with translation.override(language):
        notice = render_to_string(
            "admissions/portal/_privacy_notice.html",
            {"intake": intake, "erasure_date": erasure_date(intake), "retention_months": months},
        )
    assert said in " ".join(notice.split()).replace("&#x27;", "'")


@pytest.mark.django_db
def test_an_erasure_that_fails_is_left_for_the_next_sweep_and_the_others_go_on(demo, monkeypatch):
    from tremplin.admissions import retention

    with scopes_disabled():
        due = list(retention_due(now=months_after_close(25)).values_list("pk", flat=True))
    stuck = due[len(due) // 2]
    erase = retention.personal_data_erase

    def failing(locked, **audit):
        erase(locked, **audit)
        if locked.pk == stuck:
            raise OSError("the storage is unreachable")

    monkeypatch.setattr(retention, "personal_data_erase", failing)
    run = retention_apply(now=months_after_close(25))
    assert (run.erased, run.failed) == (len(due) - 1, 1)
    with scopes_disabled():
        assert Application.objects.get(pk=stuck).erased_at is None  # rolled back, whole
    monkeypatch.setattr(retention, "personal_data_erase", erase)
    assert retention_apply(now=months_after_close(25)).erased == 1


@pytest.mark.django_db
def test_the_documents_files_go_once_the_erasure_commits(demo, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    from tremplin.admissions.models import Document

    leaving = next(a for a in applications() if a.pk not in kept())
    with scopes_disabled():
        document = Document(
            application=leaving, kind="cin", content_type="application/pdf", size=8,
            original_name="cin.pdf",
        )  # fmt: skip
        document.file.save("upload", ContentFile(b"%PDF-1.4"), save=True)
    storage, name = document.file.storage, document.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        retention_apply(now=months_after_close(25))
    with scopes_disabled():
        assert not Document.objects.filter(application=leaving).exists()
    assert not storage.exists(name)


@pytest.mark.django_db
def test_the_reports_of_imports_into_the_call_are_emptied_with_it(demo):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from tremplin.admissions.models import ImportJob

    refused = [{"line": 7, "column": "cin", "value": "ZZ 12", "code": "cin_invalid"}]
    stored = default_storage.save("private/import-reports/old.jsonl.gz", ContentFile(b"x"))
    with scopes_disabled():
        old, current = (
            ImportJob.objects.create(
                intake=promotion(slug),
                original_name="candidats.csv",
                mode="valid",
                status="done",
                error_count=1,
                report=refused,
                report_file=stored if slug == "promotion-2025" else "",
            )
            for slug in ("promotion-2025", "promotion-2026")
        )

    retention_apply(now=months_after_close(23))
    with scopes_disabled():
        old.refresh_from_db()
    assert old.report == refused  # not yet

    retention_apply(now=months_after_close(25))
    with scopes_disabled():
        old.refresh_from_db()
        current.refresh_from_db()
    assert (old.report, old.report_file.name, old.error_count) == ([], "", 1)
    assert not default_storage.exists(stored)
    assert current.report == refused  # its call is open


@pytest.mark.django_db
def test_the_sweep_deletes_expired_sessions_and_keeps_live_ones():
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    live, expired = SessionStore(), SessionStore()
    for store in (live, expired):
        store["tremplin.applications.list.1"] = "sex=F"
        store.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(minutes=1)
    )
    call_command("apply_retention", "--dry-run")
    assert Session.objects.count() == 2  # a dry run changes nothing

    call_command("apply_retention")

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
