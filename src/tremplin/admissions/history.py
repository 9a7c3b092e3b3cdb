"""An application's history as its staff page shows it: the audit log's events about it,
each with what it adds to the action's name, and the milestones of its selection read from
their own tables (convocations, the published outcome, letters, the cohort), in the order
they happened."""

import datetime
from decimal import InvalidOperation
from types import SimpleNamespace

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tremplin.admissions import services
from tremplin.admissions.choices import DocumentKind
from tremplin.admissions.documents import DOCUMENT_GIVEN
from tremplin.admissions.importing_report import field_label
from tremplin.admissions.models import Application, Intake, Wish
from tremplin.core.formatting import format_datetime, format_list
from tremplin.core.i18n import localized
from tremplin.core.models import AuditEvent


def application_history(application: Application) -> list:
    """The lines of ``application``'s history, oldest first: each has ``created_at``,
    ``actor``, ``action``, ``detail`` and ``reason``."""
    from django.contrib.contenttypes.models import ContentType

    history = list(
        AuditEvent.objects.filter(
            school=application.intake.school,
            content_type=ContentType.objects.get_for_model(Application),
            object_id=str(application.pk),
        )
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    components = _component_names(application.intake)
    for event in history:
        event.detail = _event_detail(event, components)
    # Stable: lines of the same moment keep the audit log's order, then the milestones'.
    history = sorted([*history, *_milestones(application)], key=lambda e: e.created_at)
    if not any(event.action == services.APPLICATION_SUBMITTED for event in history):
        # Imported (the import's event names the call) or loaded before submissions were
        # recorded: the history still starts where the application did.
        history.insert(0, _arrival(application))
    return history


CONTACT_CORRECTED = "tremplin.applications.contact_corrected"
UPDATED_BY_APPLICANT = "tremplin.applications.updated_by_applicant"
MARK_CHANGED = "tremplin.selection.mark.changed"
# The history lines that say which way eligibility went.
ELIGIBILITY_DECIDED = (
    "tremplin.applications.eligibility_overridden",
    "tremplin.applications.eligibility_rechecked",
    "tremplin.applications.eligibility_rules_restored",
)


def _arrival(application: Application) -> SimpleNamespace:
    """The first line of a history that has no submission event: when and how the
    application arrived, and for an import, who imported which file (the import's one
    event, written for the call once its counts are known)."""
    actor, detail = None, application.get_source_display()
    imported = _import_event(application)
    if imported is not None:
        actor = imported.actor
        if imported.data.get("file"):
            detail = f"{detail} · {imported.data['file']}"
    if application.consent_attested:  # recorded on the application by its import
        attested = _("consent to the privacy notice attested")
        detail = f"{detail} · {attested}"
    return SimpleNamespace(
        created_at=application.created_at,
        actor=actor,
        action=services.APPLICATION_SUBMITTED,
        detail=detail,
        reason="",
    )


def _import_event(application: Application) -> AuditEvent | None:
    """The event of the import that wrote ``application``, if it was imported (who, which
    file): the first of the call's imports recorded after it was written."""
    if application.source != Application.Source.IMPORT:
        return None
    return _event_of_the_whole(
        application.intake.school_id,
        "tremplin.applications.imported",
        Intake,
        application.intake_id,
        application.created_at,
    )


def _event_of_the_whole(
    school_id: int, action: str, model, object_id: int, at: datetime.datetime
) -> AuditEvent | None:
    """The event a step done for many applications at once (an import, a convocation)
    records once, for the call or the component, just after it marked each of them at
    ``at``."""
    from django.contrib.contenttypes.models import ContentType

    return (
        AuditEvent.objects.filter(
            school_id=school_id,
            action=action,
            content_type=ContentType.objects.get_for_model(model),
            object_id=str(object_id),
            created_at__gte=at,
        )
        .select_related("actor")
        .order_by("created_at", "pk")
        .first()
    )


# Lines of the history read from their own tables: the audit log records these steps once
# for the call (a ranking published, a batch of letters), or not at all (an enrolment).
RANKING_PUBLISHED = "tremplin.selection.ranking.published"
TEST_CONVENED = "tremplin.selection.test.convened"
INTERVIEW_CONVENED = "tremplin.selection.interview.convened"
LETTER_PREPARED = "tremplin.letters.prepared"
ENROLLED = "tremplin.training.enrolled"


def _milestones(application: Application) -> list[SimpleNamespace]:
    """What the selection did with the application, each on its date: its convocations
    to the test and the interview (where and when; the latest, if convened again), the
    outcome the published ranking gave it, each letter it has (the latest of its kind: a
    letter made again replaces the one before), and the cohort it joined."""
    from tremplin.selection.models import InterviewSlot, Letter, RankingResult, TestSitting
    from tremplin.training.models import Enrolment

    def line(at, actor, action, detail) -> SimpleNamespace:
        return SimpleNamespace(created_at=at, actor=actor, action=action, detail=detail, reason="")

    lines = []
    school_id = application.intake.school_id
    for sitting in TestSitting.objects.filter(
        application=application, convened_at__isnull=False
    ).select_related("session"):
        session = sitting.session
        when = format_datetime(session.starts_at, "short")
        where = pgettext("a place, then a time", "%(place)s, %(time)s") % {
            "place": localized(session, "place"),
            "time": when,
        }
        convener = _convener(school_id, TEST_CONVENED, sitting.component_id, sitting.convened_at)
        lines.append(line(sitting.convened_at, convener, TEST_CONVENED, where))
    for slot in InterviewSlot.objects.filter(application=application, convened_at__isnull=False):
        when = format_datetime(slot.starts_at, "short")
        convener = _convener(school_id, INTERVIEW_CONVENED, slot.component_id, slot.convened_at)
        lines.append(line(slot.convened_at, convener, INTERVIEW_CONVENED, when))
    result = (
        RankingResult.objects.filter(application=application, run__published_at__isnull=False)
        .select_related("run__published_by", "track__track")
        .first()
    )
    if result is not None:
        lines.append(
            line(result.run.published_at, result.run.published_by, RANKING_PUBLISHED,
                 _outcome(result))
        )  # fmt: skip
    for letter in Letter.objects.filter(application=application).select_related(
        "batch__created_by"
    ):
        batch = letter.batch
        detail = capfirst(letter.get_kind_display())
        if batch is not None and batch.notify:
            # Its email only where she gave an address (``letters._notify``).
            sent = (
                _("%(letter)s, with its SMS and email")
                if application.email
                else _("%(letter)s, with its SMS")
            )
            detail = sent % {"letter": detail}
        at = (batch.finished_at or batch.created_at) if batch is not None else letter.created_at
        lines.append(line(at, batch.created_by if batch else None, LETTER_PREPARED, detail))
    enrolment = Enrolment.objects.filter(application=application).select_related("cohort").first()
    if enrolment is not None:
        lines.append(line(enrolment.enrolled_at, None, ENROLLED, str(enrolment.cohort)))
    return lines


def _convener(school_id: int, action: str, component_id: int, at: datetime.datetime):
    """Who convened: the convocation is audited for the test or the interview as a whole,
    just after the applicants' places are marked convened; the school's staff, unnamed,
    when it was not (places marked convened by a script, the demo's)."""
    from tremplin.selection.models import Component

    event = _event_of_the_whole(school_id, action, Component, component_id, at)
    return event.actor if event is not None else _("school staff")


def _outcome(result) -> str:
    """A published result as the history says it: "On the waiting list, position 12", and
    the track it is about when the call has several."""
    outcome = capfirst(result.get_outcome_display())
    if result.waitlist_position:
        outcome = _("%(outcome)s, position %(position)s") % {
            "outcome": outcome,
            "position": result.waitlist_position,
        }
    if result.track_id:
        outcome = f"{outcome} · {localized(result.track.track, 'name')}"
    return outcome


def _event_detail(event: AuditEvent, components: dict[str, str]) -> str:
    """What a line of the history adds to the action's name: how the application came and
    what the rules said then, which document was sent, which way eligibility was decided,
    what the applicant corrected, which mark changed (``components``: their names by
    code); and where the applicant's own change moved her eligibility."""
    detail = _what_happened(event, components)
    moved = event.data.get("eligibility")
    if isinstance(moved, dict) and moved.get("to") in Application.Eligibility.values:
        now = _("now %(eligibility)s") % {"eligibility": Application.Eligibility(moved["to"]).label}
        detail = f"{detail} · {now}" if detail else now
    return detail


def _what_happened(event: AuditEvent, components: dict[str, str]) -> str:
    if event.action == services.APPLICATION_SUBMITTED:
        parts = []
        if event.data.get("source") in Application.Source.values:
            parts.append(Application.Source(event.data["source"]).label)
        if event.data.get("eligibility") in Application.Eligibility.values:
            parts.append(Application.Eligibility(event.data["eligibility"]).label)
        return " · ".join(str(part) for part in parts)
    if event.action == DOCUMENT_GIVEN and event.data.get("kind") in DocumentKind.values:
        document = DocumentKind(event.data["kind"]).label
        if event.data.get("replaced"):
            return _("%(document)s, in place of the one sent before") % {"document": document}
        return str(document)
    decided = event.data.get("to")
    if event.action in ELIGIBILITY_DECIDED and decided in Application.Eligibility.values:
        return str(Application.Eligibility(decided).label)
    if event.action == CONTACT_CORRECTED:
        labels = {"phone": _("Mobile phone"), "email": _("Email")}
        return format_list(str(labels[f]) for f in event.data.get("fields", ()) if f in labels)
    if event.action == UPDATED_BY_APPLICANT:
        # The names of the fields only, as recorded: not their values.
        return format_list(_field_name(f) for f in event.data.get("fields", ()))
    if event.action == MARK_CHANGED:
        return _("%(component)s: %(new)s (before: %(old)s)") % {
            "component": components.get(event.data.get("component"), event.data.get("component")),
            "new": _mark(event.data.get("new")),
            "old": _mark(event.data.get("old")),
        }
    return ""


def _field_name(name: str) -> str:
    if name == "wishes":
        return capfirst(Wish._meta.verbose_name_plural)
    try:
        return field_label(name)
    except FieldDoesNotExist:  # a field since removed, in an old event
        return name


def _mark(recorded: str | None) -> str:
    """A mark as the audit log records it (``assessment_marks.mark_label``), to be read in
    the reader's language (``12,5`` in French and Arabic)."""
    from tremplin.selection.templatetags.assessment_tags import mark

    if recorded is None:
        return "—"
    try:
        return mark(recorded)
    except InvalidOperation:  # not a number: shown as recorded
        return recorded


def _component_names(intake: Intake) -> dict[str, str]:
    """The names of the call's marked parts by code, in the reader's language."""
    from tremplin.selection.models import Component

    return {c.code: localized(c, "name") for c in Component.objects.filter(scheme__intake=intake)}
