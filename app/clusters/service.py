from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.schemas import ClusterCreate, ClusterOut, ClusterUpdate
from app.clusters.tags import cluster_tag
from app.clusters.years import GroupingRef, resolve
from app.core.cache import invalidate
from app.core.errors import Conflict
from app.core.etag import record_etag, require_match
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.revisions import record_revision
from app.core.versioned import assigned, patch_version

RESOURCE = "cluster"


def cluster_out(cluster: Any) -> ClusterOut:
    return ClusterOut.model_validate(cluster, from_attributes=True)


def cluster_etag(cluster: ClusterOut) -> str:
    return record_etag(RESOURCE, cluster.number, cluster.version, cluster)


async def list_clusters(session: AsyncSession, *, limit: int, after: int | None) -> Page[ClusterOut]:
    query = select(Cluster).order_by(col(Cluster.number)).limit(limit + 1)
    if after is not None:
        query = query.where(col(Cluster.number) > after)
    rows = [cluster_out(c) for c in (await session.execute(query)).scalars()]
    return page_of(rows, limit, lambda c: c.number)


async def create_cluster(session: AsyncSession, data: ClusterCreate, actor: Actor) -> ClusterOut:
    cluster = Cluster(
        number=data.number,
        name=data.name or f"Cụm thi đua số {data.number}",
        rotation_custom=data.rotation_custom.value,
        note=data.note,
        recorded_by=actor.recorded_by,
    )
    try:
        async with session.begin_nested():
            session.add(cluster)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            slug="cluster-exists", detail=_("Cluster number {number} already exists.", number=data.number)
        ) from exc
    await session.refresh(cluster)
    out = cluster_out(cluster)
    assert cluster.id is not None
    await record_revision(session, RESOURCE, cluster.id, cluster.version, out, actor)
    await invalidate(session, cluster_tag(out.number))
    return out


async def update_cluster(
    session: AsyncSession, ref: GroupingRef, data: ClusterUpdate, if_match: str | None, actor: Actor
) -> ClusterOut:
    """Change a cluster (looked up here, after the body was validated: an invalid body is 422
    whether or not the cluster exists)."""
    grouping = await resolve(session, ref)
    cluster = await session.get(Cluster, grouping.id, with_for_update=True, populate_existing=True)
    assert cluster is not None  # a cluster is never deleted
    before = cluster_out(cluster)
    require_match(if_match, cluster_etag(before))

    def assign(row: Cluster) -> None:
        for field in data.model_fields_set:
            value = getattr(data, field)
            setattr(row, field, value.value if hasattr(value, "value") else value)

    return await patch_version(
        session,
        cluster,
        before,
        assigned(session, assign, cluster_out),
        resource=RESOURCE,
        actor=actor,
        tags=lambda out: [cluster_tag(out.number)],
    )
