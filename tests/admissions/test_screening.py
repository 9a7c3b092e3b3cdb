import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_scopes import scope, scopes_disabled

from tests.admissions.open_intake import form_data, make_open_intake
from tremplin.admissions.choices import Sex
from tremplin.admissions.models import Application, Intake
from tremplin.core.models import AuditEvent

APPLY = "/schools/smara/calls/promo-2026/apply/"


@pytest.fixture
def intake(world):
    intake = make_open_intake(world.smara)
    Client().post(APPLY, form_data())
    Client().post(APPLY, form_data(cin="CD111111", birth_date="1980-05-05", first_name="Omar",
                                   last_name="Alami", sex="M", phone="0612345678"))  # fmt: skip
    Client().post(APPLY, form_data(cin="EF222222", first_name="Salma", last_name="Ben Ali",
                                   first_name_ar="سلمى", phone="0612345679"))  # fmt: skip
    return intake


def url(name, intake, **kwargs):
    return reverse(
        f"admissions:{name}", kwargs={"school_slug": "smara", "intake_slug": intake.slug, **kwargs}
    )


def application(cin):
    with scopes_disabled():
        return Application.objects.get(cin=cin)


def events(action):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(action=action))


@pytest.mark.django_db
def test_the_list_filters_searches_in_both_scripts_and_counts(world, intake):
    client = world.client("admissions")
    page = client.get(url("application_list", intake))
    assert page.context["page"].paginator.count == 3
    women = client.get(url("application_list", intake), {"sex": "F"})
    assert women.context["page"].paginator.count == 2
    arabic = client.get(url("application_list", intake), {"q": "سلمى"})
    assert [a.first_name for a in arabic.context["page"]] == ["Salma"]
    by_cin = client.get(url("application_list", intake), {"q": "cd 111111"})
    assert [a.first_name for a in by_cin.context["page"]] == ["Omar"]
    review = client.get(url("application_list", intake), {"queue": "review"})
    assert [a.first_name for a in review.context["page"]] == ["Omar"]
    sex_facet = next(f for f in women.context["facets"] if f.name == "sex")
    assert ("F", 2) in [(v, n) for v, _label, n in sex_facet.options]


@pytest.mark.django_db
def test_the_cin_is_masked_until_revealed_and_each_reveal_is_audited(world, intake):
    client = world.client("admissions")
    omar = application("CD111111")
    detail = client.get(url("application_detail", intake, reference=omar.reference))
    html = detail.content.decode()
    assert "CD****11" in html
    assert "CD111111" not in html
    revealed = client.post(url("application_identity", intake, reference=omar.reference))
    # Then the page itself: reloading it sends no POST again, and records no second reveal.
    assert revealed["Location"] == url("application_detail", intake, reference=omar.reference)
    assert "CD111111" in client.get(revealed["Location"]).content.decode()
    again = client.get(revealed["Location"]).content.decode()
    assert "CD111111" not in again and "CD****11" in again
    (event,) = events("tremplin.applications.identity_viewed")
    assert event.actor == world.users["admissions"]


