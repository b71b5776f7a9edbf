"""The standings arithmetic, pure: totals, the combined total, ranks with ties, classes and the
missing scores. Exact throughout: points are `Decimal`, totals combined as `Fraction`."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from app.scoring.models import Combination, CriterionKind, TieBreak

Sheet = Mapping[str, Decimal]
"""A scorer's points for a unit, by criterion code."""


@dataclass(frozen=True, slots=True)
class Criterion:
    code: str
    group: str | None
    max_points: Decimal
    kind: CriterionKind


@dataclass(frozen=True, slots=True)
class Class:
    code: str
    name: str
    min_points: Decimal | None


@dataclass(frozen=True, slots=True)
class Scorer:
    code: str
    weight: Decimal | None


@dataclass(frozen=True, slots=True)
class Framework:
    criteria: Sequence[Criterion]
    classes: Sequence[Class]
    scorers: Sequence[Scorer]
    combination: Combination
    tie_break: TieBreak
    tie_break_order: Sequence[str]


@dataclass(frozen=True, slots=True)
class Result:
    """One unit's place: `rank` and `combined` are None while scores are missing."""

    unit_id: int
    totals: dict[str, Decimal | None]
    missing: list[tuple[str, str]]
    combined: Fraction | None
    rank: int | None
    klass: Class | None


def signed(criterion: Criterion, points: Decimal) -> Decimal:
    """A penalty deducts its points; criteria and bonuses add theirs."""
    return -points if criterion.kind is CriterionKind.penalty else points


def sheet_total(framework: Framework, sheet: Sheet, criteria: Sequence[Criterion] | None = None) -> Decimal:
    """Criteria + bonus − penalty over `criteria` (default: all)."""
    chosen = framework.criteria if criteria is None else criteria
    return sum((signed(c, sheet[c.code]) for c in chosen if c.code in sheet), Decimal(0))


def missing(framework: Framework, sheets: Mapping[str, Sheet]) -> list[tuple[str, str]]:
    """(scorer, criterion) of every `criterion` item without points; bonus and penalty items left
    out count as 0."""
    required = [c for c in framework.criteria if c.kind is CriterionKind.criterion]
    return [
        (s.code, c.code) for s in framework.scorers for c in required if c.code not in sheets.get(s.code, {})
    ]


def combine(framework: Framework, values: Mapping[str, Decimal]) -> Fraction:
    """The scorers' values (one per scorer) combined as the framework says."""
    parts = [(Fraction(values[s.code]), Fraction(s.weight or 1)) for s in framework.scorers]
    if framework.combination is Combination.sum:
        return sum((v for v, _ in parts), Fraction(0))
    if framework.combination is Combination.mean:
        return sum((v for v, _ in parts), Fraction(0)) / len(parts)
    return sum((v * w for v, w in parts), Fraction(0)) / sum((w for _, w in parts), Fraction(0))


def _tie_value(framework: Framework, sheets: Mapping[str, Sheet], key: str) -> Fraction:
    chosen = [c for c in framework.criteria if key in (c.code, c.group)]
    values = {s.code: sheet_total(framework, sheets.get(s.code, {}), chosen) for s in framework.scorers}
    return combine(framework, values)


def class_of(framework: Framework, total: Fraction) -> Class | None:
    """The first class (from the highest) whose threshold the total reaches."""
    for klass in framework.classes:
        if klass.min_points is None or total >= klass.min_points:
            return klass
    return None


def standard_ranks(keys: Sequence[tuple[Fraction, ...]]) -> list[int]:
    """Standard competition ranking, higher first: 1 + how many keys are strictly greater."""
    return [1 + sum(1 for other in keys if other > key) for key in keys]


def standings(
    framework: Framework, units: Sequence[int], scores: Mapping[int, Mapping[str, Sheet]]
) -> list[Result]:
    """Every unit's result, in the order of `units`; ranked among the units with no score missing."""
    partial = []
    for unit in units:
        sheets = scores.get(unit, {})
        gaps = missing(framework, sheets)
        totals: dict[str, Decimal | None] = {
            s.code: None
            if any(scorer == s.code for scorer, _ in gaps)
            else sheet_total(framework, sheets.get(s.code, {}))
            for s in framework.scorers
        }
        combined = None if gaps else combine(framework, {k: v for k, v in totals.items() if v is not None})
        partial.append((unit, sheets, gaps, totals, combined))
    complete = [p for p in partial if p[4] is not None]
    order = framework.tie_break_order if framework.tie_break is TieBreak.by_criteria_then_shared else ()
    keys = [(p[4], *(_tie_value(framework, p[1], k) for k in order)) for p in complete]
    ranks = dict(zip((p[0] for p in complete), standard_ranks(keys), strict=True))  # type: ignore[arg-type]
    return [
        Result(
            unit_id=unit,
            totals=totals,
            missing=gaps,
            combined=combined,
            rank=ranks.get(unit),
            klass=class_of(framework, combined) if combined is not None else None,
        )
        for unit, _, gaps, totals, combined in partial
    ]


_SHOWN = Decimal("0.0001")


def shown(value: Fraction) -> Decimal:
    """Exact when the fraction is a finite decimal, else rounded half up to 4 decimals."""
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        if denominator == 1:
            return exact.normalize() if exact != exact.to_integral_value() else exact.quantize(Decimal(1))
        return exact.quantize(_SHOWN, rounding=ROUND_HALF_UP)
