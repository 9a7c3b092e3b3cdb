"""Access helpers of admissions: fetch inside the current school, 404 for missing or
forbidden alike. Call them from views decorated with ``school_view``."""

from django.http import Http404, HttpRequest

from tremplin.admissions.models import Application, Intake


def access_intake(request: HttpRequest, intake_slug: str) -> Intake:
    """The intake of the current school (call inside a `school_view`); 404 otherwise."""
    try:
        return Intake.objects.select_related("school", "privacy_notice").get(
            school=request.access.school, slug=intake_slug
        )
    except Intake.DoesNotExist:
        raise Http404 from None


def access_application(request: HttpRequest, intake: Intake, reference: str) -> Application:
    try:
        return Application.objects.select_related(
            "intake__school", "commune__province", "privacy_notice"
        ).get(intake=intake, reference=reference)
    except Application.DoesNotExist:
        raise Http404 from None
