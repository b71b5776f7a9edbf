from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.tags import cluster_tag
from app.core.cache import invalidate
from app.core.errors import Conflict, NotFound, sqlstate
from app.core.etag import record_etag, require_match
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.plans import Id, Plan, Read, one, run
from app.core.revisions import record_revision
from app.core.versioned import patch_version
from app.memberships import queries
from app.memberships.models import Membership, PeriodPrecision
from app.memberships.schemas import (
    Member,
    MembershipClosed,
    MembershipCreate,
    MembershipOut,
    MembershipUpdate,
)
from app.units.models import Unit
from app.units.schemas import UnitRef

RESOURCE = "membership"


def membership_etag(membership: MembershipOut) -> str:
    return record_etag(RESOURCE, membership.id, membership.version, membership)


def _out(row: Any) -> MembershipOut:
    m: Membership = row.Membership
    assert m.id is not None
    return MembershipOut(
        id=m.id,
        unit=UnitRef.from_row(row),
        cluster=row.number,
        valid_from=m.valid_from,
        valid_to=m.valid_to,
        period_precision=PeriodPrecision(m.period_precision),
        source=m.source,
        note=m.note,
        version=m.version,
        recorded_by=m.recorded_by,
        recorded_at=m.recorded_at,
    )


async def get_membership(session: AsyncSession, membership_id: int) -> MembershipOut:
    row = (
        await session.execute(queries.membership_rows().where(col(Membership.id) == membership_id))
    ).first()
    if row is None:
        raise NotFound(_("No membership with id {membership_id}.", membership_id=membership_id))
    return _out(row)


async def list_memberships(
    session: AsyncSession,
    *,
    unit_id: int | None,
    cluster: int | None,
    start: date | None,
    end: date | None,
    limit: int,
    after: int | None,
) -> Page[MembershipOut]:
    """Memberships overlapping `[start, end]` (both None: all)."""
    query = queries.listed(unit_id=unit_id, cluster=cluster, start=start, end=end, after=after)
    rows = [_out(r) for r in await session.execute(query.limit(limit + 1))]
    return page_of(rows, limit, lambda m: m.id)


async def _cluster_id(session: AsyncSession, number: int) -> int:
    cluster_id = (await session.execute(queries.cluster_id(number))).scalar_one_or_none()
    if cluster_id is None:
        raise NotFound(_("No cluster number {number}.", number=number), field="cluster")
    return cluster_id


async def _lock_unit(session: AsyncSession, unit_id: int) -> Unit:
    """Share-lock the unit so that a concurrent succession cannot end it under us."""
    unit = (await session.execute(queries.unit_locked(unit_id))).scalar_one_or_none()
    if unit is None:
        raise NotFound(_("No unit with id {unit_id}.", unit_id=unit_id), field="unit_id")
    return unit


def _check_within_unit(unit: Unit, valid_from: date, valid_to: date | None) -> None:
    if unit.valid_from is not None and valid_from < unit.valid_from:
        raise Conflict(
            slug="unit-not-in-period",
            detail=_(
                "{name} ({code}) exists only from {unit_valid_from}; a membership cannot start on {start}.",
                name=unit.name,
                code=unit.code,
                unit_valid_from=unit.valid_from,
                start=valid_from,
            ),
            unit_valid_from=unit.valid_from.isoformat(),
        )
    if unit.valid_to is not None and (valid_to is None or valid_to > unit.valid_to):
        raise Conflict(
            slug="unit-not-in-period",
            detail=_(
                "{name} ({code}) ceased to exist after {unit_valid_to}; a membership may not outlive "
                "its unit.",
                name=unit.name,
                code=unit.code,
                unit_valid_to=unit.valid_to,
            ),
            unit_valid_to=unit.valid_to.isoformat(),
        )


