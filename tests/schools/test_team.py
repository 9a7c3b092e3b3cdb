import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from tremplin.core.models import AuditEvent, Membership, User


def team_url(name, **kwargs):
    return reverse(f"schools:{name}", kwargs={"school_slug": "smara", **kwargs})


@pytest.mark.django_db
def test_a_director_adds_a_new_person_who_gets_an_invitation_to_choose_a_password(
    world, django_capture_on_commit_callbacks
):
    client = world.client("director")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            team_url("team_add"),
            {
                "first_name": "Aïcha",
                "last_name": "Bouzid",
                "email": "Aicha@Example.org",
                "role": "juror",
            },
            REMOTE_ADDR="196.200.1.7",
        )
    assert response.status_code == 302
    user = User.objects.get(email="aicha@example.org")
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert "/account/password/reset/" in mail.outbox[0].body
    with scopes_disabled():
        assert Membership.objects.filter(user=user, school=world.smara, role="juror").exists()
        event = AuditEvent.objects.get(action="tremplin.team.member_added")
    assert event.actor == world.users["director"]
    assert event.school == world.smara
    assert event.ip_address == "196.200.1.7"


@pytest.mark.django_db
def test_adding_an_existing_person_gives_them_the_role_without_a_new_account(world):
    client = world.client("director")
    other = world.users["other_director"]
    client.post(
        team_url("team_add"),
        {"first_name": "x", "last_name": "y", "email": other.email.upper(), "role": "trainer"},
    )
    assert User.objects.filter(email__iexact=other.email).count() == 1
    with scopes_disabled():
        assert Membership.objects.filter(user=other, school=world.smara, role="trainer").exists()


@pytest.mark.django_db
def test_a_bad_email_changes_nothing_and_says_why(world):
    client = world.client("director")
    before = User.objects.count()
    response = client.post(
        team_url("team_add"),
        {"first_name": "A", "last_name": "B", "email": "not-an-email", "role": "juror"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert User.objects.count() == before
    assert response.context["form"].errors["email"]


@pytest.mark.django_db
def test_withdrawing_a_role_needs_a_reason_and_is_audited(world):
    client = world.client("director")
    with scopes_disabled():
        membership = Membership.objects.get(user=world.users["admissions"], school=world.smara)
    url = team_url("team_revoke", membership_id=membership.pk)
    client.post(url, {"reason": ""})
    membership.refresh_from_db()
    assert membership.is_active
    client.post(url, {"reason": "Fin de contrat"})
    membership.refresh_from_db()
    assert not membership.is_active
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.team.member_revoked")
    assert event.reason == "Fin de contrat"
    # The withdrawn officer no longer reaches the dashboard.
    assert world.client("admissions").get(team_url("dashboard")).status_code == 404


@pytest.mark.django_db
def test_a_director_cannot_withdraw_their_own_director_role(world):
    with scopes_disabled():
        own = Membership.objects.get(user=world.users["director"], school=world.smara)
    world.client("director").post(team_url("team_revoke", membership_id=own.pk), {"reason": "x"})
    own.refresh_from_db()
    assert own.is_active


@pytest.mark.django_db
def test_the_profile_change_is_public_and_audited_with_old_and_new_values(world):
    client = world.client("director")
    client.post(
        team_url("profile"),
        {
            "description": "Nouvelle description",
            "description_ar": "وصف جديد",
            "address": "",
            "address_ar": "شارع محمد الخامس، السمارة",
            "email": "",
            "phone": "",
        },
    )
    page = client.get(reverse("public:school", kwargs={"school_slug": "smara"}))
    assert "Nouvelle description" in page.content.decode()
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.school.profile_changed")
    assert event.data["description"]["new"] == "Nouvelle description"
    assert event.data["address_ar"] == {"old": "", "new": "شارع محمد الخامس، السمارة"}
    client.cookies["django_language"] = "ar"
    dashboard = client.get(reverse("schools:dashboard", args=["smara"])).content.decode()
    assert "شارع محمد الخامس، السمارة" in dashboard


@pytest.mark.django_db
def test_the_audit_log_shows_the_schools_events_only(world):
    world.client("director").post(
        team_url("team_add"),
        {"first_name": "A", "last_name": "B", "email": "ab@example.org", "role": "juror"},
    )
    world.client("other_director").post(
        reverse("schools:team_add", kwargs={"school_slug": "laayoune"}),
        {"first_name": "C", "last_name": "D", "email": "cd@example.org", "role": "juror"},
    )
    page = world.client("director").get(team_url("audit_log")).content.decode()
    assert "ab@example.org" in page or "A B" in page
    assert "C D" not in page


@pytest.mark.django_db
def test_the_audit_log_filters_by_action_past_a_control_character_pasted_in(world):
    world.client("director").post(
        team_url("team_add"),
        {"first_name": "A", "last_name": "B", "email": "ab@example.org", "role": "juror"},
    )
    client = world.client("director")
    for typed in ("tremplin.team", "tremplin.team\x00"):  # PostgreSQL refuses NUL: a 500
        page = client.get(team_url("audit_log"), {"action": typed})
        assert [e.action for e in page.context["page"]] == ["tremplin.team.member_added"]
    assert not client.get(team_url("audit_log"), {"action": "tremplin.outbox"}).context["page"]
