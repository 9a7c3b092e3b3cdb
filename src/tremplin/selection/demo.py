"""The selection part of the Smara demo: "Promotion 2025" taken through the whole selection.

Written test, interviews scored by two panels, two ranking runs (the second after a juror
corrected a sheet), the second published, then the offers' answers: most accepted, a few
declined and one left to expire, whose seats went to the waiting list. Everything goes
through the services, at the dates of September 2025 (`demo_clock`), so the audit log, the
letters and the outbox tell the same story as for a real call, and it is over: the decision
letters and their messages were sent then, every offer is answered, and the training starts
on Monday 29 September 2025 (`tremplin.schools.demo.TRAINING_STARTS`).
"""

import datetime
import random
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from tremplin.admissions.models import Application, Intake
from tremplin.core.models import User
from tremplin.notify.models import Message
from tremplin.schools.demo import SMARA_TZ, demo_clock
from tremplin.selection.assessment import sittings_assign, test_session_save
from tremplin.selection.assessment_marks import ABSENT, marks_record
from tremplin.selection.interviews import (
    interviews_assign,
    panel_save,
    slot_attendance_set,
    slots_generate,
)
from tremplin.selection.interviews_rubric import criteria_save
from tremplin.selection.interviews_scoring import (
    interview_marks_recompute,
    sheet_amend,
    sheet_save,
)
from tremplin.selection.letters import letter_batch_run
from tremplin.selection.models import (
    Component,
    Criterion,
    InterviewSlot,
    LetterBatch,
    Offer,
    Panel,
    Quota,
    RankingRun,
    TestSession,
    TestSitting,
)
from tremplin.selection.offers import offer_accept, offer_decline, offers_expire
from tremplin.selection.ranking import ranking_publish, ranking_run_execute, ranking_run_start
from tremplin.selection.schemes import published_runs, scheme_get_or_create

# Every 17th admitted applicant (by application number) declined; their seats went on.
DECLINE_EVERY = 17

# The calendar of the selection, 2025: the rules set and the written test convened on 25
# August, the test on Tuesday 2 September, the interviews convened on the 4th and held from
# Monday 8 to Wednesday 17, the selection committee on Friday 19 September; the offers are
# all answered within the week, before the training starts on Monday 29 September.
RULES_DAY = datetime.date(2025, 8, 25)
TEST_DAY = datetime.date(2025, 9, 2)
CONVOCATION_DAY = datetime.date(2025, 9, 4)
INTERVIEW_DAYS = tuple(datetime.date(2025, 9, day) for day in (8, 9, 10, 11, 12, 15, 16, 17))
COMMITTEE_DAY = datetime.date(2025, 9, 19)

RUBRIC = (
    ("Motivation et projet", "الحافز والمشروع", "2",
     ("Vague, sans projet", "Réel mais imprécis", "Clair et argumenté", "Clair, réaliste, mûri"),
     ("غامض، بلا مشروع", "حقيقي لكنه غير دقيق", "واضح ومعلل", "واضح وواقعي وناضج")),
    ("Raisonnement logique", "التفكير المنطقي", "1",
     ("Ne résout pas le problème", "Résout avec aide", "Résout seul", "Résout et explique"),
     ("لا يحل المسألة", "يحل بمساعدة", "يحل بمفرده", "يحل ويشرح")),
    ("Communication", "التواصل", "1",
     ("Difficile à suivre", "Compréhensible", "Claire", "Claire et convaincante"),
     ("صعب المتابعة", "مفهوم", "واضح", "واضح ومقنع")),
    ("Travail en équipe", "العمل الجماعي", "1",
     ("Aucun exemple", "Un exemple vague", "Exemples concrets", "Exemples et recul"),
     ("لا مثال", "مثال غامض", "أمثلة ملموسة", "أمثلة مع تأمل")),
)  # fmt: skip
LEVEL_MARKS = ("5", "10", "15", "20")


def demo_selection_load(school) -> None:
    """Take Promotion 2025 through its selection, once (a published run means it is done)."""
    intake = Intake.objects.get(school=school, slug="promotion-2025")
    if published_runs(intake).exists():
        return
    director = User.objects.get(username="directrice")
    officer = User.objects.get(username="admissions")
    juror = User.objects.get(username="jure")
    rng = random.Random(2025)
    with demo_clock(_on(RULES_DAY, 9)):
        _scheme(intake)
    ability = {
        a.pk: rng.gauss(11.5, 2.8)
        for a in intake.applications.filter(eligibility=Application.Eligibility.ELIGIBLE)
    }
    test = Component.objects.get(scheme__intake=intake, code="test")
    interview = Component.objects.get(scheme__intake=intake, code="interview")
    _written_test(test, officer, ability, rng)
    _interviews(interview, officer, (juror, director), ability, rng)
    day_after = INTERVIEW_DAYS[-1] + datetime.timedelta(days=1)
    with demo_clock(_on(day_after, 10)):
        first = _run(intake, officer)
    with demo_clock(_on(day_after, 15)):
        _correction(interview, juror)
    with demo_clock(_on(COMMITTEE_DAY, 9)):
        second = _run(intake, officer)
    with demo_clock(_on(COMMITTEE_DAY, 16)):
        ranking_publish(
            run=second,
            actor=director,
            comment=(
                f"Classement n° {second.number} validé par le comité de sélection du "
                f"{COMMITTEE_DAY.day} septembre 2025 (le n° {first.number} précédait la "
                "correction d'une fiche d'entretien)."
            ),
        )
        _letters_sent(intake)
    _answers(intake, officer)


