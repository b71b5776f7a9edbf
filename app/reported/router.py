from fastapi import APIRouter, Response

from app.auth.dependencies import CurrentKey
from app.clusters.years import ClusterWriter, ClusterYearDep
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import CONDITIONAL_PUT, IfNoneMatch
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.core.params import IfMatch
from app.core.revisions import RevisionOut
from app.core.versioned import Conditions
from app.reported import service
from app.reported.schemas import ReportedFiguresOut, ReportedFiguresPut

router = APIRouter(
    prefix="/v1/clusters/{number}",
    tags=["reported-figures"],
    responses=problem_responses(401, 404, 422, 500),
)


@router.get(
    "/years/{year}/reported-figures",
    operation_id="getReportedFigures",
    summary="Figures a conference reported for the whole cluster in a year",
    description='Cluster totals, changes and rates as the source words them ("gần 2.600", '
    '"giảm 14,8% so với cùng kỳ"), each with its qualifier; not unit figures. A figure\'s '
    "`period_start` and `period_end` are the source's; null when it states none: nothing is "
    "inferred or stored for it, and such a figure reads against the cluster-year's reporting "
    "period (the covenant's own, else the statistical year, 15 December of the year before to "
    "14 December; the year sheet's `evaluation` shows it), never the calendar year.",
)
async def get_reported_figures(
    session: SessionDep, _: CurrentKey, at: ClusterYearDep, response: Response
) -> ReportedFiguresOut:
    out, etag = await service.RECORD.get(session, at)
    response.headers["ETag"] = etag
    return out


@router.put(
    "/years/{year}/reported-figures",
    operation_id="putReportedFigures",
    summary="Record or replace a year's reported figures (admin or the cluster's key)",
    description="Replaces the whole list. A figure may name a metric of the catalogue (422 naming "
    "the field otherwise; a rate metric is reported as a `rate` or a `change`, other metrics not "
    "as a `rate`). Creating: 201 without `If-Match`. Replacing: `If-Match` with the current ETag "
    "(428 without, 412 if stale); the previous version stays under `/revisions`." + CONDITIONAL_PUT,
    responses={
        200: {"model": ReportedFiguresOut, "description": "Replaced, or unchanged"},
        201: {"model": ReportedFiguresOut, "description": "Created"},
        **problem_responses(403, 409, 412, 413, 428),
    },
)
async def put_reported_figures(
    session: SessionDep,
    writer: ClusterWriter,
    at: ClusterYearDep,
    body: ReportedFiguresPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> ReportedFiguresOut:
    written = await service.write_figures(
        session, at, body, Conditions(if_match, if_none_match), writer.actor
    )
    return written.answer(response)


@router.get(
    "/years/{year}/reported-figures/revisions",
    operation_id="listReportedFiguresRevisions",
    summary="Every version of a year's reported figures",
)
async def reported_figures_revisions(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[ReportedFiguresOut]]:
    return await service.RECORD.revisions(session, at, limit=limit, cursor=cursor)
