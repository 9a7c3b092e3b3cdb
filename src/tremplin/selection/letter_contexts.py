"""What each letter says, read from the database as plain values (in the parent process).

A context holds only strings, numbers, lists and dicts, already formatted in the letter's
language, so that it can cross to a worker process and render there without a database.
``None`` means the application has nothing to announce (no sitting, no slot, no published
decision): no letter is made for it.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from django.conf import settings
from django.utils import timezone, translation

from tremplin.admissions.eligibility import describe
from tremplin.admissions.models import Application
from tremplin.core.formatting import babel_locale, format_date
from tremplin.core.i18n import localized
from tremplin.core.identifiers import format_phone, mask_cin
from tremplin.selection.decisions import Decision, decisions_for
from tremplin.selection.models import InterviewSlot, Letter, LetterBatch, TestSitting

Kind = Letter.Kind

# The letter's own code in its reference (SMA-25-0042/D-17: decision of batch 17).
KIND_CODES = {Kind.TEST_CONVOCATION: "T", Kind.INTERVIEW_CONVOCATION: "I", Kind.DECISION: "D"}

# Embeddings, overrides and isolates: a name carrying them could reorder the text around
# it. Letters wrap values in <bdi> anyway; these are dropped so nothing can escape it.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def letter_language(language: str) -> str:
    """The applicant's language if the platform has it, else the default (French)."""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def contexts_for(batch: LetterBatch, applications: list[Application]) -> list[dict | None]:
    """One context per application (in order), or None when there is nothing to say."""
    if batch.kind == Kind.TEST_CONVOCATION:
        sittings = _grouped(
            TestSitting.objects.filter(
                application__in=applications, component__scheme__intake=batch.intake_id
            )
            .select_related("session", "component")
            .order_by("session__starts_at", "pk")
        )
        return [_test_context(batch, a, sittings.get(a.pk, [])) for a in applications]
    if batch.kind == Kind.INTERVIEW_CONVOCATION:
        slots = _grouped(
            InterviewSlot.objects.filter(
                application__in=applications, component__scheme__intake=batch.intake_id
            )
            .select_related("panel", "component")
            .order_by("starts_at", "pk")
        )
        return [_interview_context(batch, a, slots.get(a.pk, [])) for a in applications]
    decisions = decisions_for(batch.intake, applications)
    return [_decision_context(batch, a, decisions[a.pk]) for a in applications]


def _grouped(rows) -> dict[int, list]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.application_id].append(row)
    return grouped


def clean(value: str) -> str:
    return unicodedata.normalize("NFC", value or "").translate(_BIDI_CONTROLS).strip()


