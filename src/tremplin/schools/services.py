"""School workflows: the public profile and the team. Every change is audited."""

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from tremplin.core.audit import log_action
from tremplin.core.models import Membership, Role, User
from tremplin.core.tasks import enqueue_email
from tremplin.schools.models import School

PROFILE_FIELDS = ("description", "description_ar", "address", "address_ar", "email", "phone")


@transaction.atomic
def school_update_profile(*, school: School, actor: User, data: dict[str, str]) -> School:
    """Change the public profile of the school; records the old and new values."""
    changes = {}
    for field in PROFILE_FIELDS:
        if field in data and getattr(school, field) != data[field]:
            changes[field] = {"old": getattr(school, field), "new": data[field]}
            setattr(school, field, data[field])
    if changes:
        school.full_clean()
        school.save(update_fields=list(changes))
        log_action(
            "tremplin.school.profile_changed",
            actor=actor,
            school=school,
            obj=school,
            data=changes,
        )
    return school


@transaction.atomic
def membership_grant(
    *,
    school: School,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    site_url: str,
) -> Membership:
    """Give a person a role in the school, creating their account when they have none.

    A new account gets no usable password: an invitation email carries a link to choose one.
    Granting a role the person already holds reactivates it instead of failing.
    """
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    created_user = user is None
    if created_user:
        user = User(username=email, email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    membership, created = Membership.objects.get_or_create(
        user=user, school=school, role=role, defaults={"is_active": True}
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    log_action(
        "tremplin.team.member_added",
        actor=actor,
        school=school,
        obj=membership,
        data={"email": email, "role": role, "new_account": created_user},
    )
    if created_user:
        _invite(user=user, school=school, site_url=site_url)
    return membership


def _invite(*, user: User, school: School, site_url: str) -> None:
    path = reverse(
        "core:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    with translation.override(user.preferred_language):
        subject = _("Your Tremplin account at %(school)s") % {"school": school}
        body = render_to_string(
            "schools/email/invitation.txt",
            {"user": user, "school": school, "link": site_url.rstrip("/") + path},
        )
    enqueue_email(subject=subject, body=body, to=[user.email])


@transaction.atomic
def membership_revoke(*, membership: Membership, actor: User, reason: str) -> Membership:
    """Withdraw a role (kept for history, marked inactive)."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.user_id == getattr(actor, "pk", None) and locked.role == Role.DIRECTOR:
        # Otherwise a school could be left without anyone able to manage its team.
        raise ValidationError(_("You cannot withdraw your own director role."))
    if locked.is_active:
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        log_action(
            "tremplin.team.member_revoked",
            actor=actor,
            school=locked.school,
            obj=locked,
            data={"role": locked.role, "user": locked.user.email},
            reason=reason,
        )
    return locked
