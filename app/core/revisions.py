"""The revision log: corrections never overwrite, the old version stays readable."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.i18n import localized_exclusions
from app.core.models import Revision


class RevisionOut(BaseModel):
    """One version of a record, as it was written."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "version": 2,
                "data": {"id": 12, "cluster": 5, "valid_from": "2024-01-01", "valid_to": "2025-06-30"},
                "recorded_by": "key:1:Cục Công tác chính trị",
                "recorded_at": "2026-11-25T08:00:00Z",
            }
        }
    )

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
            data=data.model_dump(mode="json", exclude=localized_exclusions(data) or None),
            recorded_by=actor,
        )
    )
    await session.flush()


async def list_revisions(session: AsyncSession, resource: str, resource_id: int) -> list[RevisionOut]:
    rows = await session.execute(
        select(
            col(Revision.version), col(Revision.data), col(Revision.recorded_by), col(Revision.recorded_at)
        )
        .where(col(Revision.resource) == resource, col(Revision.resource_id) == resource_id)
        .order_by(col(Revision.version))
    )
    return [RevisionOut.model_validate(row, from_attributes=True) for row in rows]