def _on(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SMARA_TZ)


def _scheme(intake: Intake) -> None:
    scheme = scheme_get_or_create(intake)
    scheme.lottery_seed = 20250919  # drawn by the committee, on its day
    scheme.save(update_fields=["lottery_seed"])
    Component.objects.filter(scheme=scheme, code="test").update(threshold=Decimal(6))
    Component.objects.filter(scheme=scheme, code="interview").update(threshold=Decimal(8))
    Quota.objects.get_or_create(scheme=scheme, group=Quota.Group.WOMEN, track=None,
                                defaults={"share": Decimal(40)})  # fmt: skip


def _mark(value: float) -> Decimal:
    """Rounded to the quarter point, within 0..20, as markers write them."""
    return Decimal(round(min(max(value, 0), 20) * 4) / 4).quantize(Decimal("0.01"))


def _written_test(test: Component, officer, ability: dict, rng: random.Random) -> None:
    place, place_ar = "Salle polyvalente, Maison des jeunes", "القاعة متعددة الاختصاصات، دار الشباب"
    with demo_clock(_on(RULES_DAY, 10)):
        for starts in (_on(TEST_DAY, 9), _on(TEST_DAY, 14)):
            test_session_save(
                session=TestSession(
                    component=test,
                    starts_at=starts,
                    ends_at=starts + datetime.timedelta(hours=2),
                    place=place,
                    place_ar=place_ar,
                    capacity=100,
                    instructions="Votre CIN, un stylo bleu ou noir.",
                    instructions_ar="بطاقتك الوطنية وقلم أزرق أو أسود.",
                ),
                actor=officer,
            )
        sittings_assign(component=test, actor=officer)
        TestSitting.objects.filter(component=test).update(convened_at=_on(RULES_DAY, 11))
    values = {}
    for application_id in TestSitting.objects.filter(component=test).values_list(
        "application_id", flat=True
    ):
        if rng.random() < 0.04:
            values[application_id] = None  # absent: recorded below
            continue
        values[application_id] = _mark(ability[application_id] + rng.gauss(0, 1.8))
    with demo_clock(_on(TEST_DAY + datetime.timedelta(days=1), 15)):
        marks_record(
            component=test,
            values={a: (ABSENT if v is None else v) for a, v in values.items()},
            actor=officer,
        )


def _interviews(interview: Component, officer, jurors, ability: dict, rng) -> None:
    with demo_clock(_on(CONVOCATION_DAY, 9)):
        slots = _interview_slots(interview, officer, jurors)
    criteria = list(Criterion.objects.filter(component=interview))
    for slot in slots:
        present = rng.random() >= 0.03
        # Each juror submits their sheet as the interview ends.
        with demo_clock(slot.ends_at):
            slot = slot_attendance_set(slot=slot, present=present, actor=officer)
            if not present:
                continue
            for juror, severity in zip(jurors, (-0.6, 0.4), strict=True):
                level = _level(ability[slot.application_id] + severity, rng)
                scores = {c.pk: Decimal(LEVEL_MARKS[level]) for c in criteria}
                sheet_save(slot=slot, juror=juror, scores=scores, comment="", submit=True)
    # The juror marks harder than the director: once every sheet is in, the committee puts
    # both on the common scale.
    with demo_clock(_on(INTERVIEW_DAYS[-1] + datetime.timedelta(days=1), 9)):
        scheme = interview.scheme
        scheme.severity_correction = True
        scheme.save(update_fields=["severity_correction"])
        interview_marks_recompute(component=interview, actor=officer)


