"""Conferences of a cluster-year: the covenant signing, the mid-year and nine-month reviews, the
year-end summary, and others. Versioned: a correction is a new version, every version kept.

A conference's host and chairs are members of its cluster on its day (on some day of its month,
when only the month is known); a host not stated is null, chairs not stated an empty list. The
records decided at a conference name it (`conference_id`): `check_link` is how their features
check that it is a conference of the right cluster-year.

Reads are one query each (the year sheet shows a cluster-year's conferences as its timeline).
"""

import calendar
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, case, cast, func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.tags import cluster_tag
from app.clusters.years import ClusterYear, Grouping, GroupingRef, lock
from app.conferences.models import Conference, ConferenceChair, ConferenceKind, DatePrecision
from app.conferences.schemas import (
    ConferenceCreate,
    ConferenceOut,
    ConferenceSource,
    ConferenceUpdate,
)
from app.core.cache import invalidate
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.etag import record_etag, require_match
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.periods import overlaps
from app.core.plans import Id, Plan, Read, one, run
from app.core.revisions import record_revision
from app.core.versioned import patch_version, replace_parts
from app.memberships.models import Membership
from app.units.models import Unit
from app.units.schemas import UnitRef
from app.units.service import unit_columns

RESOURCE = "conference"


class ConferenceMismatch(Conflict):
    """A record names a conference that is not one of the cluster-year it belongs to."""

    slug = "conference-mismatch"


_HOST, _CHAIR = aliased(Unit, name="host"), aliased(Unit, name="chair")
_CHAIRS = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "id",
                        _CHAIR.id,
                        "code",
                        _CHAIR.code,
                        "name",
                        _CHAIR.name,
                        "valid_from",
                        _CHAIR.valid_from,
                        "valid_to",
                        _CHAIR.valid_to,
                    ),
                    col(ConferenceChair.position),
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .select_from(ConferenceChair)
    .join(_CHAIR, col(_CHAIR.id) == col(ConferenceChair.unit_id))
    .where(col(ConferenceChair.conference_id) == col(Conference.id))
    .scalar_subquery()
)
_CONFERENCES = (
    select(Conference, col(Cluster.number), *unit_columns(_HOST, "h_"), _CHAIRS.label("chairs"))
    .join(Cluster, col(Cluster.id) == col(Conference.cluster_id))
    .outerjoin(_HOST, col(_HOST.id) == col(Conference.host_unit_id))
    .order_by(col(Conference.held_on), col(Conference.id))
)
"""Conferences with their cluster's number, their host and their chairs: one query."""
_OF_YEAR = _CONFERENCES.where(
    col(Conference.cluster_id) == bindparam("cluster_id"), col(Conference.year) == bindparam("year")
)
_BY_ID = _CONFERENCES.where(col(Conference.id) == bindparam("conference_id"))

_LAST_DAY = case(
    (
        col(Conference.held_on_precision) == DatePrecision.month.value,
        cast(col(Conference.held_on) + literal_column("interval '1 month - 1 day'"), Date),
    ),
    else_=col(Conference.held_on),
)
"""The last day a conference may have been held on: its day, or its month's last."""


def conference_etag(out: ConferenceOut) -> str:
    return record_etag(RESOURCE, out.id, out.version, out)


