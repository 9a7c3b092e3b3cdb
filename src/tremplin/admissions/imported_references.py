"""The reference of an imported applicant, sent after her import.

An import run without sending the references (the box left unticked, a file staff wanted to
check first) leaves applicants who do not know their reference, and cannot open their
applicant space. Staff send it later, to every imported applicant of the call who never got
it: the message the import would have sent, through the outbox.

Every application an import writes is marked (``Application.reference_unsent``, whether the
page or the command imported it) until the outbox sends a message with her reference
(``reference_sent``). The call's pages count the marked applications with no such message on
its way, through a partial index that also leaves out those who withdrew or were erased
(none, nearly always), not every message of the call: a call of 100,000 applicants took a
few hundred milliseconds a page. A message that failed leaves her marked: she never received
it, and staff can send it again.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django_scopes import scopes_disabled

from tremplin.admissions.models import Application, Intake
from tremplin.admissions.services import (
    ELIGIBILITY_NOTICE,
    applicant_messages,
    imported_message_context,
)
from tremplin.core.audit import log_action

TEMPLATE = "application_imported"
# The messages that gave an applicant her reference (or that she asked for with it): one
# of them on its way or sent, and she has it. A failed one gave her nothing.
WITH_THE_REFERENCE = (
    TEMPLATE,
    "application_submitted",
    "application_reminder",
    "applicant_code",
    ELIGIBILITY_NOTICE,
)
_CLEARING = frozenset(WITH_THE_REFERENCE) - {"application_submitted"}
# Applicants written to in one transaction, and at most in one click (about two seconds):
# a call of 100,000 sent without them is sent in twenty clicks, each page saying how many
# are left, rather than in one request longer than a server waits.
CHUNK = 1000
AT_ONCE = 5000


def references_unsent(intake: Intake) -> QuerySet[Application]:
    """The imported applications of ``intake`` still marked (no message with her reference
    was sent to her since her import), still submitted, not erased nor asked to be, and
    with no such message on its way either."""
    from tremplin.notify.models import Message

    given = Message.objects.filter(
        template__in=WITH_THE_REFERENCE,
        status__in=[Message.Status.PENDING, Message.Status.SENDING, Message.Status.SENT],
        content_type=ContentType.objects.get_for_model(Application),
        object_id=Cast(OuterRef("pk"), CharField()),
    )
    return Application.objects.filter(
        intake=intake,
        source=Application.Source.IMPORT,
        reference_unsent=True,
        status=Application.Status.SUBMITTED,
        erased_at__isnull=True,
        deletion_requested_at__isnull=True,
    ).exclude(Exists(given))


def references_count(intake: Intake) -> int:
    """How many imported applicants of ``intake`` wait for their reference."""
    return references_unsent(intake).count()


def references_send(*, intake: Intake, actor, space_url: str) -> tuple[int, int]:
    """Write the confirmation of import (her reference, the way to her space at
    ``space_url``) to at most ``AT_ONCE`` of the applicants ``references_unsent`` finds, in
    her language, on each channel she gave; the outbox sweep sends them. By chunks of
    ``CHUNK``, each in its transaction, under the call's row lock (no key: the portal's
    applications to the call do not wait), so that two clicks at once write to each once.
    Audited once. Returns (how many were written to, how many still wait)."""
    sent = 0
    while sent < AT_ONCE:
        written = _send_chunk(intake, space_url, min(CHUNK, AT_ONCE - sent))
        sent += written
        if not written:
            break
    if sent:
        log_action(
            "tremplin.applications.references_sent",
            actor=actor,
            school=intake.school,
            obj=intake,
            data={"count": sent},
        )
    return sent, references_unsent(intake).count()


@transaction.atomic
def _send_chunk(intake: Intake, space_url: str, size: int) -> int:
    from tremplin.notify.models import Message

    intake = (
        Intake.objects.select_for_update(no_key=True, of=("self",))
        .select_related("school")
        .get(pk=intake.pk)
    )
    applications = list(references_unsent(intake).order_by("number")[:size])
    for application in applications:
        application.intake = intake
    Message.objects.bulk_create(
        message
        for application in applications
        for message in applicant_messages(
            application, TEMPLATE, imported_message_context(application, space_url)
        )
    )
    return len(applications)


def reference_sent(sender, message, **kwargs) -> None:
    """``notify.signals.message_sent``: a message with her reference went (her import's, the
    one staff sent later, a change of her eligibility, a code she asked for): she has it,
    and leaves the count's index. Not the portal's confirmations: their applicants are never
    marked, and deadline day sends a million of them."""
    if message.template not in _CLEARING:
        return
    if message.content_type_id == ContentType.objects.get_for_model(Application).pk:  # cached
        with scopes_disabled():  # the outbox works for every school
            Application.objects.filter(pk=int(message.object_id), reference_unsent=True).update(
                reference_unsent=False
            )
