"""A cluster's year against its covenant: reads the targets, the members at the end of the
period, their lineage and every figure set involved (five queries whatever the cluster's size),
then runs the engine (`app.evaluation.engine`), which decides."""

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
from app.core.periods import valid_on, year_bounds
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
from app.units.models import Succession, Unit


async def evaluate_cluster_year(
    session: AsyncSession, at: ClusterYear, *, period_start: date | None, period_end: date | None
) -> EvaluationOut:
    """Each member at the end of the period against each target, and the cluster totals."""
    number, year = at.number, at.year
    first, last = year_bounds(year)
    start, end = period_start or first, period_end or last
    if end < start:
        raise Unprocessable(_("The period ends before it starts."), field="period_end")
    out = await evaluate_cluster(session, at.id, number, year, start, end)
    if out is None:
        raise NotFound(
            _(
                "No covenant with targets is recorded for cluster {number} in {year}.",
                number=number,
                year=year,
            )
        )
    return out


async def summary(session: AsyncSession, cluster_id: int, number: int, year: int) -> EvaluationSummary | None:
    """The year's verdicts counted, for the sheet; None without a covenant with targets."""
    start, end = year_bounds(year)
    out = await evaluate_cluster(session, cluster_id, number, year, start, end)
    if out is None:
        return None
    verdicts = Counter(row.verdict for row in out.rows)
    return EvaluationSummary(
        met=verdicts[Verdict.met],
        not_met=verdicts[Verdict.not_met],
        unknown=verdicts[Verdict.unknown],
        figures_recorded_at=out.figures_recorded_at,
        href=f"/v1/clusters/{number}/years/{year}/evaluation",
    )


async def evaluate_cluster(
    session: AsyncSession, cluster_id: int, number: int, year: int, start: date, end: date
) -> EvaluationOut | None:
    """Six queries whatever the cluster's size: targets, members, lineage (two), metrics, figures."""
    targets = await _targets(session, cluster_id, year)
    if not targets:
        return None
    return await evaluate_targets(session, targets, cluster_id, number, year, start, end)


async def evaluate_targets(
    session: AsyncSession,
    targets: list[tuple[Target, int]],
    cluster_id: int,
    number: int,
    year: int,
    start: date,
    end: date,
) -> EvaluationOut:
    """The given targets (each with its position) against the members at the end of the period:
    five queries (members, lineage (two), metrics, figures). A pledge of an amount or a count is
    an `each_member` `ge` target here."""
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
