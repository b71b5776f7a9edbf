"""The revision log: corrections never overwrite, every version stays readable.

A revision keeps the representation of its version as it was written; each resource reads its
revisions typed (`RevisionOut[MembershipOut]`). A field added to a representation later needs a
default, so that older versions still read.

A write that would change nothing is no version (`unless_unchanged`): a PATCH or PUT whose
record reads afterwards as it read before (but for its version, who recorded it and when) is
undone, and answers the current version and ETag: no revision, no cache invalidation.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import NotFound
from app.core.i18n import localized_exclusions
from app.core.identity import Actor
from app.core.models import Revision
from app.core.pagination import Page, decode_cursor, page_of

T = TypeVar("T", bound=BaseModel)


class RevisionOut(BaseModel, Generic[T]):
    """One version of a record, as it was written, with who recorded it and when."""

    version: int
    data: T
    recorded_by: str
    recorded_at: datetime


VERSION_FIELDS = ("version", "recorded_by", "recorded_at")
"""What every version of a record has of its own, whatever it says."""


def _content(record: BaseModel) -> dict[str, Any]:
    exclude = localized_exclusions(record)
    exclude.update(dict.fromkeys(VERSION_FIELDS, True))
    return record.model_dump(mode="json", exclude=exclude)


def same_content(before: BaseModel, after: BaseModel) -> bool:
    """Whether two versions of a record say the same: their representations but the version, who
    recorded it and when (and the localized text, derived from the rest)."""
    return _content(before) == _content(after)


async def unless_unchanged(
    session: AsyncSession, before: T | None, write: Callable[[], Awaitable[T]]
) -> T | None:
    """Run `write` (it changes the record and returns its new representation) in a savepoint; when
    the record then says what `before` said, undo it and return None: nothing was written. With
    no `before` (a record being created) it is simply written. The caller records the revision and
    invalidates the cache only for what this returns."""
    if before is None:
        return await write()
    savepoint = await session.begin_nested()
    try:
        after = await write()
    except BaseException:
        if savepoint.is_active:
            await savepoint.rollback()
        raise
    if same_content(before, after):
        await savepoint.rollback()
        return None
    await savepoint.commit()
    return after


async def record_revision(
    session: AsyncSession,
    resource: str,
    resource_id: int,
    version: int,
    data: BaseModel,
    actor: Actor,
) -> None:
    session.add(
        Revision(
            resource=resource,
            resource_id=resource_id,
            version=version,
            data=data.model_dump(mode="json", exclude=localized_exclusions(data) or None),
            recorded_by=actor.recorded_by,
        )
    )
    await session.flush()


_REVISIONS = (
    select(col(Revision.version), col(Revision.data), col(Revision.recorded_by), col(Revision.recorded_at))
    .where(
        col(Revision.resource) == bindparam("resource"),
        col(Revision.resource_id) == bindparam("resource_id"),
        col(Revision.version) > bindparam("after"),
    )
    .order_by(col(Revision.version))
    .limit(bindparam("limit"))
)


async def list_revisions(
    session: AsyncSession,
    resource: str,
    resource_id: int,
    model: type[T],
    *,
    limit: int,
    after: int | None,
) -> Page[RevisionOut[T]]:
    """The versions of a record from the first, `limit` at a time (keyset on the version)."""
    rows = await session.execute(
        _REVISIONS,
        {"resource": resource, "resource_id": resource_id, "after": after or 0, "limit": limit + 1},
    )
    revisions = [RevisionOut[model].model_validate(row, from_attributes=True) for row in rows]  # type: ignore[valid-type]
    return page_of(revisions, limit, lambda r: r.version)


async def revisions_page(
    session: AsyncSession,
    resource: str,
    record_id: int | None,
    model: type[T],
    *,
    missing: str,
    limit: int,
    cursor: str | None,
) -> Page[RevisionOut[T]]:
    """What a `…/revisions` route answers: the record's versions from the cursor on, or 404
    (`missing`) when there is no such record (`record_id` None)."""
    if record_id is None:
        raise NotFound(missing)
    return await list_revisions(session, resource, record_id, model, limit=limit, after=decode_cursor(cursor))
