"""Score aggregation: composites out of 20, eliminatory thresholds, and jurors' marks.

Pure Python with Decimal, no Django. Everything shown to a person or stored is a Decimal
rounded half up (the usual convention for marks) to `places` decimals; floats are refused
on the way in, so that no binary noise can decide a tie.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

MAX_MARK = Decimal(20)
DEFAULT_PLACES = 2

Mark = Decimal | int | str


def to_mark(value: Mark) -> Decimal:
    """A mark out of 20 as a Decimal; floats and values outside 0..20 are refused."""
    if isinstance(value, float | bool):
        raise TypeError(f"Marks must be Decimal, int or str, not {type(value).__name__}.")
    mark = Decimal(value)
    if not mark.is_finite() or not 0 <= mark <= MAX_MARK:
        raise ValueError(f"A mark must lie between 0 and 20, not {value}.")
    return mark


def rounded(value: Decimal, places: int = DEFAULT_PLACES) -> Decimal:
    """`value` rounded half up to `places` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Component:
    """One marked part of the selection (test, interview, file), out of 20.

    An applicant whose mark is below `threshold` is eliminated whatever their composite.
    """

    name: str
    weight: Decimal
    threshold: Decimal | None = None


@dataclass(frozen=True)
class Composite:
    """An applicant's composite, or why they have none that counts."""

    value: Decimal | None  # None when a component has no mark yet
    missing: tuple[str, ...]
    eliminated_by: tuple[str, ...]  # components below their eliminatory threshold

    @property
    def eliminated(self) -> bool:
        return bool(self.eliminated_by)


def composite(
    marks: Mapping[str, Mark],
    components: Sequence[Component],
    *,
    places: int = DEFAULT_PLACES,
) -> Composite:
    """The weighted mean of the components' marks, out of 20, rounded half up.

    Thresholds are checked on the marks as given, before weighting: "below 8 in the
    interview is eliminatory" means exactly that, whatever the other marks.
    """
    if not components:
        raise ValueError("A composite needs at least one component.")
    weights = [Decimal(c.weight) for c in components]
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("Weights must be non-negative and not all zero.")
    missing = tuple(c.name for c in components if marks.get(c.name) is None)
    given = {c.name: to_mark(marks[c.name]) for c in components if c.name not in missing}
    eliminated = tuple(
        c.name
        for c in components
        if c.threshold is not None and c.name in given and given[c.name] < Decimal(c.threshold)
    )
    if missing:
        return Composite(value=None, missing=missing, eliminated_by=eliminated)
    total = sum((w * given[c.name] for w, c in zip(weights, components, strict=True)), Decimal(0))
    return Composite(
        value=rounded(total / sum(weights), places), missing=(), eliminated_by=eliminated
    )


@dataclass(frozen=True)
class JuryMark:
    """One applicant's mark from several jurors."""

    mean: Decimal  # the mark that counts
    marks: tuple[Decimal, ...]  # the marks averaged (corrected when correction is on)
    spread: Decimal  # highest minus lowest of `marks`
    disagreement: bool  # spread beyond the bound: a coordinator should look


def jury_marks(
    marks: Iterable[tuple[Hashable, Hashable, Mark]],
    *,
    correct_severity: bool = False,
    disagreement_bound: Mark = Decimal(4),
    places: int = DEFAULT_PLACES,
) -> dict[Hashable, JuryMark]:
    """Combine `(juror, applicant, mark)` triples into one mark per applicant.

    Without correction, the mark is the plain mean. With `correct_severity`, each juror's
    marks are first turned into z-scores against that juror's own mean and spread, then
    rescaled to the mean and spread of all marks pooled: a severe juror's 11 and a lenient
    juror's 15 can then mean the same. A juror with fewer than two marks, or who gave
    everyone the same mark, has no spread to divide by: their marks are only shifted by
    the difference of means. Corrected marks are kept within 0..20.

    The disagreement flag compares the marks actually averaged, so a juror who is merely
    severe does not raise it once corrected.
    """
    bound = Decimal(disagreement_bound)
    triples = [(juror, applicant, to_mark(mark)) for juror, applicant, mark in marks]
    seen: set[tuple[Hashable, Hashable]] = set()
    for juror, applicant, _ in triples:
        if (juror, applicant) in seen:
            raise ValueError(f"Juror {juror!r} marked applicant {applicant!r} twice.")
        seen.add((juror, applicant))
    if correct_severity and triples:
        triples = _corrected(triples)
    per_applicant: dict[Hashable, list[Decimal]] = defaultdict(list)
    for _, applicant, mark in triples:
        per_applicant[applicant].append(mark)
    result = {}
    for applicant, values in per_applicant.items():
        spread = max(values) - min(values)
        result[applicant] = JuryMark(
            mean=rounded(sum(values, Decimal(0)) / len(values), places),
            marks=tuple(rounded(v, places) for v in values),
            spread=rounded(spread, places),
            disagreement=spread > bound,
        )
    return result


def _mean_and_spread(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    mean = sum(values, Decimal(0)) / len(values)
    variance = sum(((v - mean) ** 2 for v in values), Decimal(0)) / len(values)
    return mean, variance.sqrt()


def _corrected(
    triples: list[tuple[Hashable, Hashable, Decimal]],
) -> list[tuple[Hashable, Hashable, Decimal]]:
    """The z-score correction of `jury_marks`, at 28 significant digits."""
    with localcontext() as context:
        context.prec = 28
        pooled_mean, pooled_spread = _mean_and_spread([m for _, _, m in triples])
        by_juror: dict[Hashable, list[Decimal]] = defaultdict(list)
        for juror, _, mark in triples:
            by_juror[juror].append(mark)
        stats = {juror: _mean_and_spread(values) for juror, values in by_juror.items()}
        corrected = []
        for juror, applicant, mark in triples:
            mean, spread = stats[juror]
            if len(by_juror[juror]) < 2 or spread == 0:
                value = mark - mean + pooled_mean
            else:
                value = pooled_mean + pooled_spread * (mark - mean) / spread
            corrected.append((juror, applicant, min(max(value, Decimal(0)), MAX_MARK)))
        return corrected
