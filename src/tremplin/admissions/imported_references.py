"""The reference of an imported applicant, sent after her import.

An import run without sending the references (the box left unticked, a file staff wanted to
check first) leaves applicants who do not know their reference, and cannot open their
applicant space. Staff send it later, to every imported applicant of the call who never got
it: the message the import would have sent, through the outbox.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast

from tremplin.admissions.models import Application, Intake
from tremplin.admissions.services import applicant_messages, message_context
from tremplin.core.audit import log_action

TEMPLATE = "application_imported"


def references_unsent(intake: Intake) -> QuerySet[Application]:
    """The imported applications of ``intake`` still submitted, not erased, about which no
    confirmation of import was ever written (sent, waiting or failed: the outbox retries
    those it has)."""
    from tremplin.notify.models import Message

    confirmed = Message.objects.filter(
        template=TEMPLATE,
        content_type=ContentType.objects.get_for_model(Application),
        object_id=Cast(OuterRef("pk"), CharField()),
    )
    return Application.objects.filter(
        intake=intake,
        source=Application.Source.IMPORT,
        status=Application.Status.SUBMITTED,
        erased_at__isnull=True,
    ).exclude(Exists(confirmed))


@transaction.atomic
def references_send(*, intake: Intake, actor, space_url: str) -> int:
    """Write the confirmation of import (her reference, the way to her space at
    ``space_url``) of each application ``references_unsent`` finds, in her language, on each
    channel she gave; the outbox sweep sends them. Audited once. Returns how many
    applicants; two clicks at once send once (the call's row is locked first)."""
    from tremplin.notify.models import Message

    intake = (
        Intake.objects.select_for_update(of=("self",)).select_related("school").get(pk=intake.pk)
    )
    applications = list(references_unsent(intake).order_by("number"))
    for application in applications:
        application.intake = intake
    Message.objects.bulk_create(
        message
        for application in applications
        for message in applicant_messages(
            application, TEMPLATE, {**message_context(application), "space_url": space_url}
        )
    )
    if applications:
        log_action(
            "tremplin.applications.references_sent",
            actor=actor,
            school=intake.school,
            obj=intake,
            data={"count": len(applications)},
        )
    return len(applications)
