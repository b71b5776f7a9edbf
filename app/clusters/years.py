"""A cluster-year: the grouping a path names, resolved once per request, with its year; who may
write its records; and the one write path of its versioned records (covenant, reported figures,
leadership, scoring framework, score sheets).

A grouping is named by a kind and a number (`GroupingRef`). Today every grouping is a provincial
cluster (`/v1/clusters/{number}`); the Ministry's departments have emulation groupings whose
numbers overlap the clusters', so the number alone will not do once they come: they get a kind
of their own, and the routes that serve them another path, resolving to the same `Grouping`.

**Locking order.** Every write of a cluster-year record locks the cluster row first, then the
record (and what the record hangs from, such as a score sheet's framework). Writes of one cluster
are serialized, and two first creates of the same record end with one winner: the second waits
for the first to commit, then finds the record and answers as for any PUT on an existing record
(428 without `If-Match`, 412 `record-exists` with `If-None-Match: *`), never a failed insert.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from types import SimpleNamespace
from typing import Annotated, Generic, Protocol, TypeVar

from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.dependencies import ClusterWriterKey, ensure_cluster_writer
from app.auth.roles import Role
from app.clusters.models import Cluster
from app.clusters.tags import cluster_tag
from app.core.database import SessionDep
from app.core.errors import NotFound
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page
from app.core.params import ClusterNumber, Year
from app.core.plans import LookedUp, Plan, Read, fetch, one
from app.core.revisions import RevisionOut, revisions_page
from app.core.versioned import Change, Conditions, Stored, VersionedRow, Written, write_version


class GroupingKind(StrEnum):
    """What kind of emulation grouping a number counts in."""

    cluster = "cluster"
    """A provincial cluster (Cụm thi đua số N): `/v1/clusters/{number}`."""


@dataclass(frozen=True, slots=True)
class GroupingRef:
    """A grouping as a path names it: its kind and its number in that kind."""

    kind: GroupingKind
    number: int

    @classmethod
    def cluster(cls, number: int) -> "GroupingRef":
        return cls(GroupingKind.cluster, number)


@dataclass(frozen=True, slots=True)
class Grouping:
    """A grouping found: what named it, its row and the row's id."""

    ref: GroupingRef
    id: int
    row: Cluster

    @property
    def number(self) -> int:
        return self.ref.number


@dataclass(frozen=True, slots=True)
class ClusterYear:
    """A grouping as a path names it, looked up, and a year of it.

    `found` is None when no such grouping exists: using it (`grouping`, `id`) is then 404. The
    lookup runs in the path dependency, but its 404 waits for the handler's first use, since
    FastAPI validates a handler's own parameters and body only after its dependencies, and a
    request invalid on its own is 422 whatever it names."""

    ref: GroupingRef
    year: int
    found: Grouping | None

    @property
    def grouping(self) -> Grouping:
        if self.found is None:
            raise _no_grouping(self.ref)
        return self.found

    @property
    def id(self) -> int:
        """The grouping's row id (`cluster_id` in the tables); 404 when there is none."""
        return self.grouping.id

    @property
    def number(self) -> int:
        return self.ref.number


@dataclass(frozen=True, slots=True)
class YearRef:
    """A cluster-year as a path names it, not looked up yet (a cached read looks it up only on a
    miss)."""

    grouping: GroupingRef
    year: int


_BY_NUMBER = select(*(col(getattr(Cluster, name)) for name in Cluster.model_fields)).where(
    col(Cluster.number) == bindparam("number")
)
_LOCK = select(col(Cluster.id)).where(col(Cluster.id) == bindparam("id")).with_for_update()


async def find(session: AsyncSession, ref: GroupingRef) -> Grouping | None:
    """The grouping `ref` names, or None. Every request naming a cluster runs it, the cold year
    sheet's among them: its columns on the compiled path (`fetch`), not an ORM load (about 150 µs
    less); the row is a detached `Cluster`, read, never written (`update_cluster` loads its own)."""
    rows = await fetch(session, _BY_NUMBER, {"number": ref.number})
    if not rows:
        return None
    row = Cluster(**rows[0]._mapping)
    assert row.id is not None  # a stored row
    return Grouping(ref, row.id, row)


