from fastapi import APIRouter

from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.params import ClusterNumber, Year
from app.core.security import CurrentKey
from app.sheets import service
from app.sheets.schemas import ClusterYearSheet

router = APIRouter(tags=["clusters"], responses=problem_responses(401, 404, 422, 500))


@router.get(
    "/v1/clusters/{number}/years/{year}",
    operation_id="getClusterYear",
    summary="The cluster-year sheet: one call per screen",
    description="Members with their periods and lineage, leader and deputy with the decision, "
    "next year's leadership, the covenant with its targets, the figures the conferences reported "
    "for the whole cluster, and notes on units that ceased. ETag/304 supported.",
)
async def cluster_year(
    session: SessionDep, _: CurrentKey, number: ClusterNumber, year: Year
) -> ClusterYearSheet:
    return await service.cluster_year(session, number, year)
