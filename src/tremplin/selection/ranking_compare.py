"""Compare two runs of an intake: who changed outcome or rank, and why.

The why comes from the snapshots alone: the parameters each run stored (components,
weights, thresholds, absence rules, tie-breaks, quotas, seats, seed) and the marks each
result used. An applicant whose own marks did not change but who moved anyway moved
because of the parameters, or because of other applicants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from tremplin.admissions.models import Application
from tremplin.core.formatting import format_list
from tremplin.selection.models import RankingResult, RankingRun
from tremplin.selection.ranking_results import reason_label


@dataclass(frozen=True)
class ParameterChange:
    label: str
    before: str
    after: str


@dataclass
class Movement:
    application: Application
    before: RankingResult | None
    after: RankingResult | None
    reasons: list[str] = field(default_factory=list)

    @property
    def outcome_changed(self) -> bool:
        return _outcome(self.before) != _outcome(self.after)

    @property
    def rank_before(self) -> int | None:
        return self.before.call_rank if self.before else None

    @property
    def rank_after(self) -> int | None:
        return self.after.call_rank if self.after else None

    @property
    def moved_by(self) -> int | None:
        """Places gained (positive) or lost (negative) in the call order."""
        if self.rank_before is None or self.rank_after is None:
            return None
        return self.rank_before - self.rank_after

    @property
    def reason_before(self) -> str:
        return reason_label(self.before.reason) if self.before else ""

    @property
    def reason_after(self) -> str:
        return reason_label(self.after.reason) if self.after else ""

    @property
    def changed(self) -> bool:
        return (
            self.outcome_changed
            or bool(self.moved_by)
            or (self.before is None) != (self.after is None)
            or _track(self.before) != _track(self.after)
        )


def _outcome(result: RankingResult | None) -> str | None:
    return result.outcome if result else None


def _track(result: RankingResult | None) -> int | None:
    return result.track_id if result else None


def _mark_text(value) -> str:
    """A stored mark ("12.50", "absent" or None) in the reader's language."""
    if value == "absent":
        return _("absent")
    if value is None or value == "—":
        return "—"
    return formats.number_format(Decimal(value), 2)


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return format_list(value) if value else "—"
    return str(value)


def parameter_changes(before: dict, after: dict) -> list[ParameterChange]:
    """What differs between two runs' parameters, in words."""
    changes: list[ParameterChange] = []

    def add(label: str, old, new) -> None:
        if old != new:
            changes.append(ParameterChange(label, _text(old), _text(new)))

    old_components = {c["code"]: c for c in before.get("components", [])}
    new_components = {c["code"]: c for c in after.get("components", [])}
    for code in new_components.keys() - old_components.keys():
        add(_("Component added: %(code)s") % {"code": code}, None, new_components[code]["weight"])
    for code in old_components.keys() - new_components.keys():
        add(_("Component removed: %(code)s") % {"code": code}, old_components[code]["weight"], None)
    for code in sorted(old_components.keys() & new_components.keys()):
        old, new = old_components[code], new_components[code]
        add(_("Weight of %(code)s") % {"code": code}, old["weight"], new["weight"])
        add(_("Threshold of %(code)s") % {"code": code}, old["threshold"], new["threshold"])
        add(_("Absence rule of %(code)s") % {"code": code}, old["absence"], new["absence"])
    add(_("Tie-break keys"), before.get("tie_break"), after.get("tie_break"))
    add(_("Lottery seed"), before.get("seed"), after.get("seed"))

    def quotas(parameters: dict) -> list[str]:
        return sorted(
            f"{q['group']} ≥ {q['share']} %" + (f" ({q['track']})" if q["track"] else "")
            for q in parameters.get("quotas", [])
        )

    add(_("Quotas"), quotas(before), quotas(after))
    old_tracks = {t["key"]: t for t in before.get("tracks", [])}
    for track in after.get("tracks", []):
        old = old_tracks.get(track["key"], {})
        name = track["name"] or _("the call")
        add(_("Seats of %(track)s") % {"track": name}, old.get("seats"), track["seats"])
        add(
            _("Waiting list of %(track)s") % {"track": name}, old.get("waitlist"), track["waitlist"]
        )
    add(_("Engine"), before.get("engine", {}).get("hash"), after.get("engine", {}).get("hash"))
    return changes


def _mark_reasons(before: RankingResult, after: RankingResult) -> list[str]:
    reasons = []
    for code in sorted(set(before.marks) | set(after.marks)):
        old, new = before.marks.get(code, "—"), after.marks.get(code, "—")
        if old != new:
            reasons.append(
                _("%(code)s mark: %(old)s → %(new)s")
                % {"code": code, "old": _mark_text(old), "new": _mark_text(new)}
            )
    return reasons


def compare_runs(run: RankingRun, other: RankingRun) -> tuple[list[ParameterChange], list]:
    """The parameter changes from `other` to `run`, and one Movement per applicant of
    either run (ordered by the rank in `run`)."""
    changes = parameter_changes(other.parameters, run.parameters)
    new = {
        r.application_id: r
        for r in RankingResult.objects.filter(run=run).select_related("application", "track__track")
    }
    old = {
        r.application_id: r
        for r in RankingResult.objects.filter(run=other).select_related(
            "application", "track__track"
        )
    }
    movements = []
    for application_id in new.keys() | old.keys():
        after, before = new.get(application_id), old.get(application_id)
        movement = Movement(application=(after or before).application, before=before, after=after)
        if before is None:
            movement.reasons.append(_("New in this run (applied or imported since)."))
        elif after is None:
            movement.reasons.append(_("Not in this run."))
        else:
            movement.reasons += _mark_reasons(before, after)
            if before.reason != after.reason and "withdrawn" in (before.reason, after.reason):
                movement.reasons.append(_("Withdrew from the selection, or came back."))
            elif before.reason != after.reason and "ineligible" in (before.reason, after.reason):
                movement.reasons.append(_("Eligibility changed since the other run."))
            if movement.changed and changes:
                movement.reasons.append(_("The parameters changed (see above)."))
            if movement.changed and not movement.reasons:
                movement.reasons.append(_("Other applicants' marks or situation changed."))
        movements.append(movement)
    movements.sort(
        key=lambda m: (
            m.after is None,
            m.rank_after or 10**9,
            m.rank_before or 10**9,
            m.application.number,
        )
    )
    return changes, movements
