"""A staff decision on eligibility was taken on what the application said then. When the
applicant later changes what the rules read, the decision stands (a typo corrected does not
turn away someone staff let in) but the application goes back to the review queue, marked,
until staff decide again."""

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions import screening, services
from tremplin.admissions.models import Application
from tremplin.schools.models import Commune

APPLY = "/schools/smara/calls/promo-2026/apply/"
Eligibility = Application.Eligibility


@pytest.fixture
def intake(world):
    intake = make_open_intake(world.smara)
    Client().post(APPLY, form_data(cin="CD111111", birth_date="1980-05-05", first_name="Omar"))
    return intake


def omar() -> Application:
    with scopes_disabled():
        return Application.objects.select_related("commune", "intake__school").get(cin="CD111111")


def let_in(world) -> None:
    with scopes_disabled():
        screening.eligibility_override(
            application=omar(), actor=world.users["admissions"], eligible=True,
            reason="Né en 1998 : date mal saisie",
        )  # fmt: skip


def edit(**changes) -> Application:
    application = omar()
    data = {field: getattr(application, field) for field in services.APPLICANT_FIELDS}
    with scopes_disabled():
        wishes = [w.track for w in application.wishes.order_by("rank")]
        return services.application_update(
            application=application, data={**data, **changes}, wishes=wishes
        )


def review_queue(world, intake) -> list[str]:
    page = world.client("admissions").get(
        reverse("admissions:application_list", args=["smara", intake.slug]), {"queue": "review"}
    )
    return [a.first_name for a in page.context["page"]]


@pytest.mark.django_db
def test_a_rule_field_changed_after_a_staff_decision_sends_it_back_to_review(world, intake):
    assert review_queue(world, intake) == ["Omar"]  # too old for the rules
    let_in(world)
    assert review_queue(world, intake) == []

    with scopes_disabled():
        other = Commune.objects.exclude(pk=omar().commune_id).filter(
            province_id=omar().commune.province_id
        )[0]
    edit(commune=other)

    application = omar()
    assert application.eligibility == Eligibility.ELIGIBLE  # the decision stands
    assert application.eligibility_overridden and application.changed_since_decision_at
    assert review_queue(world, intake) == ["Omar"]
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    detail = client.get(
        reverse("admissions:application_detail", args=["smara", intake.slug, omar().reference])
    ).content.decode()
    assert "The applicant changed what the rules read" in detail
    assert (
        "to review again"
        in client.get(
            reverse("admissions:application_list", args=["smara", intake.slug])
        ).content.decode()
    )

    # Staff confirm their decision: it leaves the queue.
    let_in(world)
    assert omar().changed_since_decision_at is None
    assert review_queue(world, intake) == []


@pytest.mark.django_db
def test_letting_the_rules_decide_again_also_clears_the_mark(world, intake):
    let_in(world)
    edit(birth_date=omar().birth_date.replace(year=2001))
    with scopes_disabled():
        screening.eligibility_restore_rules(
            application=omar(), actor=world.users["admissions"], reason="Date corrigée"
        )
    application = omar()
    assert application.eligibility == Eligibility.ELIGIBLE  # born 2001: the rules let her in
    assert not application.eligibility_overridden
    assert application.changed_since_decision_at is None
    assert review_queue(world, intake) == []


@pytest.mark.django_db
def test_what_the_rules_do_not_read_changes_nothing_for_the_staff(world, intake):
    let_in(world)
    edit(phone="+212612345678", motivation="Je veux apprendre le développement web.")
    assert omar().changed_since_decision_at is None
    assert review_queue(world, intake) == []


@pytest.mark.django_db
def test_without_a_staff_decision_the_rules_simply_decide_again(world, intake):
    edit(birth_date=omar().birth_date.replace(year=2001))
    application = omar()
    assert application.eligibility == Eligibility.ELIGIBLE
    assert application.changed_since_decision_at is None
    assert review_queue(world, intake) == []


@pytest.mark.django_db
def test_the_reasons_follow_the_corrected_answers_while_the_staff_decision_stands(world, intake):
    """Turned away by staff, she corrected her date of birth: "you are 46" was still what
    she and the staff read, of an age she no longer gives."""
    with scopes_disabled():
        screening.eligibility_override(
            application=omar(), actor=world.users["admissions"], eligible=False,
            reason="Pièce d'identité illisible",
        )  # fmt: skip
    assert [r["rule"] for r in omar().eligibility_reasons] == ["age"]

    edit(birth_date=omar().birth_date.replace(year=2001))

    application = omar()
    assert application.eligibility == Eligibility.INELIGIBLE  # the decision stands
    assert application.eligibility_reasons == []  # the age is right now
    assert application.changed_since_decision_at is not None  # and staff are told

    let_in(world)  # staff let him in; the rules read a commune outside the call's now
    with scopes_disabled():
        outside = Commune.objects.exclude(province_id=omar().commune.province_id).first()
    edit(province=outside.province, commune=outside)
    assert omar().eligibility == Eligibility.ELIGIBLE
    assert [r["rule"] for r in omar().eligibility_reasons] == ["residence"]
