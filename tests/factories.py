"""Factories that keep related objects consistent. They run unscoped on purpose: they build
the world that the code under test then reads through its scopes."""

import datetime
from decimal import Decimal

import factory
from django_scopes import scopes_disabled

from tremplin.core.models import CoordinatorScope, Membership, User
from tremplin.schools.geography import geography_load
from tremplin.schools.models import (
    BudgetLine,
    Commune,
    Grant,
    Partner,
    Province,
    Region,
    School,
    SchoolPartner,
    Track,
)

PASSWORD = "correct horse battery staple"


def commune(code: str = "221.01.01") -> Commune:
    """A commune of the reference geography (reloaded if a transactional test flushed it)."""
    if not Commune.objects.filter(code=code).exists():
        geography_load(Region, Province, Commune)
    return Commune.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"school-{n}")
    code = factory.Sequence(lambda n: "S" + chr(65 + n % 26) + chr(65 + (n // 26) % 26))
    name = factory.LazyAttribute(lambda s: f"École {s.slug}")
    name_ar = factory.LazyAttribute(lambda s: f"مدرسة {s.slug}")
    commune = factory.LazyFunction(commune)


def make_school(slug: str, code: str, commune_code: str = "221.01.01") -> School:
    with scopes_disabled():
        school = SchoolFactory(slug=slug, code=code, commune=commune(commune_code))
        funder, _ = Partner.objects.get_or_create(
            name="Initiative Nationale pour le Développement Humain",
            defaults={"acronym": "INDH", "kind": Partner.Kind.FUNDER},
        )
        SchoolPartner.objects.get_or_create(school=school, partner=funder, role=funder.kind)
        grant, _ = Grant.objects.get_or_create(
            school=school,
            reference=f"G-{code}",
            defaults={
                "funder": funder,
                "title": f"Subvention {code}",
                "starts_on": datetime.date(2025, 1, 1),
                "ends_on": datetime.date(2026, 12, 31),
            },
        )
        BudgetLine.objects.get_or_create(
            grant=grant,
            kind=BudgetLine.Kind.EQUIPMENT,
            defaults={"label": "Équipement", "amount": Decimal("500000")},
        )
        BudgetLine.objects.get_or_create(
            grant=grant,
            kind=BudgetLine.Kind.TRAINING,
            defaults={"label": "Formation", "amount": Decimal("600000")},
        )
        Track.objects.get_or_create(
            school=school,
            code="dev-web",
            defaults={"name": "Développement web", "name_ar": "تطوير الويب"},
        )
    return school


def make_member(username: str, school: School, role: str) -> User:
    with scopes_disabled():
        user = UserFactory(username=username)
        Membership.objects.get_or_create(user=user, school=school, role=role)
    return user


def make_coordinator(username: str, province_code: str = "221") -> User:
    with scopes_disabled():
        user = UserFactory(username=username)
        CoordinatorScope.objects.get_or_create(
            user=user,
            level=CoordinatorScope.Level.PROVINCE,
            province=Province.objects.get(code=province_code),
        )
    return user
