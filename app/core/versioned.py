"""Writing a new version of a versioned record, in one sequence for every record replaced whole.

A PUT that creates or replaces a versioned record does, in this order: load the stored record
(locked by the caller), 412 for an `If-Match` when there is none, compare the ETag (`If-Match`,
then `If-None-Match`: `require_replaceable`), the record's own rules (`check`), stamp the next
version with who recorded it and when, replace its parts (`children`), read it back, and then,
unless it reads as it did (`unless_unchanged`: nothing written), keep the revision and drop the
cached reads. `write_version` is that sequence; a feature says only what differs (`Change`).

Which rows to lock, and in which order, is the caller's: a record that belongs to a parent
locks the parent first (a cluster-year's records: `app.clusters.years.write_year_record`).
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from fastapi import Response, status
from pydantic import BaseModel
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from app.core.cache import invalidate
from app.core.database import table
from app.core.errors import PreconditionFailed
from app.core.etag import require_replaceable
from app.core.identity import Actor
from app.core.models import Versioned
from app.core.revisions import record_revision, unless_unchanged


class VersionedRow(Protocol):
    """A table row that keeps versions (`app.core.models.Versioned`): its id, its version, who
    recorded it and when."""

    id: int | None
    version: int
    recorded_by: str
    recorded_at: datetime

    def stamp(self, actor: Actor) -> None: ...


R = TypeVar("R", bound=VersionedRow)
T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Conditions:
    """The preconditions a PUT was sent with (RFC 9110 §13.1)."""

    if_match: str | None = None
    if_none_match: str | None = None


@dataclass(frozen=True, slots=True)
class Stored(Generic[R, T]):
    """A record as stored: its row (locked) and its representation."""

    record: R
    out: T


@dataclass(frozen=True, slots=True)
class Written(Generic[T]):
    """What a write answers: the representation, its ETag, whether the record was created (201)
    and whether anything was written (False: the body said what was stored)."""

    out: T
    etag: str
    created: bool
    changed: bool

    def answer(self, response: Response) -> T:
        """Set the ETag (and 201 when created) on `response`; the body."""
        response.headers["ETag"] = self.etag
        if self.created:
            response.status_code = status.HTTP_201_CREATED
        return self.out


@dataclass(frozen=True, slots=True)
class Change(Generic[R, T]):
    """What a feature says of one write of its record.

    `create` makes the row when none is stored (version 0: the write stamps 1); `assign` sets its
    fields from the request; `children` replaces its parts once it has an id; `read` reads the
    representation back; `check` enforces the record's rules once the preconditions hold
    (given the stored record, or None); `missing` is the 412 detail for an `If-Match` on a
    record that does not exist.
    """

    resource: str
    create: Callable[[], R]
    assign: Callable[[R], None]
    read: Callable[[], Awaitable[T]]
    etag: Callable[[T], str]
    missing: str
    children: Callable[[int], Awaitable[None]] | None = None
    check: Callable[[Stored[R, T] | None], Awaitable[None]] | None = None


async def patch_version(
    session: AsyncSession,
    record: R,
    before: T,
    write: Callable[[R], Awaitable[T]],
    *,
    resource: str,
    actor: Actor,
    tags: Callable[[T], Sequence[str]],
) -> T:
    """Change a stored record (locked, its `If-Match` already checked): stamp its next version,
    recorded by `actor`; `write` applies the change, flushes it (turning a broken rule into its
    problem) and reads the record back. Then its revision and the invalidation of `tags`; or,
    when the change leaves the record as it was, nothing: `before` itself."""

    async def stamped() -> T:
        record.stamp(actor)
        return await write(record)

    out = await unless_unchanged(session, before, stamped)
    if out is None:
        return before
    assert record.id is not None
    await record_revision(session, resource, record.id, record.version, out, actor)
    await invalidate(session, *tags(out))
    return out


def assigned(
    session: AsyncSession, assign: Callable[[R], None], read: Callable[[R], T]
) -> Callable[[R], Awaitable[T]]:
    """The `write` of a `patch_version` that only sets fields: `assign`, flush, read back."""

    async def write(record: R) -> T:
        assign(record)
        session.add(record)
        await session.flush()
        await session.refresh(record)
        return read(record)

    return write


async def write_version(
    session: AsyncSession,
    stored: Stored[R, T] | None,
    change: Change[R, T],
    conditions: Conditions,
    actor: Actor,
    tags: Sequence[str],
) -> Written[T]:
    """Create or replace the record `stored` holds (None: none yet), as `change` says; the
    revision and the invalidation of `tags` only when something changed."""
    if stored is None and conditions.if_match is not None:
        raise PreconditionFailed(change.missing)
    if stored is not None:
        require_replaceable(conditions.if_match, conditions.if_none_match, change.etag(stored.out))
    if change.check is not None:
        await change.check(stored)
    record = stored.record if stored is not None else change.create()

    async def write() -> T:
        change.assign(record)
        record.stamp(actor)
        session.add(record)
        await session.flush()
        assert record.id is not None
        if change.children is not None:
            await change.children(record.id)
        return await change.read()

    out = await unless_unchanged(session, stored.out if stored is not None else None, write)
    if out is None:
        assert stored is not None
        return Written(stored.out, change.etag(stored.out), created=False, changed=False)
    assert record.id is not None
    await record_revision(session, change.resource, record.id, record.version, out, actor)
    await invalidate(session, *tags)
    return Written(out, change.etag(out), created=stored is None, changed=True)


async def replace_parts(
    session: AsyncSession, model: type[SQLModel], owner: str, owner_id: int, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Replace a record's parts (a `children` step): delete the rows of `model` whose `owner`
    column is `owner_id`, then insert `rows`, each given its owner."""
    parts = table(model)
    await session.execute(delete(parts).where(parts.c[owner] == owner_id))
    if rows:
        await session.execute(insert(parts), [{owner: owner_id, **row} for row in rows])


Coded = TypeVar("Coded", bound=Versioned)
"""A reference table's row: versioned, with a `code` and an `id`."""


async def load_by_code(
    session: AsyncSession,
    model: type[Coded],
    rows: Sequence[dict[str, Any]],
    *,
    resource: str,
    revision: Callable[[Coded], BaseModel],
    actor: Actor,
) -> int:
    """Reference data as the file says it, by `code`: each row added (version 1), or updated as
    its next version when its content differs (the earlier one kept in its revisions), or left
    as it is; returns how many were added or changed. What the rows may not do (overlap) the
    database refuses."""
    # a reference table has a `code` (and an `id`), which `Versioned` does not declare
    stored = {r.code: r for r in (await session.execute(select(model))).scalars()}  # type: ignore[attr-defined]
    changed = 0
    for content in rows:
        row = stored.get(content["code"])
        if row is not None and all(getattr(row, field) == value for field, value in content.items()):
            continue
        if row is None:
            row = model(**content, version=1, recorded_by=actor.recorded_by)
        else:
            for field, value in content.items():
                setattr(row, field, value)
            row.stamp(actor)
        session.add(row)
        await session.flush()
        await record_revision(session, resource, row.id, row.version, revision(row), actor)  # type: ignore[attr-defined]
        changed += 1
    return changed
