"""What the selection holds about an applicant that an erasure (law 09-08) must remove; the
admissions' erasure (``admissions.personal_data.personal_data_erase``) calls it."""

from django.contrib.contenttypes.models import ContentType

from tremplin.admissions.models import Application
from tremplin.core.models import AuditEvent
from tremplin.selection.interviews import CONFLICT_REMOVED
from tremplin.selection.models import ConflictOfInterest, Offer, ScoreSheet


def selection_notes_erase(*, application: Application) -> None:
    """Empty what staff and jurors wrote about the applicant during the selection (an
    erasure, law 09-08): the jurors' comments, the reasons of conflicts of interest and of
    offers, and the reasons recorded with amended score sheets and removed conflicts. Marks,
    outcomes and dates stay: the selection's results still add up."""
    removals = AuditEvent.objects.filter(
        action=CONFLICT_REMOVED,
        content_type=ContentType.objects.get_for_model(application),
        object_id=str(application.pk),
    )
    for event in removals:  # what the conflict was: the event says that it was removed
        event.data = {key: value for key, value in event.data.items() if key != "declared_reason"}
        event.save(update_fields=["data"])
    sheets = ScoreSheet.objects.filter(application=application)
    AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(ScoreSheet),
        object_id__in=[str(pk) for pk in sheets.values_list("pk", flat=True)],
    ).exclude(reason="").update(reason="")
    sheets.exclude(comment="").update(comment="")
    ConflictOfInterest.objects.filter(application=application).exclude(reason="").update(reason="")
    Offer.objects.filter(application=application).exclude(reason="").update(reason="")
