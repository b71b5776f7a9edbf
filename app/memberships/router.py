from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.auth.dependencies import AdminKey, CurrentKey
from app.clusters.tags import cluster_tag
from app.clusters.years import GroupingPath, resolve
from app.core.cache import cached
from app.core.config import app_settings
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import AsOfQuery, IfMatch, RecordId, UnitQuery, YearQuery, time_window
from app.core.revisions import RevisionOut, list_revisions
from app.core.time import today
from app.core.types import PlainDecimal
from app.memberships import service
from app.memberships.schemas import (
    Member,
    MembershipConflict,
    MembershipCreate,
    MembershipOut,
    MembershipUpdate,
)
from app.units.tags import unit_tag

memberships_router = APIRouter(
    prefix="/v1/memberships", tags=["memberships"], responses=problem_responses(401, 422, 500)
)
cluster_members_router = APIRouter(
    prefix="/v1/clusters/{number}/members", tags=["memberships"], responses=problem_responses(401, 422, 500)
)


@memberships_router.get(
    "",
    operation_id="listMemberships",
    summary="List memberships",
    description="Filter by `unit` (id), `cluster` (number), and `year` (every membership that "
    "overlaps the year) or `as_of` (the memberships valid on that day).",
)
async def list_memberships(
    session: SessionDep,
    _: CurrentKey,
    unit: UnitQuery = None,
    cluster: Annotated[int | None, Query(ge=1, le=999, description="Cluster number."), PlainDecimal] = None,
    year: YearQuery = None,
    as_of: AsOfQuery = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[MembershipOut]:
    after = decode_cursor(cursor)
    window = time_window(year, as_of)
    if window is None:
        return Page[MembershipOut](items=[], next_cursor=None)
    start, end = window
    return await service.list_memberships(
        session,
        unit_id=unit,
        cluster=cluster,
        start=start,
        end=end,
        limit=limit,
        after=after,
    )


@memberships_router.post(
    "",
    operation_id="createMembership",
    status_code=status.HTTP_201_CREATED,
    summary="Record a membership (admin)",
    description="A unit is in at most one cluster on any day: an overlap is 409 and names the "
    "conflicting membership. A membership may not outlive its unit (409). An unknown unit or "
    "cluster is 404.",
    responses=problem_responses(403, 404, 413, models={409: MembershipConflict}),
)
async def create_membership(
    session: SessionDep,
    key: AdminKey,
    idempotency: IdempotencyDep,
    body: MembershipCreate,
    response: Response,
) -> MembershipOut:
    return await idempotency.run(
        lambda: service.create_membership(session, body, key.actor),
        response=response,
        headers=lambda out: {"Location": f"/v1/memberships/{out.id}", "ETag": service.membership_etag(out)},
    )


@memberships_router.get(
    "/{membership_id}",
    operation_id="getMembership",
    summary="Get a membership",
    responses=problem_responses(404),
)
async def get_membership(
    session: SessionDep, _: CurrentKey, membership_id: RecordId, response: Response
) -> MembershipOut:
    out = await service.get_membership(session, membership_id)
    response.headers["ETag"] = service.membership_etag(out)
    return out


@memberships_router.patch(
    "/{membership_id}",
    operation_id="updateMembership",
    summary="Correct a membership (admin, If-Match)",
    description="Writes a new version; the previous one stays readable under `/revisions`.",
    responses=problem_responses(403, 404, 412, 413, 428, models={409: MembershipConflict}),
)
async def update_membership(
    session: SessionDep,
    key: AdminKey,
    membership_id: RecordId,
    body: MembershipUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> MembershipOut:
    out = await service.update_membership(session, membership_id, body, if_match, key.actor)
    response.headers["ETag"] = service.membership_etag(out)
    return out


@memberships_router.get(
    "/{membership_id}/revisions",
    operation_id="listMembershipRevisions",
    summary="Every version of a membership, with who recorded it and when",
    responses=problem_responses(404),
)
async def membership_revisions(
    session: SessionDep,
    _: CurrentKey,
    membership_id: RecordId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[MembershipOut]]:
    await service.get_membership(session, membership_id)
    return await list_revisions(
        session, service.RESOURCE, membership_id, MembershipOut, limit=limit, after=decode_cursor(cursor)
    )


@cluster_members_router.get(
    "",
    operation_id="listClusterMembers",
    tags=["clusters"],
    summary="Members of a cluster in a year or on a day",
    description="`year`: every membership overlapping the year, with its dates (in 2025 the "
    "pre-reform units until 2025-06-30, then the new ones). `as_of`: the composition on that day. "
    "Neither: today (the date in Vietnam). A cluster's members come in one page "
    "(`next_cursor` is null).",
    responses=problem_responses(404),
    response_model=Page[Member],
)
async def cluster_members(
    request: Request,
    session: SessionDep,
    _: CurrentKey,
    grouping: GroupingPath,
    year: YearQuery = None,
    as_of: AsOfQuery = None,
) -> Response:
    variant = ""
    if year is None and as_of is None:
        as_of = today(app_settings(request).timezone)
        variant = str(as_of)  # "today" moves: the day is part of what is cached

    async def render() -> Page[Member]:
        cluster = await resolve(session, grouping)
        window = time_window(year, as_of)
        members = []
        if window is not None:
            start, end = window
            assert start is not None
            assert end is not None
            members = await service.members(session, cluster.id, start, end)
        return Page[Member](items=members, next_cursor=None)

    return await cached(
        request,
        tags=lambda page: [
            cluster_tag(grouping.number),
            *(unit_tag(u.id) for m in page.items for u in (m.unit, *m.predecessors, *m.successors)),
        ],
        render=render,
        variant=variant,
    )


router = APIRouter()
"""What `app.main` registers: the memberships, then a cluster's members (their data is
memberships; tagged `clusters` too, where people look for them)."""
router.include_router(memberships_router)
router.include_router(cluster_members_router)