@pytest.mark.django_db
def test_an_override_needs_a_reason_and_is_audited_and_shown_to_the_applicant(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    omar = application("CD111111")
    # Staff are told, before they write it, who will read the reason.
    client.cookies["django_language"] = "en"
    detail = client.get(url("application_detail", intake, reference=omar.reference))
    assert "the applicant also reads it in their space, as written here" in detail.content.decode()
    target = url("application_eligibility", intake, reference=omar.reference)
    refused = client.post(target, {"decision": "eligible", "reason": ""})
    assert refused.status_code == 400
    assert application("CD111111").eligibility == Application.Eligibility.INELIGIBLE
    client.post(target, {"decision": "eligible", "reason": "Date de naissance erronée"})
    omar = application("CD111111")
    assert omar.eligibility == Application.Eligibility.ELIGIBLE
    assert omar.eligibility_overridden
    (event,) = events("tremplin.applications.eligibility_overridden")
    assert event.reason == "Date de naissance erronée"
    assert event.data == {"from": "ineligible", "to": "eligible"}
    # A re-check of the rules does not undo a staff decision...
    with django_capture_on_commit_callbacks(execute=True) as queued:
        client.post(url("intake_recheck", intake))
    assert len(queued) == 1  # the re-check's task, run
    assert application("CD111111").eligibility == Application.Eligibility.ELIGIBLE
    # ...until staff give the decision back to the rules.
    client.post(target, {"decision": "rules", "reason": "Erreur de ma part"})
    assert application("CD111111").eligibility == Application.Eligibility.INELIGIBLE


@pytest.mark.django_db
def test_the_funnel_counts_by_sex_and_age_band(world, intake):
    response = world.client("director").get(url("intake_detail", intake))
    funnel = response.context["funnel"]
    assert funnel["total"] == {"applied": 3, "eligible": 2, "ineligible": 1, "withdrawn": 0}
    by_sex = {str(label): row for label, row in funnel["by_sex"]}
    assert by_sex[str(Sex.MALE.label)]["ineligible"] == 1
    assert by_sex[str(Sex.FEMALE.label)]["eligible"] == 2


@pytest.mark.django_db
def test_a_call_cannot_open_without_a_privacy_notice(world):
    client = world.client("director")
    intake = make_open_intake(world.smara, slug="draft-call", status=Intake.Status.DRAFT)
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(privacy_notice=None)
    response = client.post(url("intake_status", intake), {"status": "open"}, follow=True)
    with scopes_disabled():
        intake.refresh_from_db()
    assert intake.status == Intake.Status.DRAFT
    assert "CNDP" in response.content.decode()


@pytest.mark.django_db
def test_staff_create_a_call_whose_seats_are_the_sum_of_its_tracks(world):
    client = world.client("director")
    make_open_intake(world.smara, slug="other")  # publishes notice v1 and a dev-web track
    with scopes_disabled():
        from tremplin.schools.models import Track

        track = Track.objects.get(school=world.smara, code="dev-web")
        notice = world.smara.privacy_notices.get()
    response = client.post(
        reverse("admissions:intake_create", kwargs={"school_slug": "smara"}),
        {
            "title": "Promotion 2027", "title_ar": "فوج 2027", "slug": "promo-2027",
            "opens_at": "2027-05-01T09:00", "closes_at": "2027-06-01T18:00",
            "reference_date": "2027-09-01", "min_age": "18", "max_age": "35",
            "privacy_notice": str(notice.pk), f"track_{track.pk}": "70",
            f"waitlist_{track.pk}": "30",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    with scopes_disabled():
        created = Intake.objects.get(slug="promo-2027")
        assert (created.seats, created.waitlist) == (70, 30)
        assert created.intake_tracks.get().waitlist == 30
        assert created.status == Intake.Status.DRAFT
    assert events("tremplin.intakes.created")


@pytest.mark.django_db
def test_erasing_keeps_only_anonymous_statistics_and_needs_a_reason(world, intake):
    from tremplin.notify.models import Message

    client = world.client("admissions")
    salma = application("EF222222")
    target = url("application_erase", intake, reference=salma.reference)
    client.post(target, {"reason": ""})
    assert application("EF222222").erased_at is None
    client.post(target, {"reason": "Demande de la candidate du 3 mars", "confirm": "on"})
    with scopes_disabled():
        erased = Application.objects.get(pk=salma.pk)
        messages = list(Message.objects.filter(object_id=str(salma.pk)))
    assert erased.erased_at is not None
    assert (erased.first_name, erased.first_name_ar, erased.phone, erased.email) == ("", "", "", "")
    assert erased.cin != "EF222222"
    assert erased.birth_date.month == erased.birth_date.day == 1
    assert erased.status == Application.Status.WITHDRAWN
    assert (erased.sex, erased.commune_id) == (salma.sex, salma.commune_id)
    assert messages and all(m.body == "" and m.recipient == "" for m in messages)
    (event,) = events("tremplin.applications.erased")
    assert event.reason == "Demande de la candidate du 3 mars"
    # The audit log keeps her events (her submission among them), without her name.
    with scopes_disabled():
        about_her = list(
            AuditEvent.objects.filter(
                content_type=ContentType.objects.get_for_model(Application),
                object_id=str(salma.pk),
            )
        )
    assert {e.action for e in about_her} >= {"tremplin.applications.submitted", event.action}
    assert {e.object_repr for e in about_her} == {salma.reference}
    # The funnel still counts her, anonymously.
    funnel = world.client("director").get(url("intake_detail", intake)).context["funnel"]
    assert funnel["total"]["applied"] == 3


@pytest.mark.django_db
def test_a_deletion_request_reaches_the_staff_until_it_is_carried_out(world, intake):
    from tremplin.admissions.personal_data import application_request_deletion

    client = world.client("admissions")
    detail = url("intake_detail", intake)
    assert "queue=deletion" not in client.get(detail).content.decode()
    omar = application("CD111111")
    with scope(school=world.smara):  # as the applicant's space calls it
        application_request_deletion(application=omar)

    page = client.get(detail).content.decode()
    assert "Demandes de suppression (1)" in page and "queue=deletion" in page
    queue = client.get(url("application_list", intake), {"queue": "deletion"})
    assert [a.cin for a in queue.context["page"]] == ["CD111111"]
    assert "Demandes de suppression" in queue.content.decode()

    client.post(
        url("application_erase", intake, reference=omar.reference),
        {"reason": "Demande", "confirm": "on"},
    )
    assert (
        client.get(url("application_list", intake), {"queue": "deletion"})
        .context["page"]
        .paginator.count
        == 0
    )
    assert "queue=deletion" not in client.get(detail).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "label"),
    [("ar", "قرار الطاقم بشأن الأهلية"), ("fr", "Éligibilité décidée par l'équipe")],
)
def test_the_history_names_each_action_in_the_readers_language(world, intake, language, label):
    client = world.client("admissions")
    omar = application("CD111111")
    target = url("application_eligibility", intake, reference=omar.reference)
    client.post(target, {"decision": "eligible", "reason": "Date de naissance erronée"})
    client.cookies["django_language"] = language
    page = client.get(url("application_detail", intake, reference=omar.reference))
    html = page.content.decode()
    assert f" · {escape(label)} · " in html
    assert "tremplin.applications" not in html  # the action's code is for the audit log


@pytest.mark.django_db
def test_the_consents_read_as_an_arabic_list_on_an_arabic_page(world, intake):
    omar = application("CD111111")
    with scopes_disabled():
        Application.objects.filter(pk=omar.pk).update(follow_up_consent=True)
    client = world.client("admissions")
    client.cookies["django_language"] = "ar"
    html = client.get(url("application_detail", intake, reference=omar.reference)).content
    assert "إشعار الخصوصية، الإصدار 1 وتتبع الإدماج المهني" in html.decode()
