from fastapi import APIRouter, Response

from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import CONDITIONAL_PUT, IfNoneMatch
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import ClusterNumber, IfMatch, Year
from app.core.revisions import RevisionOut, list_revisions
from app.core.security import ClusterWriterKey, CurrentKey
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
    '"giảm 14,8% so với cùng kỳ"), each with its qualifier; not unit figures.',
)
async def get_reported_figures(
    session: SessionDep, _: CurrentKey, number: ClusterNumber, year: Year, response: Response
) -> ReportedFiguresOut:
    out, etag = await service.get_figures(session, number, year)
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
    key: ClusterWriterKey,
    number: ClusterNumber,
    year: Year,
    body: ReportedFiguresPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> ReportedFiguresOut:
    out, etag, created = await service.put_figures(
        session, number, year, body, if_match, key.actor, writer=key, if_none_match=if_none_match
    )
    response.headers["ETag"] = etag
    if created:
        response.status_code = 201
    return out


@router.get(
    "/years/{year}/reported-figures/revisions",
    operation_id="listReportedFiguresRevisions",
    summary="Every version of a year's reported figures",
)
async def reported_figures_revisions(
    session: SessionDep,
    _: CurrentKey,
    number: ClusterNumber,
    year: Year,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[ReportedFiguresOut]]:
    record_id = await service.figures_record_id(session, number, year)
    return await list_revisions(
        session, service.RESOURCE, record_id, ReportedFiguresOut, limit=limit, after=decode_cursor(cursor)
    )
