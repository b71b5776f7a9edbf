from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.aliases import service
from app.aliases.schemas import AliasConflict, AliasCreate, AliasOut, AliasUpdate
from app.auth.dependencies import AdminKey, CurrentKey
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch, UnitId
from app.core.revisions import RevisionOut, list_revisions
from app.core.types import PlainDecimal

router = APIRouter(
    prefix="/v1/units/{unit_id}/aliases", tags=["units"], responses=problem_responses(401, 422, 500)
)

AliasId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The alias's id."), PlainDecimal]


def _location(out: AliasOut) -> str:
    return f"/v1/units/{out.unit_id}/aliases/{out.id}"


@router.get(
    "",
    operation_id="listUnitAliases",
    summary="List a unit's aliases",
    description="Other ways the unit is written, by id; retired aliases (`active: false`) are "
    "listed but no longer match names.",
    responses=problem_responses(404),
)
async def list_aliases(
    session: SessionDep, _: CurrentKey, unit_id: UnitId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[AliasOut]:
    after = decode_cursor(cursor)
    return await service.list_aliases(session, unit_id=unit_id, limit=limit, after=after)


@router.post(
    "",
    operation_id="createUnitAlias",
    status_code=status.HTTP_201_CREATED,
    summary="Add an alias to a unit (admin)",
    description="From then on `GET /v1/units?q=` finds the unit by it (`match.kind: alias`), and "
    "writes and imports resolve it. An alias of the unit that reads the same (case, diacritics, "
    "dashes, dots and spaces aside) is 409.",
    responses=problem_responses(403, 404, 413, models={409: AliasConflict}),
)
async def create_alias(
    session: SessionDep,
    key: AdminKey,
    idempotency: IdempotencyDep,
    unit_id: UnitId,
    body: AliasCreate,
    response: Response,
) -> AliasOut:
    return await idempotency.run(
        lambda: service.create(session, unit_id=unit_id, data=body, actor=key.actor),
        response=response,
        headers=lambda out: {"Location": _location(out), "ETag": service.alias_etag(out)},
    )


@router.get(
    "/{alias_id}",
    operation_id="getUnitAlias",
    summary="Get an alias of a unit",
    responses=problem_responses(404),
)
async def get_alias(
    session: SessionDep, _: CurrentKey, unit_id: UnitId, alias_id: AliasId, response: Response
) -> AliasOut:
    out = service.alias_out(await service.alias_row(session, unit_id=unit_id, alias_id=alias_id))
    response.headers["ETag"] = service.alias_etag(out)
    return out


@router.patch(
    "/{alias_id}",
    operation_id="updateUnitAlias",
    summary="Correct or retire an alias (admin, If-Match)",
    description="Correct its name, note or source, or retire it with `active: false`. Each change "
    "is a new version; every version stays under `/revisions`.",
    responses=problem_responses(403, 404, 412, 413, 428, models={409: AliasConflict}),
)
async def update_alias(
    session: SessionDep,
    key: AdminKey,
    unit_id: UnitId,
    alias_id: AliasId,
    body: AliasUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> AliasOut:
    out = await service.update(
        session, unit_id=unit_id, alias_id=alias_id, data=body, if_match=if_match, actor=key.actor
    )
    response.headers["ETag"] = service.alias_etag(out)
    return out


@router.get(
    "/{alias_id}/revisions",
    operation_id="listUnitAliasRevisions",
    summary="Every version of an alias, with who recorded it and when",
    responses=problem_responses(404),
)
async def alias_revisions(
    session: SessionDep,
    _: CurrentKey,
    unit_id: UnitId,
    alias_id: AliasId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[AliasOut]]:
    await service.alias_row(session, unit_id=unit_id, alias_id=alias_id)
    return await list_revisions(
        session, service.RESOURCE, alias_id, AliasOut, limit=limit, after=decode_cursor(cursor)
    )
