"""The applicant's documents after the application: given later, or replaced, from the space.

An applicant on a phone may not have a scan of her diploma at hand when she applies, or may
send the wrong photo; an application imported from a spreadsheet comes without any file.
Until the closing date she gives or replaces each document the call asks for, and the rules
are checked again: a missing document is a reason of ineligibility that this lifts.
"""

from django.db import transaction

from tremplin.admissions import eligibility
from tremplin.admissions.models import Application, Document
from tremplin.admissions.services import (
    ApplicationClosed,
    _document,
    check_eligibility,
    decision_to_review,
    eligibility_moved,
)
from tremplin.admissions.uploads import sha256_of
from tremplin.core.audit import log_action

# Its SHA-256s are forgotten when the application is erased (``personal_data``).
DOCUMENT_GIVEN = "tremplin.applications.document_given"


def application_document_give(
    *, application: Application, kind: str, upload, content_type: str
) -> Document:
    """Store ``upload`` as the application's document of ``kind`` (one of the call's required
    documents, its type already checked from the content), in place of any given before.

    Raises ``ApplicationClosed`` once the application no longer accepts changes. The new file
    is deleted if the change does not commit; the file it replaces, once it has. The audit
    event keeps the new file's SHA-256 and what staff need to know of the replaced one
    (``_replaced``), since its file is gone.
    """
    sha256 = sha256_of(upload)
    document = None
    try:
        with transaction.atomic():
            locked = (
                Application.objects.select_for_update(of=("self",))  # not the call's row
                .select_related("intake__school", "commune")
                .get(pk=application.pk)
            )
            if not locked.accepts_changes:
                raise ApplicationClosed
            if kind not in locked.intake.required_documents:
                raise ValueError(f"The call does not ask for a document of kind {kind!r}.")
            replaced = list(locked.documents.filter(kind=kind))
            previous = [_replaced(old) for old in replaced]  # before their files go
            document = _document(locked, kind, upload, content_type)
            document.save()
            for old in replaced:
                old.delete()
                transaction.on_commit(lambda f=old.file: f.delete(save=False), robust=True)
            decision_to_review(locked)
            was = locked.eligibility
            check_eligibility(locked, eligibility.Rules.of(locked.intake))
            locked.save(
                update_fields=[
                    "changed_since_decision_at",
                    "eligibility",
                    "eligibility_reasons",
                    "eligibility_checked_at",
                    "updated_at",
                ]
            )
            log_action(
                DOCUMENT_GIVEN,
                school=locked.intake.school,
                obj=locked,
                data={
                    "kind": kind,
                    "sha256": sha256,
                    "replaced": bool(replaced),
                    **({"previous": previous} if previous else {}),
                    **eligibility_moved(was, locked),
                },
            )
    except BaseException:
        if document is not None and document.file:
            document.file.delete(save=False)
        raise
    application.refresh_from_db()
    return document


def _replaced(document: Document) -> dict:
    """A document about to be replaced, as the audit log keeps it: its type, size, upload time
    and SHA-256 (to match a copy someone kept), not its original file name, which may carry a
    name or a CIN (its storage name is random: it says nothing once the file is gone)."""
    try:
        with document.file.storage.open(document.file.name, "rb") as stored:
            sha256 = sha256_of(stored)
    except OSError:  # already missing from the storage: the row still says what it was
        sha256 = None
    return {
        "content_type": document.content_type,
        "size": document.size,
        "uploaded_at": document.uploaded_at.isoformat(),
        "sha256": sha256,
    }
