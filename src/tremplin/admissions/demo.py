"""The admissions part of the Smara demo: "Promotion 2025" (closed, 201 applications) and
"Promotion 2026" (open, a few applications). Synthetic people, realistic spellings."""

import datetime
import random

from django.utils import timezone

from tremplin.admissions import eligibility
from tremplin.admissions.models import Application, Intake, IntakeTrack, PrivacyNotice, Wish
from tremplin.admissions.references import make_reference, numbers_take, reference_year
from tremplin.schools.demo import SMARA_TZ, TRAINING_STARTS, demo_clock
from tremplin.schools.models import Commune, Province, Track

WOMEN = (
    ("Fatima", "فاطمة"), ("Khadija", "خديجة"), ("Mariem", "مريم"), ("Salka", "السالكة"),
    ("Aicha", "عائشة"), ("Zineb", "زينب"), ("Hafsa", "حفصة"), ("Salma", "سلمى"),
    ("Nora", "نورة"), ("Meriem", "مريم"), ("Imane", "إيمان"), ("Asmae", "أسماء"),
    ("Oumaima", "أميمة"), ("Hasna", "حسناء"), ("Soukaina", "سكينة"), ("Lalla", "لالة"),
    ("Galia", "الغالية"), ("Toufa", "التوفة"), ("Fatimetou", "فاطمتو"), ("Mbarka", "مباركة"),
)  # fmt: skip
MEN = (
    ("Mohamed", "محمد"), ("Ahmed", "أحمد"), ("Brahim", "ابراهيم"), ("Mahfoud", "محفوظ"),
    ("Sidi", "سيدي"), ("Youssef", "يوسف"), ("Hamza", "حمزة"), ("Omar", "عمر"),
    ("Bachir", "البشير"), ("Lahcen", "لحسن"), ("Mustapha", "مصطفى"), ("Salek", "السالك"),
    ("Ayoub", "أيوب"), ("Anas", "أنس"), ("Hamdi", "حمدي"), ("Mbarek", "مبارك"),
    ("Khalil", "خليل"), ("Abdellah", "عبد الله"), ("Mohamed Lamine", "محمد الأمين"),
    ("Ali", "علي"),
)  # fmt: skip
FAMILY = (
    ("Ma El Ainine", "ماء العينين"), ("Ould Sidi", "ولد سيدي"), ("El Khalil", "الخليل"),
    ("Bouzid", "بوزيد"), ("El Alaoui", "العلوي"), ("Lahbib", "لحبيب"), ("Sbai", "السباعي"),
    ("El Bachir", "البشير"), ("Bennani", "بناني"), ("Ait Lahcen", "آيت لحسن"),
    ("El Idrissi", "الإدريسي"), ("Boujemaa", "بوجمعة"), ("Laroussi", "العروسي"),
    ("Ahl Cheikh", "أهل الشيخ"), ("Daddi", "الدادي"), ("Rguibi", "الركيبي"),
    ("Touzani", "التوزاني"), ("El Moussaoui", "الموساوي"), ("Hmimed", "حميمد"),
    ("Salmi", "السالمي"), ("Bouh", "بوه"), ("Lmrabet", "المرابط"),
)  # fmt: skip

NOTICE_FR = (
    "L'École Numérique de Smara traite vos données pour sélectionner les candidats de cet "
    "appel, puis, si vous l'acceptez, pour suivre votre insertion professionnelle. Vous "
    "pouvez consulter, télécharger et corriger vos données, et demander leur suppression, "
    "depuis votre espace candidat."
)  # The date of the erasure follows, written by the page from the retention period.
NOTICE_AR = (
    "تعالج المدرسة الرقمية بالسمارة معطياتكم لانتقاء المترشحين لهذا الإعلان، ثم لتتبع "
    "إدماجكم المهني إذا وافقتم على ذلك. يمكنكم الاطلاع على معطياتكم وتحميلها وتصحيحها وطلب "
    "حذفها من فضاء المترشح."
)

