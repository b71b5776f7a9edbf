"""Figures a conference reports for the whole cluster in a year: one versioned list per
cluster-year, replaced whole under `If-Match`."""

from typing import Any

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.years import ClusterYear, YearRecord
from app.conferences.service import check_link
from app.core.errors import Unprocessable
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import Actor
from app.core.plans import Id, Plan, Read, one, run
from app.core.versioned import Conditions, Written, replace_parts
from app.metrics.models import Metric, MetricKind
from app.metrics.service import by_key as metric_refs
from app.reported.models import FigureKind, ReportedFigure, ReportedFigureSet
from app.reported.schemas import ReportedFigureOut, ReportedFiguresOut, ReportedFiguresPut

RESOURCE = "reported-figures"

_FIGURES = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "position",
                        col(ReportedFigure.position),
                        "label",
                        col(ReportedFigure.label),
                        "metric",
                        col(Metric.key),
                        "kind",
                        col(ReportedFigure.kind),
                        "qualifier",
                        col(ReportedFigure.qualifier),
                        "value",
                        col(ReportedFigure.value),
                        "unit_of_measure",
                        col(ReportedFigure.unit_of_measure),
                        "compared_with",
                        col(ReportedFigure.compared_with),
                        "period_start",
                        col(ReportedFigure.period_start),
                        "period_end",
                        col(ReportedFigure.period_end),
                        "source",
                        col(ReportedFigure.source),
                        "note",
                        col(ReportedFigure.note),
                    ),
                    col(ReportedFigure.position),
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .select_from(ReportedFigure)
    .outerjoin(Metric, col(Metric.id) == col(ReportedFigure.metric_id))
    .where(col(ReportedFigure.set_id) == col(ReportedFigureSet.id))
    .scalar_subquery()
)
_SET = (
    select(ReportedFigureSet, col(Cluster.number), _FIGURES.label("figures"))
    .join(Cluster, col(Cluster.id) == col(ReportedFigureSet.cluster_id))
    .where(
        col(ReportedFigureSet.cluster_id) == bindparam("cluster_id"),
        col(ReportedFigureSet.year) == bindparam("year"),
    )
)
"""The set with its figures in one query (the year sheet is a hot path)."""


def figures_etag(out: ReportedFiguresOut) -> str:
    return record_etag(RESOURCE, f"{out.cluster}-{out.year}", out.version, out)


def _out(r: Any) -> ReportedFiguresOut:
    row: ReportedFigureSet = r.ReportedFigureSet
    return ReportedFiguresOut(
        cluster=r.number,
        year=row.year,
        figures=[ReportedFigureOut.model_validate(f) for f in r.figures],
        conference_id=row.conference_id,
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def figures_of(session: AsyncSession, cluster_id: int, year: int) -> ReportedFiguresOut | None:
    """The cluster's reported figures for `year`, or None; one query."""
    return await run(session, figures_plan(cluster_id, year))


def figures_plan(cluster_id: Id, year: int) -> Plan[ReportedFiguresOut | None]:
    """`figures_of` as a plan (the year sheet reads it with the rest of the sheet)."""
    rows = yield from one(Read(_SET, {"cluster_id": cluster_id, "year": year}))
    return _out(rows[0]) if rows else None


def _not_found(at: ClusterYear) -> str:
    return _("No reported figures recorded for cluster {number} in {year}.", number=at.number, year=at.year)


def _missing(at: ClusterYear) -> str:
    return _(
        "No reported figures recorded for cluster {number} in {year} yet.", number=at.number, year=at.year
    )


RECORD = YearRecord(
    ReportedFigureSet, RESOURCE, ReportedFiguresOut, figures_of, figures_etag, _not_found, _missing
)
"""The year's reported figures: their GET, revisions and writes."""


async def _metric_kinds(session: AsyncSession, data: ReportedFiguresPut) -> dict[str, tuple[int, str]]:
    """The id and kind of every metric the figures name; 422 naming the field for an unknown
    metric or a kind that does not fit it."""
    found = await metric_refs(session, {f.metric for f in data.figures if f.metric is not None})
    kinds = {key: (metric.id, metric.kind) for key, metric in found.items()}
    for i, figure in enumerate(data.figures):
        if figure.metric is None:
            continue
        if figure.metric not in kinds:
            raise Unprocessable(
                _("No metric with key {key}.", key=figure.metric), field=f"figures.{i}.metric"
            )
        is_rate = kinds[figure.metric][1] == MetricKind.rate.value
        if figure.kind is FigureKind.value and is_rate:
            raise Unprocessable(
                _("The metric {key} is a rate: report it as a `rate` or a `change`.", key=figure.metric),
                field=f"figures.{i}.kind",
            )
        if figure.kind is FigureKind.rate and not is_rate:
            raise Unprocessable(
                _("The metric {key} is not a rate.", key=figure.metric), field=f"figures.{i}.kind"
            )
    return kinds


async def write_figures(
    session: AsyncSession, at: ClusterYear, data: ReportedFiguresPut, conditions: Conditions, actor: Actor
) -> Written[ReportedFiguresOut]:
    """Create or replace the list (the same version, nothing written, when the body says what is
    stored)."""
    kinds: dict[str, tuple[int, str]] = {}

    async def check(stored: object) -> None:
        kinds.update(await _metric_kinds(session, data))
        if data.conference_id is not None:
            await check_link(session, data.conference_id, cluster_id=at.id, number=at.number, year=at.year)

    async def figures(set_id: int) -> None:
        rows = [
            {
                "position": i,
                "label": f.label,
                "metric_id": kinds[f.metric][0] if f.metric is not None else None,
                "kind": f.kind.value,
                "qualifier": f.qualifier.value,
                "value": f.value,
                "unit_of_measure": f.unit_of_measure.value if f.unit_of_measure else None,
                "compared_with": f.compared_with,
                "period_start": f.period_start,
                "period_end": f.period_end,
                "source": f.source,
                "note": f.note,
            }
            for i, f in enumerate(data.figures, start=1)
        ]
        await replace_parts(session, ReportedFigure, "set_id", set_id, rows)

    def new() -> ReportedFigureSet:
        return ReportedFigureSet(cluster_id=at.id, year=at.year, recorded_by=actor.recorded_by, version=0)

    def assign(record: ReportedFigureSet) -> None:
        """The list is all in the figures, but for the conference that reported them."""
        record.conference_id = data.conference_id

    return await RECORD.write(session, at, conditions, actor, new, assign, children=figures, check=check)
