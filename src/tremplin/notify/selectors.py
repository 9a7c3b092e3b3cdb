"""Reads of the outbox for staff pages."""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from tremplin.notify.models import Message


def outbox_list(*, school, status: str = "", reference: str = "") -> QuerySet[Message]:
    """The school's messages, newest first, optionally of one status (ignored if unknown) and
    about one application (its reference, in any case): "was this applicant told?"."""
    messages = Message.objects.filter(school=school).order_by("-created_at", "-id")
    if status in Message.Status.values:
        messages = messages.filter(status=status)
    if reference:
        from tremplin.admissions.models import Application  # nearly every message is about one

        ids = Application.objects.filter(
            intake__school=school, reference__iexact=reference.strip()
        ).values_list("pk", flat=True)
        messages = messages.filter(
            content_type=ContentType.objects.get_for_model(Application),
            object_id__in=[str(pk) for pk in ids],
        )
    return messages


def sendable_again() -> Q:
    """The failed messages that sending again can still serve, whatever their age
    (``services.messages_retry`` leaves the old ones): not those whose recipient an erasure
    emptied (nobody to send to), nor those past their expiry (a one-time code that no longer
    works would only mislead). Those refused "for good" stay among them: the gateway's 400
    is most often a wrong number (corrected on the application's page, which sends them to
    the new one), but can be the platform's own mistake (a sender name, a text too long),
    after which the same message goes through."""
    return Q(status=Message.Status.FAILED) & ~Q(recipient="") & ~Q(expires_at__lte=timezone.now())


def outbox_retryable(*, school, status: str = "", reference: str = "") -> QuerySet[Message]:
    """The messages of the list as filtered (``outbox_list``) that can be sent again."""
    return outbox_list(school=school, status=status, reference=reference).filter(sendable_again())


def outbox_page(*, school, status: str = "", reference: str = "") -> QuerySet[Message]:
    """``outbox_list``, each message saying whether it can be sent again (``can_be_sent_again``:
    its own button)."""
    return outbox_list(school=school, status=status, reference=reference).annotate(
        can_be_sent_again=ExpressionWrapper(sendable_again(), output_field=BooleanField())
    )


def outbox_retryable_counts(
    *, school, status: str = "", reference: str = "", since: datetime
) -> tuple[int, int]:
    """How many of ``outbox_retryable`` were written since ``since``, and how many before
    (too old to be sent again), in one query."""
    counts = (
        outbox_retryable(school=school, status=status, reference=reference)
        .order_by()
        .aggregate(
            recent=Count("pk", filter=Q(created_at__gte=since)),
            old=Count("pk", filter=Q(created_at__lt=since)),
        )
    )
    return counts["recent"], counts["old"]


def outbox_counts(*, school, reference: str = "") -> dict[str, int]:
    """How many of the school's messages are in each status (every status, zeros included),
    under the list's other filters (a facet: the status filter is the one these counts
    choose, so it does not apply to them)."""
    rows = (
        outbox_list(school=school, reference=reference)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(Message.Status.values, 0)
    counts.update(dict(rows))
    return counts


def outbox_applications(messages) -> dict[int, object]:
    """The application each of ``messages`` is about, by message id, in one query: the page
    names it by its reference and links to it."""
    from tremplin.admissions.models import Application

    application_type = ContentType.objects.get_for_model(Application)
    wanted = {
        m.pk: int(m.object_id)
        for m in messages
        if m.content_type_id == application_type.pk and m.object_id.isdigit()
    }
    found = Application.objects.select_related("intake").in_bulk(set(wanted.values()))
    return {pk: found[app_id] for pk, app_id in wanted.items() if app_id in found}
