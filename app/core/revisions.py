"""The revision log: corrections never overwrite, the old version stays readable."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.models import Revision


class RevisionOut(BaseModel):
    version: int
    data: dict[str, Any]
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
            data=data.model_dump(mode="json"),
            recorded_by=actor,
        )
    )
    await session.flush()


async def list_revisions(session: AsyncSession, resource: str, resource_id: int) -> list[RevisionOut]:
    rows = await session.execute(
        select(Revision.version, Revision.data, Revision.recorded_by, Revision.recorded_at)
        .where(Revision.resource == resource, Revision.resource_id == resource_id)
        .order_by(Revision.version)
    )
    return [RevisionOut.model_validate(row, from_attributes=True) for row in rows]
