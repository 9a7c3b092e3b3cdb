"""Reads of the outbox for staff pages."""

from dataclasses import dataclass, fields, replace
from datetime import datetime
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField, CharField, Count, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from tremplin.core.text import typed_search
from tremplin.notify.models import Message


@dataclass(frozen=True)
class OutboxFilters:
    """What staff narrowed the outbox to: a status, a channel, a kind of message (its
    template) and part of an application's reference ("0042" finds SMA-26-0042). The same
    filters choose what "send again" takes, so they travel in the page's query and in its
    forms. Unknown values are dropped rather than refused: an old bookmark shows more."""

    status: str = ""
    channel: str = ""
    template: str = ""
    reference: str = ""

    @classmethod
    def from_params(cls, params) -> "OutboxFilters":
        from tremplin.notify.services import MESSAGE_TEMPLATES

        def known(name: str, values) -> str:
            value = params.get(name, "")
            return value if value in values else ""

        return cls(
            status=known("status", Message.Status.values),
            channel=known("channel", Message.Channel.values),
            template=known("template", MESSAGE_TEMPLATES),
            reference=" ".join(typed_search(params.get("ref")).split())[:40],
        )

    def params(self, **changes: str) -> dict[str, str]:
        """The filters as query parameters (the empty ones left out), some changed."""
        values = {**{f.name: getattr(self, f.name) for f in fields(self)}, **changes}
        values["ref"] = values.pop("reference")
        return {name: value for name, value in values.items() if value}

    def query(self, **changes: str) -> str:
        """``params`` as a query string, with its "?" (the page itself when empty)."""
        return "?" + urlencode(self.params(**changes))

    def __bool__(self) -> bool:
        return bool(self.params())

    def apply(self, messages: QuerySet[Message], *, school) -> QuerySet[Message]:
        if self.status:
            messages = messages.filter(status=self.status)
        if self.channel:
            messages = messages.filter(channel=self.channel)
        if self.template:
            messages = messages.filter(template=self.template)
        if self.reference:
            from tremplin.admissions.models import Application  # nearly every message is one's

            # A subquery, not a list: "2" matches most of a school's applications.
            ids = (
                Application.objects.filter(
                    intake__school=school, reference__icontains=self.reference
                )
                .annotate(as_text=Cast("pk", CharField()))
                .values("as_text")
            )
            messages = messages.filter(
                content_type=ContentType.objects.get_for_model(Application), object_id__in=ids
            )
        return messages


NO_FILTER = OutboxFilters()


def outbox_list(*, school, filters: OutboxFilters = NO_FILTER) -> QuerySet[Message]:
    """The school's messages, newest first, as ``filters`` narrow them: "was this applicant
    told?"."""
    return filters.apply(
        Message.objects.filter(school=school).order_by("-created_at", "-id"), school=school
    )


def sendable_again() -> Q:
    """The failed messages that sending again can still serve, whatever their age
    (``services.messages_retry`` leaves the old ones): not those whose recipient an erasure
    emptied (nobody to send to), nor those past their expiry (a one-time code that no longer
    works would only mislead). Those refused "for good" stay among them: the gateway's 400
    is most often a wrong number (corrected on the application's page, which sends them to
    the new one), but can be the platform's own mistake (a sender name, a text too long),
    after which the same message goes through."""
    return Q(status=Message.Status.FAILED) & ~Q(recipient="") & ~Q(expires_at__lte=timezone.now())


def waiting_to_be_tried_again() -> Q:
    """The messages that failed once or more and wait for their next try (the backoff, up to
    an hour): once the cause is fixed, staff may try them now (``services.message_try_now``)
    rather than wait. Not those past their expiry: the sender would only expire them."""
    return (
        Q(status=Message.Status.PENDING, attempts__gt=0, next_attempt_at__gt=timezone.now())
        & ~Q(recipient="")
        & ~Q(expires_at__lte=timezone.now())
    )


def outbox_retryable(*, school, filters: OutboxFilters = NO_FILTER) -> QuerySet[Message]:
    """The messages of the list as filtered (``outbox_list``) that can be sent again."""
    return outbox_list(school=school, filters=filters).filter(sendable_again())


def outbox_retryable_together(*, school, filters: OutboxFilters = NO_FILTER) -> QuerySet[Message]:
    """``outbox_retryable`` but the confirmations held back by the limit to one recipient
    (``services._over_the_limit``): sent again one by one only, when staff know one is
    wanted, never with the others (that would send the flood)."""
    return outbox_retryable(school=school, filters=filters).exclude(failure=Message.Failure.LIMITED)


def outbox_page(*, school, filters: OutboxFilters = NO_FILTER) -> QuerySet[Message]:
    """``outbox_list``, each message saying whether it can be sent again
    (``can_be_sent_again``) or tried now (``can_be_tried_now``): its own button."""
    return outbox_list(school=school, filters=filters).annotate(
        can_be_sent_again=ExpressionWrapper(sendable_again(), output_field=BooleanField()),
        can_be_tried_now=ExpressionWrapper(
            waiting_to_be_tried_again(), output_field=BooleanField()
        ),
    )


def outbox_retryable_counts(
    *, school, filters: OutboxFilters = NO_FILTER, since: datetime
) -> tuple[int, int]:
    """How many of ``outbox_retryable_together`` were written since ``since``, and how many
    before (too old to be sent again), in one query."""
    counts = (
        outbox_retryable_together(school=school, filters=filters)
        .order_by()
        .aggregate(
            recent=Count("pk", filter=Q(created_at__gte=since)),
            old=Count("pk", filter=Q(created_at__lt=since)),
        )
    )
    return counts["recent"], counts["old"]


def outbox_counts(*, school, filters: OutboxFilters = NO_FILTER) -> dict[str, int]:
    """How many of the school's messages are in each status (every status, zeros included),
    under the list's other filters (a facet: the status filter is the one these counts
    choose, so it does not apply to them)."""
    rows = (
        outbox_list(school=school, filters=replace(filters, status=""))
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