def _local(value: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(value, ZoneInfo(settings.TIME_ZONE))


def _mark(value: Decimal | None, language: str) -> str:
    if value is None:
        return ""
    return format_decimal(value, "#,##0.00", locale=babel_locale(language))


def _weight(value: Decimal, language: str) -> str:
    return format_decimal(value, "#,##0.##", locale=babel_locale(language))


def _common(batch: LetterBatch, application: Application, language: str) -> dict:
    """The letterhead, the recipient, the date and the reference (call under override)."""
    school = application.intake.school
    commune = school.commune
    province = commune.province
    name_ar = clean(application.full_name_ar)
    name = clean(application.full_name)
    bidi = translation.get_language_bidi()
    return {
        "application_id": application.pk,
        "kind": batch.kind,
        "language": language,
        "reference": f"{application.reference}/{KIND_CODES[batch.kind]}-{batch.pk}",
        "date": format_date(timezone.now(), "long", language),
        "school": {
            "name": clean(school.name),
            "name_ar": clean(school.name_ar),
            "initial": clean(school.name)[:1].upper() or "T",
            "local_name": clean(localized(school, "name")),
            "place": clean(localized(commune, "name")),
            "place_fr": f"{clean(commune.name)}, {clean(province.name)}",
            "place_ar": f"{clean(commune.name_ar)}، {clean(province.name_ar)}",
            "address": clean(localized(school, "address")),
            "phone": clean(format_phone(school.phone)) if school.phone else "",
            "email": clean(school.email),
        },
        "intake": {"title": clean(localized(application.intake, "title"))},
        "applicant": {
            "name": name,
            "name_ar": name_ar,
            "salutation_name": name_ar if bidi and name_ar else name,
            "sex": application.sex,
            "reference": application.reference,
            "cin": mask_cin(application.cin),
        },
    }


def _test_context(batch, application, sittings: list[TestSitting]) -> dict | None:
    if not sittings:
        return None
    language = letter_language(application.language)
    with translation.override(language):
        context = _common(batch, application, language)
        instructions: list[str] = []
        rows = []
        for sitting in sittings:
            session = sitting.session
            for line in clean(localized(session, "instructions")).splitlines():
                if line.strip() and clean(line) not in instructions:
                    instructions.append(clean(line))
            rows.append(
                {
                    "component": clean(localized(sitting.component, "name")),
                    "date": format_date(session.starts_at, "full", language),
                    "day": format_date(session.starts_at, "short", language),
                    "start": f"{_local(session.starts_at):%H:%M}",
                    "end": f"{_local(session.ends_at):%H:%M}",
                    "place": clean(localized(session, "place")),
                    "candidate_number": sitting.candidate_number,
                    "starts_at": session.starts_at.isoformat(),
                    "ends_at": session.ends_at.isoformat(),
                    "uid": f"sitting-{sitting.pk}",
                }
            )
        context.update(sittings=rows, instructions=instructions)
    return context


def _interview_context(batch, application, slots: list[InterviewSlot]) -> dict | None:
    if not slots:
        return None
    language = letter_language(application.language)
    with translation.override(language):
        context = _common(batch, application, language)
        rows = []
        for slot in slots:
            place = clean(localized(slot.panel, "place")) or context["school"]["local_name"]
            rows.append(
                {
                    "component": clean(localized(slot.component, "name")),
                    "date": format_date(slot.starts_at, "full", language),
                    "day": format_date(slot.starts_at, "short", language),
                    "start": f"{_local(slot.starts_at):%H:%M}",
                    "end": f"{_local(slot.ends_at):%H:%M}",
                    "place": place,
                    "panel": clean(slot.panel.name),
                    "starts_at": slot.starts_at.isoformat(),
                    "ends_at": slot.ends_at.isoformat(),
                    "uid": f"slot-{slot.pk}",
                }
            )
        minutes = int((slots[0].ends_at - slots[0].starts_at).total_seconds() // 60)
        context.update(slots=rows, minutes=minutes)
    return context


def _decision_context(batch, application, decision: Decision | None) -> dict | None:
    if decision is None:
        return None
    language = letter_language(application.language)
    with translation.override(language):
        context = _common(batch, application, language)
        offer = decision.offer
        track = decision.track
        context["decision"] = {
            "status": decision.status,
            # What the message reports is this decision about this offer (`letters._notify`).
            "offer": offer.pk if offer else None,
            "track": clean(localized(track, "name")) if track else "",
            "published": format_date(decision.run.published_at, "long", language),
            "deadline": _deadline(offer.deadline, "long", language) if offer else "",
            "deadline_short": _deadline(offer.deadline, "short", language) if offer else "",
            "marks": [
                {
                    "name": clean(line.name),
                    "weight": _weight(line.component.weight, language),
                    "value": _mark(line.value, language),
                    "absent": line.absent,
                    "threshold": _mark(line.component.threshold, language),
                    "below": line.below_threshold,
                }
                for line in decision.marks
            ],
            "composite": _mark(decision.composite, language),
            "rank": decision.rank,
            "ranked": decision.ranked,
            "cutoff": _mark(decision.cutoff, language),
            "seats": decision.seats,
            "waitlist_position": decision.waitlist_position,
            "ahead": decision.ahead,
            "reason": decision.reason_text,
            # The conditions of the call that the application does not meet.
            "conditions": [clean(describe(reason)) for reason in application.eligibility_reasons]
            if decision.status == "ineligible"
            else [],
        }
    return context


def _deadline(deadline: datetime.datetime, fmt: str, language: str) -> str:
    from django.utils.translation import gettext

    # Translators: a deadline, e.g. "15 September 2025 at 18:00".
    return gettext("%(date)s at %(time)s") % {
        "date": format_date(deadline, fmt, language),
        "time": f"{_local(deadline):%H:%M}",
    }
