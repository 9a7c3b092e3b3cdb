"""While one applicant's change, or an import, is being written, the others still apply
(PostgreSQL).

A change locks the application's row, and only it: a lock taken on the rows it was read
with (the call, the school, the commune) would hold up every submission of the school,
each of which checks its links to the call and the school, until the change commits. An
import, all or nothing, writes the whole file in one transaction: it takes its numbers
before, and locks the call only against a ranking's publication.
"""

import threading
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_scopes import scopes_disabled

from tests.admissions.builders import applicant, canonical_csv
from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions import documents, importing, screening, services
from tremplin.admissions.choices import DocumentKind
from tremplin.admissions.forms import ApplicationForm
from tremplin.admissions.models import Application, Intake
from tremplin.admissions.portal_reads import call_details

pytestmark = pytest.mark.postgres

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ROUNDS = 3


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are proven on PostgreSQL (run with DATABASE_URL)")


def _update(application):
    data = {field: getattr(application, field) for field in services.APPLICANT_FIELDS}
    wishes = [wish.track for wish in application.wishes.order_by("rank")]
    services.application_update(
        application=application, data={**data, "motivation": "Changé"}, wishes=wishes
    )


def _give_document(application):
    documents.application_document_give(
        application=application,
        kind=DocumentKind.CIN,
        upload=SimpleUploadedFile("cin.pdf", PDF),
        content_type="application/pdf",
    )


def _restore_rules(application):
    Application.objects.filter(pk=application.pk).update(
        eligibility_overridden=True, override_reason="Vu au guichet"
    )
    screening.eligibility_restore_rules(application=application, actor=None, reason="Erreur")


@pytest.mark.parametrize(
    ("change", "module"),
    [(_update, services), (_give_document, documents), (_restore_rules, screening)],
    ids=["applicant's correction", "document given", "staff restore the rules"],
)
def test_a_submission_does_not_wait_for_another_applicants_change(
    postgres_only, world, change, module
):
    intake = make_open_intake(world.smara, required_documents=["cin"])
    with scopes_disabled():
        tracks, rules = call_details(intake)
        first = _submit(intake, tracks, rules, "AB100000").application
    for round_number in range(ROUNDS):
        submission = _while_held(
            module,
            lambda: change(Application.objects.get(pk=first.pk)),
            lambda n=round_number: _submit(intake, tracks, rules, f"CD{200000 + n}"),
        )
        assert submission.created


def test_a_submission_does_not_wait_for_an_import_of_the_same_call(postgres_only, world):
    import io

    intake = make_open_intake(world.smara)
    with scopes_disabled():
        tracks, rules = call_details(intake)
    rows = [applicant(n) for n in range(120)]  # several batches (of 50)
    for round_number in range(ROUNDS):
        for n, row in enumerate(rows):
            row["cin"] = f"JA{round_number}{n:05d}"

        def run_the_import(rows=rows):
            result = importing.import_applications(
                intake=intake,
                fileobj=io.BytesIO(canonical_csv(rows)),
                filename="dossiers.csv",
                mode="all",
                dry_run=False,
                batch_size=50,
            )
            assert result.created == len(rows), result.report[:3]

        submission = _while_held(
            importing,  # its audit event, the last thing written
            run_the_import,
            lambda n=round_number: _submit(intake, tracks, rules, f"CD{300000 + n}"),
        )
        assert submission.created
    with scopes_disabled():
        numbers = list(Application.objects.filter(intake=intake).values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == ROUNDS * (len(rows) + 1)


def _while_held(module, change, work):
    """What ``work`` returns, run while ``change`` (in a thread of its own) holds its row
    lock, ready to commit: ``module.log_action``, its last step, waits until ``work`` ends.
    ``work`` waits at most 3 seconds for a lock, then raises."""
    locked, release, failures = threading.Event(), threading.Event(), []

    def hold_the_lock(*args, **kwargs):
        locked.set()
        release.wait(30)

    def run_the_change():
        try:
            with scopes_disabled(), mock.patch.object(module, "log_action", hold_the_lock):
                change()
        except Exception as error:
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run_the_change)
    thread.start()
    try:
        assert locked.wait(30), failures
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        with scopes_disabled():
            return work()
    finally:
        release.set()
        thread.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
        assert not failures, failures


def _submit(intake, tracks, rules, cin: str) -> services.Submission:
    return services.application_submit(
        intake=intake,
        rules=rules,
        data=_cleaned(cin),
        wishes=tracks,
        documents=[],
        language="fr",
        space_url="https://tremplin.example/applicant/",
    )


def _cleaned(cin: str) -> dict:
    """What the portal's form gives the service for ``form_data()`` with ``cin``."""
    intake = Intake.objects.get(slug="promo-2026")
    tracks, _rules = call_details(intake)
    form = ApplicationForm(form_data(cin=cin), intake=intake, tracks=tracks, with_documents=False)
    assert form.is_valid(), form.errors
    return form.cleaned_data
