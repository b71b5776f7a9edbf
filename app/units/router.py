from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.security import CurrentKey
from app.core.types import IsoDate, Text
from app.units import service
from app.units.schemas import LineageOut, UnitOut

router = APIRouter(prefix="/v1/units", tags=["units"], responses=problem_responses(401, 422, 500))

UnitId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The unit's id.")]


@router.get(
    "",
    summary="List provincial units",
    description="Units with their validity. `as_of` keeps the units that existed on that day "
    "(63 on 2025-06-30, 34 on 2025-07-01); `q` matches names ignoring case, diacritics and "
    "tone-mark placement (`Hoa Binh`, `Hoà Bình`, `Hòa Bình`); `code` is the official code.",
)
async def list_units(
    session: SessionDep,
    _: CurrentKey,
    as_of: Annotated[IsoDate | None, Query(description="Day of validity, `YYYY-MM-DD`.")] = None,
    q: Annotated[Text | None, Query(min_length=1, max_length=120, description="Part of the name.")] = None,
    code: Annotated[str | None, Query(pattern=r"^\d{2,3}$", description="Official code, e.g. `08`.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[UnitOut]:
    after = decode_cursor(cursor)
    return await service.list_units(
        session,
        as_of=as_of,
        q=q,
        code=code,
        limit=limit,
        after_id=after,
    )


@router.get("/{unit_id}", summary="Get a unit", responses=problem_responses(404))
async def get_unit(session: SessionDep, _: CurrentKey, unit_id: UnitId) -> UnitOut:
    return await service.get_unit(session, unit_id)


@router.get(
    "/{unit_id}/lineage",
    summary="Predecessors and successors of a unit, transitively",
    description="Every unit this one came from and became, with the effective date, kind and "
    "legal basis of each link; `depth` counts the steps away.",
    responses=problem_responses(404),
)
async def get_lineage(session: SessionDep, _: CurrentKey, unit_id: UnitId) -> LineageOut:
    return await service.lineage(session, unit_id)