TRACK_SEATS_2025 = {"dev-web": 30, "data": 20, "cyber": 20}
# The waiting list of each track (30 in all): a call's waiting list is the sum of its tracks'.
TRACK_WAITLIST_2025 = {"dev-web": 12, "data": 9, "cyber": 9}


def demo_admissions_load(school) -> None:
    notice, _ = PrivacyNotice.objects.get_or_create(
        school=school,
        version=1,
        defaults={
            "cndp_authorisation": "D-W-0412/2025",
            "text": NOTICE_FR,
            "text_ar": NOTICE_AR,
            "published_at": datetime.datetime(2025, 5, 20, tzinfo=datetime.UTC),
        },
    )
    province = Province.objects.get(code="221")
    closes_2025 = datetime.datetime(2025, 7, 15, 23, 59, tzinfo=SMARA_TZ)
    with demo_clock(datetime.datetime(2025, 5, 26, 10, 0, tzinfo=SMARA_TZ)):
        promo_2025 = _intake(
            school,
            notice,
            province,
            slug="promotion-2025",
            title=("Promotion 2025", "فوج 2025"),
            opens=datetime.datetime(2025, 6, 2, 9, 0, tzinfo=SMARA_TZ),
            closes=closes_2025,
            # Ages on the first day of the training.
            reference_date=TRAINING_STARTS,
            status=Intake.Status.CLOSED,
        )
    closes_2026 = _closes_2026()  # from today, not from the clock below
    with demo_clock(datetime.datetime(2026, 10, 26, 10, 0, tzinfo=SMARA_TZ)):
        promo_2026 = _intake(
            school,
            notice,
            province,
            slug="promotion-2026",
            title=("Promotion 2026", "فوج 2026"),
            opens=datetime.datetime(2026, 11, 2, 9, 0, tzinfo=SMARA_TZ),
            closes=closes_2026,
            # Ages on 31 December 2026: in the year of its name and between its opening and
            # closing dates, whatever the day the demo is loaded (the staff form refuses a
            # date more than a year from the call's dates).
            reference_date=datetime.date(2026, 12, 31),
            status=Intake.Status.OPEN,
        )
    if not Application.objects.filter(intake=promo_2025).exists():
        # Submitted during the call (each at its own time), last changed as it closed.
        with demo_clock(closes_2025 + datetime.timedelta(minutes=1)):
            _applications(promo_2025, count=201, seed=2025)
    if not Application.objects.filter(intake=promo_2026).exists():
        _applications(promo_2026, count=6, seed=2026)


def _closes_2026() -> datetime.datetime:
    """31 January 2027, or sixty days after the day the demo is loaded if that is later: the
    call is open for a visitor whatever the day. A date, not an instant, so that loading the
    demo again the same day changes nothing."""
    day = max(datetime.date(2027, 1, 31), timezone.localdate() + datetime.timedelta(days=60))
    return datetime.datetime.combine(day, datetime.time(23, 59), tzinfo=SMARA_TZ)


def _intake(school, notice, province, *, slug, title, opens, closes, reference_date, status):
    intake, _ = Intake.objects.update_or_create(
        school=school,
        slug=slug,
        defaults={
            "title": title[0],
            "title_ar": title[1],
            "description": (
                "Neuf mois de formation gratuite aux métiers du numérique, par projets, avec "
                "les compétences de vie et les langues, puis un accompagnement vers l'emploi."
            ),
            "description_ar": (
                "تسعة أشهر من التكوين المجاني في مهن الرقمنة من خلال المشاريع، مع المهارات "
                "الحياتية واللغات، ثم مواكبة نحو التشغيل."
            ),
            "opens_at": opens,
            "closes_at": closes,
            "seats": sum(TRACK_SEATS_2025.values()),
            "waitlist": sum(TRACK_WAITLIST_2025.values()),
            "reference_date": reference_date,
            "min_age": 18,
            "max_age": 35,
            "privacy_notice": notice,
            "status": status,
        },
    )
    intake.provinces.set([province])
    for code, seats in TRACK_SEATS_2025.items():
        IntakeTrack.objects.update_or_create(
            intake=intake,
            track=Track.objects.get(school=school, code=code),
            defaults={"seats": seats, "waitlist": TRACK_WAITLIST_2025[code]},
        )
    return intake


