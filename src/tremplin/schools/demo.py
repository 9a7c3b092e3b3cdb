"""The Smara 2025 demo: the school of the article, its partners, grant, tracks and one account
per role. Idempotent: running it again updates what exists and creates what is missing."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django_scopes import scopes_disabled

from tremplin.core.models import CoordinatorScope, Membership, Role, User
from tremplin.schools.models import (
    BudgetLine,
    Commune,
    Grant,
    Partner,
    Province,
    School,
    SchoolPartner,
    Track,
)

DEMO_PASSWORD = "smara-demo-2025"  # noqa: S105  (printed on purpose: demo accounts only)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    role: str  # a Role value, "coordinator" or "admin"
    language: str = "fr"


DEMO_ACCOUNTS = (
    DemoAccount("directrice", "Khadija", "El Alaoui", Role.DIRECTOR),
    DemoAccount("admissions", "Youssef", "Bennani", Role.ADMISSIONS),
    DemoAccount("jure", "Mariem", "Ould Sidi", Role.JUROR, "ar"),
    DemoAccount("formateur", "Hamza", "Lahlou", Role.TRAINER),
    DemoAccount("apprenante", "Salka", "Ma El Ainine", Role.LEARNER, "ar"),
    DemoAccount("coordinateur", "Brahim", "Ait Lahcen", "coordinator"),
    DemoAccount("admin", "Nadia", "Chraibi", "admin"),
)

TRACKS = (
    ("dev-web", Track.Kind.TRACK, "Développement web", "تطوير الويب", 9,
     "HTML, CSS, JavaScript, Python et Django, par projets réels.",
     "HTML و CSS و JavaScript و Python و Django من خلال مشاريع حقيقية."),
    ("data", Track.Kind.TRACK, "Analyse de données", "تحليل البيانات", 9,
     "Tableurs, SQL, Python et visualisation pour aider à décider.",
     "جداول البيانات و SQL و Python والتصور البياني لدعم اتخاذ القرار."),
    ("cyber", Track.Kind.TRACK, "Sécurité de l'information", "أمن المعلومات", 9,
     "Réseaux, systèmes et bonnes pratiques de sécurité.",
     "الشبكات والأنظمة والممارسات الجيدة في مجال الأمن."),
    ("soft-skills", Track.Kind.PROGRAMME, "Compétences de vie", "المهارات الحياتية", None,
     "Communication, travail en équipe, recherche d'emploi.",
     "التواصل والعمل الجماعي والبحث عن عمل."),
    ("langues", Track.Kind.PROGRAMME, "Langues", "اللغات", None,
     "Français et anglais professionnels.",
     "الفرنسية والإنجليزية المهنيتان."),
)  # fmt: skip

PARTNERS = (
    ("Initiative Nationale pour le Développement Humain", "المبادرة الوطنية للتنمية البشرية",
     "INDH", Partner.Kind.FUNDER, "https://www.indh.ma"),
    ("Fondation Smara Avenir", "مؤسسة السمارة المستقبل", "", Partner.Kind.HOST, ""),
    ("WEB4JOBS", "WEB4JOBS", "WEB4JOBS", Partner.Kind.OPERATOR, ""),
    ("Agence Nationale de Promotion de l'Emploi et des Compétences",
     "الوكالة الوطنية لإنعاش التشغيل والكفاءات", "ANAPEC", Partner.Kind.EMPLOYMENT_AGENCY,
     "https://www.anapec.org"),
)  # fmt: skip


@transaction.atomic
def demo_load() -> School:
    """Create or refresh the Smara demo; returns the school."""
    with scopes_disabled():
        school = _school()
        _partners_and_grant(school)
        _tracks(school)
        _accounts(school)
        from tremplin.admissions.demo import demo_admissions_load

        demo_admissions_load(school)
        from tremplin.selection.demo import demo_selection_load

        demo_selection_load(school)
    return school


def _school() -> School:
    commune = Commune.objects.get(province__code="221", name="Es-Semara")
    school, _ = School.objects.update_or_create(
        slug="smara",
        defaults={
            "code": "SMA",
            "name": "École Numérique de Smara",
            "name_ar": "المدرسة الرقمية بالسمارة",
            "commune": commune,
            "address": "Avenue Mohammed V, Es-Semara",
            "description": (
                "Une école gratuite des métiers du numérique pour les jeunes de la province "
                "d'Es-Semara : développement web, analyse de données et sécurité de "
                "l'information, avec les compétences de vie et les langues, par la pratique."
            ),
            "description_ar": (
                "مدرسة مجانية لمهن الرقمنة لفائدة شباب إقليم السمارة: تطوير الويب وتحليل "
                "البيانات وأمن المعلومات، مع المهارات الحياتية واللغات، من خلال التعلم بالممارسة."
            ),
            "email": "contact@ecole-numerique-smara.ma",
            "phone": "+212528899000",
            "opened_on": datetime.date(2025, 9, 15),
            "is_active": True,
        },
    )
    return school


def _partners_and_grant(school: School) -> None:
    by_kind = {}
    for name, name_ar, acronym, kind, website in PARTNERS:
        partner, _ = Partner.objects.update_or_create(
            name=name,
            defaults={"name_ar": name_ar, "acronym": acronym, "kind": kind, "website": website},
        )
        SchoolPartner.objects.get_or_create(
            school=school, partner=partner, role=kind, defaults={"since": school.opened_on}
        )
        by_kind[kind] = partner
    grant, _ = Grant.objects.update_or_create(
        school=school,
        reference="INDH-ESM-2025-01",
        defaults={
            "funder": by_kind[Partner.Kind.FUNDER],
            "title": "Subvention INDH — École Numérique de Smara",
            "title_ar": "منحة المبادرة الوطنية للتنمية البشرية — المدرسة الرقمية بالسمارة",
            "starts_on": datetime.date(2025, 6, 1),
            "ends_on": datetime.date(2027, 6, 30),
        },
    )
    for kind, label, label_ar, amount in (
        (BudgetLine.Kind.EQUIPMENT, "Équipement", "التجهيز", Decimal("500000.00")),
        (BudgetLine.Kind.TRAINING, "Formation", "التكوين", Decimal("600000.00")),
    ):
        BudgetLine.objects.update_or_create(
            grant=grant,
            kind=kind,
            defaults={"label": label, "label_ar": label_ar, "amount": amount},
        )


def _tracks(school: School) -> None:
    for code, kind, name, name_ar, months, description, description_ar in TRACKS:
        Track.objects.update_or_create(
            school=school,
            code=code,
            defaults={
                "kind": kind,
                "name": name,
                "name_ar": name_ar,
                "duration_months": months,
                "description": description,
                "description_ar": description_ar,
            },
        )


def _accounts(school: School) -> None:
    province = Province.objects.get(code="221")
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=account.username,
            defaults={
                "first_name": account.first_name,
                "last_name": account.last_name,
                "email": f"{account.username}@demo.tremplin.ma",
                "preferred_language": account.language,
            },
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        if account.role == "admin":
            if not (user.is_superuser and user.is_staff):
                user.is_superuser = user.is_staff = True
                user.save(update_fields=["is_superuser", "is_staff"])
        elif account.role == "coordinator":
            CoordinatorScope.objects.get_or_create(
                user=user, level=CoordinatorScope.Level.PROVINCE, province=province
            )
        else:
            Membership.objects.update_or_create(
                user=user, school=school, role=account.role, defaults={"is_active": True}
            )
