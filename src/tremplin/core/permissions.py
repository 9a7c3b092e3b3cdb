"""Which role may do what. Views declare the permission they need; this table answers.

Coordinators of a funder never write: they get the read permissions only, on the schools of
their area. Platform admins (superusers) may do everything.
"""

from tremplin.core.models import Role

SCHOOL_VIEW = "school.view"
SCHOOL_CHANGE = "school.change"
TEAM_VIEW = "team.view"
TEAM_MANAGE = "team.manage"
AUDIT_VIEW = "audit.view"
LEARNER_SPACE = "learner.space"
INTAKES_MANAGE = "intakes.manage"
APPLICATIONS_VIEW = "applications.view"
APPLICATIONS_MANAGE = "applications.manage"  # screening overrides, imports
APPLICATIONS_EXPORT = "applications.export"
IDENTITY_VIEW = "applications.identity"  # see CIN and accommodation needs unmasked
OUTBOX_VIEW = "outbox.view"
OUTBOX_MANAGE = "outbox.manage"  # send failed messages again
# Selection: the scheme, test sessions, interview panels and slots, marks, convocations.
SELECTION_MANAGE = "selection.manage"
# Run, compare and publish rankings; record offers' answers and promote from the waitlist.
RANKING_MANAGE = "ranking.manage"
# Score the interviews of the panels one sits on (and only those).
JURY_SCORE = "jury.score"
# The grants and their budget lines: the director's, and the funder's coordinator's.
BUDGET_VIEW = "budget.view"

_ADMISSIONS = frozenset(
    {
        INTAKES_MANAGE,
        APPLICATIONS_VIEW,
        APPLICATIONS_MANAGE,
        APPLICATIONS_EXPORT,
        IDENTITY_VIEW,
        OUTBOX_VIEW,
        OUTBOX_MANAGE,
        SELECTION_MANAGE,
        RANKING_MANAGE,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.DIRECTOR: frozenset(
        {SCHOOL_VIEW, SCHOOL_CHANGE, TEAM_VIEW, TEAM_MANAGE, AUDIT_VIEW, JURY_SCORE, BUDGET_VIEW}
    )
    | _ADMISSIONS,
    # Admissions officers often sit on interview panels too.
    Role.ADMISSIONS: frozenset({SCHOOL_VIEW, TEAM_VIEW, JURY_SCORE}) | _ADMISSIONS,
    Role.JUROR: frozenset({SCHOOL_VIEW, JURY_SCORE}),
    Role.TRAINER: frozenset({SCHOOL_VIEW, TEAM_VIEW}),
    Role.LEARNER: frozenset({LEARNER_SPACE}),
}

COORDINATOR_PERMISSIONS = frozenset({SCHOOL_VIEW, BUDGET_VIEW})

ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


def permissions_for_roles(roles: set[str]) -> frozenset[str]:
    return frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in roles))
