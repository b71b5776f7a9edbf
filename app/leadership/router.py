from collections.abc import Iterable

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import CurrentKey
from app.clusters.tags import cluster_tag
from app.clusters.years import ClusterWriter, ClusterYearDep, GroupingPath, YearPath, resolve_year
from app.core.cache import cached
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import CONDITIONAL_PUT, IfNoneMatch
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch
from app.core.revisions import RevisionOut
from app.core.versioned import Conditions
from app.leadership import service
from app.leadership.schemas import LeadershipOut, LeadershipPut, SuggestionOut
from app.units.tags import unit_tag


def _tags(number: int, leaderships: Iterable[LeadershipOut]) -> list[str]:
    """The cluster, and every unit a leadership shows (holders and their successors)."""
    units = {
        u.id
        for lead in leaderships
        for holder in (lead.leader, lead.deputy)
        if holder is not None
        for u in (holder.unit, *holder.successors)
    }
    return [cluster_tag(number), *(unit_tag(u) for u in sorted(units))]


router = APIRouter(
    prefix="/v1/clusters/{number}",
    tags=["leadership"],
    responses=problem_responses(401, 404, 422, 500),
)


@router.get(
    "/leadership",
    operation_id="listLeadershipHistory",
    summary="Rotation history of a cluster",
    description="Leader (Cụm trưởng) and deputy (Cụm phó) of every recorded year. A unit that "
    "ceased to exist before or during its term says so (`ceased_on`) and names its successors.",
    response_model=Page[LeadershipOut],
)
async def leadership_history(
    request: Request,
    session: SessionDep,
    _: CurrentKey,
    cluster: GroupingPath,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    after = decode_cursor(cursor)
    return await cached(
        request,
        tags=lambda page: _tags(cluster.number, page.items),
        render=lambda: service.history(session, cluster, limit=limit, after=after),
    )


@router.get(
    "/years/{year}/leadership",
    operation_id="getLeadership",
    summary="Leader and deputy for a year",
    response_model=LeadershipOut,
)
async def get_leadership(request: Request, session: SessionDep, _: CurrentKey, path: YearPath) -> Response:
    async def render() -> LeadershipOut:
        return (await service.RECORD.get(session, await resolve_year(session, path)))[0]

    return await cached(
        request,
        tags=lambda out: _tags(path.grouping.number, [out]),
        render=render,
        etag=service.leadership_etag,
    )


@router.put(
    "/years/{year}/leadership",
    operation_id="putLeadership",
    summary="Set leader and deputy for a year (admin or the cluster's key)",
    description="Both must be members of the cluster in that year (409 otherwise), and differ. "
    "Creating: 201 without `If-Match`. Replacing: `If-Match` with the current ETag "
    "(428 without, 412 if stale); "
    "the previous version stays under `/revisions`." + CONDITIONAL_PUT,
    responses={
        200: {"model": LeadershipOut, "description": "Replaced, or unchanged"},
        201: {"model": LeadershipOut, "description": "Created"},
        **problem_responses(403, 409, 412, 413, 428),
    },
)
async def put_leadership(
    session: SessionDep,
    writer: ClusterWriter,
    at: ClusterYearDep,
    body: LeadershipPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> LeadershipOut:
    written = await service.write_leadership(
        session, at, body, Conditions(if_match, if_none_match), writer.actor
    )
    return written.answer(response)


@router.get(
    "/years/{year}/leadership/revisions",
    operation_id="listLeadershipRevisions",
    summary="Every version of a year's leadership",
)
async def leadership_revisions(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[LeadershipOut]]:
    return await service.RECORD.revisions(session, at, limit=limit, cursor=cursor)


@router.get(
    "/years/{year}/leadership/suggestion",
    operation_id="suggestLeadership",
    summary="Suggest next year's leader and deputy from the history",
    description="Candidates are the members in that year (or, if none are recorded yet, the "
    "members at the end of the previous year whose units still exist). Where the cluster's custom "
    "is `deputy_succeeds`, the outgoing deputy is suggested as leader; otherwise, and for the "
    "deputy, the member that led least recently (a predecessor's terms count for its successor). "
    "409 when no members are recorded to choose from.",
    responses=problem_responses(409),
)
async def leadership_suggestion(session: SessionDep, _: CurrentKey, at: ClusterYearDep) -> SuggestionOut:
    return await service.suggestion(session, at)
