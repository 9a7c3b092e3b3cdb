"""What a ranking run reads: a snapshot of the scheme and of every application of the intake.

The snapshot is taken once, in a handful of queries, and is plain data from then on: the
computation (`ranking_compute`) never touches the database, and the run stores the
snapshot's parameters and marks so that anyone can see later exactly what decided it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import metadata
from pathlib import Path

from tremplin.admissions.models import Application, Intake, Wish
from tremplin.selection.models import Component, Mark, SelectionScheme
from tremplin.selection.schemes import scheme_get_or_create, scheme_parameters

ABSENT = "absent"
# The engine's modules: their hash identifies the code that computed a run.
ENGINE_MODULES = (
    "engine.py",
    "call_order.py",
    "deferred_acceptance.py",
    "checks.py",
    "ordering.py",
    "scoring.py",
    "explanations.py",
    "outcomes.py",
    "ranking_compute.py",
)


@cache
def engine_fingerprint() -> dict:
    """The version of Tremplin and a hash of the engine's source files."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in ENGINE_MODULES:
        digest.update(name.encode())
        digest.update((here / name).read_bytes())
    try:
        version = metadata.version("tremplin")
    except metadata.PackageNotFoundError:  # pragma: no cover - a checkout without install
        version = "unknown"
    return {"version": version, "hash": digest.hexdigest()[:16]}


@dataclass(frozen=True)
class ComponentInput:
    code: str
    weight: Decimal
    threshold: Decimal | None
    absence: str  # Component.Absence value

    @property
    def absence_eliminates(self) -> bool:
        return self.absence == Component.Absence.ELIMINATES


@dataclass(frozen=True)
class QuotaInput:
    group: str  # Quota.Group value
    share: Decimal  # percent
    track: int | None  # IntakeTrack id, None for every track


@dataclass(frozen=True)
class TrackInput:
    id: int | None  # IntakeTrack id (None for an intake without tracks)
    key: str  # the key of the run's summary: str(id), or "" for a single track
    seats: int
    waitlist: int


@dataclass(frozen=True)
class ApplicantInput:
    id: int
    reference: str
    eligibility: str
    withdrawn: bool
    groups: frozenset[str]  # quota groups the applicant belongs to
    wishes: tuple[int, ...]  # IntakeTrack ids, first choice first
    marks: dict[str, str | None] = field(default_factory=dict)  # code -> "12.50"|"absent"|None


@dataclass(frozen=True)
class RankingInputs:
    components: tuple[ComponentInput, ...]
    tie_break: tuple[str, ...]
    seed: int
    quotas: tuple[QuotaInput, ...]
    tracks: tuple[TrackInput, ...]
    applicants: tuple[ApplicantInput, ...]
    parameters: dict  # everything above as JSON, plus labels and the engine's fingerprint

    @property
    def single(self) -> bool:
        return len(self.tracks) == 1


def groups_of(sex: str, employment: str) -> frozenset[str]:
    from tremplin.selection.models import Quota

    groups = set()
    if sex == "F":
        groups.add(Quota.Group.WOMEN.value)
    if employment == "neet":
        groups.add(Quota.Group.NEET.value)
    return frozenset(groups)


def snapshot_inputs(intake: Intake) -> RankingInputs:
    """Read the scheme and every application of `intake` (call inside its school's scope)."""
    scheme = scheme_get_or_create(intake)
    scheme = SelectionScheme.objects.select_related("intake").get(pk=scheme.pk)
    parameters = scheme_parameters(scheme)
    parameters["engine"] = engine_fingerprint()
    parameters["lottery_key"] = "reference"
    components = tuple(
        ComponentInput(
            code=c["code"],
            weight=Decimal(c["weight"]),
            threshold=None if c["threshold"] is None else Decimal(c["threshold"]),
            absence=c["absence"],
        )
        for c in parameters["components"]
    )
    tracks = tuple(
        TrackInput(id=t["id"], key=t["key"], seats=t["seats"], waitlist=t["waitlist"])
        for t in parameters["tracks"]
    )
    quotas = tuple(
        QuotaInput(group=q["group"], share=Decimal(q["share"]), track=q["track"])
        for q in parameters["quotas"]
    )
    track_of = {t.id: t for t in tracks if t.id is not None}
    by_track = {}  # schools.Track id -> IntakeTrack id
    for t in intake.intake_tracks.all():
        by_track[t.track_id] = t.pk
    wishes: dict[int, list[int]] = {}
    for application_id, track_id in (
        Wish.objects.filter(application__intake=intake)
        .order_by("application_id", "rank")
        .values_list("application_id", "track_id")
    ):
        intake_track = by_track.get(track_id)
        if intake_track in track_of:
            wishes.setdefault(application_id, []).append(intake_track)
    codes = {c.pk: c.code for c in scheme.components.all()}
    marks: dict[int, dict[str, str | None]] = {}
    for application_id, component_id, value, absent in Mark.objects.filter(
        component__scheme=scheme
    ).values_list("application_id", "component_id", "value", "absent"):
        stored = ABSENT if absent else (None if value is None else str(value))
        marks.setdefault(application_id, {})[codes[component_id]] = stored
    applicants = tuple(
        ApplicantInput(
            id=pk,
            reference=reference,
            eligibility=eligibility,
            withdrawn=status == Application.Status.WITHDRAWN,
            groups=groups_of(sex, employment),
            wishes=tuple(wishes.get(pk, ())),
            marks={c.code: marks.get(pk, {}).get(c.code) for c in components},
        )
        for pk, reference, eligibility, status, sex, employment in Application.objects.filter(
            intake=intake
        )
        .order_by("number")
        .values_list("pk", "reference", "eligibility", "status", "sex", "employment")
    )
    return RankingInputs(
        components=components,
        tie_break=tuple(parameters["tie_break"]),
        seed=int(parameters["seed"]),
        quotas=quotas,
        tracks=tracks,
        applicants=applicants,
        parameters=parameters,
    )
