"""The evaluation of a cluster's year against its covenant's targets: pure arithmetic, no database.

Inputs are frozen dataclasses filled from rows (figure sets, the metric catalogue, the lineage,
the members, the targets); the answer is one `EvaluationRow` per target and member (or per target
for a cluster total). Everything is an exact `Fraction`; only the sentences round (`explain`).

The rules (issue 8, item 6):
- a unit's value for a period is its own figure set for exactly that period, else its own sets
  that tile part of it, completed from its predecessors' sets (recursively) only for the days its
  own do not cover; days nobody covers, and own sets that overlap, make the value unknown;
- counts and amounts add; a rate is summed numerators over summed denominators (in percent),
  never an average of percentages; a bare percentage is usable alone but never combined;
- the baseline is the like period one year earlier (cùng kỳ), composed the same way;
- the change is relative (percent) for counts and amounts, in percentage points for rates;
- a target is met, not met, or unknown (saying what is missing), never guessed.
"""

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise

from app.evaluation.domain import (
    Basis,
    Comparator,
    Composition,
    Evaluation,
    EvaluationRow,
    FigureSet,
    FigureValue,
    Lineage,
    MetricInfo,
    Missing,
    MissingReason,
    Outcome,
    PeriodRole,
    Predecessor,
    Quantity,
    Scope,
    Span,
    Target,
    Used,
    Verdict,
)
from app.evaluation.explain import why
from app.metrics.models import MetricKind

__all__ = [
    "Basis",
    "Comparator",
    "Context",
    "Evaluation",
    "EvaluationRow",
    "FigureSet",
    "FigureValue",
    "Lineage",
    "MetricInfo",
    "MetricKind",
    "Missing",
    "MissingReason",
    "PeriodRole",
    "Predecessor",
    "Scope",
    "Target",
    "Used",
    "Verdict",
    "aggregate",
    "change",
    "compose",
    "evaluate",
    "judge",
    "like_period",
    "value_of",
]

HUNDRED = Fraction(100)
ONE_DAY = timedelta(days=1)

_COMPARE: Mapping[Comparator, Callable[[Fraction, Fraction], bool]] = {
    Comparator.lt: operator.lt,
    Comparator.le: operator.le,
    Comparator.eq: operator.eq,
    Comparator.ge: operator.ge,
    Comparator.gt: operator.gt,
}


# --- Periods --------------------------------------------------------------------------------


def like_period(start: date, end: date) -> Span:
    """The same days one year earlier (cùng kỳ); 29 February becomes 28 February."""
    return (_year_before(start), _year_before(end))


