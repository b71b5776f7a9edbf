"""The revision log: corrections never overwrite, every version stays readable.

A revision keeps the representation of its version as it was written; each resource reads its
revisions typed (`RevisionOut[MembershipOut]`). A field added to a representation later needs a
default, so that older versions still read.
"""

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.i18n import localized_exclusions
from app.core.models import Revision
from app.core.pagination import Page, page_of

T = TypeVar("T", bound=BaseModel)


class RevisionOut(BaseModel, Generic[T]):
    """One version of a record, as it was written, with who recorded it and when."""

    version: int
    data: T
    recorded_by: str
    recorded_at: datetime


async def record_revision(
    session: AsyncSession,
    resource: str,
    resource_id: int,
    version: int,
    data: BaseModel,
    actor: str,
) -> None:
    session.add(
        Revision(
            resource=resource,
            resource_id=resource_id,
            version=version,
            data=data.model_dump(mode="json", exclude=localized_exclusions(data) or None),
            recorded_by=actor,
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