def _out(r: Any) -> ConferenceOut:
    row: Conference = r.Conference
    assert row.id is not None
    host = UnitRef.from_row(r, "h_") if row.host_unit_id is not None else None
    return ConferenceOut(
        id=row.id,
        cluster=r.number,
        year=row.year,
        kind=ConferenceKind(row.kind),
        held_on=row.held_on,
        held_on_precision=DatePrecision(row.held_on_precision),
        host=host,
        host_stated=host is not None,
        chairs=[UnitRef.model_validate(c) for c in r.chairs],
        guests=row.guests,
        source=ConferenceSource.model_validate(row.source) if row.source is not None else None,
        note=row.note,
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def conferences_of(session: AsyncSession, cluster_id: int, year: int) -> list[ConferenceOut]:
    """The cluster-year's conferences by date, then id: one query (the year sheet's timeline)."""
    return await run(session, conferences_plan(cluster_id, year))


def conferences_plan(cluster_id: Id, year: int) -> Plan[list[ConferenceOut]]:
    """`conferences_of` as a plan (the year sheet reads it with the rest of the sheet)."""
    rows = yield from one(Read(_OF_YEAR, {"cluster_id": cluster_id, "year": year}))
    return [_out(r) for r in rows]


async def get(session: AsyncSession, conference_id: int) -> ConferenceOut:
    """The conference, or 404."""
    row = (
        await session.execute(
            _BY_ID.execution_options(populate_existing=True), {"conference_id": conference_id}
        )
    ).first()
    if row is None:
        raise NotFound(_("No conference with id {conference_id}.", conference_id=conference_id))
    return _out(row)


async def year_of(session: AsyncSession, conference_id: int) -> ClusterYear:
    """The cluster-year the conference belongs to, or 404."""
    found = (
        await session.execute(
            select(Cluster, col(Conference.year))
            .join(Conference, col(Conference.cluster_id) == col(Cluster.id))
            .where(col(Conference.id) == conference_id)
        )
    ).first()
    if found is None:
        raise NotFound(_("No conference with id {conference_id}.", conference_id=conference_id))
    cluster: Cluster = found.Cluster
    assert cluster.id is not None
    ref = GroupingRef.cluster(cluster.number)
    return ClusterYear(ref, found.year, Grouping(ref, cluster.id, cluster))


async def list_conferences(
    session: AsyncSession,
    *,
    start: date | None,
    end: date | None,
    cluster: int | None,
    kind: ConferenceKind | None,
    cluster_id: int | None = None,
    year: int | None = None,
    limit: int,
    after: int | None,
) -> Page[ConferenceOut]:
    """Conferences by date, then id, `limit` at a time; the cursor is the last one's id, and the
    next page starts after its date and id. A conference known only to its month is in a window
    that overlaps its month; none is in a window that ends before it starts."""
    if start is not None and end is not None and end < start:
        return Page[ConferenceOut](items=[], next_cursor=None)
    query = _CONFERENCES
    if start is not None:
        query = query.where(start <= _LAST_DAY)
    if end is not None:
        query = query.where(col(Conference.held_on) <= end)
    if cluster is not None:
        query = query.where(col(Cluster.number) == cluster)
    if cluster_id is not None:
        query = query.where(col(Conference.cluster_id) == cluster_id)
    if year is not None:
        query = query.where(col(Conference.year) == year)
    if kind is not None:
        query = query.where(col(Conference.kind) == kind.value)
    if after is not None:
        last = aliased(Conference, name="last")
        position = select(col(last.held_on), col(last.id)).where(col(last.id) == after)
        query = query.where(tuple_(col(Conference.held_on), col(Conference.id)) > position.scalar_subquery())
    rows = [_out(r) for r in await session.execute(query.limit(limit + 1))]
    return page_of(rows, limit, lambda c: c.id)


# --- Rules ---------------------------------------------------------------------------------------


def _window(held_on: date, precision: DatePrecision) -> tuple[date, date]:
    """The days the conference may have been held on: its day, or its month."""
    if precision is DatePrecision.day:
        return held_on, held_on
    last = calendar.monthrange(held_on.year, held_on.month)[1]
    return held_on, held_on.replace(day=last)


def held_when(held_on: date, precision: DatePrecision) -> str:
    """When a conference was held, in a sentence: "on 21/11/2025", or "in 3/2024" when only the
    month is known."""
    if precision is DatePrecision.month:
        return _("in {month}/{year}", month=held_on.month, year=held_on.year)
    return _("on {day}", day=held_on)


def _stored_date(held_on: date, precision: DatePrecision) -> date:
    """The day stored: the day, or the month's first day when only the month is known."""
    return held_on.replace(day=1) if precision is DatePrecision.month else held_on


def _check_date(year: int, held_on: date) -> None:
    if not year - 1 <= held_on.year <= year + 1:
        raise Unprocessable(
            _(
                "A conference of {year} is held in the year before, that year or the year after, "
                "not on {day}.",
                year=year,
                day=held_on,
            ),
            slug="conference-outside-its-year",
            field="held_on",
        )


async def _check_members(
    session: AsyncSession,
    at: ClusterYear,
    held_on: date,
    precision: DatePrecision,
    host_unit_id: int | None,
    chair_unit_ids: list[int],
) -> None:
    """The host and each chair are members of the cluster on the day (some day of the month): 409
    `not-a-member` naming the field otherwise."""
    wanted = {*chair_unit_ids, *([host_unit_id] if host_unit_id is not None else [])}
    if not wanted:
        return
    start, end = _window(held_on, precision)
    members = set(
        (
            await session.execute(
                select(col(Membership.unit_id)).where(
                    col(Membership.cluster_id) == at.id,
                    col(Membership.unit_id).in_(wanted),
                    overlaps(col(Membership.valid_from), col(Membership.valid_to), start, end),
                )
            )
        ).scalars()
    )
    values = {"cluster": at.number, "when": held_when(held_on, precision)}
    if host_unit_id is not None and host_unit_id not in members:
        raise Conflict(
            slug="not-a-member",
            detail=_(
                "The host (unit {unit_id}) is not a member of cluster {cluster} {when}.",
                unit_id=host_unit_id,
                **values,
            ),
            field="host_unit_id",
        )
    for i, unit_id in enumerate(chair_unit_ids):
        if unit_id not in members:
            raise Conflict(
                slug="not-a-member",
                detail=_(
                    "The chair (unit {unit_id}) is not a member of cluster {cluster} {when}.",
                    unit_id=unit_id,
                    **values,
                ),
                field=f"chair_unit_ids.{i}",
            )


async def _replace_chairs(session: AsyncSession, conference_id: int, chair_unit_ids: list[int]) -> None:
    rows = [{"position": i, "unit_id": u} for i, u in enumerate(chair_unit_ids, start=1)]
    await replace_parts(session, ConferenceChair, "conference_id", conference_id, rows)


async def create(
    session: AsyncSession, at: ClusterYear, data: ConferenceCreate, actor: Actor
) -> ConferenceOut:
    """Record a conference of the cluster-year (version 1): the cluster's row locked first, as
    every write of its records; a host or chair that is not a member then is 409."""
    await lock(session, at.grouping)
    held_on = _stored_date(data.held_on, data.held_on_precision)
    _check_date(at.year, held_on)
    await _check_members(session, at, held_on, data.held_on_precision, data.host_unit_id, data.chair_unit_ids)
    row = Conference(
        cluster_id=at.id,
        year=at.year,
        kind=data.kind.value,
        held_on=held_on,
        held_on_precision=data.held_on_precision.value,
        host_unit_id=data.host_unit_id,
        guests=data.guests,
        source=data.source.model_dump(mode="json") if data.source is not None else None,
        note=data.note,
        recorded_by=actor.recorded_by,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    await _replace_chairs(session, row.id, data.chair_unit_ids)
    out = await get(session, row.id)
    await record_revision(session, RESOURCE, out.id, out.version, out, actor)
    await invalidate(session, cluster_tag(at.number))
    return out


async def update(
    session: AsyncSession,
    at: ClusterYear,
    *,
    conference_id: int,
    data: ConferenceUpdate,
    if_match: str | None,
    actor: Actor,
) -> ConferenceOut:
    """Correct a conference under `If-Match` (its cluster's row locked first, then the
    conference's); its day, host and chairs are checked again when any of them changes."""
    await lock(session, at.grouping)
    row = (
        await session.execute(select(Conference).where(col(Conference.id) == conference_id).with_for_update())
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No conference with id {conference_id}.", conference_id=conference_id))
    before = await get(session, conference_id)
    require_match(if_match, conference_etag(before))
    changes = data.model_dump(
        include=data.model_fields_set & {"kind", "host_unit_id", "guests", "note"}, mode="json"
    )
    precision = data.held_on_precision or DatePrecision(row.held_on_precision)
    held_on = _stored_date(data.held_on or row.held_on, precision)
    host = changes.get("host_unit_id", row.host_unit_id)
    chairs = data.chair_unit_ids if data.chair_unit_ids is not None else [c.id for c in before.chairs]
    _check_date(row.year, held_on)
    if data.model_fields_set & {"held_on", "held_on_precision", "host_unit_id", "chair_unit_ids"}:
        await _check_members(session, at, held_on, precision, host, chairs)

    async def write(record: Conference) -> ConferenceOut:
        for field, value in changes.items():
            setattr(record, field, value)
        record.held_on, record.held_on_precision = held_on, precision.value
        if "source" in data.model_fields_set:
            record.source = data.source.model_dump(mode="json") if data.source is not None else None
        session.add(record)
        await session.flush()
        if data.chair_unit_ids is not None:
            await _replace_chairs(session, conference_id, data.chair_unit_ids)
        return await get(session, conference_id)

    return await patch_version(
        session,
        row,
        before,
        write,
        resource=RESOURCE,
        actor=actor,
        tags=lambda _out: [cluster_tag(at.number)],
    )


# --- For the records decided at a conference ---------------------------------------------------


async def check_link(
    session: AsyncSession, conference_id: int, *, cluster_id: int, number: int, year: int
) -> None:
    """409 `conference-mismatch` (naming `conference_id`) unless conference `conference_id` is one
    of cluster `number` (id `cluster_id`) in `year`: what a covenant, reported figures or a vote
    of that cluster-year, or the leadership of the year after, may name."""
    found = (
        await session.execute(
            select(col(Conference.cluster_id), col(Conference.year)).where(
                col(Conference.id) == conference_id
            )
        )
    ).first()
    if found is not None and (found.cluster_id, found.year) == (cluster_id, year):
        return
    values = {"conference_id": conference_id, "cluster": number, "year": year}
    if found is None:
        detail = _("No conference with id {conference_id}.", **values)
    else:
        detail = _("Conference {conference_id} is not one of cluster {cluster} in {year}.", **values)
    raise ConferenceMismatch(detail, field="conference_id")
