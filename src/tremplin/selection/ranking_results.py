"""Reading a run's results for staff: labels, the filtered table, and the XLSX export.

Data minimisation as in admissions' exports: the CIN is masked unless the reader may see
identities, and only what the selection needs is exported. Exports are audited.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tremplin.admissions.exporting import reporting, write_xlsx
from tremplin.admissions.selectors import names_q, normalize_cin
from tremplin.core.audit import log_action
from tremplin.core.identifiers import mask_cin
from tremplin.core.text import parse_id, typed_search
from tremplin.selection.models import RankingResult, RankingRun

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Reasons as staff read them (the applicant's wording is in decisions.REASON_TEXTS).
STAFF_REASONS = {
    "ineligible": gettext_lazy("not eligible"),
    "absent": gettext_lazy("absent"),
    "below_threshold": gettext_lazy("below an eliminatory threshold"),
    "beyond_waitlist": gettext_lazy("beyond the waiting list"),
    "below_cutoffs": gettext_lazy("below the cut-offs of their wishes"),
    "no_wishes": gettext_lazy("no track asked for"),
    "declined": gettext_lazy("declined"),
    "withdrawn": gettext_lazy("withdrawn"),
    "missing_marks": gettext_lazy("marks missing"),
}

CHECK_LABELS = {
    "screening": gettext_lazy("Every application is screened"),
    "marks": gettext_lazy("Everyone ranked has all their marks"),
    "call_order": gettext_lazy("The call order follows its definition"),
    "capacity": gettext_lazy("No track over its seats"),
    "quota": gettext_lazy("Quotas respected"),
    "no_blocking_pair": gettext_lazy("Nobody is treated unfairly (no blocking pair)"),
    "cutoffs": gettext_lazy("Every outcome is explained by the cut-offs"),
    "explained": gettext_lazy("Stored results agree with the seats and the cut-offs"),
}

QUOTA_LABELS = {"women": gettext_lazy("women"), "neet": gettext_lazy("NEET")}

SORTS = {
    "rank": ("call_rank", "merit_rank", "application__number"),
    "merit": ("merit_rank", "application__number"),
    "-composite": ("-composite", "call_rank", "application__number"),
    "name": ("application__last_name", "application__first_name", "application__number"),
    "reference": ("application__number",),
}


def reason_label(reason: str) -> str:
    return str(STAFF_REASONS.get(reason, reason)) if reason else ""


@dataclass(frozen=True)
class Column:
    """A component of the run, as a column of the table."""

    code: str
    name: str
    weight: str
    threshold: str | None


def _local(values: dict, field: str) -> str:
    """A stored name in the reader's language (Arabic when there is one on Arabic pages)."""
    if translation.get_language() == "ar" and values.get(f"{field}_ar"):
        return values[f"{field}_ar"]
    return values.get(field, "")


def component_columns(run: RankingRun) -> list[Column]:
    return [
        Column(c["code"], _local(c, "name"), c["weight"], c["threshold"])
        for c in run.parameters.get("components", [])
    ]


def track_names(run: RankingRun) -> dict:
    """IntakeTrack id -> name in the reader's language, from the run's parameters."""
    return {t["id"]: _local(t, "name") for t in run.parameters.get("tracks", [])}


def results_filtered(run: RankingRun, params) -> QuerySet[RankingResult]:
    qs = RankingResult.objects.filter(run=run).select_related("application")
    outcome = params.get("outcome", "")
    if outcome in RankingResult.Outcome.values:
        qs = qs.filter(outcome=outcome)
    if (track := parse_id(params.get("track", ""))) is not None:
        qs = qs.filter(track_id=track)
    if params.get("quota") == "yes":
        qs = qs.exclude(called_by_quota="")
    search = typed_search(params.get("q"))
    if search:
        cin = normalize_cin(search)
        qs = qs.filter(
            names_q(search, to_application="application__")
            | Q(application__reference__iexact=search)
            | (Q(application__cin=cin) if cin else Q(pk__in=[]))
        )
    # Those the engine did not rank come last, whatever the sort.
    order = SORTS.get(params.get("sort", ""), SORTS["rank"])
    return qs.order_by(
        *(
            F(key[1:]).desc(nulls_last=True) if key.startswith("-") else F(key).asc(nulls_last=True)
            for key in order
        )
    )


def outcome_counts(run: RankingRun) -> Counter:
    return Counter(run.summary.get("counts", {}))


# --- Export -------------------------------------------------------------------------------


def _mark_cell(value):
    if value is None:
        return ""
    if value == "absent":
        return _("absent")
    from decimal import Decimal

    return Decimal(value)


def results_export(
    *,
    run: RankingRun,
    include_identity: bool,
    actor,
    out,
    progress: Callable[[int], None] | None = None,
    record: bool = True,
) -> int:
    """The run's full table as XLSX into `out` (binary), audited (unless ``record`` is
    false: the caller does, once the file is kept). Returns the row count. ``progress``, if
    given, is called with the number of rows written so far every 2,000."""
    columns = component_columns(run)
    tracks = track_names(run)
    several = run.parameters.get("mode") == "several"
    header = [
        _("call rank"),
        _("merit rank"),
        _("reference"),
        _("last name"),
        _("first name"),
        _("last name (Arabic)"),
        _("first name (Arabic)"),
        _("CIN"),
        *([_("track")] if several else []),
        *(f"{c.name} (×{c.weight})" for c in columns),
        _("composite"),
        _("outcome"),
        _("reason"),
        _("waiting list position"),
        _("called by quota"),
        _("lottery number"),
    ]
    outcomes = dict(RankingResult.Outcome.choices)

    def rows():
        qs = results_filtered(run, {}).iterator(chunk_size=2000)
        for r in qs:
            a = r.application
            yield [
                r.call_rank,
                r.merit_rank,
                a.reference,
                a.last_name,  # write_xlsx keeps what looks like a formula as text
                a.first_name,
                a.last_name_ar,
                a.first_name_ar,
                a.cin if include_identity else mask_cin(a.cin),
                *([tracks.get(r.track_id, "")] if several else []),
                *(_mark_cell(r.marks.get(c.code)) for c in columns),
                r.composite,
                str(outcomes.get(r.outcome, r.outcome)),
                reason_label(r.reason),
                r.waitlist_position,
                str(QUOTA_LABELS.get(r.called_by_quota, r.called_by_quota)),
                r.lottery,
            ]

    written = rows() if progress is None else reporting(rows(), progress)
    count = write_xlsx(written, header, out, title=_("ranking"))
    if record:
        export_record(run, count, include_identity, actor)
    return count


def export_record(run: RankingRun, count: int, include_identity: bool, actor) -> None:
    """The export of the run's table in the audit log: who, how many rows, which columns."""
    log_action(
        "tremplin.selection.ranking.exported",
        actor=actor,
        school=run.intake.school,
        obj=run,
        data={"format": "xlsx", "count": count, "identity": include_identity},
    )


def results_count(run: RankingRun) -> int:
    """The rows of the run's table, as its export writes them."""
    return RankingResult.objects.filter(run=run).count()


def export_filename(run: RankingRun, at: datetime.datetime | None = None) -> str:
    """The file's name: the call, the run, and when it was written (now, by default)."""
    stamp = timezone.localtime(at).strftime("%Y%m%d-%H%M")
    return f"{run.intake.slug}-ranking-{run.number}-{stamp}.xlsx"
