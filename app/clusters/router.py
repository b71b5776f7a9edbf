from fastapi import APIRouter, Response, status

from app.auth.dependencies import AdminKey, CurrentKey
from app.clusters import service
from app.clusters.schemas import ClusterCreate, ClusterOut, ClusterUpdate
from app.clusters.years import GroupingPath, resolve
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch
from app.core.revisions import RevisionOut, list_revisions

router = APIRouter(prefix="/v1/clusters", tags=["clusters"], responses=problem_responses(401, 422, 500))


@router.get("", operation_id="listClusters", summary="List clusters")
async def list_clusters(
    session: SessionDep, _: CurrentKey, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[ClusterOut]:
    after = decode_cursor(cursor)
    return await service.list_clusters(session, limit=limit, after=after)


@router.post(
    "",
    operation_id="createCluster",
    status_code=status.HTTP_201_CREATED,
    summary="Create a cluster (admin)",
    responses=problem_responses(403, 409, 413),
)
async def create_cluster(
    session: SessionDep,
    key: AdminKey,
    idempotency: IdempotencyDep,
    body: ClusterCreate,
    response: Response,
) -> ClusterOut:
    return await idempotency.run(
        lambda: service.create_cluster(session, body, key.actor),
        response=response,
        headers=lambda out: {"Location": f"/v1/clusters/{out.number}", "ETag": service.cluster_etag(out)},
    )


@router.get("/{number}", operation_id="getCluster", summary="Get a cluster", responses=problem_responses(404))
async def get_cluster(
    session: SessionDep, _: CurrentKey, cluster: GroupingPath, response: Response
) -> ClusterOut:
    out = service.cluster_out((await resolve(session, cluster)).row)
    response.headers["ETag"] = service.cluster_etag(out)
    return out


@router.patch(
    "/{number}",
    operation_id="updateCluster",
    summary="Change a cluster (admin, If-Match)",
    responses=problem_responses(403, 404, 412, 413, 428),
)
async def update_cluster(
    session: SessionDep,
    key: AdminKey,
    cluster: GroupingPath,
    body: ClusterUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ClusterOut:
    out = await service.update_cluster(session, cluster, body, if_match, key.actor)
    response.headers["ETag"] = service.cluster_etag(out)
    return out


@router.get(
    "/{number}/revisions",
    operation_id="listClusterRevisions",
    summary="Every version of a cluster record",
    responses=problem_responses(404),
)
async def cluster_revisions(
    session: SessionDep,
    _: CurrentKey,
    cluster: GroupingPath,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[ClusterOut]]:
    found = await resolve(session, cluster)
    return await list_revisions(
        session, service.RESOURCE, found.id, ClusterOut, limit=limit, after=decode_cursor(cursor)
    )
