"""The intake a command names, by its slug and, when several schools have one, the school's."""

from django.core.management.base import CommandError

from tremplin.admissions.models import Intake


def find_intake(slug: str, school: str | None) -> Intake:
    """Call with scopes disabled (commands act for the platform)."""
    intakes = Intake.objects.filter(slug=slug).select_related("school__commune")
    if school:
        intakes = intakes.filter(school__slug=school)
    found = list(intakes[:2])
    if not found:
        raise CommandError(f"No intake {slug!r}" + (f" in school {school!r}." if school else "."))
    if len(found) > 1:
        raise CommandError(f"Several schools have an intake {slug!r}: choose one with --school.")
    return found[0]
