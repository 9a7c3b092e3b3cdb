"""Access helpers of the written test and the interviews: fetch inside the current school and
intake, 404 for missing or forbidden alike. Call them from views decorated with
``school_view`` (the school's scope is active)."""

from django.http import Http404, HttpRequest

from tremplin.admissions.models import Application, Intake
from tremplin.selection.models import (
    Component,
    ConflictOfInterest,
    InterviewSlot,
    Panel,
    TestSession,
    TestSitting,
)


def _component(intake: Intake, code: str, kind: str) -> Component:
    try:
        return Component.objects.select_related("scheme").get(
            scheme__intake=intake, code=code, kind=kind
        )
    except Component.DoesNotExist:
        raise Http404 from None


def access_test_component(intake: Intake, test_code: str) -> Component:
    """A written-test component of the intake's scheme."""
    return _component(intake, test_code, Component.Kind.WRITTEN_TEST)


def access_interview_component(intake: Intake, interview_code: str) -> Component:
    """An interview component of the intake's scheme."""
    return _component(intake, interview_code, Component.Kind.INTERVIEW)


def access_session(component: Component, session_id: int) -> TestSession:
    try:
        return TestSession.objects.get(pk=session_id, component=component)
    except TestSession.DoesNotExist:
        raise Http404 from None


def access_sitting(component: Component, sitting_id: int) -> TestSitting:
    try:
        return TestSitting.objects.select_related("application", "session").get(
            pk=sitting_id, component=component
        )
    except TestSitting.DoesNotExist:
        raise Http404 from None


def access_panel(component: Component, panel_id: int) -> Panel:
    try:
        return Panel.objects.get(pk=panel_id, component=component)
    except Panel.DoesNotExist:
        raise Http404 from None


def access_slot(component: Component, slot_id: int) -> InterviewSlot:
    try:
        return InterviewSlot.objects.select_related("panel", "application").get(
            pk=slot_id, component=component
        )
    except InterviewSlot.DoesNotExist:
        raise Http404 from None


def access_conflict(intake: Intake, conflict_id: int) -> ConflictOfInterest:
    try:
        return ConflictOfInterest.objects.select_related("juror", "application").get(
            pk=conflict_id, application__intake=intake
        )
    except ConflictOfInterest.DoesNotExist:
        raise Http404 from None


def access_juror_slot(request: HttpRequest, slot_id: int) -> InterviewSlot:
    """A slot with an applicant, on a panel the user sits on, with no conflict of interest
    declared by the user for that applicant. Anything else is "not found": a juror cannot
    tell an interview of another panel from one that does not exist."""
    user = request.user
    try:
        slot = InterviewSlot.objects.select_related(
            "panel", "application", "component__scheme__intake"
        ).get(
            pk=slot_id,
            application__isnull=False,
            panel__jurors=user,
            component__scheme__intake__school=request.access.school,
        )
    except InterviewSlot.DoesNotExist:
        raise Http404 from None
    if ConflictOfInterest.objects.filter(juror=user, application_id=slot.application_id).exists():
        raise Http404
    return slot


def access_intake_application(intake: Intake, reference: str) -> Application | None:
    """An application of the intake by reference (for forms: None when there is none)."""
    return Application.objects.filter(intake=intake, reference=reference.strip().upper()).first()
