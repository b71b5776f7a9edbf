"""Proceedings that concern a unit (disciplinary review, investigation, inspection, complaint):
while one is open, the unit may not be nominated. Versioned: a correction or closing is a new
version, every version kept."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.cache import invalidate
from app.core.errors import NotFound, Unprocessable
from app.core.etag import record_etag, require_match
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.periods import valid_on
from app.core.revisions import record_revision
from app.core.versioned import assigned, patch_version
from app.proceedings.models import Proceeding
from app.proceedings.schemas import ProceedingCreate, ProceedingOut, ProceedingUpdate
from app.units.service import get_unit
from app.units.tags import unit_tag

RESOURCE = "proceeding"


def proceeding_out(row: Any) -> ProceedingOut:
    return ProceedingOut.model_validate(row, from_attributes=True)


def proceeding_etag(out: ProceedingOut) -> str:
    return record_etag(RESOURCE, out.id, out.version, out)


async def proceeding_row(
    session: AsyncSession, *, unit_id: int, proceeding_id: int, for_update: bool = False
) -> Proceeding:
    """The stored row of proceeding `proceeding_id` of unit `unit_id` (locked with `for_update`), or
    404."""
    query = select(Proceeding).where(col(Proceeding.id) == proceeding_id, col(Proceeding.unit_id) == unit_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(
            _(
                "Unit {unit_id} has no proceeding {proceeding_id}.",
                unit_id=unit_id,
                proceeding_id=proceeding_id,
            )
        )
    return row


async def list_proceedings(
    session: AsyncSession, *, unit_id: int, limit: int, after: int | None
) -> Page[ProceedingOut]:
    """A unit's proceedings by id, closed ones included; 404 for an unknown unit."""
    await get_unit(session, unit_id)
    query = select(Proceeding).where(col(Proceeding.unit_id) == unit_id).order_by(col(Proceeding.id))
    if after is not None:
        query = query.where(col(Proceeding.id) > after)
    rows = [proceeding_out(r) for r in (await session.execute(query.limit(limit + 1))).scalars()]
    return page_of(rows, limit, lambda p: p.id)


async def create(
    session: AsyncSession, *, unit_id: int, data: ProceedingCreate, actor: Actor
) -> ProceedingOut:
    """Record a proceeding (version 1)."""
    await get_unit(session, unit_id)
    row = Proceeding(unit_id=unit_id, **data.model_dump(), recorded_by=actor.recorded_by)
    session.add(row)
    await session.flush()
    out = proceeding_out(row)
    await record_revision(session, RESOURCE, out.id, out.version, out, actor)
    await invalidate(session, unit_tag(unit_id))
    return out


async def update(
    session: AsyncSession,
    *,
    unit_id: int,
    proceeding_id: int,
    data: ProceedingUpdate,
    if_match: str | None,
    actor: Actor,
) -> ProceedingOut:
    """Close or correct a proceeding under `If-Match`; a period ending before it starts is 422."""
    row = await proceeding_row(session, unit_id=unit_id, proceeding_id=proceeding_id, for_update=True)
    before = proceeding_out(row)
    require_match(if_match, proceeding_etag(before))
    changes = data.model_dump(include=data.model_fields_set)
    opened, closed = changes.get("opened_on", row.opened_on), changes.get("closed_on", row.closed_on)
    if closed is not None and closed < opened:
        raise Unprocessable(_("closed_on is before opened_on."), field="closed_on")

    def assign(record: Proceeding) -> None:
        for field, value in changes.items():
            setattr(record, field, value)

    return await patch_version(
        session,
        row,
        before,
        assigned(session, assign, proceeding_out),
        resource=RESOURCE,
        actor=actor,
        tags=lambda _out: [unit_tag(unit_id)],
    )


async def open_on(
    session: AsyncSession, *, unit_id: int, day: date, kinds: Iterable[str]
) -> list[ProceedingOut]:
    """The unit's proceedings of `kinds` open on `day`, oldest first."""
    query = (
        select(Proceeding)
        .where(
            col(Proceeding.unit_id) == unit_id,
            col(Proceeding.kind).in_(list(kinds)),
            valid_on(col(Proceeding.opened_on), col(Proceeding.closed_on), day),
        )
        .order_by(col(Proceeding.opened_on), col(Proceeding.id))
    )
    return [proceeding_out(r) for r in (await session.execute(query)).scalars()]
