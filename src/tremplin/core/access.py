"""Access helpers: every school-scoped object is fetched through one of these.

They answer 404 for "missing" and "forbidden" alike, so a URL never reveals whether another
school's object exists.
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q, QuerySet
from django.http import Http404
from django_scopes import scopes_disabled

from tremplin.core.models import Membership
from tremplin.core.permissions import COORDINATOR_PERMISSIONS, permissions_for_roles
from tremplin.schools.models import School


@dataclass(frozen=True)
class SchoolAccess:
    """What one user may do in one school, resolved once per request."""

    school: School
    roles: frozenset[str] = field(default_factory=frozenset)
    is_coordinator: bool = False
    is_platform_admin: bool = False

    @cached_property
    def permissions(self) -> frozenset[str]:
        if self.is_platform_admin:
            from tremplin.core.permissions import ALL_PERMISSIONS

            return ALL_PERMISSIONS
        granted = permissions_for_roles(set(self.roles))
        if self.is_coordinator:
            granted |= COORDINATOR_PERMISSIONS
        return granted

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def coordinated_schools(user) -> QuerySet[School]:
    """Schools a funder coordinator may read (none for anyone else)."""
    scopes = list(user.coordinator_scopes.all())
    if not scopes:
        return School.objects.none()
    schools = School.objects.filter(is_active=True)
    # The nation's scope is every school. Not folded into the others' OR: an empty Q() in
    # ``Q(pk__in=[]) | Q()`` drops out, and a national coordinator saw no school at all.
    if any(s.level == s.Level.NATION for s in scopes):
        return schools
    area = Q(pk__in=[])
    for coordinator_scope in scopes:
        area |= coordinator_scope.school_filter()
    return schools.filter(area)


def school_access(user, school_slug: str) -> SchoolAccess | None:
    """The user's access to the school, or None when they have none (or it does not exist)."""
    if not user.is_authenticated:
        return None
    school = School.objects.filter(slug=school_slug, is_active=True).first()
    if school is None:
        return None
    if user.is_superuser:
        return SchoolAccess(school=school, is_platform_admin=True)
    with scopes_disabled():
        roles = frozenset(
            Membership.objects.filter(user=user, school=school, is_active=True).values_list(
                "role", flat=True
            )
        )
    is_coordinator = coordinated_schools(user).filter(pk=school.pk).exists()
    if not roles and not is_coordinator:
        return None
    return SchoolAccess(school=school, roles=roles, is_coordinator=is_coordinator)


def access_school(user, school_slug: str, permission: str) -> SchoolAccess:
    """The school if the user holds ``permission`` there; 404 otherwise."""
    access = school_access(user, school_slug)
    if access is None or not access.can(permission):
        raise Http404
    return access


def access_membership(access: SchoolAccess, membership_id: int) -> Membership:
    """A membership of the current school (call inside the school's scope)."""
    try:
        return Membership.objects.select_related("user").get(pk=membership_id, school=access.school)
    except Membership.DoesNotExist:
        raise Http404 from None


def user_memberships(user) -> list[Membership]:
    """Every active role the user holds, for the role switcher."""
    with scopes_disabled():
        return list(
            Membership.objects.filter(user=user, is_active=True, school__is_active=True)
            .select_related("school")
            .order_by("school__name", "role")
        )