def _year_before(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def _subtract(spans: Iterable[Span], cut: Span) -> list[Span]:
    """`spans` without the days of `cut`."""
    left: list[Span] = []
    for start, end in spans:
        if cut[1] < start or end < cut[0]:
            left.append((start, end))
            continue
        if start < cut[0]:
            left.append((start, cut[0] - ONE_DAY))
        if cut[1] < end:
            left.append((cut[1] + ONE_DAY, end))
    return left


def _until(spans: Iterable[Span], last: date) -> list[Span]:
    """The days of `spans` up to `last`."""
    return [(start, min(end, last)) for start, end in spans if start <= last]


def _inside(span: Span, spans: Iterable[Span]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)


# --- Composition ----------------------------------------------------------------------------


def has_metric(figure_set: FigureSet, metric: MetricInfo) -> bool:
    """Whether the set reports `metric` (for a rate: its parts, or at least a percentage)."""
    return _entry(figure_set, metric) is not None


def compose(
    unit_id: int,
    start: date,
    end: date,
    *,
    sets: Sequence[FigureSet],
    lineage: Lineage,
    role: PeriodRole = PeriodRole.value,
) -> Composition:
    """The figure sets that make up `unit_id`'s value for `[start, end]`, or what is missing."""
    by_unit: dict[int, list[FigureSet]] = {}
    for figure_set in sets:
        by_unit.setdefault(figure_set.unit_id, []).append(figure_set)
    return _compose(unit_id, [(start, end)], by_unit, lineage, role)


def _compose(
    unit_id: int, need: list[Span], by_unit: Mapping[int, list[FigureSet]], lineage: Lineage, role: PeriodRole
) -> Composition:
    """Own sets first; the days they leave go to the predecessors that lived then."""
    own = _own_tiles(unit_id, need, by_unit.get(unit_id, []), role)
    if own.missing:
        return own
    rest = need
    for part in own.parts:
        rest = _subtract(rest, part.span)
    parts, missing = list(own.parts), list[Missing]()
    for predecessor in lineage.of(unit_id):
        days = _until(rest, predecessor.ceased_on)
        if days:
            sub = _compose(predecessor.unit_id, days, by_unit, lineage, role)
            parts.extend(sub.parts)
            missing.extend(sub.missing)
    missing.extend(_uncovered(unit_id, rest, lineage, role))
    return Composition(tuple(parts), tuple(missing))


def _own_tiles(unit_id: int, need: list[Span], own: list[FigureSet], role: PeriodRole) -> Composition:
    """A set for exactly a needed span wins; else the sets inside it, which must not overlap."""
    chosen: list[FigureSet] = []
    for span in need:
        exact = [s for s in own if s.span == span]
        chosen.extend(exact[:1] or [s for s in own if _inside(s.span, [span])])
    chosen.sort(key=_start)
    overlaps = [
        Missing(
            MissingReason.overlapping_sets,
            unit_id,
            later.period_start,
            min(earlier.period_end, later.period_end),
            role,
        )
        for earlier, later in pairwise(chosen)
        if later.period_start <= earlier.period_end
    ]
    return Composition((), tuple(overlaps)) if overlaps else Composition(tuple(chosen))


def _start(figure_set: FigureSet) -> date:
    return figure_set.period_start


def _uncovered(unit_id: int, rest: list[Span], lineage: Lineage, role: PeriodRole) -> list[Missing]:
    """Days nobody covers: after the predecessors ceased, and not before the unit began."""
    predecessors = lineage.of(unit_id)
    if predecessors:
        rest = _subtract(rest, (date.min, max(p.ceased_on for p in predecessors)))
    elif (began := lineage.started.get(unit_id)) is not None:
        rest = _subtract(rest, (date.min, began - ONE_DAY))
    return [Missing(MissingReason.no_figures, unit_id, start, end, role) for start, end in rest]


# --- Arithmetic -----------------------------------------------------------------------------


def _entry(figure_set: FigureSet, metric: MetricInfo) -> FigureValue | None:
    """The metric's figure in a set; a rate's parts may also be pushed as their own metrics."""
    own = figure_set.values.get(metric.key)
    if metric.kind is not MetricKind.rate:
        return own if own is not None and own.value is not None else None
    if own is not None and own.numerator is not None and own.denominator is not None:
        return own
    parts = _parts_as_metrics(figure_set, metric)
    if parts is not None:
        return parts
    return own if own is not None and own.value is not None else None


def _parts_as_metrics(figure_set: FigureSet, metric: MetricInfo) -> FigureValue | None:
    numerator = figure_set.values.get(metric.numerator_key or "")
    denominator = figure_set.values.get(metric.denominator_key or "")
    if numerator is None or denominator is None or numerator.value is None or denominator.value is None:
        return None
    return FigureValue(numerator=numerator.value, denominator=denominator.value)


def aggregate(parts: Sequence[FigureSet], metric: MetricInfo, role: PeriodRole = PeriodRole.value) -> Outcome:
    """Counts and amounts add; a rate is summed numerators over summed denominators, in percent."""
    used = tuple(Used(p.unit_id, p.period_start, p.period_end, role) for p in parts)
    entries = [(p, e) for p in parts if (e := _entry(p, metric)) is not None]
    if metric.kind is not MetricKind.rate:
        return Outcome(Quantity(sum((e.value or Fraction(0) for _p, e in entries), Fraction(0))), used, ())
    bare = [(p, e) for p, e in entries if e.numerator is None or e.denominator is None]
    if bare and len(entries) == 1:
        return Outcome(Quantity(bare[0][1].value or Fraction(0)), used, ())
    if bare:
        return Outcome(None, used, tuple(_gap(MissingReason.percentage_only, p, role) for p, _e in bare))
    return _ratio(entries, used, role)


def _ratio(entries: list[tuple[FigureSet, FigureValue]], used: tuple[Used, ...], role: PeriodRole) -> Outcome:
    numerator = sum((e.numerator or Fraction(0) for _p, e in entries), Fraction(0))
    denominator = sum((e.denominator or Fraction(0) for _p, e in entries), Fraction(0))
    if denominator == 0:
        first, last = min(p.period_start for p, _e in entries), max(p.period_end for p, _e in entries)
        unit = entries[0][0].unit_id if len({p.unit_id for p, _e in entries}) == 1 else None
        return Outcome(None, used, (Missing(MissingReason.zero_denominator, unit, first, last, role),))
    return Outcome(Quantity(numerator / denominator * HUNDRED, numerator, denominator), used, ())


def _gap(problem: MissingReason, figure_set: FigureSet, role: PeriodRole) -> Missing:
    return Missing(problem, figure_set.unit_id, figure_set.period_start, figure_set.period_end, role)


def value_of(
    unit_ids: Sequence[int],
    span: Span,
    metric: MetricInfo,
    *,
    figures: Sequence[FigureSet],
    lineage: Lineage,
    role: PeriodRole = PeriodRole.value,
) -> Outcome:
    """The value of `metric` for the units together over `span`, successor-aware."""
    sets = [s for s in figures if has_metric(s, metric)]
    compositions = [compose(u, *span, sets=sets, lineage=lineage, role=role) for u in unit_ids]
    missing = tuple(m for c in compositions for m in c.missing)
    parts = [p for c in compositions for p in c.parts]
    if missing:
        return Outcome(
            None, tuple(Used(p.unit_id, p.period_start, p.period_end, role) for p in parts), missing
        )
    return aggregate(parts, metric, role)


def change(metric: MetricInfo, value: Fraction, baseline: Fraction) -> Fraction | None:
    """Percentage points for a rate; else `(value − baseline) / baseline × 100`; None on a zero
    baseline."""
    if metric.kind is MetricKind.rate:
        return value - baseline
    if baseline == 0:
        return None
    return (value - baseline) / baseline * HUNDRED


def judge(target: Target, measured: Fraction | None) -> Verdict:
    """`measured comparator threshold`, or unknown without a measure."""
    if measured is None:
        return Verdict.unknown
    return Verdict.met if _COMPARE[target.comparator](measured, target.threshold) else Verdict.not_met


# --- Evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Everything an evaluation reads, filled from the tables."""

    start: date
    end: date
    members: Sequence[int]
    metrics: Mapping[str, MetricInfo]
    figures: Sequence[FigureSet]
    lineage: Lineage


def evaluate(targets: Sequence[Target], context: Context) -> Evaluation:
    """One row per target and member (`each_member`), or per target (`cluster_total`)."""
    rows: list[EvaluationRow] = []
    for index, target in enumerate(targets):
        if target.scope is Scope.each_member:
            rows.extend(evaluate_row(index, target, context, [member]) for member in context.members)
        else:
            rows.append(evaluate_row(index, target, context, list(context.members)))
    return Evaluation(rows)


def evaluate_row(index: int, target: Target, context: Context, units: Sequence[int]) -> EvaluationRow:
    """`target` judged for `units` together (one member, or every member for the cluster)."""
    metric = context.metrics[target.metric]
    span = (context.start, context.end)
    current = value_of(units, span, metric, figures=context.figures, lineage=context.lineage)
    before = _baseline(target, metric, units, context)
    delta, zero = _change(metric, current, before, units, context)
    measured = current.quantity.value if current.quantity and target.basis is Basis.absolute else delta
    missing = [*current.missing, *(before.missing if before else ()), *zero]
    row = EvaluationRow(
        target_index=index,
        metric=target.metric,
        scope=target.scope,
        unit_id=units[0] if target.scope is Scope.each_member else None,
        value=current.quantity.value if current.quantity else None,
        baseline=before.quantity.value if before and before.quantity else None,
        change=delta,
        verdict=judge(target, None if missing else measured),
        why="",
        combined=[*current.used, *(before.used if before else ())],
        missing=missing,
        value_parts=_parts(current),
        baseline_parts=_parts(before),
    )
    return replace(row, why=why(row, target, metric, context.lineage))


def _baseline(target: Target, metric: MetricInfo, units: Sequence[int], context: Context) -> Outcome | None:
    if target.basis is Basis.absolute:
        return None
    span = like_period(context.start, context.end)
    return value_of(
        units, span, metric, figures=context.figures, lineage=context.lineage, role=PeriodRole.baseline
    )


def _change(
    metric: MetricInfo, current: Outcome, before: Outcome | None, units: Sequence[int], context: Context
) -> tuple[Fraction | None, list[Missing]]:
    """The change, or the zero baseline that prevents it."""
    if before is None or before.quantity is None or current.quantity is None:
        return None, []
    delta = change(metric, current.quantity.value, before.quantity.value)
    if delta is not None:
        return delta, []
    start, end = like_period(context.start, context.end)
    unit = units[0] if len(units) == 1 else None
    return None, [Missing(MissingReason.zero_baseline, unit, start, end, PeriodRole.baseline)]


def _parts(outcome: Outcome | None) -> tuple[Fraction, Fraction] | None:
    quantity = outcome.quantity if outcome else None
    if quantity is None or quantity.numerator is None or quantity.denominator is None:
        return None
    return (quantity.numerator, quantity.denominator)