def _interview_slots(interview: Component, officer, jurors) -> list[InterviewSlot]:
    """The rubric, two panels, their slots on the interview days, and who comes when
    (convened the same day)."""
    criteria_save(
        component=interview,
        criteria=[
            Criterion(
                label=label,
                label_ar=label_ar,
                weight=Decimal(weight),
                levels=[
                    {"mark": mark, "text": text, "text_ar": text_ar}
                    for mark, text, text_ar in zip(LEVEL_MARKS, texts, texts_ar, strict=True)
                ],
            )
            for label, label_ar, weight, texts, texts_ar in RUBRIC
        ],
        actor=officer,
    )
    panels = []
    for name, place, place_ar in (
        ("Jury A", "Bureau 1", "المكتب 1"),
        ("Jury B", "Bureau 2", "المكتب 2"),
    ):
        panel = Panel(component=interview, name=name, place=place, place_ar=place_ar)
        panels.append(panel_save(panel=panel, jurors=list(jurors), actor=officer))
    for panel in panels:
        for day in INTERVIEW_DAYS:
            slots_generate(
                panel=panel,
                day=day,
                start=datetime.time(9, 0),
                end=datetime.time(17, 0),
                minutes=30,
                break_start=datetime.time(12, 30),
                break_end=datetime.time(14, 0),
                actor=officer,
            )
    interviews_assign(component=interview, actor=officer)
    slots = list(
        InterviewSlot.objects.filter(component=interview, application__isnull=False)
        .select_related("panel")
        .order_by("starts_at", "panel__name")
    )
    InterviewSlot.objects.filter(pk__in=[s.pk for s in slots]).update(
        convened_at=_on(CONVOCATION_DAY, 11)
    )
    return slots


def _level(value: float, rng: random.Random) -> int:
    noisy = value + rng.gauss(0, 2.2)
    return min(3, max(0, int((noisy - 2.5) // 5)))


def _correction(interview: Component, juror) -> None:
    """A juror reread a sheet and raised one criterion: the reason of the second run."""
    sheet = interview.sheets.filter(juror=juror, status="submitted").order_by("pk")[10]
    scores = {s.criterion_id: s.value for s in sheet.scores.all()}
    first = min(scores)
    scores[first] = Decimal(20)
    sheet_amend(
        sheet=sheet,
        actor=juror,
        scores=scores,
        comment=sheet.comment,
        reason="Erreur de saisie sur le premier critère, corrigée après relecture des notes.",
    )


def _run(intake: Intake, officer) -> RankingRun:
    run = ranking_run_start(intake=intake, actor=officer, enqueue=False)
    return ranking_run_execute(run.pk)


def _answers(intake: Intake, officer) -> None:
    """Most accept in the applicant space within a day or so, a few decline (one by phone)
    and the first promoted from the waiting list lets the offer expire; each freed seat goes
    to the next in the call order at once, and they answer too. Told in the order it
    happened, until no offer awaits an answer: all before the training starts."""
    ranked = Offer.objects.filter(application__intake=intake).order_by("application__number")
    declined = {o.application_id for o in ranked[DECLINE_EVERY - 1 :: DECLINE_EVERY]}
    by_phone = min(declined)
    expiring = None
    while live := list(
        Offer.objects.filter(application__intake=intake, status=Offer.Status.LIVE)
        .select_related("application")
        .order_by("created_at", "pk")
    ):
        if expiring is None:
            expiring = next((o.pk for o in live if o.origin == Offer.Origin.WAITLIST), None)
        offer = min(live, key=lambda o: _answer_time(o, expiring, by_phone))
        with demo_clock(_answer_time(offer, expiring, by_phone)):
            if offer.pk == expiring:
                offers_expire()  # the sweep, a minute after the deadline
            elif offer.application_id in declined:
                phone = offer.application_id == by_phone
                offer_decline(
                    offer=offer,
                    channel=Offer.Channel.PHONE if phone else Offer.Channel.APPLICANT,
                    actor=officer if phone else None,
                    reason="A trouvé un emploi à Laâyoune." if phone else "",
                )
            else:
                offer_accept(offer=offer, channel=Offer.Channel.APPLICANT)
            _letters_sent(intake)


def _answer_time(offer: Offer, expiring: int | None, by_phone: int) -> datetime.datetime:
    """When the offer was answered: one to thirty hours after it was made, by application
    number; the phone call on the Monday morning; the expiry a minute after the deadline."""
    if offer.pk == expiring:
        return offer.deadline + datetime.timedelta(minutes=1)
    if offer.application_id == by_phone:
        return _on(COMMITTEE_DAY + datetime.timedelta(days=3), 9, 30)
    number = offer.application.number
    return offer.created_at + datetime.timedelta(hours=1 + number * 7 % 30, minutes=number % 60)


def _letters_sent(intake: Intake) -> None:
    """Render the letters the last step started (its decisions) and record their SMS and
    emails as sent: the story's letters were written and sent on its dates, so loading the
    demo sends nothing. Their tasks, queued once the demo commits, find nothing left to do."""
    for batch_id in (
        LetterBatch.objects.filter(intake=intake, status=LetterBatch.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        letter_batch_run(batch_id=batch_id)
    now = timezone.now()
    Message.objects.filter(
        status=Message.Status.PENDING,
        content_type=ContentType.objects.get_for_model(Application),
        object_id__in=[str(pk) for pk in intake.applications.values_list("pk", flat=True)],
    ).update(status=Message.Status.SENT, attempts=1, sent_at=now, next_attempt_at=now)
