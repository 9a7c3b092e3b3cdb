"""The Smara 2025 demo: the school of the article, its partners, grant, tracks and one account
per role. Idempotent: running it again updates what exists and creates what is missing.

Its history is told at its own dates, whatever the day it is loaded: the school set up in
May 2025, the call of June and July 2025, the selection of September 2025, the first cohort
from Monday 29 September 2025 (`demo_clock`). Only Promotion 2026 lives in the present: its
call is open on the day the demo is loaded.
"""

import contextlib
import datetime
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

from django.db import transaction
from django.utils import timezone
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

# The school's time zone, in which the story's dates are told.
SMARA_TZ = zoneinfo.ZoneInfo("Africa/Casablanca")
# The school set up: its partners, grant, tracks and staff, before the call of June 2025.
SET_UP = datetime.datetime(2025, 5, 15, 9, 0, tzinfo=SMARA_TZ)
# The first cohort's first day, the day the school opened: the selection of Promotion 2025
# (its offers and their answers included) is over before it.
TRAINING_STARTS = datetime.date(2025, 9, 29)


@contextlib.contextmanager
def demo_clock(at: datetime.datetime) -> Iterator[None]:
    """Tell a moment of the demo's history on its own date: inside the block, Django's clock
    (``timezone.now``, which the services, the audit log and the ``auto_now_add`` fields
    read) starts at ``at`` and runs at its normal pace.

    The history goes through the real services this way, so that every date they write
    (ranking runs, offers and their deadlines, letters, messages, audit events) is the day
    the story tells of, and nothing of 2025 is left waiting for an answer or a send today.
    """
    real_now = timezone.now
    shift = at - real_now()
    with mock.patch.object(timezone, "now", lambda: real_now() + shift):
        yield


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
        with demo_clock(SET_UP):
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
            "address_ar": "شارع محمد الخامس، السمارة",
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
            "opened_on": TRAINING_STARTS,
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
                # The field's default is the real clock's, not demo_clock's.
                "date_joined": SET_UP,
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
