"""The evaluation's vocabulary: what the engine reads (figure sets, metrics, lineage, targets)
and what it answers (rows, what was combined, what is missing). Frozen dataclasses, no database."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Any

from app.covenants.models import Basis, Comparator, Scope
from app.evaluation.numbers import decimal_string
from app.metrics.models import MetricKind

Span = tuple[date, date]
"""Inclusive days `[start, end]`."""

__all__ = ["Basis", "Comparator", "Scope"]  # the covenant's vocabulary, re-exported for the engine


class Verdict(StrEnum):
    met = "met"
    not_met = "not_met"
    unknown = "unknown"


class PeriodRole(StrEnum):
    """Whether a figure set or a gap belongs to the period judged or to its baseline."""

    value = "value"
    baseline = "baseline"


class MissingReason(StrEnum):
    """Why a value is unknown."""

    no_figures = "no_figures"
    overlapping_sets = "overlapping_sets"
    percentage_only = "percentage_only"
    zero_denominator = "zero_denominator"
    zero_baseline = "zero_baseline"


# --- Inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureValue:
    """One metric in a figure set: a count or amount in `value`; a rate by its `numerator` and
    `denominator` (or, when only a percentage was pushed, that percentage in `value`)."""

    value: Fraction | None = None
    numerator: Fraction | None = None
    denominator: Fraction | None = None


@dataclass(frozen=True)
class FigureSet:
    """The figures a unit reported for the days `[period_start, period_end]`."""

    unit_id: int
    period_start: date
    period_end: date
    values: Mapping[str, FigureValue]

    @property
    def span(self) -> Span:
        return (self.period_start, self.period_end)


@dataclass(frozen=True)
class MetricInfo:
    """A metric of the catalogue; a rate names its numerator and denominator metrics."""

    key: str
    kind: MetricKind
    numerator_key: str | None = None
    denominator_key: str | None = None
    unit_of_measure: str | None = None


@dataclass(frozen=True)
class Predecessor:
    """A unit merged into another, and its last day (`ceased_on`)."""

    unit_id: int
    ceased_on: date


@dataclass(frozen=True)
class Lineage:
    """Each unit's predecessors; `started` the first day of units that began with no
    predecessor (before it, nothing is missing); `names` for the sentences."""

    predecessors: Mapping[int, Sequence[Predecessor]] = field(default_factory=dict)
    started: Mapping[int, date] = field(default_factory=dict)
    names: Mapping[int, str] = field(default_factory=dict)

    def of(self, unit_id: int) -> Sequence[Predecessor]:
        """The predecessors of `unit_id` (none for most units)."""
        return self.predecessors.get(unit_id, ())


@dataclass(frozen=True)
class Target:
    """A covenant target: `metric` (its value, or its change on the like period, per `basis`)
    `comparator` `threshold`; "cut by at least 5%" is change `le` −5."""

    metric: str
    comparator: Comparator
    threshold: Fraction
    basis: Basis
    scope: Scope
    label: str = ""


# --- Outputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Used:
    """A figure set that went into a row."""

    unit_id: int
    start: date
    end: date
    role: PeriodRole = PeriodRole.value

    def to_json(self) -> dict[str, Any]:
        """Unit id, ISO dates, role."""
        return {
            "unit_id": self.unit_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "role": self.role.value,
        }


@dataclass(frozen=True)
class Missing:
    """What makes a row unknown: a problem, whose figures (None: the cluster's), which days."""

    problem: MissingReason
    unit_id: int | None
    start: date
    end: date
    role: PeriodRole = PeriodRole.value

    def to_json(self) -> dict[str, Any]:
        """MissingReason, unit id (None: the cluster's), ISO dates, role."""
        return {
            "problem": self.problem.value,
            "unit_id": self.unit_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "role": self.role.value,
        }


@dataclass(frozen=True)
class Composition:
    """The figure sets that make up a value, or what stops it."""

    parts: tuple[FigureSet, ...] = ()
    missing: tuple[Missing, ...] = ()


@dataclass(frozen=True)
class Quantity:
    """An exact value (percent for rates) with, for rates, the summed parts it came from."""

    value: Fraction
    numerator: Fraction | None = None
    denominator: Fraction | None = None


@dataclass(frozen=True)
class Outcome:
    """A value for a period, or the reasons there is none; and what went into it."""

    quantity: Quantity | None
    used: tuple[Used, ...]
    missing: tuple[Missing, ...]


@dataclass(frozen=True)
class EvaluationRow:
    """One target judged for one member (`unit_id`) or for the cluster (`unit_id` None)."""

    target_index: int
    metric: str
    scope: Scope
    unit_id: int | None
    value: Fraction | None
    baseline: Fraction | None
    change: Fraction | None
    verdict: Verdict
    why: str
    combined: list[Used]
    missing: list[Missing]
    value_parts: tuple[Fraction, Fraction] | None = None
    baseline_parts: tuple[Fraction, Fraction] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly values: decimal strings for numbers (`decimal_string`), ISO dates."""
        return {
            "target_index": self.target_index,
            "metric": self.metric,
            "scope": self.scope.value,
            "unit_id": self.unit_id,
            "value": decimal_string(self.value),
            "baseline": decimal_string(self.baseline),
            "change": decimal_string(self.change),
            "verdict": self.verdict.value,
            "why": self.why,
            "combined": [used.to_json() for used in self.combined],
            "missing": [gap.to_json() for gap in self.missing],
        }


@dataclass(frozen=True)
class Evaluation:
    """Every row of a cluster's year, targets in the covenant's order, members in the given order."""

    rows: list[EvaluationRow]
