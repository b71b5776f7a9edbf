from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import AdminKey, CurrentKey
from app.core.cache import cached, cached_page
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch, UnitId
from app.core.revisions import RevisionOut, list_revisions
from app.core.types import IsoDate, Text
from app.units import service
from app.units.schemas import LineageOut, UnitListItem, UnitOut, UnitUpdate
from app.units.tags import UNITS, unit_tag, units_shown

router = APIRouter(prefix="/v1/units", tags=["units"], responses=problem_responses(401, 422, 500))


@router.get(
    "",
    operation_id="listUnits",
    summary="List provincial units",
    description="Units with their validity, by id. `as_of` keeps the units that existed on that day "
    "(63 on 2025-06-30, 34 on 2025-07-01); `code` is the official code.\n\n"
    "`q` finds units by name as people write them: case, diacritics, tone-mark placement, `đ`, "
    "dashes, dots, spaces and administrative prefixes (`Tỉnh`, `Thành phố`, `TP.`, "
    "`Công an tỉnh`, `CA`, `CAT`, `CATP`) do not matter (`Hoa Binh`, `Hòa Bình`, "
    "`BàRịa-VũngTàu`, `Kontum`, `CA Cà Mau`), and aliases count (`TP.HCM`, `BR-VT`). With `q` "
    "the units come ranked, each with its `match`: `exact`, then `alias`, then `partial` (the "
    "query is part of the name), then `similar` (near misses by trigram similarity, e.g. "
    "`Ha Tihn`); then by score, then id.",
    response_model=Page[UnitListItem],
)
async def list_units(
    request: Request,
    session: SessionDep,
    _: CurrentKey,
    as_of: Annotated[IsoDate | None, Query(description="Day of validity, `YYYY-MM-DD`.")] = None,
    q: Annotated[
        Text | None, Query(min_length=1, max_length=120, description="The name, an alias or part of one.")
    ] = None,
    code: Annotated[str | None, Query(pattern=r"^\d{2,3}$", description="Official code, e.g. `08`.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    after = decode_cursor(cursor)
    return await cached_page(
        request,
        tags=[UNITS],
        page=lambda: service.list_units(session, as_of=as_of, q=q, code=code, limit=limit, after=after),
        variant=str(service.similarity_threshold(session)) if q else "",
    )


@router.get(
    "/{unit_id}",
    operation_id="getUnit",
    summary="Get a unit",
    responses=problem_responses(404),
    response_model=UnitOut,
)
async def get_unit(request: Request, session: SessionDep, _: CurrentKey, unit_id: UnitId) -> Response:
    return await cached(
        request,
        tags=[unit_tag(unit_id)],
        render=lambda: service.get_unit(session, unit_id),
        etag=service.unit_etag,
    )


@router.patch(
    "/{unit_id}",
    operation_id="updateUnit",
    summary="Correct a unit's code, name or kind (admin, If-Match)",
    description="Reference data is data: the Ministry corrects it here. Every version stays under "
    "`/revisions`; the reference loader recognises the unit afterwards and does not undo the "
    "correction. A code already naming another unit during this unit's period is 409. The "
    "period changes only through `POST /v1/successions`.",
    responses=problem_responses(403, 404, 409, 412, 413, 428),
)
async def update_unit(
    session: SessionDep,
    key: AdminKey,
    unit_id: UnitId,
    body: UnitUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> UnitOut:
    out = await service.update_unit(session, unit_id, body, if_match, key.actor)
    response.headers["ETag"] = service.unit_etag(out)
    return out


@router.get(
    "/{unit_id}/revisions",
    operation_id="listUnitRevisions",
    summary="Every version of a unit record",
    responses=problem_responses(404),
)
async def unit_revisions(
    session: SessionDep, _: CurrentKey, unit_id: UnitId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[RevisionOut[UnitOut]]:
    await service.get_unit(session, unit_id)
    return await list_revisions(
        session, service.RESOURCE, unit_id, UnitOut, limit=limit, after=decode_cursor(cursor)
    )


@router.get(
    "/{unit_id}/lineage",
    operation_id="getUnitLineage",
    summary="Predecessors and successors of a unit, transitively",
    description="Every unit this one came from and became, with the effective date, kind and "
    "legal basis of each link; `depth` counts the steps away. Served from the read cache until a "
    "succession or a change to a unit it names commits.",
    responses=problem_responses(404),
    response_model=LineageOut,
)
async def get_lineage(request: Request, session: SessionDep, _: CurrentKey, unit_id: UnitId) -> Response:
    return await cached(
        request,
        tags=lambda out: [UNITS, unit_tag(unit_id), *map(unit_tag, units_shown(out.model_dump(mode="json")))],
        render=lambda: service.lineage(session, unit_id),
    )
