"""A closed call of a school ready for selection: eligible applications, a scheme, marks.

Unscoped on purpose, like tests/factories.py: they build the world the code under test
then reads through its scopes.
"""

import datetime
from decimal import Decimal

from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.open_intake import make_open_intake
from tremplin.admissions.models import Application, Intake
from tremplin.schools.models import Commune
from tremplin.selection.models import Component, Mark, Quota, SelectionScheme

FIRST_NAMES = [("Fatima", "فاطمة", "F"), ("Youssef", "يوسف", "M"), ("Khadija", "خديجة", "F"),
               ("Omar", "عمر", "M"), ("Salma", "سلمى", "F"), ("Hamza", "حمزة", "M")]  # fmt: skip


def make_closed_intake(
    school, *, slug="promo-2025", n=20, seats=6, waitlist=4, tracks=("dev-web",)
) -> Intake:
    """A closed call with `n` eligible applications (women and men alternate)."""
    intake = make_open_intake(school, slug=slug, tracks=tracks, seats=seats, waitlist=waitlist)
    with scopes_disabled():
        now = timezone.now()
        Intake.objects.filter(pk=intake.pk).update(
            status=Intake.Status.CLOSED,
            opens_at=now - datetime.timedelta(days=60),
            closes_at=now - datetime.timedelta(days=30),
        )
        intake.refresh_from_db()
        commune = Commune.objects.get(code="221.01.01")
        apps = []
        for i in range(n):
            first, first_ar, sex = FIRST_NAMES[i % len(FIRST_NAMES)]
            apps.append(
                Application(
                    intake=intake,
                    number=i + 1,
                    reference=f"{school.code}-{slug[-2:]}-{i + 1:04d}",
                    cin=f"SE{100000 + i}",
                    first_name=first,
                    last_name=f"Alaoui{i}",
                    first_name_ar=first_ar,
                    last_name_ar="العلوي",
                    birth_date=datetime.date(2000, 1, 1) + datetime.timedelta(days=37 * i),
                    sex=sex,
                    phone=f"+2126612{i:05d}",
                    email=f"applicant{i}@example.org" if i % 3 else "",
                    commune=commune,
                    education_level="bac",
                    employment="neet",
                    privacy_notice=intake.privacy_notice,
                    privacy_consent_at=now - datetime.timedelta(days=40),
                    language="ar" if i % 2 else "fr",
                    eligibility=Application.Eligibility.ELIGIBLE,
                )
            )
        for application in apps:  # bulk_create does not call save()
            application.refresh_search_name()
        Application.objects.bulk_create(apps)
    return intake


def make_scheme(intake, *, women_share=None, test_threshold=Decimal(5)) -> SelectionScheme:
    """Written test (weight 1, eliminatory below `test_threshold`) and interview (weight 2),
    ties broken by the interview then the test; optionally a minimum share of women (%)."""
    with scopes_disabled():
        scheme, _ = SelectionScheme.objects.get_or_create(
            intake=intake, defaults={"tie_break": ["interview", "test"], "lottery_seed": 2025}
        )
        Component.objects.get_or_create(
            scheme=scheme,
            code="test",
            defaults={"kind": "test", "name": "Test écrit", "name_ar": "الاختبار الكتابي",
                      "weight": Decimal(1), "threshold": test_threshold, "position": 1},
        )  # fmt: skip
        Component.objects.get_or_create(
            scheme=scheme,
            code="interview",
            defaults={"kind": "interview", "name": "Entretien", "name_ar": "المقابلة",
                      "weight": Decimal(2), "position": 2},
        )  # fmt: skip
        if women_share is not None:
            Quota.objects.update_or_create(
                scheme=scheme, group="women", track=None, defaults={"share": women_share}
            )
    return scheme


def give_marks(intake, marks: dict[str, list]) -> None:
    """Marks per component code, in application number order; None = nothing, "absent"."""
    with scopes_disabled():
        apps = list(intake.applications.order_by("number"))
        components = {c.code: c for c in Component.objects.filter(scheme__intake=intake)}
        rows = []
        for code, values in marks.items():
            for application, value in zip(apps, values, strict=False):
                rows.append(
                    Mark(
                        application=application,
                        component=components[code],
                        value=None if value in (None, "absent") else Decimal(str(value)),
                        absent=value == "absent",
                        source=Mark.Source.ENTRY,
                    )
                )
        Mark.objects.bulk_create(rows)
