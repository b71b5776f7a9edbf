"""A cluster's year against its covenant: reads the targets, the reporting period, the members at
the end of the period, their lineage and every figure set involved (seven queries whatever the
cluster's size; three steps of a plan, `app.core.plans`, so that the year sheet reads them with
the rest of the sheet), then runs the engine (`app.evaluation.engine`), which decides."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.clusters.years import ClusterYear
from app.core.errors import NotFound, Unprocessable
from app.core.i18n import _
from app.core.plans import Id, Plan, Read, gather, one, run
from app.covenants.periods import PeriodBasis, ReportingPeriod, reporting_period_plan
from app.evaluation.domain import (
    Basis,
    Comparator,
    FigureSet,
    FigureValue,
    Lineage,
    MetricInfo,
    Predecessor,
    Scope,
    Target,
    Verdict,
)
from app.evaluation.engine import Context, evaluate, like_period
from app.evaluation.queries import COVENANT_TARGETS, FIGURES, LINKS, MEMBERS_ON, METRICS, UNITS
from app.evaluation.schemas import EvaluationOut, EvaluationRowOut, EvaluationSummary
from app.metrics.models import MetricKind
from app.rules.reporting_periods import PeriodRule
from app.units.schemas import UnitRef


async def evaluate_cluster_year(
    session: AsyncSession, at: ClusterYear, *, period_start: date | None, period_end: date | None
) -> EvaluationOut:
    """Each member at the end of the period against each target, and the cluster totals. The
    period is the cluster-year's reporting period (`app.covenants.periods`) unless the request
    gives one; a day given alone is completed from the reporting period."""
    return await run(session, _evaluation_plan(at, period_start, period_end))


def _evaluation_plan(
    at: ClusterYear, period_start: date | None, period_end: date | None
) -> Plan[EvaluationOut]:
    """Three steps: the targets, the reporting period (unless both days are given), then what the
    evaluation reads (`judged_plan`)."""
    number, year = at.number, at.year
    if period_start is not None and period_end is not None and period_end < period_start:
        raise _backwards()
    targets = yield from targets_plan(at.id, year)
    if not targets:
        raise NotFound(
            _(
                "No covenant with targets is recorded for cluster {number} in {year}.",
                number=number,
                year=year,
            )
        )
    period = yield from _period_plan(at.id, year, period_start, period_end)
    if period.end < period.start:
        raise _backwards()
    judged = yield from judged_plan(at.id, period.start, period.end)
    return evaluation_out(judged, targets, number, year, basis=period.basis, rule=period.rule)


def _backwards() -> Unprocessable:
    return Unprocessable(_("The period ends before it starts."), field="period_end")


def _period_plan(cluster_id: Id, year: int, start: date | None, end: date | None) -> Plan[ReportingPeriod]:
    """Both days given: that period. One or none: the reporting period completes it."""
    if start is not None and end is not None:
        return ReportingPeriod(start, end, PeriodBasis.requested)
    reporting = yield from reporting_period_plan(cluster_id, year)
    if start is None and end is None:
        return reporting
    completed = (start or reporting.start, end or reporting.end)
    return ReportingPeriod(*completed, PeriodBasis.requested, reporting.rule)


def summary_plan(cluster_id: Id, number: int, year: int) -> Plan[EvaluationSummary | None]:
    """The year's verdicts counted over its reporting period, for the sheet; None without a
    covenant with targets. Two steps: the targets and the reporting period, then what the
    evaluation reads (`judged_plan`, the same reads as the pledges' checks)."""
    found = yield from gather(
        {"targets": targets_plan(cluster_id, year), "period": reporting_period_plan(cluster_id, year)}
    )
    targets: list[tuple[Target, int]] = found["targets"]
    period: ReportingPeriod = found["period"]
    if not targets:
        return None
    judged = yield from judged_plan(cluster_id, period.start, period.end)
    out = evaluation_out(judged, targets, number, year, basis=period.basis, rule=period.rule)
    verdicts = Counter(row.verdict for row in out.rows)
    return EvaluationSummary(
        met=verdicts[Verdict.met],
        not_met=verdicts[Verdict.not_met],
        unknown=verdicts[Verdict.unknown],
        figures_recorded_at=out.figures_recorded_at,
        period_start=out.period_start,
        period_end=out.period_end,
        period_basis=out.period_basis,
        period_rule=out.period_rule,
        href=f"/v1/clusters/{number}/years/{year}/evaluation",
    )


@dataclass(frozen=True, slots=True)
class Judged:
    """What an evaluation over `[start, end]` reads: the members at its end (by name), their
    lineage, every figure set of theirs and their predecessors' over the period and its like
    period, when the latest of those was recorded, and the metric catalogue."""

    start: date
    end: date
    baseline_start: date
    baseline_end: date
    members: list[UnitRef]
    lineage: Lineage
    figures: list[FigureSet]
    recorded_at: datetime | None
    metrics: dict[str, MetricInfo]


def judged_plan(cluster_id: Id, start: date, end: date) -> Plan[Judged]:
    """One step of five reads whatever the cluster's size: the members at the end of the period,
    their lineage (the successions, the units), the figures, the metric catalogue."""
    baseline_start, baseline_end = like_period(start, end)
    day = {"cluster_id": cluster_id, "day": end}
    members, links, units, figures, metrics = yield [
        Read(MEMBERS_ON, day),
        Read(LINKS, day),
        Read(UNITS, day),
        Read(FIGURES, {**day, "start": baseline_start, "end": end}),
        Read(METRICS),
    ]
    figure_sets, recorded_at = _figures(figures)
    return Judged(
        start=start,
        end=end,
        baseline_start=baseline_start,
        baseline_end=baseline_end,
        members=[UnitRef.from_row(r) for r in members],
        lineage=_lineage([r.unit_id for r in members], links, units),
        figures=figure_sets,
        recorded_at=recorded_at,
        metrics=_metrics(metrics),
    )


def evaluation_out(
    judged: Judged,
    targets: list[tuple[Target, int]],
    number: int,
    year: int,
    *,
    basis: PeriodBasis = PeriodBasis.requested,
    rule: PeriodRule | None = None,
) -> EvaluationOut:
    """The given targets (each with its position) against the members at the end of the period.
    A pledge of an amount or a count is an `each_member` `ge` target here. `basis` and `rule` say
    why the period is what it is (the caller's: `app.covenants.periods.reporting_period` gives a
    cluster-year's)."""
    context = Context(
        start=judged.start,
        end=judged.end,
        members=[m.id for m in judged.members],
        metrics=judged.metrics,
        figures=judged.figures,
        lineage=judged.lineage,
    )
    evaluation = evaluate([t for t, _ in targets], context)
    bases = [t.basis for t, _ in targets]
    return EvaluationOut(
        cluster=number,
        year=year,
        period_start=judged.start,
        period_end=judged.end,
        period_basis=basis,
        period_rule=rule,
        baseline_start=judged.baseline_start,
        baseline_end=judged.baseline_end,
        figures_recorded_at=judged.recorded_at,
        rows=[EvaluationRowOut.of(row, bases[row.target_index]) for row in evaluation.rows],
    )


def targets_plan(cluster_id: Id, year: int) -> Plan[list[tuple[Target, int]]]:
    """The covenant's targets, each with its position."""
    rows = yield from one(Read(COVENANT_TARGETS, {"cluster_id": cluster_id, "year": year}))
    return [
        (
            Target(
                metric=r.metric,
                comparator=Comparator(r.comparator),
                threshold=Fraction(r.threshold),
                basis=Basis(r.basis),
                scope=Scope(r.scope),
                label=r.label or "",
            ),
            r.position,
        )
        for r in rows
    ]


def _lineage(members: list[int], links: list[Any], units: list[Any]) -> Lineage:
    """The members' predecessors, transitively, with their last days, first days and names."""
    pairs = [(r.predecessor_id, r.successor_id) for r in links]
    judged = sorted({*members, *(p for p, _ in pairs)})
    info = {r.id: r for r in units}
    predecessors: dict[int, list[Predecessor]] = defaultdict(list)
    for predecessor, successor in pairs:
        ceased = info[predecessor].valid_to
        if ceased is not None:
            predecessors[successor].append(Predecessor(predecessor, ceased))
    started = {u: info[u].valid_from for u in judged if u not in predecessors and info[u].valid_from}
    names = {u: info[u].name for u in judged}
    return Lineage(predecessors=dict(predecessors), started=started, names=names)


def _metrics(rows: list[Any]) -> dict[str, MetricInfo]:
    return {
        r.key: MetricInfo(
            key=r.key,
            kind=MetricKind(r.kind),
            numerator_key=r.numerator_key,
            denominator_key=r.denominator_key,
            unit_of_measure=r.unit_of_measure,
        )
        for r in rows
    }


def _figures(rows: list[Any]) -> tuple[list[FigureSet], datetime | None]:
    """Every figure set of the rows, with its values by metric key, and when the latest of them
    was recorded."""
    values: dict[int, dict[str, FigureValue]] = defaultdict(dict)
    sets: dict[int, tuple[int, date, date]] = {}
    latest: datetime | None = None
    for r in rows:
        latest = r.recorded_at if latest is None else max(latest, r.recorded_at)
        sets[r.set_id] = (r.unit_id, r.period_start, r.period_end)
        values[r.set_id][r.metric] = FigureValue(
            value=_fraction(r.value), numerator=_fraction(r.numerator), denominator=_fraction(r.denominator)
        )
    figure_sets = [
        FigureSet(unit, first, last, values[set_id]) for set_id, (unit, first, last) in sets.items()
    ]
    return figure_sets, latest


def _fraction(value: Any) -> Fraction | None:
    return None if value is None else Fraction(value)
