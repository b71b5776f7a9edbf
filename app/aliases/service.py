"""Aliases of units: other ways a unit is written, as data an admin corrects; every version kept."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.aliases.models import UnitAlias
from app.aliases.schemas import AliasCreate, AliasOut, AliasUpdate
from app.core.cache import invalidate
from app.core.errors import Conflict, NotFound, constraint_name
from app.core.etag import record_etag, require_match
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.revisions import record_revision
from app.core.text import search_key
from app.core.versioned import patch_version
from app.units.service import get_unit
from app.units.tags import UNITS

RESOURCE = "unit_alias"
_UNIQUE = "unit_aliases_unit_id_search_key_key"


def alias_out(alias: Any) -> AliasOut:
    return AliasOut.model_validate(alias, from_attributes=True)


def alias_etag(alias: AliasOut) -> str:
    return record_etag(RESOURCE, alias.id, alias.version, alias)


async def alias_row(
    session: AsyncSession, *, unit_id: int, alias_id: int, for_update: bool = False
) -> UnitAlias:
    """The stored row of alias `alias_id` of unit `unit_id` (locked with `for_update`), or 404."""
    query = select(UnitAlias).where(col(UnitAlias.id) == alias_id, col(UnitAlias.unit_id) == unit_id)
    if for_update:
        query = query.with_for_update()
    alias = (await session.execute(query)).scalar_one_or_none()
    if alias is None:
        raise NotFound(_("Unit {unit_id} has no alias {alias_id}.", unit_id=unit_id, alias_id=alias_id))
    return alias


async def list_aliases(
    session: AsyncSession, *, unit_id: int, limit: int, after: int | None
) -> Page[AliasOut]:
    """A unit's aliases by id, retired ones included; 404 for an unknown unit."""
    await get_unit(session, unit_id)
    query = select(UnitAlias).where(col(UnitAlias.unit_id) == unit_id).order_by(col(UnitAlias.id))
    if after is not None:
        query = query.where(col(UnitAlias.id) > after)
    rows = [alias_out(a) for a in (await session.execute(query.limit(limit + 1))).scalars()]
    return page_of(rows, limit, lambda a: a.id)


async def create(session: AsyncSession, *, unit_id: int, data: AliasCreate, actor: Actor) -> AliasOut:
    """Record an alias (version 1); another alias of the unit that reads the same is 409."""
    await get_unit(session, unit_id)
    alias = UnitAlias(
        unit_id=unit_id,
        name=data.name,
        search_key=search_key(data.name),
        note=data.note,
        source=data.source,
        recorded_by=actor.recorded_by,
    )
    await _write(session, alias, {})
    out = alias_out(alias)
    await record_revision(session, RESOURCE, out.id, out.version, out, actor)
    await invalidate(session, UNITS)
    return out


async def update(
    session: AsyncSession,
    *,
    unit_id: int,
    alias_id: int,
    data: AliasUpdate,
    if_match: str | None,
    actor: Actor,
) -> AliasOut:
    """Correct or retire an alias under `If-Match`: a new version, the old one kept in revisions."""
    alias = await alias_row(session, unit_id=unit_id, alias_id=alias_id, for_update=True)
    before = alias_out(alias)
    require_match(if_match, alias_etag(before))
    changes = {field: getattr(data, field) for field in data.model_fields_set}
    if data.name is not None:
        changes["search_key"] = search_key(data.name)

    async def write(row: UnitAlias) -> AliasOut:
        await _write(session, row, changes)
        return alias_out(row)

    return await patch_version(
        session, alias, before, write, resource=RESOURCE, actor=actor, tags=lambda _out: [UNITS]
    )


async def _write(session: AsyncSession, alias: UnitAlias, changes: dict[str, Any]) -> None:
    """Write `alias` with `changes`; another alias of its unit with the same search key is 409
    naming it. The changes are made inside the savepoint, so a conflict leaves none behind."""
    unit_id = alias.unit_id
    key, name = changes.get("search_key", alias.search_key), changes.get("name", alias.name)
    try:
        async with session.begin_nested():
            for field, value in changes.items():
                setattr(alias, field, value)
            session.add(alias)
            await session.flush()
    except IntegrityError as exc:
        if constraint_name(exc) != _UNIQUE:
            raise
        raise await _duplicate(session, unit_id, key, name) from exc
    await session.refresh(alias)


async def _duplicate(session: AsyncSession, unit_id: int, key: str, name: str) -> Conflict:
    """The conflict with the stored alias of `unit_id` whose search key is `key`."""
    query = select(UnitAlias).where(col(UnitAlias.unit_id) == unit_id, col(UnitAlias.search_key) == key)
    existing = (await session.execute(query)).scalar_one()
    values = {"unit_id": unit_id, "alias": existing.name, "alias_id": existing.id, "name": name}
    if existing.active:
        detail = _(
            "Unit {unit_id} already has the alias {alias!r} (id {alias_id}), which reads the same as "
            "{name!r}.",
            **values,
        )
    else:
        detail = _(
            "Unit {unit_id} already has the alias {alias!r} (id {alias_id}), which reads the same as "
            "{name!r} (retired: set `active` to true to use it again).",
            **values,
        )
    return Conflict(detail, slug="alias-exists", existing_alias_id=existing.id)
