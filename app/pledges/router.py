from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.auth.dependencies import CurrentKey
from app.clusters.years import ClusterWriter, ClusterYearDep
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import CONDITIONAL_PUT, IfNoneMatch
from app.core.numbers import ExactNumberRoute
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.core.params import IfMatch, UnitId
from app.core.revisions import RevisionOut
from app.core.types import PlainDecimal
from app.core.versioned import Conditions
from app.pledges import service
from app.pledges.schemas import PledgesOut, PledgesPut, PledgeStatusOut, PledgeStatusPut

Position = Annotated[
    int, Path(ge=1, le=50, description="The pledge's position in the list, from 1."), PlainDecimal
]

router = APIRouter(
    route_class=ExactNumberRoute,
    prefix="/v1/clusters/{number}/years/{year}/pledges",
    tags=["covenants"],
    responses=problem_responses(401, 404, 422, 500),
)

_CHECKS = (
    "An amount or a count is checked against the figures the members report for its metric over "
    "the cluster-year's reporting period (the evaluation's rules: a unit's own sets, completed "
    "from its predecessors'), for each member at the period's end or for the members together "
    "(`cluster_total`): `met` when at least the quantity, `not_met`, or `unknown` saying what is "
    "missing. A task shows each member's status as the secretariat set it (`done`, `not_done`), "
    "or `unknown` when none is set."
)


@router.get(
    "",
    operation_id="getPledges",
    summary="A covenant's pledges, each checked",
    description="What the covenant's members pledge (cam kết), in order: an amount, a count or a "
    "task, each member's or the members' together. " + _CHECKS,
)
async def get_pledges(
    session: SessionDep, _: CurrentKey, at: ClusterYearDep, response: Response
) -> PledgesOut:
    out, etag = await service.RECORD.get(session, at)
    response.headers["ETag"] = etag
    return out


@router.put(
    "",
    operation_id="putPledges",
    summary="Record or replace a covenant's pledges (admin or the cluster's key)",
    description="Replaces the whole list; 409 `no-covenant` when the year has no covenant. An "
    "amount names an amount metric of the catalogue, a count a count metric, each with a whole "
    "quantity above zero; a task neither, and is each member's (422 otherwise, naming the field). "
    "A pledge is its position: a replacement keeps each position's statuses, and may not drop a "
    "pledge that has statuses nor make it other than a task (409 `pledge-has-statuses`). Creating: "
    "201 without `If-Match`. Replacing: `If-Match` with the current ETag (428 without, 412 if "
    "stale; the ETag covers the checks, so new figures or statuses make it stale); the previous "
    "version stays under `/revisions`." + CONDITIONAL_PUT,
    responses={
        200: {"model": PledgesOut, "description": "Replaced, or unchanged"},
        201: {"model": PledgesOut, "description": "Created"},
        **problem_responses(403, 409, 412, 413, 428),
    },
)
async def put_pledges(
    session: SessionDep,
    writer: ClusterWriter,
    at: ClusterYearDep,
    body: PledgesPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> PledgesOut:
    written = await service.write_pledges(
        session, at, body, Conditions(if_match, if_none_match), writer.actor
    )
    return written.answer(response)


@router.get(
    "/revisions",
    operation_id="listPledgesRevisions",
    summary="Every version of a covenant's pledges",
    description="Each version as it read when written, its checks included.",
)
async def pledges_revisions(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[PledgesOut]]:
    return await service.RECORD.revisions(session, at, limit=limit, cursor=cursor)


@router.get(
    "/{position}/members/{unit_id}",
    operation_id="getPledgeStatus",
    summary="A member's status of a task pledge",
    description="Done or not done, on a day, according to a source, as the secretariat set it.",
)
async def get_pledge_status(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    position: Position,
    unit_id: UnitId,
    response: Response,
) -> PledgeStatusOut:
    out, etag = await service.get_status(session, at, position, unit_id)
    response.headers["ETag"] = etag
    return out


@router.put(
    "/{position}/members/{unit_id}",
    operation_id="putPledgeStatus",
    summary="Set or replace a member's status of a task pledge (admin or the cluster's key)",
    description="Done or not done, on a day, according to a source. 404 for a pledge or a unit "
    "that does not exist; 409 `not-a-task` for an amount or a count (checked against the "
    "figures, never set), 409 `not-a-member` for a unit that is not a member of the cluster that "
    "year. Creating: 201 without `If-Match`. Replacing: `If-Match` with the current ETag (428 "
    "without, 412 if stale); the previous version stays under `/revisions`." + CONDITIONAL_PUT,
    responses={
        200: {"model": PledgeStatusOut, "description": "Replaced, or unchanged"},
        201: {"model": PledgeStatusOut, "description": "Created"},
        **problem_responses(403, 409, 412, 413, 428),
    },
)
async def put_pledge_status(
    session: SessionDep,
    writer: ClusterWriter,
    at: ClusterYearDep,
    position: Position,
    unit_id: UnitId,
    body: PledgeStatusPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> PledgeStatusOut:
    written = await service.write_status(
        session, at, position, unit_id, body, Conditions(if_match, if_none_match), writer.actor
    )
    return written.answer(response)


@router.get(
    "/{position}/members/{unit_id}/revisions",
    operation_id="listPledgeStatusRevisions",
    summary="Every version of a member's status of a task pledge",
)
async def pledge_status_revisions(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    position: Position,
    unit_id: UnitId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[PledgeStatusOut]]:
    return await service.status_revisions(session, at, position, unit_id, limit=limit, cursor=cursor)
