"""Permission cases of this part of selection, merged into tests/test_permissions.py.

`CASES` maps URL names to their expected answers per persona; `url_values` gives the values
of the URL parameters this part owns, building the objects it needs for Smara (`objects`
holds the open intake and its application built by the `smara_objects` fixture).
"""

from django.core.files.base import ContentFile
from django_scopes import scopes_disabled

from tests.permission_case import ADMISSIONS_STAFF, Case, everyone, staff
from tremplin.selection.models import Letter, LetterBatch

CASES: dict = {
    # The applicant space: without an applicant's session, back to the access page.
    "selection:applicant_letter": everyone(302),
    "selection:letter_download": Case(expect=ADMISSIONS_STAFF),
    "selection:letter_batches": Case(expect=ADMISSIONS_STAFF),
    "selection:letter_batch": Case(expect=ADMISSIONS_STAFF),
    # A batch that did not fail is not started again: back to its page.
    "selection:letter_batch_retry": Case(method="post", expect=staff(302)),
}


def url_values(world, objects: dict) -> dict:
    application = objects["application"]
    with scopes_disabled():
        batch = LetterBatch.objects.create(
            intake=objects["intake"],
            kind=Letter.Kind.DECISION,
            status=LetterBatch.Status.DONE,
            total=1,
            done=1,
            application_ids=[application.pk],
        )
        letter, _ = Letter.objects.get_or_create(
            application=application,
            kind=Letter.Kind.DECISION,
            defaults={"batch": batch, "language": "fr", "pages": 1},
        )
        if not letter.file:
            letter.file.save("letter.pdf", ContentFile(b"%PDF-1.7\n"), save=True)
    return {"letter_id": letter.pk, "letter_batch_id": batch.pk}
