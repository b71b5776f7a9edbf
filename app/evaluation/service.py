"""A cluster's year against its covenant: reads the targets, the reporting period, the members at
the end of the period, their lineage and every figure set involved (seven queries whatever the
cluster's size), then runs the engine (`app.evaluation.engine`), which decides."""

from collections import Counter, defaultdict
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.years import ClusterYear
from app.core.errors import NotFound, Unprocessable
from app.core.i18n import _
from app.core.periods import valid_on
from app.covenants.periods import PeriodBasis, ReportingPeriod, reporting_period
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
from app.evaluation.queries import COVENANT_TARGETS, FIGURES, METRICS
from app.evaluation.schemas import EvaluationOut, EvaluationRowOut, EvaluationSummary
from app.memberships.models import Membership
from app.metrics.models import MetricKind
from app.rules.reporting_periods import PeriodRule
from app.units.models import Succession, Unit


async def evaluate_cluster_year(
    session: AsyncSession, at: ClusterYear, *, period_start: date | None, period_end: date | None
) -> EvaluationOut:
    """Each member at the end of the period against each target, and the cluster totals. The
    period is the cluster-year's reporting period (`app.covenants.periods`) unless the request
    gives one; a day given alone is completed from the reporting period."""
    number, year = at.number, at.year
    if period_start is not None and period_end is not None and period_end < period_start:
        raise _backwards()
    targets = await _targets(session, at.id, year)
    if not targets:
        raise NotFound(
            _(
                "No covenant with targets is recorded for cluster {number} in {year}.",
                number=number,
                year=year,
            )
        )
    period = await _period(session, at.id, year, period_start, period_end)
    if period.end < period.start:
        raise _backwards()
    return await _evaluate(session, targets, at.id, number, year, period)


def _backwards() -> Unprocessable:
    return Unprocessable(_("The period ends before it starts."), field="period_end")


async def _period(
    session: AsyncSession, cluster_id: int, year: int, start: date | None, end: date | None
) -> ReportingPeriod:
    """Both days given: that period. One or none: the reporting period completes it."""
    if start is not None and end is not None:
        return ReportingPeriod(start, end, PeriodBasis.requested)
    reporting = await reporting_period(session, cluster_id, year)
    if start is None and end is None:
        return reporting
    completed = (start or reporting.start, end or reporting.end)
    return ReportingPeriod(*completed, PeriodBasis.requested, reporting.rule)


async def summary(session: AsyncSession, cluster_id: int, number: int, year: int) -> EvaluationSummary | None:
    """The year's verdicts counted over its reporting period, for the sheet; None without a
    covenant with targets (then the period is not even read)."""
    targets = await _targets(session, cluster_id, year)
    if not targets:
        return None
    period = await reporting_period(session, cluster_id, year)
    out = await _evaluate(session, targets, cluster_id, number, year, period)
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


async def evaluate_cluster(
    session: AsyncSession,
    cluster_id: int,
    number: int,
    year: int,
    start: date,
    end: date,
    *,
    basis: PeriodBasis = PeriodBasis.requested,
    rule: PeriodRule | None = None,
) -> EvaluationOut | None:
    """Six queries whatever the cluster's size: targets, members, lineage (two), metrics, figures.
    The period is the caller's (`basis`, `rule`: why)."""
    targets = await _targets(session, cluster_id, year)
    if not targets:
        return None
    return await _evaluate(
        session, targets, cluster_id, number, year, ReportingPeriod(start, end, basis, rule)
    )


async def _evaluate(
    session: AsyncSession,
    targets: list[tuple[Target, int]],
    cluster_id: int,
    number: int,
    year: int,
    period: ReportingPeriod,
) -> EvaluationOut:
    start, end = period.start, period.end
    return await evaluate_targets(
        session, targets, cluster_id, number, year, start, end, basis=period.basis, rule=period.rule
    )