def _applications(intake: Intake, *, count: int, seed: int) -> None:
    rng = random.Random(seed)
    semara = list(Commune.objects.filter(province__code="221").order_by("code"))
    elsewhere = list(Commune.objects.filter(province__code="321").order_by("code"))
    # Most applicants live in the town of Es-Semara, some in the rural communes.
    weights = [60 if c.kind == Commune.Kind.URBAN else 8 for c in semara]
    tracks = [it.track for it in intake.intake_tracks.select_related("track")]
    rules = eligibility.Rules.of(intake)
    start = intake.opens_at
    span = (
        (intake.closes_at - intake.opens_at)
        if intake.closes_at < timezone.now()
        else (timezone.now() - intake.opens_at)
    )
    first_number = numbers_take(intake, count)
    applications, wish_rows = [], []
    for number in range(first_number, first_number + count):
        woman = rng.random() < 0.47
        first, first_ar = rng.choice(WOMEN if woman else MEN)
        last, last_ar = rng.choice(FAMILY)
        age = rng.choice([18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 32, 34])
        if number % 23 == 0:
            age = rng.choice([16, 17, 37, 41])  # outside the age band
        birth = intake.reference_date - datetime.timedelta(days=365 * age + rng.randint(15, 340))
        commune = rng.choices(semara, weights)[0]
        if number % 31 == 0:
            commune = rng.choice(elsewhere)  # lives outside the province
        submitted = start + span * (number / (count + 1)) * rng.uniform(0.9, 1.0)
        application = Application(
            intake=intake,
            number=number,
            reference=make_reference(intake.school.code, reference_year(intake), number),
            cin=f"{rng.choice(['SH', 'SJ', 'JH', 'J'])}{rng.randint(10000, 999999)}",
            first_name=first,
            last_name=last,
            first_name_ar=first_ar,
            last_name_ar=last_ar,
            birth_date=birth,
            sex="F" if woman else "M",
            phone=f"+2126{rng.randint(10000000, 99999999)}",
            email=f"{first.lower().replace(' ', '.')}.{number}@example.ma"
            if rng.random() < 0.4
            else "",
            commune=commune,
            education_level=rng.choices(
                ["bac", "bac2", "licence", "secondary", "vocational"], [40, 20, 15, 15, 10]
            )[0],
            employment=rng.choices(["neet", "informal", "student"], [70, 20, 10])[0],
            needs_accommodation=rng.random() < 0.03,
            follow_up_consent=rng.random() < 0.85,
            privacy_notice=intake.privacy_notice,
            privacy_consent_at=submitted,
            language=rng.choices(["ar", "fr"], [55, 45])[0],
            created_at=submitted,
        )
        application.accommodation_consent = application.needs_accommodation
        application.refresh_search_name()
        failed = eligibility.evaluate(
            rules,
            birth_date=application.birth_date,
            commune_id=commune.pk,
            province_id=commune.province_id,
            education_level=application.education_level,
            employment=application.employment,
        )
        application.eligibility = "ineligible" if failed else "eligible"
        application.eligibility_reasons = failed
        application.eligibility_checked_at = submitted
        applications.append(application)
        wish_rows.append(rng.sample(tracks, k=rng.choice([1, 2, 3])))
    # Unique CINs: redraw the rare clash.
    seen = set()
    for application in applications:
        while application.cin in seen:
            application.cin = f"SH{rng.randint(10000, 999999)}"
        seen.add(application.cin)
    Application.objects.bulk_create(applications)
    saved = {a.number: a for a in Application.objects.filter(intake=intake)}
    Wish.objects.bulk_create(
        Wish(application=saved[number], track=track, rank=rank)
        for number, wishes in enumerate(wish_rows, start=first_number)
        for rank, track in enumerate(wishes, start=1)
    )