async def _overlap_conflict(
    session: AsyncSession,
    unit_id: int,
    valid_from: date,
    valid_to: date | None,
    exclude_id: int | None,
) -> Conflict:
    query = queries.overlapping(unit_id, valid_from, valid_to, exclude_id)
    row = (await session.execute(query.limit(1))).first()
    if row is None:
        return Conflict(
            _("The membership overlaps another membership of the same unit."), slug="membership-overlap"
        )
    other = _out(row)
    values = {"name": other.unit.name, "cluster": other.cluster, "valid_from": other.valid_from}
    if other.valid_to is None:
        detail = _(
            "{name} is already in cluster {cluster} from {valid_from}, open-ended (membership "
            "{membership_id}); a unit is in at most one cluster on any day.",
            membership_id=other.id,
            **values,
        )
    else:
        detail = _(
            "{name} is already in cluster {cluster} from {valid_from} to {valid_to} (membership "
            "{membership_id}); a unit is in at most one cluster on any day.",
            valid_to=other.valid_to,
            membership_id=other.id,
            **values,
        )
    return Conflict(
        detail,
        slug="membership-overlap",
        conflicting_membership_id=other.id,
        conflicting_membership=other.model_dump(mode="json"),
    )


async def _flush_checked(session: AsyncSession, membership: Membership, changes: dict[str, Any]) -> None:
    """Apply `changes` and flush inside a savepoint (which flushes what was pending before it),
    turning the exclusion violation into a 409 that names the other membership."""
    wanted = (
        membership.unit_id,
        changes.get("valid_from", membership.valid_from),
        changes.get("valid_to", membership.valid_to),
        membership.id,
    )
    try:
        async with session.begin_nested():
            for field, value in changes.items():
                setattr(membership, field, value)
            session.add(membership)
            await session.flush()
    except IntegrityError as exc:
        if sqlstate(exc) != "23P01":
            raise
        with session.no_autoflush:
            raise await _overlap_conflict(session, *wanted) from exc


async def create_membership(session: AsyncSession, data: MembershipCreate, actor: Actor) -> MembershipOut:
    cluster_id = await _cluster_id(session, data.cluster)
    unit = await _lock_unit(session, data.unit_id)
    _check_within_unit(unit, data.valid_from, data.valid_to)
    membership = Membership(
        unit_id=data.unit_id,
        cluster_id=cluster_id,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        period_precision=data.period_precision.value,
        source=data.source,
        note=data.note,
        recorded_by=actor.recorded_by,
    )
    await _flush_checked(session, membership, {})
    assert membership.id is not None
    await invalidate(session, cluster_tag(data.cluster))
    return await _record(session, membership.id, actor)


async def _record(session: AsyncSession, membership_id: int, actor: Actor) -> MembershipOut:
    out = await get_membership(session, membership_id)
    await record_revision(session, RESOURCE, out.id, out.version, out, actor)
    return out


async def update_membership(
    session: AsyncSession,
    membership_id: int,
    data: MembershipUpdate,
    if_match: str | None,
    actor: Actor,
) -> MembershipOut:
    """Correct a membership as a new version. The unit must still exist over the period, and
    every leadership that names the unit in its old cluster must still find it a member there.

    Locks, in the order a succession takes them (unit, then memberships): the unit (shared),
    the membership, then the clusters involved in id order (as `PUT …/leadership` does), so a
    concurrent leadership change waits.
    """
    unit_id = (await session.execute(queries.unit_of(membership_id))).scalar_one_or_none()
    if unit_id is None:
        raise NotFound(_("No membership with id {membership_id}.", membership_id=membership_id))
    unit = await _lock_unit(session, unit_id)
    membership = (await session.execute(queries.membership_locked(membership_id))).scalar_one()
    before = await get_membership(session, membership_id)
    require_match(if_match, membership_etag(before))
    changes = data.model_dump(include=data.model_fields_set)
    if "cluster" in changes:
        changes["cluster_id"] = await _cluster_id(session, changes.pop("cluster"))
    valid_from = changes.get("valid_from", membership.valid_from)
    valid_to = changes.get("valid_to", membership.valid_to)
    if valid_to is not None and valid_to < valid_from:
        raise Conflict(
            slug="period-reversed", detail=_("valid_to would be before valid_from."), field="valid_to"
        )
    _check_within_unit(unit, valid_from, valid_to)
    old_cluster_id = membership.cluster_id
    await session.execute(
        queries.clusters_locked({old_cluster_id, changes.get("cluster_id", old_cluster_id)})
    )

    async def write(row: Membership) -> MembershipOut:
        await _flush_checked(session, row, changes)
        await _check_leaderships_kept(session, unit, old_cluster_id)
        return await get_membership(session, membership_id)

    return await patch_version(
        session,
        membership,
        before,
        write,
        resource=RESOURCE,
        actor=actor,
        tags=lambda out: [cluster_tag(before.cluster), cluster_tag(out.cluster)],
    )


