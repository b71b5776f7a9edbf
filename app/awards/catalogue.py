"""The award catalogue (`data/reference/award_types.yaml`): read-only, loaded with the reference
data; a type whose content changed in the file is updated as a new version."""

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.awards.models import AwardType
from app.awards.schemas import AwardTypeData, AwardTypeOut
from app.awards.tags import AWARD_TYPES
from app.core.cache import invalidate
from app.core.errors import NotFound
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import REFERENCE
from app.core.pagination import Page, page_of
from app.core.revisions import record_revision
from app.core.time import utcnow

RESOURCE = "award_type"


class AwardTypeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["thidua-award-types/1"]
    award_types: list[AwardTypeData]


def award_type_out(row: Any) -> AwardTypeOut:
    return AwardTypeOut.model_validate(row, from_attributes=True)


def award_type_etag(out: AwardTypeOut) -> str:
    return record_etag(RESOURCE, out.code, out.version, out)


async def get(session: AsyncSession, *, code: str) -> AwardTypeOut:
    """The award type `code`, or 404."""
    row = (await session.execute(select(AwardType).where(col(AwardType.code) == code))).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No award type with code {code}.", code=code), field="award_type")
    return award_type_out(row)


async def list_award_types(session: AsyncSession, *, limit: int, after: int | None) -> Page[AwardTypeOut]:
    """The catalogue in the file's order."""
    query = select(AwardType).order_by(col(AwardType.id))
    if after is not None:
        query = query.where(col(AwardType.id) > after)
    rows = list((await session.execute(query.limit(limit + 1))).scalars())
    page = page_of(rows, limit, lambda r: r.id or 0)
    return Page[AwardTypeOut](items=[award_type_out(r) for r in page.items], next_cursor=page.next_cursor)


def read_file(path: Path) -> AwardTypeFile:
    """The data file, validated (a broken file stops the loader with Pydantic's message)."""
    return AwardTypeFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


async def load_award_types(session: AsyncSession, path: Path) -> int:
    """Add or update the file's award types (the ones another names as its standard first);
    returns how many were added or changed."""
    data = read_file(path)
    stored = {r.code: r for r in (await session.execute(select(AwardType))).scalars()}
    ordered = sorted(data.award_types, key=lambda t: t.standard_of is not None)
    changed = 0
    for item in ordered:
        values = item.model_dump(mode="json")
        row = stored.get(item.code)
        if row is not None and all(getattr(row, k) == v for k, v in values.items()):
            continue
        if row is None:
            row = AwardType(**values, recorded_by=REFERENCE.recorded_by)
        else:
            for field, value in values.items():
                setattr(row, field, value)
            row.version += 1
            row.recorded_at = utcnow()
        session.add(row)
        await session.flush()
        assert row.id is not None
        out = award_type_out(row)
        await record_revision(session, RESOURCE, row.id, out.version, out, REFERENCE)
        changed += 1
    if changed:
        await invalidate(session, AWARD_TYPES)
    return changed
