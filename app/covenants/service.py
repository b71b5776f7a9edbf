"""A cluster's covenant for a year: versioned, replaced whole (targets included) under `If-Match`."""

from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.service import find_cluster
from app.core.cache import cluster_tag, invalidate
from app.core.database import table
from app.core.errors import Conflict, NotFound, PreconditionFailed, Unprocessable
from app.core.etag import record_etag, require_replaceable
from app.core.i18n import _
from app.core.revisions import record_revision, unless_unchanged
from app.core.security import Principal, ensure_cluster_writer
from app.core.time import utcnow
from app.covenants.models import Basis, Comparator, Covenant, CovenantTarget, Scope
from app.covenants.schemas import CovenantOut, CovenantPut, TargetOut
from app.memberships.service import is_member
from app.metrics.models import Metric
from app.metrics.service import ids_by_key
from app.units.models import Unit
from app.units.schemas import UnitRef
from app.units.service import unit_columns

RESOURCE = "covenant"

_TARGETS = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "position",
                        col(CovenantTarget.position),
                        "metric",
                        col(Metric.key),
                        "metric_name",
                        col(Metric.name_vi),
                        "comparator",
                        col(CovenantTarget.comparator),
                        "threshold",
                        col(CovenantTarget.threshold),
                        "basis",
                        col(CovenantTarget.basis),
                        "scope",
                        col(CovenantTarget.scope),
                        "label",
                        col(CovenantTarget.label),
                    ),
                    col(CovenantTarget.position),
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .select_from(CovenantTarget)
    .join(Metric, col(Metric.id) == col(CovenantTarget.metric_id))
    .where(col(CovenantTarget.covenant_id) == col(Covenant.id))
    .scalar_subquery()
)
_COVENANT = (
    select(Covenant, col(Cluster.number), *unit_columns(Unit, "h_"), _TARGETS.label("targets"))
    .join(Cluster, col(Cluster.id) == col(Covenant.cluster_id))
    .outerjoin(Unit, col(Unit.id) == col(Covenant.host_unit_id))
    .where(col(Covenant.cluster_id) == bindparam("cluster_id"), col(Covenant.year) == bindparam("year"))
)
"""The covenant with its host and its targets, in one query (the year sheet is a hot path)."""


def covenant_etag(out: CovenantOut) -> str:
    return record_etag(RESOURCE, f"{out.cluster}-{out.year}", out.version, out)


def _out(r: Any) -> CovenantOut:
    row: Covenant = r.Covenant
    return CovenantOut(
        cluster=r.number,
        year=row.year,
        signed_on=row.signed_on,
        host=UnitRef.from_row(r, "h_") if row.host_unit_id is not None else None,
        source=row.source,
        key_contents=list(row.key_contents),
        targets=[TargetOut.model_validate(t) for t in r.targets],
        note=row.note,
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def covenant_of(session: AsyncSession, cluster_id: int, year: int) -> CovenantOut | None:
    """The cluster's covenant for `year`, or None; one query."""
    row = (await session.execute(_COVENANT, {"cluster_id": cluster_id, "year": year})).first()
    return _out(row) if row is not None else None


async def get_covenant(session: AsyncSession, number: int, year: int) -> tuple[CovenantOut, str]:
    cluster = await find_cluster(session, number)
    assert cluster.id is not None
    out = await covenant_of(session, cluster.id, year)
    if out is None:
        raise NotFound(_("No covenant recorded for cluster {number} in {year}.", number=number, year=year))
    return out, covenant_etag(out)


async def _check_host(session: AsyncSession, cluster: Cluster, year: int, unit_id: int) -> None:
    assert cluster.id is not None
    member = await is_member(session, cluster.id, unit_id, year)
    if not member:
        raise Conflict(
            slug="not-a-member",
            detail=_(
                "The host (unit {unit_id}) is not a member of cluster {cluster} in {year}.",
                unit_id=unit_id,
                cluster=cluster.number,
                year=year,
            ),
            field="host_unit_id",
        )


async def put_covenant(
    session: AsyncSession,
    number: int,
    year: int,
    data: CovenantPut,
    if_match: str | None,
    actor: str,
    writer: Principal | None = None,
    if_none_match: str | None = None,
) -> tuple[CovenantOut, str, bool]:
    """Create or replace (targets included); returns the covenant, its ETag and whether it was
    created (the same version, nothing written, when the body says what is stored). `writer`:
    the key asking (None for the history importer)."""
    cluster = await find_cluster(session, number, for_update=True)
    assert cluster.id is not None
    if writer is not None:
        ensure_cluster_writer(writer, cluster.id)
    existing = (
        await session.execute(
            select(Covenant)
            .where(col(Covenant.cluster_id) == cluster.id, col(Covenant.year) == year)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if existing is None and if_match is not None:
        raise PreconditionFailed(
            _("No covenant recorded for cluster {number} in {year} yet.", number=number, year=year)
        )
    current = None
    if existing is not None:
        current = await covenant_of(session, cluster.id, year)
        assert current is not None
        require_replaceable(if_match, if_none_match, covenant_etag(current))
    metrics = await ids_by_key(session, {t.metric for t in data.targets})
    for i, target in enumerate(data.targets):
        if target.metric not in metrics:
            raise Unprocessable(
                _("No metric with key {key}.", key=target.metric), field=f"targets.{i}.metric"
            )
    if data.host_unit_id is not None:
        await _check_host(session, cluster, year, data.host_unit_id)
    record = existing or Covenant(cluster_id=cluster.id, year=year, recorded_by=actor, version=0)
    cluster_id = cluster.id

    async def write() -> CovenantOut:
        record.signed_on = data.signed_on
        record.host_unit_id = data.host_unit_id
        record.source = data.source
        record.key_contents = list(data.key_contents)
        record.note = data.note
        record.version += 1
        record.recorded_by = actor
        record.recorded_at = utcnow()
        session.add(record)
        await session.flush()
        assert record.id is not None
        targets = table(CovenantTarget)
        await session.execute(delete(targets).where(targets.c.covenant_id == record.id))
        if data.targets:
            await session.execute(
                insert(targets),
                [
                    {
                        "covenant_id": record.id,
                        "position": i,
                        "metric_id": metrics[t.metric],
                        "comparator": Comparator(t.comparator).value,
                        "threshold": t.threshold,
                        "basis": Basis(t.basis).value,
                        "scope": Scope(t.scope).value,
                        "label": t.label,
                    }
                    for i, t in enumerate(data.targets, start=1)
                ],
            )
        out = await covenant_of(session, cluster_id, year)
        assert out is not None
        return out

    out = await unless_unchanged(session, current, write)
    if out is None:
        assert current is not None
        return current, covenant_etag(current), False
    assert record.id is not None
    await record_revision(session, RESOURCE, record.id, record.version, out, actor)
    await invalidate(session, cluster_tag(number))
    return out, covenant_etag(out), existing is None


async def covenant_record_id(session: AsyncSession, number: int, year: int) -> int:
    """The id under which the year's covenant revisions are kept."""
    cluster = await find_cluster(session, number)
    record_id = (
        await session.execute(
            select(col(Covenant.id)).where(col(Covenant.cluster_id) == cluster.id, col(Covenant.year) == year)
        )
    ).scalar_one_or_none()
    if record_id is None:
        raise NotFound(_("No covenant recorded for cluster {number} in {year}.", number=number, year=year))
    return record_id
