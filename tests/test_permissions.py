"""Every URL of the platform, tried by every persona.

The list of URLs comes from the URL configuration: a new URL without an expected outcome here
fails ``test_every_url_has_an_expected_outcome``.
"""

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scope, scopes_disabled

from tests.conftest import PERSONAS, World
from tests.permission_case import ADMISSIONS_STAFF, NOT_FOUND, Case, everyone, staff
from tests.selection import perm_assessment, perm_letters, perm_offers, perm_ranking
from tremplin.core.models import Membership

# Each part of selection keeps its own cases and the values of its URLs' parameters.
SELECTION_PARTS = (perm_assessment, perm_letters, perm_offers, perm_ranking)

CASES: dict[str, Case] = {
    "public:index": everyone(200),
    "public:school": everyone(200),
    "core:login": everyone(302, anonymous=200),
    "core:logout": everyone(302, method="post"),
    "core:home_redirect": everyone(302),
    "core:account": everyone(200, anonymous=302),
    "core:account_language": everyone(302, method="post", data={"preferred_language": "ar"}),
    "core:otp_verify": everyone(302),
    "core:otp_setup": everyone(200, anonymous=302),
    "core:otp_recovery_codes": Case(method="post", expect={"coordinator": 200}, default=302),
    "core:otp_disable": everyone(302, method="post"),
    "core:password_change": everyone(200, anonymous=302),
    "core:password_reset": everyone(200),
    "core:password_reset_done": everyone(200),
    "core:password_reset_confirm": everyone(200),
    "schools:coordinator": Case(expect={"coordinator": 200}),
    "schools:dashboard": Case(
        expect={"director": 200, "admissions": 200, "juror": 200, "coordinator": 200}
    ),
    "schools:profile": Case(expect={"director": 200}),
    "schools:team": Case(expect={"director": 200, "admissions": 200}),
    "schools:team_add": Case(method="post", expect={"director": 400}, data={"email": "x"}),
    "schools:team_revoke": Case(method="post", expect={"director": 302}, data={"reason": "Left"}),
    "schools:audit_log": Case(expect={"director": 200}),
    "schools:learner_space": Case(expect={"learner": 200}),
    # The applicant portal: public, and the applicant space needs an applicant's session.
    "portal:intake": everyone(200),
    "portal:apply": everyone(200),
    "portal:submitted": everyone(302),
    "portal:communes": everyone(200),
    "portal:access": everyone(200),
    "portal:code": everyone(302),
    "portal:space": everyone(302),
    "portal:edit": everyone(302),
    "portal:document": everyone(302),
    "portal:data": everyone(302),
    "portal:withdraw": everyone(302, method="post"),
    "portal:messages_language": everyone(302, method="post", data={"language": "ar"}),
    "portal:delete": everyone(302, method="post"),
    "portal:leave": everyone(302, method="post"),
    # Admissions staff pages.
    "admissions:intake_list": Case(expect=ADMISSIONS_STAFF),
    "admissions:intake_create": Case(expect=ADMISSIONS_STAFF),
    "admissions:notice_create": Case(expect=ADMISSIONS_STAFF),
    "admissions:notice_detail": Case(expect=ADMISSIONS_STAFF),
    "admissions:intake_detail": Case(expect=ADMISSIONS_STAFF),
    "admissions:intake_edit": Case(expect=ADMISSIONS_STAFF),
    "admissions:intake_status": Case(method="post", expect=staff(302), data={"status": "closed"}),
    "admissions:references_send": Case(method="post", expect=staff(302)),
    "admissions:intake_recheck": Case(method="post", expect=staff(302)),
    # Polled by htmx on the call's page; without htmx, that page.
    "admissions:intake_recheck_status": Case(expect=staff(302)),
    "admissions:application_list": Case(expect=ADMISSIONS_STAFF),
    "admissions:application_detail": Case(expect=ADMISSIONS_STAFF),
    # Shown, then the page itself (reloading it records no second reveal).
    "admissions:application_identity": Case(method="post", expect=staff(302)),
    "admissions:application_eligibility": Case(
        method="post", expect=staff(302), data={"decision": "ineligible", "reason": "test"}
    ),
    "admissions:application_document": Case(expect=ADMISSIONS_STAFF),
    # Refused, the box unticked: the page again, with the form's error.
    "admissions:application_erase": Case(method="post", expect=staff(400), data={"reason": "x"}),
    "admissions:application_contact": Case(
        method="post",
        expect=staff(302),
        data={"phone": "0661234599", "email": "", "reason": "called the school"},
    ),
    "admissions:application_export": Case(expect=ADMISSIONS_STAFF),
    # A large workbook, asked for: its page follows.
    "admissions:export_create": Case(method="post", expect=staff(302), data={"format": "xlsx"}),
    # An export is its asker's (admissions): the director, a colleague, gets 404 too.
    "admissions:export_detail": Case(expect={"admissions": 200}),
    "admissions:export_download": Case(expect={"admissions": 200}),
    "admissions:import_form": Case(expect=ADMISSIONS_STAFF),
    "admissions:import_detail": Case(expect=ADMISSIONS_STAFF),
    "admissions:import_report": Case(expect=ADMISSIONS_STAFF),
    "admissions:import_template": Case(expect=ADMISSIONS_STAFF),
    "notify:outbox": Case(expect=ADMISSIONS_STAFF),
    "notify:outbox_retry": Case(method="post", expect=staff(302)),
    "notify:outbox_try_now": Case(method="post", expect=staff(302)),
}
for _part in SELECTION_PARTS:
    assert not set(_part.CASES) & set(CASES), _part
    CASES.update(_part.CASES)

