from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.hashing import hash_key, new_key
from app.auth.models import ApiKey, Role
from app.clusters.models import Cluster
from app.core.cache import KEYS, invalidate
from app.core.errors import Conflict, NotFound
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.time import utcnow
from app.keys.schemas import ClusterKeyCreate, KeyCreate, KeyCreated, KeyOut, UnitKeyCreate
from app.units.models import Unit
from app.units.schemas import UnitRef


def _out(key: ApiKey, cluster: int | None, unit: Any) -> KeyOut:
    assert key.id is not None
    return KeyOut(
        id=key.id,
        name=key.name,
        role=Role(key.role),
        cluster=cluster,
        unit=UnitRef.model_validate(unit, from_attributes=True) if unit is not None else None,
        key_prefix=key.key_prefix,
        created_by=key.created_by,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


async def create_key(session: AsyncSession, data: KeyCreate, actor: Actor) -> KeyCreated:
    cluster_id, unit = None, None
    if isinstance(data, ClusterKeyCreate):
        cluster_id = (
            await session.execute(select(col(Cluster.id)).where(col(Cluster.number) == data.cluster))
        ).scalar_one_or_none()
        if cluster_id is None:
            raise NotFound(_("No cluster number {number}.", number=data.cluster), field="cluster")
    if isinstance(data, UnitKeyCreate):
        unit = await session.get(Unit, data.unit_id)
        if unit is None:
            raise NotFound(_("No unit with id {unit_id}.", unit_id=data.unit_id), field="unit_id")
    raw = new_key()
    key = ApiKey(
        name=data.name,
        role=data.role.value,
        cluster_id=cluster_id,
        unit_id=unit.id if unit else None,
        key_hash=hash_key(raw),
        key_prefix=raw[:10],
        created_by=actor.recorded_by,
    )
    session.add(key)
    await session.flush()
    await session.refresh(key)
    await invalidate(session, KEYS)
    cluster = data.cluster if isinstance(data, ClusterKeyCreate) else None
    return KeyCreated(**_out(key, cluster, unit).model_dump(), key=raw)


async def list_keys(session: AsyncSession, *, limit: int, after: int | None) -> Page[KeyOut]:
    query = (
        select(ApiKey, col(Cluster.number), Unit)
        .outerjoin(Cluster, col(Cluster.id) == col(ApiKey.cluster_id))
        .outerjoin(Unit, col(Unit.id) == col(ApiKey.unit_id))
        .order_by(col(ApiKey.id))
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(col(ApiKey.id) > after)
    rows = [_out(k, n, u) for k, n, u in (await session.execute(query)).all()]
    return page_of(rows, limit, lambda k: k.id)


async def revoke_key(session: AsyncSession, key_id: int, caller_key_id: int | None) -> None:
    key = await session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise NotFound(_("No key with id {key_id}.", key_id=key_id))
    if key_id == caller_key_id:
        raise Conflict(slug="self-revocation", detail=_("A key cannot revoke itself; use another admin key."))
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        await session.flush()
        await invalidate(session, KEYS)
