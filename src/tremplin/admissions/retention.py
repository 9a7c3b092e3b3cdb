"""The retention schedule (law 09-08): personal data is kept no longer than its purpose needs.

The personal data of an applicant who did not join the school is kept for
``RETENTION_MONTHS`` after their call closed (24 by default: time for appeals, audits and a
second call), then erased as a deletion would erase it, by ``tremplin apply_retention``
(daily). What the funder's statistics need stays (sex, year of birth, commune, education,
situation, eligibility, the selection's marks and outcome), and the application keeps its
status: the funnel of that call still adds up. The reports of the imports into that call,
which quote the refused rows, are emptied then too. Learners (an enrolment) and applicants who
hold a live or accepted offer keep theirs: the training and the job follow-up need them.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import ngettext
from django_scopes import scopes_disabled

from tremplin.admissions.import_tasks import import_reports_forget
from tremplin.admissions.models import Application, Intake
from tremplin.admissions.personal_data import personal_data_erase

BATCH = 200

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionRun:
    erased: int  # applications whose personal data was erased (or would be, in a dry run)
    calls: int  # the calls they belong to
    failed: int = 0  # left for the next sweep (logged)


def retention_months() -> int:
    return settings.RETENTION_MONTHS


def erasure_date(intake: Intake) -> datetime.date:
    """The day the sweep erases the personal data of this call's applicants who did not
    join the school."""
    return (_months_after(intake.closes_at, retention_months()) + datetime.timedelta(days=1)).date()


def retention_due(*, now: datetime.datetime | None = None) -> QuerySet[Application]:
    """Applications whose personal data is past its retention period."""
    from tremplin.selection.offers import HOLDING

    cutoff = _months_after(now or timezone.now(), -retention_months())
    return (
        Application.objects.filter(intake__closes_at__lt=cutoff, erased_at__isnull=True)
        .exclude(enrolment__isnull=False)
        .exclude(offers__status__in=HOLDING)
        .order_by("pk")
    )


def retention_apply(*, now: datetime.datetime | None = None, dry_run: bool = False) -> RetentionRun:
    """Erase the personal data that is past its retention period, batch by batch (each
    application in a transaction of its own: a sweep stopped half-way loses nothing and
    the next one carries on). Each erasure is audited, by the system, with the reason. One
    that fails (a file the storage cannot delete, say) is logged and left for the next
    sweep; the others go on."""
    with scopes_disabled():
        due = retention_due(now=now)
        if dry_run:
            return RetentionRun(erased=due.count(), calls=due.values("intake").distinct().count())
        import_reports_forget(
            calls_closed_before=_months_after(now or timezone.now(), -retention_months())
        )
        erased, failed, calls, last = 0, 0, set(), 0
        while batch := list(due.filter(pk__gt=last).values_list("pk", "intake_id")[:BATCH]):
            for pk, intake_id in batch:
                last = pk
                try:
                    if _erase(pk, now=now):
                        erased += 1
                        calls.add(intake_id)
                except Exception:
                    logger.exception("The personal data of application %s could not be erased.", pk)
                    failed += 1
    return RetentionRun(erased=erased, calls=len(calls), failed=failed)


@transaction.atomic
def _erase(pk: int, *, now: datetime.datetime | None) -> bool:
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("intake__school")
        .get(pk=pk)
    )
    # Checked again under the lock: an offer made or an erasure done meanwhile.
    if not retention_due(now=now).filter(pk=pk).exists():
        return False
    months = retention_months()
    with translation.override(settings.LANGUAGE_CODE):
        reason = ngettext(
            "Retention period over: the call closed more than %(months)s month ago.",
            "Retention period over: the call closed more than %(months)s months ago.",
            months,
        ) % {"months": months}
    personal_data_erase(
        locked,
        actor=None,
        reason=reason,
        data={"retention_months": months, "call_closed_at": locked.intake.closes_at},
    )
    return True


def _months_after(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same day and time ``months`` later (or earlier), on the month's last day when
    it is shorter (31 January + 1 month = 28 or 29 February)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month)