EXCLUDED_NAMESPACES = {"admin"}  # the Django admin has its own suite (tests/core/test_admin.py)
EXCLUDED_NAMES = {"set_language"}  # Django's own view, tested in the browser suite


def _url_params(patterns, namespace: str | None = None) -> dict[str, set[str]]:
    """Every named URL with the names of its parameters."""
    found = {}
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            found |= _url_params(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            full = f"{namespace}:{pattern.name}" if namespace else pattern.name
            if full not in EXCLUDED_NAMES:
                found[full] = set(pattern.pattern.converters)
    return found


def _url_names(patterns) -> set[str]:
    return set(_url_params(patterns))


def test_every_url_has_an_expected_outcome():
    assert _url_names(get_resolver().url_patterns) == set(CASES)


@pytest.fixture
def smara_objects(world):
    """An open call of Smara with one application and its document, for the URLs that
    name them."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from tests.admissions.open_intake import make_open_intake
    from tremplin.admissions.models import Document, ExportJob, ImportJob
    from tremplin.admissions.services import application_submit
    from tremplin.schools.models import Commune

    intake = make_open_intake(world.smara)
    with scope(school=world.smara):
        data = {
            "cin": "AB123456", "first_name": "Fatima", "last_name": "El Idrissi",
            "first_name_ar": "", "last_name_ar": "", "birth_date": datetime.date(2003, 3, 21),
            "sex": "F", "phone": "+212661234567", "email": "",
            "commune": Commune.objects.get(code="221.01.01"), "education_level": "bac",
            "diploma": "", "employment": "neet", "motivation": "",
            "needs_accommodation": False, "accommodation_consent": False,
            "follow_up_consent": False,
        }  # fmt: skip
        application = application_submit(
            intake=intake, data=data, wishes=[], documents=[], language="fr", space_url="/"
        ).application
        document = Document(
            application=application, kind="cin", content_type="application/pdf", size=9
        )
        document.file.save("x", ContentFile(b"%PDF-1.4\n"), save=True)
        job = ImportJob.objects.create(
            intake=intake, file=ContentFile(b"cin\n", name="x.csv"), original_name="x.csv",
            mode=ImportJob.Mode.ALL_OR_NOTHING, status=ImportJob.Status.DONE,
        )  # fmt: skip
        export = ExportJob.objects.create(
            intake=intake, created_by=world.users["admissions"], format="csv", key="k",
            status=ExportJob.Status.DONE, finished_at=timezone.now(),
            file=ContentFile(b"reference\n", name="x.csv"),
        )  # fmt: skip
    return {
        "intake": intake,
        "application": application,
        "document": document,
        "job": job,
        "export": export,
    }


def _kwargs(name: str, world: World, objects: dict) -> dict:
    params = _url_params(get_resolver().url_patterns)[name]
    values = {
        "school_slug": world.smara.slug,
        "intake_slug": objects["intake"].slug,
        "reference": objects["application"].reference,
        "document_id": objects["document"].pk,
        "job_id": objects["job"].pk,
        "export_id": objects["export"].pk,
        "fmt": "xlsx",
        "version": objects["intake"].privacy_notice.version,
        "kind": "cin",
        "uidb64": "MQ",
        "token": "bad-token",
    }
    for part in SELECTION_PARTS:
        values.update(part.url_values(world, objects))
    if "membership_id" in params:
        with scopes_disabled():
            values["membership_id"] = Membership.objects.get(
                user=world.users["admissions"], school=world.smara
            ).pk
    return {param: values[param] for param in params}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_persona_gets_the_expected_answer(world, smara_objects, name, persona):
    case = CASES[name]
    url = reverse(name, kwargs=_kwargs(name, world, smara_objects))
    client = world.client(persona)
    response = getattr(client, case.method)(url, case.data)
    assert response.status_code == case.status_for(persona), (name, persona, response)
    if persona == "anonymous" and case.anonymous == 302 and name.startswith("schools:"):
        assert response["Location"].startswith(reverse("core:login"))


SCHOOL_WRITES = sorted(
    n for n, c in CASES.items() if c.method == "post" and n.startswith("schools:")
)


@pytest.mark.parametrize("name", SCHOOL_WRITES)
def test_coordinators_cannot_write(world, smara_objects, name):
    case = CASES[name]
    url = reverse(name, kwargs=_kwargs(name, world, smara_objects))
    response = world.client("coordinator").post(url, case.data)
    assert response.status_code == NOT_FOUND


def test_another_schools_membership_answers_404_even_to_a_director(world):
    with scopes_disabled():
        foreign = Membership.objects.get(user=world.users["other_admissions"])
    url = reverse(
        "schools:team_revoke",
        kwargs={"school_slug": world.smara.slug, "membership_id": foreign.pk},
    )
    response = world.client("director").post(url, {"reason": "test"})
    assert response.status_code == NOT_FOUND
    with scopes_disabled():
        foreign.refresh_from_db()
    assert foreign.is_active


def test_a_missing_school_and_a_forbidden_school_look_the_same(world):
    client = world.client("director")
    missing = client.get(reverse("schools:dashboard", kwargs={"school_slug": "nowhere"}))
    forbidden = client.get(reverse("schools:dashboard", kwargs={"school_slug": world.other.slug}))
    assert missing.status_code == forbidden.status_code == NOT_FOUND
    assert world.other.name.encode() not in forbidden.content
    assert missing.templates[0].name == forbidden.templates[0].name == "404.html"
