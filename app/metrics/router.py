from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.auth.dependencies import AdminKey, CurrentKey
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.metrics import service
from app.metrics.schemas import MetricCreate, MetricOut

router = APIRouter(prefix="/v1/metrics", tags=["metrics"], responses=problem_responses(401, 422, 500))

MetricKeyPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="The metric's key.")]


@router.get(
    "",
    operation_id="listMetrics",
    summary="The metric catalogue",
    description="Every figure and target is counted in a metric of this catalogue: a `count` or an "
    "`amount` adds up across units; a `rate` is its numerator over its denominator, re-aggregated "
    "as the ratio of summed parts.",
)
async def list_metrics(
    session: SessionDep, _: CurrentKey, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[MetricOut]:
    return await service.list_metrics(session, limit=limit, after=decode_cursor(cursor))


@router.get("/{key}", operation_id="getMetric", summary="Get a metric", responses=problem_responses(404))
async def get_metric(session: SessionDep, _: CurrentKey, key: MetricKeyPath, response: Response) -> MetricOut:
    out = await service.get(session, key=key)
    response.headers["ETag"] = service.metric_etag(out)
    return out


@router.post(
    "",
    operation_id="createMetric",
    status_code=status.HTTP_201_CREATED,
    summary="Add a metric to the catalogue (admin)",
    description="A key in use is 409; a rate names existing numerator and denominator metrics (422).",
    responses=problem_responses(403, 409, 413),
)
async def create_metric(
    session: SessionDep, key: AdminKey, idempotency: IdempotencyDep, body: MetricCreate, response: Response
) -> MetricOut:
    return await idempotency.run(
        lambda: service.create(session, data=body, actor=key.actor),
        response=response,
        headers=lambda out: {"Location": f"/v1/metrics/{out.key}", "ETag": service.metric_etag(out)},
    )
