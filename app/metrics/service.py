"""The metric catalogue: what figures and targets are counted in."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.cache import invalidate
from app.core.database import table
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.revisions import record_revision
from app.metrics.models import MeasureUnit, Metric, MetricKind
from app.metrics.schemas import MetricCreate, MetricOut
from app.metrics.tags import METRICS

RESOURCE = "metric"

_NUMERATOR, _DENOMINATOR = table(Metric).alias("numerator"), table(Metric).alias("denominator")
_SELECT = (
    select(Metric, _NUMERATOR.c.key.label("numerator_key"), _DENOMINATOR.c.key.label("denominator_key"))
    .outerjoin(_NUMERATOR, col(Metric.numerator_id) == _NUMERATOR.c.id)
    .outerjoin(_DENOMINATOR, col(Metric.denominator_id) == _DENOMINATOR.c.id)
)


def metric_etag(metric: MetricOut) -> str:
    return record_etag(RESOURCE, metric.key, metric.version, metric)


def _out(row: Any) -> MetricOut:
    metric: Metric = row.Metric
    return MetricOut(
        key=metric.key,
        name_vi=metric.name_vi,
        name_en=metric.name_en,
        unit_of_measure=MeasureUnit(metric.unit_of_measure),
        kind=MetricKind(metric.kind),
        numerator=row.numerator_key,
        denominator=row.denominator_key,
        description=metric.description,
        source=metric.source,
        version=metric.version,
        recorded_by=metric.recorded_by,
        recorded_at=metric.recorded_at,
    )


async def list_metrics(session: AsyncSession, *, limit: int, after: int | None) -> Page[MetricOut]:
    """The catalogue in the order metrics were added."""
    query = _SELECT.order_by(col(Metric.id)).limit(limit + 1)
    if after is not None:
        query = query.where(col(Metric.id) > after)
    rows = list(await session.execute(query))
    page = page_of(rows, limit, lambda r: int(r.Metric.id))
    return Page[MetricOut](items=[_out(r) for r in page.items], next_cursor=page.next_cursor)


async def get(session: AsyncSession, *, key: str) -> MetricOut:
    """The metric `key`, or 404."""
    row = (await session.execute(_SELECT.where(col(Metric.key) == key))).first()
    if row is None:
        raise NotFound(_("No metric with key {key}.", key=key))
    return _out(row)


@dataclass(frozen=True, slots=True)
class MetricRef:
    """A metric as a write that names it by key needs it: its id, and its kind (`MetricKind`'s
    value) to check what is written against."""

    id: int
    kind: str


async def by_key(session: AsyncSession, keys: set[str]) -> dict[str, MetricRef]:
    """The metrics named by `keys`, in one query (unknown keys are left out: the caller says
    which field named them)."""
    metrics = table(Metric)
    rows = await session.execute(
        select(metrics.c.key, metrics.c.id, metrics.c.kind).where(metrics.c.key.in_(keys))
    )
    return {row.key: MetricRef(row.id, row.kind) for row in rows}


async def ids_by_key(session: AsyncSession, keys: set[str]) -> dict[str, int]:
    """The ids of the metrics named by `keys` (unknown keys are left out)."""
    return {key: metric.id for key, metric in (await by_key(session, keys)).items()}


async def create(session: AsyncSession, *, data: MetricCreate, actor: Actor) -> MetricOut:
    """Add a metric (version 1); a key in use is 409, an unknown numerator or denominator 422."""
    parts = await ids_by_key(session, {k for k in (data.numerator, data.denominator) if k})
    for field in ("numerator", "denominator"):
        key = getattr(data, field)
        if key is not None and key not in parts:
            raise Unprocessable(_("No metric with key {key}.", key=key), field=field)
    metric = Metric(
        key=data.key,
        name_vi=data.name_vi,
        name_en=data.name_en,
        unit_of_measure=data.unit_of_measure.value,
        kind=data.kind.value,
        numerator_id=parts.get(data.numerator or ""),
        denominator_id=parts.get(data.denominator or ""),
        description=data.description,
        source=data.source,
        recorded_by=actor.recorded_by,
    )
    try:
        async with session.begin_nested():
            session.add(metric)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            slug="metric-exists", detail=_("The metric key {key} is already in the catalogue.", key=data.key)
        ) from exc
    out = await get(session, key=data.key)
    assert metric.id is not None
    await record_revision(session, RESOURCE, metric.id, out.version, out, actor)
    await invalidate(session, METRICS)
    return out