async def _check_leaderships_kept(session: AsyncSession, unit: Unit, cluster_id: int) -> None:
    orphaned = (
        await session.execute(queries.ORPHANED_LEADERSHIPS, {"cluster_id": cluster_id, "unit_id": unit.id})
    ).all()
    if not orphaned:
        return
    first = orphaned[0]
    values = {
        "name": unit.name,
        "cluster": first.number,
        "year": first.year,
        "years": ", ".join(str(r.year) for r in orphaned),
    }
    if first.leader_unit_id == unit.id:
        detail = _(
            "{name} is the leader of cluster {cluster} in {year}; after this change it would not be a "
            "member of cluster {cluster} in {years}. Change the leadership first.",
            **values,
        )
    else:
        detail = _(
            "{name} is the deputy of cluster {cluster} in {year}; after this change it would not be a "
            "member of cluster {cluster} in {years}. Change the leadership first.",
            **values,
        )
    raise Conflict(
        slug="leadership-needs-member",
        detail=detail,
        conflicting_leaderships=[
            {
                "cluster": r.number,
                "year": r.year,
                "role": "leader" if r.leader_unit_id == unit.id else "deputy",
                "href": f"/v1/clusters/{r.number}/years/{r.year}/leadership",
            }
            for r in orphaned
        ],
    )


async def close_for_units(
    session: AsyncSession, unit_ids: list[int], last_day: date, actor: Actor
) -> list[MembershipClosed]:
    """End the memberships of units that cease after `last_day`; refuse if one starts later."""
    rows = (await session.execute(queries.open_after(unit_ids, last_day))).all()
    closed = []
    for membership, number in rows:
        if membership.valid_from > last_day:
            raise Conflict(
                slug="unit-not-in-period",
                detail=_(
                    "Membership {membership_id} starts on {valid_from}, after the unit ceases "
                    "({last_day}); correct or remove it first.",
                    membership_id=membership.id,
                    valid_from=membership.valid_from,
                    last_day=last_day,
                ),
                conflicting_membership_id=membership.id,
            )
        closed.append(
            MembershipClosed(
                membership_id=membership.id,
                unit_id=membership.unit_id,
                cluster=number,
                valid_from=membership.valid_from,
                previous_valid_to=membership.valid_to,
                valid_to=last_day,
            )
        )
        membership.valid_to = last_day
        membership.stamp(actor)
        session.add(membership)
    await session.flush()
    for change in closed:
        await _record(session, change.membership_id, actor)
    await invalidate(session, *(cluster_tag(change.cluster) for change in closed))
    return closed


async def is_member(session: AsyncSession, cluster_id: int, unit_id: int, year: int) -> bool:
    """Whether the unit belongs to the cluster on some day of the year (covenant hosts, scored
    units, nominees and voters are members of that year)."""
    query = queries.membership_in_year(cluster_id, unit_id, year)
    return (await session.execute(query.limit(1))).first() is not None


async def members(session: AsyncSession, cluster_id: int, start: date, end: date) -> list[Member]:
    """The memberships of a cluster overlapping `[start, end]`, with unit lineage: one query."""
    return await run(session, members_plan(cluster_id, start, end))


def members_plan(cluster_id: Id, start: date, end: date) -> Plan[list[Member]]:
    """`members` as a plan (the year sheet reads it with the rest of the sheet)."""
    rows = yield from one(Read(queries.MEMBERS, {"cluster_id": cluster_id, "start": start, "end": end}))
    return [
        Member(
            membership_id=r.id,
            unit=UnitRef.from_row(r),
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            period_precision=PeriodPrecision(r.period_precision),
            source=r.source,
            note=r.note,
            ceased_on=r.unit_valid_to,
            predecessors=[UnitRef.model_validate(u) for u in r.predecessors],
            successors=[UnitRef.model_validate(u) for u in r.successors],
        )
        for r in rows
    ]
