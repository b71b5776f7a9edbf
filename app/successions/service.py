from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.tags import cluster_tag
from app.core.cache import invalidate
from app.core.errors import Conflict, NotFound, sqlstate
from app.core.i18n import _
from app.core.identity import Actor
from app.core.revisions import record_revision
from app.core.text import fold, search_key
from app.leadership.models import Leadership
from app.memberships.service import close_for_units
from app.successions.schemas import LeadershipAffected, Link, SuccessionCreate, SuccessionOut
from app.units.models import Succession, Unit
from app.units.service import RESOURCE as UNIT_RESOURCE
from app.units.service import unit_out, unit_ref
from app.units.tags import UNITS, unit_tag


def stored_id(unit: Unit) -> int:
    """The id of a unit that has been flushed (SQLModel types primary keys as optional)."""
    assert unit.id is not None
    return unit.id


async def _lock_units(session: AsyncSession, ids: list[int], field: str) -> list[Unit]:
    units = list(
        (
            await session.execute(
                select(Unit).where(col(Unit.id).in_(ids)).order_by(col(Unit.id)).with_for_update()
            )
        ).scalars()
    )
    missing = set(ids) - {u.id for u in units}
    if missing:
        unknown = ", ".join(str(i) for i in sorted(missing))
        raise NotFound(_("Unknown unit ids: {ids}.", ids=unknown), field=field)
    return units


async def record_succession(session: AsyncSession, data: SuccessionCreate, actor: Actor) -> SuccessionOut:
    """Close the predecessors the day before, open the new units, link them, and end the
    predecessors' memberships; each changed unit gets a new version. Locks units in id order."""
    predecessor_ids, new_units, continuing_ids = data.plan()
    if set(predecessor_ids) & set(continuing_ids) or len(set(continuing_ids)) != len(continuing_ids):
        raise Conflict(
            slug="succession-invalid",
            detail=_("A unit cannot succeed itself, nor be named twice among the successors."),
        )
    if data.effective_date == date.min:
        raise Conflict(
            slug="succession-invalid",
            detail=_(
                "A succession cannot take effect on {day}: no unit ceases before the calendar.", day=date.min
            ),
        )
    last_day = data.effective_date - timedelta(days=1)
    predecessors = await _lock_units(session, predecessor_ids, "predecessor_ids")
    for unit in predecessors:
        if unit.valid_to is not None:
            raise Conflict(
                slug="unit-already-ceased",
                detail=_(
                    "{name} ({code}) already ceased on {day}.",
                    name=unit.name,
                    code=unit.code,
                    day=unit.valid_to,
                ),
                unit_id=unit.id,
            )
        if unit.valid_from is not None and unit.valid_from > last_day:
            raise Conflict(
                slug="unit-not-in-period",
                detail=_(
                    "{name} ({code}) starts on {valid_from}, after {last_day}.",
                    name=unit.name,
                    code=unit.code,
                    valid_from=unit.valid_from,
                    last_day=last_day,
                ),
            )
    continuing = await _lock_units(session, continuing_ids, "successor") if continuing_ids else []
    for unit in continuing:
        if not (unit.valid_from is None or unit.valid_from <= data.effective_date) or (
            unit.valid_to is not None and unit.valid_to < data.effective_date
        ):
            raise Conflict(
                slug="unit-not-in-period",
                detail=_(
                    "{name} ({code}) does not exist on {day}.",
                    name=unit.name,
                    code=unit.code,
                    day=data.effective_date,
                ),
            )

    for unit in predecessors:
        unit.valid_to = last_day
        unit.stamp(actor)
        session.add(unit)
    await session.flush()

    opened = [
        Unit(
            code=n.code,
            name=n.name,
            name_folded=fold(n.name),
            search_key=search_key(n.name),
            kind=n.kind.value,
            valid_from=data.effective_date,
            recorded_by=actor.recorded_by,
        )
        for n in new_units
    ]
    try:
        async with session.begin_nested():
            session.add_all(opened)
            await session.flush()
    except IntegrityError as exc:
        if sqlstate(exc) != "23P01":
            raise
        raise Conflict(
            slug="unit-code-taken",
            detail=_("A new unit's code is already used by a unit that exists on that day."),
        ) from exc

    links = [
        Succession(
            predecessor_id=stored_id(p),
            successor_id=stored_id(s),
            effective_date=data.effective_date,
            kind=data.kind.value,
            legal_basis=data.legal_basis,
            recorded_by=actor.recorded_by,
        )
        for p in predecessors
        for s in [*opened, *continuing]
    ]
    session.add_all(links)
    await session.flush()

    for unit in [*predecessors, *opened]:
        await record_revision(session, UNIT_RESOURCE, stored_id(unit), unit.version, unit_out(unit), actor)
    closed = await close_for_units(session, [stored_id(u) for u in predecessors], last_day, actor)
    affected = await _leaderships_affected(session, predecessors, data.effective_date.year)
    await invalidate(
        session,
        UNITS,
        *(unit_tag(stored_id(u)) for u in [*predecessors, *opened, *continuing]),
        *(cluster_tag(c.cluster) for c in closed),
    )
    return SuccessionOut(
        kind=data.kind,
        effective_date=data.effective_date,
        legal_basis=data.legal_basis,
        closed_units=[unit_out(u) for u in predecessors],
        opened_units=[unit_out(u) for u in opened],
        continuing_units=[unit_out(u) for u in continuing],
        links=[Link(predecessor_id=x.predecessor_id, successor_id=x.successor_id) for x in links],
        memberships_closed=closed,
        leaderships_affected=affected,
    )


async def _leaderships_affected(
    session: AsyncSession, units: list[Unit], from_year: int
) -> list[LeadershipAffected]:
    by_id = {u.id: u for u in units}
    rows = await session.execute(
        select(
            col(Leadership.year),
            col(Leadership.leader_unit_id),
            col(Leadership.deputy_unit_id),
            col(Cluster.number),
        )
        .join(Cluster, col(Cluster.id) == col(Leadership.cluster_id))
        .where(
            col(Leadership.year) >= from_year,
            or_(col(Leadership.leader_unit_id).in_(by_id), col(Leadership.deputy_unit_id).in_(by_id)),
        )
        .order_by(col(Cluster.number), col(Leadership.year))
    )
    affected = []
    for r in rows:
        for role, unit_id in (("leader", r.leader_unit_id), ("deputy", r.deputy_unit_id)):
            if unit_id in by_id:
                affected.append(
                    LeadershipAffected(
                        cluster=r.number, year=r.year, role=role, unit=unit_ref(by_id[unit_id])
                    )
                )
    return affected
