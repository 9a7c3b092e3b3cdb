"""Every URL of the platform, tried by every persona.

The list of URLs comes from the URL configuration: a new URL without an expected outcome here
fails ``test_every_url_has_an_expected_outcome``.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scopes_disabled

from tests.conftest import PERSONAS, World
from tremplin.core.models import Membership

LOGGED_IN = tuple(p for p in PERSONAS if p != "anonymous")
NOT_FOUND = 404


@dataclass(frozen=True)
class Case:
    method: str = "get"
    # persona -> expected status; anyone not listed gets `default`
    expect: dict = field(default_factory=dict)
    default: int = NOT_FOUND
    anonymous: int = 302
    kwargs: str = "smara"  # which kwargs to build (see _kwargs)
    data: dict = field(default_factory=dict)

    def status_for(self, persona: str) -> int:
        if persona == "anonymous":
            return self.anonymous
        return self.expect.get(persona, self.default)


def everyone(status: int, anonymous: int | None = None, **kw) -> Case:
    return Case(default=status, anonymous=status if anonymous is None else anonymous, **kw)


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
    "core:password_reset_confirm": everyone(200, kwargs="reset"),
    "schools:coordinator": Case(expect={"coordinator": 200}, kwargs="none"),
    "schools:dashboard": Case(expect={"director": 200, "admissions": 200, "coordinator": 200}),
    "schools:profile": Case(expect={"director": 200}),
    "schools:team": Case(expect={"director": 200, "admissions": 200}),
    "schools:team_add": Case(method="post", expect={"director": 400}, data={"email": "x"}),
    "schools:team_revoke": Case(
        method="post", expect={"director": 302}, kwargs="membership", data={"reason": "Left"}
    ),
    "schools:audit_log": Case(expect={"director": 200}),
    "schools:learner_space": Case(expect={"learner": 200}),
}

EXCLUDED_NAMESPACES = {"admin"}  # the Django admin has its own suite (tests/core/test_admin.py)
EXCLUDED_NAMES = {"set_language"}  # Django's own view, tested in the browser suite


def _url_names(patterns, namespace: str | None = None) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            names |= _url_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            full = f"{namespace}:{pattern.name}" if namespace else pattern.name
            if full not in EXCLUDED_NAMES:
                names.add(full)
    return names


def test_every_url_has_an_expected_outcome():
    assert _url_names(get_resolver().url_patterns) == set(CASES)


def _kwargs(case: Case, world: World) -> dict:
    if case.kwargs == "none":
        return {}
    if case.kwargs == "reset":
        return {"uidb64": "MQ", "token": "bad-token"}
    if case.kwargs == "membership":
        with scopes_disabled():
            membership = Membership.objects.get(user=world.users["admissions"], school=world.smara)
        return {"school_slug": world.smara.slug, "membership_id": membership.pk}
    return {"school_slug": world.smara.slug}


def _needs_school(name: str) -> bool:
    return name == "public:school" or (
        name.startswith("schools:") and name != "schools:coordinator"
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_persona_gets_the_expected_answer(world, name, persona):
    case = CASES[name]
    kwargs = _kwargs(case, world) if (_needs_school(name) or case.kwargs == "reset") else {}
    url = reverse(name, kwargs=kwargs)
    client = world.client(persona)
    response = getattr(client, case.method)(url, case.data)
    assert response.status_code == case.status_for(persona), (name, persona, response)
    if persona == "anonymous" and case.anonymous == 302 and name.startswith("schools:"):
        assert response["Location"].startswith(reverse("core:login"))


SCHOOL_WRITES = sorted(
    n for n, c in CASES.items() if c.method == "post" and n.startswith("schools:")
)


@pytest.mark.parametrize("name", SCHOOL_WRITES)
def test_coordinators_cannot_write(world, name):
    case = CASES[name]
    response = world.client("coordinator").post(reverse(name, kwargs=_kwargs(case, world)), {})
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
