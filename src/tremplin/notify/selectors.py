"""Reads of the outbox for staff pages."""

from django.db.models import Count, QuerySet

from tremplin.notify.models import Message


def outbox_list(*, school, status: str = "") -> QuerySet[Message]:
    """The school's messages, newest first, optionally of one status (ignored if unknown)."""
    messages = Message.objects.filter(school=school).order_by("-created_at", "-id")
    if status in Message.Status.values:
        messages = messages.filter(status=status)
    return messages


def outbox_counts(*, school) -> dict[str, int]:
    """How many of the school's messages are in each status (every status, zeros included)."""
    rows = Message.objects.filter(school=school).values_list("status").annotate(n=Count("id"))
    counts = dict.fromkeys(Message.Status.values, 0)
    counts.update(dict(rows.order_by()))
    return counts
