"""Builders for the written test and interview tests: a closed call of Smara with its scheme,
sessions, panels and slots. Unscoped on purpose, like tests/factories.py."""

import datetime
import sys
import types
from dataclasses import dataclass

from django.utils import timezone
from django_scopes import scopes_disabled

from tests.factories import make_member
from tests.selection.builders import make_closed_intake, make_scheme
from tremplin.selection import models as sm
from tremplin.selection.models import Component, InterviewSlot, Panel

DAY = datetime.date(2025, 9, 15)


def at(hour: int, minute: int = 0, day: datetime.date = DAY) -> datetime.datetime:
    """A Moroccan time (Africa/Casablanca), aware."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@dataclass
class Selection:
    intake: object
    test: Component
    interview: Component

    @property
    def applications(self) -> list:
        with scopes_disabled():
            return list(self.intake.applications.order_by("number"))

    @property
    def urls(self) -> dict:
        school, intake = self.intake.school.slug, self.intake.slug
        return {
            "school": school,
            "intake": intake,
            "test": (school, intake, self.test.code),
            "interview": (school, intake, self.interview.code),
        }


def make_selection(school, *, n=12, anonymous=False, test_threshold=None, **scheme) -> Selection:
    intake = make_closed_intake(school, n=n)
    made = make_scheme(intake, test_threshold=test_threshold)
    with scopes_disabled():
        if anonymous or scheme:
            for field, value in {"anonymous_marking": anonymous, **scheme}.items():
                setattr(made, field, value)
            made.save()
        test = Component.objects.get(scheme=made, code="test")
        interview = Component.objects.get(scheme=made, code="interview")
    return Selection(intake=intake, test=test, interview=interview)


def make_session(component, *, capacity=10, hour=9, place="Salle 1") -> sm.TestSession:
    with scopes_disabled():
        return sm.TestSession.objects.create(
            component=component,
            starts_at=at(hour),
            ends_at=at(hour + 2),
            place=place,
            place_ar="القاعة 1",
            capacity=capacity,
            instructions="CIN, stylo",
            instructions_ar="البطاقة الوطنية، قلم",
        )


def make_panel(component, jurors, *, name="Jury A", slots=0, hour=9) -> Panel:
    """A panel with `slots` consecutive slots of 20 minutes from `hour`."""
    with scopes_disabled():
        panel = Panel.objects.create(component=component, name=name, place="Salle B")
        panel.jurors.set(jurors)
        start = at(hour)
        InterviewSlot.objects.bulk_create(
            InterviewSlot(
                panel=panel,
                component=component,
                starts_at=start + datetime.timedelta(minutes=20 * i),
                ends_at=start + datetime.timedelta(minutes=20 * (i + 1)),
            )
            for i in range(slots)
        )
    return panel


def make_juror(username: str, school):
    return make_member(username, school, "juror")


def stub_letters(monkeypatch) -> list[dict]:
    """Record the calls to ``letters.letter_batch_start`` instead of rendering letters (the
    letters part is tested on its own). Works whether or not that module exists yet."""
    calls: list[dict] = []

    def fake(**kwargs):
        calls.append(kwargs)

    try:
        import tremplin.selection.letters as letters
    except ImportError:
        letters = types.ModuleType("tremplin.selection.letters")
        monkeypatch.setitem(sys.modules, "tremplin.selection.letters", letters)
    monkeypatch.setattr(letters, "letter_batch_start", fake, raising=False)
    return calls