async def evaluate_targets(
    session: AsyncSession,
    targets: list[tuple[Target, int]],
    cluster_id: int,
    number: int,
    year: int,
    start: date,
    end: date,
    *,
    basis: PeriodBasis = PeriodBasis.requested,
    rule: PeriodRule | None = None,
) -> EvaluationOut:
    """The given targets (each with its position) against the members at the end of the period:
    five queries (members, lineage (two), metrics, figures). A pledge of an amount or a count is
    an `each_member` `ge` target here. `basis` and `rule` say why the period is what it is (the
    caller's: `app.covenants.periods.reporting_period` gives a cluster-year's)."""
    members = await _members(session, cluster_id, end)
    lineage, units = await _lineage(session, members)
    baseline_start, baseline_end = like_period(start, end)
    figures, recorded_at = await _figures(session, units, baseline_start, end)
    context = Context(
        start=start,
        end=end,
        members=members,
        metrics=await _metrics(session),
        figures=figures,
        lineage=lineage,
    )
    evaluation = evaluate([t for t, _ in targets], context)
    bases = [t.basis for t, _ in targets]
    return EvaluationOut(
        cluster=number,
        year=year,
        period_start=start,
        period_end=end,
        period_basis=basis,
        period_rule=rule,
        baseline_start=baseline_start,
        baseline_end=baseline_end,
        figures_recorded_at=recorded_at,
        rows=[EvaluationRowOut.of(row, bases[row.target_index]) for row in evaluation.rows],
    )


async def _targets(session: AsyncSession, cluster_id: Any, year: int) -> list[tuple[Target, int]]:
    rows = await session.execute(COVENANT_TARGETS, {"cluster_id": cluster_id, "year": year})
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


async def _members(session: AsyncSession, cluster_id: Any, day: date) -> list[int]:
    """The units that are members on `day`, by name."""
    rows = await session.execute(
        select(col(Membership.unit_id))
        .join(Unit, col(Unit.id) == col(Membership.unit_id))
        .where(
            col(Membership.cluster_id) == cluster_id,
            valid_on(col(Membership.valid_from), col(Membership.valid_to), day),
        )
        .order_by(col(Unit.name_folded), col(Unit.id))
    )
    return [r.unit_id for r in rows]


async def _lineage(session: AsyncSession, members: list[int]) -> tuple[Lineage, list[int]]:
    """The members' predecessors, transitively, with their last days, first days and names."""
    start = select(col(Succession.predecessor_id), col(Succession.successor_id)).where(
        col(Succession.successor_id).in_(members or [0])
    )
    walk = start.cte("walk", recursive=True)
    step = select(col(Succession.predecessor_id), col(Succession.successor_id)).join(
        walk, col(Succession.successor_id) == walk.c.predecessor_id
    )
    walk = walk.union(step)
    links = [(r.predecessor_id, r.successor_id) for r in await session.execute(select(walk))]
    units = sorted({*members, *(p for p, _ in links)})
    info = {
        r.id: r
        for r in await session.execute(
            select(col(Unit.id), col(Unit.name), col(Unit.valid_from), col(Unit.valid_to)).where(
                col(Unit.id).in_(units or [0])
            )
        )
    }
    predecessors: dict[int, list[Predecessor]] = defaultdict(list)
    for predecessor, successor in links:
        ceased = info[predecessor].valid_to
        if ceased is not None:
            predecessors[successor].append(Predecessor(predecessor, ceased))
    started = {u: info[u].valid_from for u in units if u not in predecessors and info[u].valid_from}
    names = {u: info[u].name for u in units}
    return Lineage(predecessors=dict(predecessors), started=started, names=names), units


async def _metrics(session: AsyncSession) -> dict[str, MetricInfo]:
    return {
        r.key: MetricInfo(
            key=r.key,
            kind=MetricKind(r.kind),
            numerator_key=r.numerator_key,
            denominator_key=r.denominator_key,
            unit_of_measure=r.unit_of_measure,
        )
        for r in await session.execute(METRICS)
    }


async def _figures(
    session: AsyncSession, units: list[int], start: date, end: date
) -> tuple[list[FigureSet], datetime | None]:
    """Every figure set of `units` overlapping `[start, end]`, with its values by metric key, and
    when the latest of them was recorded."""
    values: dict[int, dict[str, FigureValue]] = defaultdict(dict)
    sets: dict[int, tuple[int, date, date]] = {}
    latest: datetime | None = None
    rows = await session.execute(FIGURES, {"units": units or [0], "start": start, "end": end})
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