_ID_BY_NUMBER = select(col(Cluster.id)).where(col(Cluster.number) == bindparam("grouping_number"))


def id_of(ref: GroupingRef) -> LookedUp:
    """The grouping's id as a batched statement looks it up itself (`plans.LookedUp`): a plan
    that names a grouping by its number reads by its id in the same round trip (NULL, and so no
    rows, when there is none)."""
    return LookedUp(_ID_BY_NUMBER, (("grouping_number", ref.number),))


def grouping_plan(ref: GroupingRef) -> Plan[SimpleNamespace]:
    """The grouping's row (its columns by name) as a plan, or 404: read beside what `id_of`
    reads, in the same statement."""
    rows = yield from one(Read(_BY_NUMBER, {"number": ref.number}))
    if not rows:
        raise _no_grouping(ref)
    row: SimpleNamespace = rows[0]
    return row


def _no_grouping(ref: GroupingRef) -> NotFound:
    return NotFound(_("No cluster number {number}.", number=ref.number))


async def resolve(session: AsyncSession, ref: GroupingRef) -> Grouping:
    """The grouping `ref` names, or 404."""
    found = await find(session, ref)
    if found is None:
        raise _no_grouping(ref)
    return found


async def resolve_year(session: AsyncSession, ref: YearRef) -> ClusterYear:
    """The cluster-year `ref` names, or 404 when the grouping does not exist."""
    return ClusterYear(ref.grouping, ref.year, await resolve(session, ref.grouping))


async def cluster_year(session: AsyncSession, number: int, year: int) -> ClusterYear:
    """Cluster `number` in `year`, or 404 (for callers without a path: the importer, tests)."""
    return await resolve_year(session, YearRef(GroupingRef.cluster(number), year))


async def lock(session: AsyncSession, grouping: Grouping) -> None:
    """Lock the grouping's row (`FOR UPDATE`) until the transaction ends: the first lock of
    every write of its records."""
    await session.execute(_LOCK, {"id": grouping.id})


# --- Path dependencies --------------------------------------------------------------------------


async def _grouping_ref(number: ClusterNumber) -> GroupingRef:
    return GroupingRef.cluster(number)


async def _year_ref(number: ClusterNumber, year: Year) -> YearRef:
    return YearRef(GroupingRef.cluster(number), year)


async def _cluster_year(session: SessionDep, number: ClusterNumber, year: Year) -> ClusterYear:
    ref = GroupingRef.cluster(number)
    return ClusterYear(ref, year, await find(session, ref))


GroupingPath = Annotated[GroupingRef, Depends(_grouping_ref)]
"""`{number}`, not looked up: for cached reads, which look it up only on a miss."""
YearPath = Annotated[YearRef, Depends(_year_ref)]
"""`{number}/years/{year}`, not looked up: for cached reads."""
ClusterYearDep = Annotated[ClusterYear, Depends(_cluster_year)]
"""The cluster `{number}` names, in `{year}`, looked up once per request (404 when the handler
uses it and there is none). Declare it after the key, so that a request without a valid key is
401 before any lookup."""


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes a cluster-year's records, checked against the cluster: the actor recorded, and
    whether it speaks for the Ministry (an admin key)."""

    actor: Actor
    ministry: bool


async def _cluster_writer(key: ClusterWriterKey, at: ClusterYearDep) -> Writer:
    """An admin key or a cluster key (403 for another role, before the lookup), then this very
    cluster's key (403); a cluster that does not exist is the handler's 404."""
    if at.found is not None:
        ensure_cluster_writer(key, at.found.id)
    return Writer(key.actor, ministry=key.role is Role.admin)


ClusterWriter = Annotated[Writer, Depends(_cluster_writer)]
"""Admins, or the secretariat key of the cluster the path names."""


# --- The versioned records of a cluster-year ---------------------------------------------------

R = TypeVar("R", bound=VersionedRow)
T = TypeVar("T", bound=BaseModel)


class YearRow(Protocol):
    """A table with one record per cluster-year."""

    id: int | None
    cluster_id: int
    year: int


class VersionedYearRow(VersionedRow, YearRow, Protocol):
    """A table with one versioned record per cluster-year."""


Y = TypeVar("Y", bound=VersionedYearRow)


async def stored_year_record(
    session: AsyncSession, table: type[Y], at: ClusterYear, read: Callable[[], Awaitable[T]]
) -> Stored[Y, T] | None:
    """The cluster-year's record in `table`, locked (`FOR UPDATE`), with its representation
    (`read`); None when there is none. The `load` of most `write_year_record` calls."""
    query = select(table).where(col(table.cluster_id) == at.id, col(table.year) == at.year)
    record = (await session.execute(query.with_for_update())).scalar_one_or_none()
    return Stored(record, await read()) if record is not None else None


async def write_year_record(
    session: AsyncSession,
    at: ClusterYear,
    load: Callable[[], Awaitable[Stored[R, T] | None]],
    change: Change[R, T],
    conditions: Conditions,
    actor: Actor,
) -> Written[T]:
    """Create or replace a record of the cluster-year: lock the cluster row, then `load` the
    record (locking it), then write it as `change` says (`app.core.versioned.write_version`); a
    change drops the cluster's cached reads."""
    await lock(session, at.grouping)
    stored = await load()
    return await write_version(session, stored, change, conditions, actor, [cluster_tag(at.number)])


