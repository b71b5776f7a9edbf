from fastapi import APIRouter, Response

from app.auth.dependencies import CurrentKey
from app.clusters.years import ClusterWriter, ClusterYearDep
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import CONDITIONAL_PUT, IfNoneMatch
from app.core.numbers import ExactNumberRoute
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.core.params import IfMatch
from app.core.revisions import RevisionOut
from app.core.versioned import Conditions
from app.covenants import service
from app.covenants.schemas import CovenantOut, CovenantPut

router = APIRouter(
    route_class=ExactNumberRoute,
    prefix="/v1/clusters/{number}",
    tags=["covenants"],
    responses=problem_responses(401, 404, 422, 500),
)


@router.get(
    "/years/{year}/covenant",
    operation_id="getCovenant",
    summary="A cluster's covenant for a year",
    description="The emulation covenant (giao ước thi đua) the members signed: its key contents "
    "as text, in order, its numeric targets, and the reporting period they are judged on when it "
    "states one (`period_start`, `period_end`; null: not stated, and the statistical year applies).",
)
async def get_covenant(
    session: SessionDep, _: CurrentKey, at: ClusterYearDep, response: Response
) -> CovenantOut:
    out, etag = await service.RECORD.get(session, at)
    response.headers["ETag"] = etag
    return out


@router.put(
    "/years/{year}/covenant",
    operation_id="putCovenant",
    summary="Record or replace a cluster's covenant for a year (admin or the cluster's key)",
    description="Replaces the whole covenant, its targets included. Each target names a metric of "
    "the catalogue (422 naming the field otherwise), a comparator, a threshold, a basis "
    "(`absolute`, or `change_vs_previous_period`: a relative change in percent for counts and "
    'amounts, percentage points for rates; "cut by at least 5%" is `le` `-5`) and a scope. The '
    "host must be a member of the cluster that year (409). A stated reporting period "
    "(`period_start` and `period_end`, both or neither) spans at most 366 days, its first or last "
    "day in the covenant's year (422 otherwise); the evaluation and the year sheet then judge the "
    "targets on it instead of the statistical year. Creating: 201 without `If-Match`. "
    "Replacing: `If-Match` with the current ETag (428 without, 412 if stale); the previous "
    "version stays under `/revisions`." + CONDITIONAL_PUT,
    responses={
        200: {"model": CovenantOut, "description": "Replaced, or unchanged"},
        201: {"model": CovenantOut, "description": "Created"},
        **problem_responses(403, 409, 412, 413, 428),
    },
)
async def put_covenant(
    session: SessionDep,
    writer: ClusterWriter,
    at: ClusterYearDep,
    body: CovenantPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> CovenantOut:
    written = await service.write_covenant(
        session, at, body, Conditions(if_match, if_none_match), writer.actor
    )
    return written.answer(response)


@router.get(
    "/years/{year}/covenant/revisions",
    operation_id="listCovenantRevisions",
    summary="Every version of a year's covenant",
)
async def covenant_revisions(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[CovenantOut]]:
    return await service.RECORD.revisions(session, at, limit=limit, cursor=cursor)
