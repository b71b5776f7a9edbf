from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.auth.dependencies import AdminKey, CurrentKey
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch, UnitId
from app.core.revisions import RevisionOut, list_revisions
from app.core.types import PlainDecimal
from app.proceedings import service
from app.proceedings.schemas import ProceedingCreate, ProceedingOut, ProceedingUpdate

router = APIRouter(
    prefix="/v1/units/{unit_id}/proceedings", tags=["proceedings"], responses=problem_responses(401, 422, 500)
)

ProceedingId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The proceeding's id."), PlainDecimal]


def _location(out: ProceedingOut) -> str:
    return f"/v1/units/{out.unit_id}/proceedings/{out.id}"


@router.get(
    "",
    operation_id="listProceedings",
    summary="List a unit's proceedings",
    description="Disciplinary reviews, investigations, inspections and complaints being verified "
    "that concern the unit, by id, closed ones included.",
    responses=problem_responses(404),
)
async def list_proceedings(
    session: SessionDep, _: CurrentKey, unit_id: UnitId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[ProceedingOut]:
    return await service.list_proceedings(session, unit_id=unit_id, limit=limit, after=decode_cursor(cursor))


@router.post(
    "",
    operation_id="createProceeding",
    status_code=status.HTTP_201_CREATED,
    summary="Record a proceeding that concerns a unit (admin)",
    description="While it is open (from `opened_on` to `closed_on`, inclusive), a nomination of "
    "the unit on a day it covers is refused (409 naming it and the rule, Decree 152/2025 art. 4). "
    "`closed_on` before `opened_on` is 422.",
    responses=problem_responses(403, 404, 413),
)
async def create_proceeding(
    session: SessionDep,
    key: AdminKey,
    idempotency: IdempotencyDep,
    unit_id: UnitId,
    body: ProceedingCreate,
    response: Response,
) -> ProceedingOut:
    return await idempotency.run(
        lambda: service.create(session, unit_id=unit_id, data=body, actor=key.actor),
        response=response,
        headers=lambda out: {"Location": _location(out), "ETag": service.proceeding_etag(out)},
    )


@router.get(
    "/{proceeding_id}",
    operation_id="getProceeding",
    summary="Get a proceeding of a unit",
    responses=problem_responses(404),
)
async def get_proceeding(
    session: SessionDep, _: CurrentKey, unit_id: UnitId, proceeding_id: ProceedingId, response: Response
) -> ProceedingOut:
    out = service.proceeding_out(
        await service.proceeding_row(session, unit_id=unit_id, proceeding_id=proceeding_id)
    )
    response.headers["ETag"] = service.proceeding_etag(out)
    return out


@router.patch(
    "/{proceeding_id}",
    operation_id="updateProceeding",
    summary="Close or correct a proceeding (admin, If-Match)",
    description="Set `closed_on` to close it, or correct its kind, dates, reference or note. Each "
    "change is a new version; every version stays under `/revisions`. A period ending before it "
    "starts is 422.",
    responses=problem_responses(403, 404, 412, 413, 428),
)
async def update_proceeding(
    session: SessionDep,
    key: AdminKey,
    unit_id: UnitId,
    proceeding_id: ProceedingId,
    body: ProceedingUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ProceedingOut:
    out = await service.update(
        session, unit_id=unit_id, proceeding_id=proceeding_id, data=body, if_match=if_match, actor=key.actor
    )
    response.headers["ETag"] = service.proceeding_etag(out)
    return out


@router.get(
    "/{proceeding_id}/revisions",
    operation_id="listProceedingRevisions",
    summary="Every version of a proceeding, with who recorded it and when",
    responses=problem_responses(404),
)
async def proceeding_revisions(
    session: SessionDep,
    _: CurrentKey,
    unit_id: UnitId,
    proceeding_id: ProceedingId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[ProceedingOut]]:
    await service.proceeding_row(session, unit_id=unit_id, proceeding_id=proceeding_id)
    return await list_revisions(
        session, service.RESOURCE, proceeding_id, ProceedingOut, limit=limit, after=decode_cursor(cursor)
    )