@dataclass(frozen=True, slots=True)
class YearRecord(Generic[Y, T]):
    """A versioned record kept one row per cluster-year in `table`: how to find its
    representation (`find`, by the cluster's id and the year), its ETag, the 404 detail when
    there is none (`not_found`) and the 412 detail for an `If-Match` on it then (`missing`). Its
    GET, its revisions and its writes, the same for every such record."""

    table: type[Y]
    resource: str
    model: type[T]
    find: Callable[[AsyncSession, int, int], Awaitable[T | None]]
    etag: Callable[[T], str]
    not_found: Callable[[ClusterYear], str]
    missing: Callable[[ClusterYear], str]

    async def get(self, session: AsyncSession, at: ClusterYear) -> tuple[T, str]:
        """The representation and its ETag, or 404."""
        out = await self.find(session, at.id, at.year)
        if out is None:
            raise NotFound(self.not_found(at))
        return out, self.etag(out)

    async def read(self, session: AsyncSession, at: ClusterYear) -> T:
        """The representation of a record known to exist (just locked or written)."""
        out = await self.find(session, at.id, at.year)
        assert out is not None
        return out

    async def revisions(
        self, session: AsyncSession, at: ClusterYear, *, limit: int, cursor: str | None
    ) -> Page[RevisionOut[T]]:
        """Its versions from the cursor on, or 404."""
        record_id = await year_record_id(session, self.table, at)
        missing = self.not_found(at)
        return await revisions_page(
            session, self.resource, record_id, self.model, missing=missing, limit=limit, cursor=cursor
        )

    async def write(
        self,
        session: AsyncSession,
        at: ClusterYear,
        conditions: Conditions,
        actor: Actor,
        create: Callable[[], Y],
        assign: Callable[[Y], None],
        *,
        children: Callable[[int], Awaitable[None]] | None = None,
        check: Callable[[Stored[Y, T] | None], Awaitable[None]] | None = None,
        load: Callable[[], Awaitable[Stored[Y, T] | None]] | None = None,
    ) -> Written[T]:
        """Create or replace it (`write_year_record`): `create` makes the row, `assign` sets its
        fields, `children` replaces its parts, `check` enforces its rules; `load` loads it
        locked when the row of `table` is not all it takes."""

        async def read() -> T:
            return await self.read(session, at)

        def stored() -> Awaitable[Stored[Y, T] | None]:
            return stored_year_record(session, self.table, at, read)

        missing = self.missing(at)
        change = Change(self.resource, create, assign, read, self.etag, missing, children, check)
        return await write_year_record(session, at, load or stored, change, conditions, actor)


async def year_record_id(session: AsyncSession, table: type[YearRow], at: ClusterYear) -> int | None:
    """The id of the cluster-year's record in `table`, or None."""
    query = select(col(table.id)).where(col(table.cluster_id) == at.id, col(table.year) == at.year)
    return (await session.execute(query)).scalar_one_or_none()
