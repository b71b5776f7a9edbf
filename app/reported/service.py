"""Figures a conference reports for the whole cluster in a year: one versioned list per
cluster-year, replaced whole under `If-Match`."""

from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.service import find_cluster
from app.core.cache import cluster_tag, invalidate
from app.core.database import table
from app.core.errors import NotFound, PreconditionFailed, Unprocessable
from app.core.etag import record_etag, require_replaceable
from app.core.i18n import _
from app.core.revisions import record_revision, unless_unchanged
from app.core.security import Principal, ensure_cluster_writer
from app.core.time import utcnow
from app.metrics.models import Metric, MetricKind
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
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def figures_of(session: AsyncSession, cluster_id: int, year: int) -> ReportedFiguresOut | None:
    """The cluster's reported figures for `year`, or None; one query."""
    row = (await session.execute(_SET, {"cluster_id": cluster_id, "year": year})).first()
    return _out(row) if row is not None else None


def _not_found(number: int, year: int) -> NotFound:
    return NotFound(
        _("No reported figures recorded for cluster {number} in {year}.", number=number, year=year)
    )


async def get_figures(session: AsyncSession, number: int, year: int) -> tuple[ReportedFiguresOut, str]:
    cluster = await find_cluster(session, number)
    assert cluster.id is not None
    out = await figures_of(session, cluster.id, year)
    if out is None:
        raise _not_found(number, year)
    return out, figures_etag(out)


async def put_figures(
    session: AsyncSession,
    number: int,
    year: int,
    data: ReportedFiguresPut,
    if_match: str | None,
    actor: str,
    writer: Principal | None = None,
    if_none_match: str | None = None,
) -> tuple[ReportedFiguresOut, str, bool]:
    """Create or replace the list; returns it, its ETag and whether it was created (the same
    version, nothing written, when the body says what is stored). `writer`: the key asking (None
    for the history importer)."""
    cluster = await find_cluster(session, number, for_update=True)
    assert cluster.id is not None
    if writer is not None:
        ensure_cluster_writer(writer, cluster.id)
    existing = (
        await session.execute(
            select(ReportedFigureSet)
            .where(col(ReportedFigureSet.cluster_id) == cluster.id, col(ReportedFigureSet.year) == year)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if existing is None and if_match is not None:
        raise PreconditionFailed(
            _("No reported figures recorded for cluster {number} in {year} yet.", number=number, year=year)
        )
    current = None
    if existing is not None:
        current = await figures_of(session, cluster.id, year)
        assert current is not None
        require_replaceable(if_match, if_none_match, figures_etag(current))
    metrics = table(Metric)
    keys = {f.metric for f in data.figures if f.metric is not None}
    kinds = {
        r.key: (r.id, r.kind)
        for r in await session.execute(
            select(metrics.c.key, metrics.c.id, metrics.c.kind).where(metrics.c.key.in_(keys))
        )
    }
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
    record = existing or ReportedFigureSet(cluster_id=cluster.id, year=year, recorded_by=actor, version=0)
    cluster_id = cluster.id

    async def write() -> ReportedFiguresOut:
        record.version += 1
        record.recorded_by = actor
        record.recorded_at = utcnow()
        session.add(record)
        await session.flush()
        assert record.id is not None
        figures = table(ReportedFigure)
        await session.execute(delete(figures).where(figures.c.set_id == record.id))
        if data.figures:
            await session.execute(
                insert(figures),
                [
                    {
                        "set_id": record.id,
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
                ],
            )
        out = await figures_of(session, cluster_id, year)
        assert out is not None
        return out

    out = await unless_unchanged(session, current, write)
    if out is None:
        assert current is not None
        return current, figures_etag(current), False
    assert record.id is not None
    await record_revision(session, RESOURCE, record.id, record.version, out, actor)
    await invalidate(session, cluster_tag(number))
    return out, figures_etag(out), existing is None


async def figures_record_id(session: AsyncSession, number: int, year: int) -> int:
    """The id under which the year's reported-figure revisions are kept."""
    cluster = await find_cluster(session, number)
    record_id = (
        await session.execute(
            select(col(ReportedFigureSet.id)).where(
                col(ReportedFigureSet.cluster_id) == cluster.id, col(ReportedFigureSet.year) == year
            )
        )
    ).scalar_one_or_none()
    if record_id is None:
        raise _not_found(number, year)
    return record_id
