from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import CurrentKey
from app.core.cache import METRICS, cached, cluster_tag, unit_tag, units_shown
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.params import ClusterNumber, Year
from app.core.types import IsoDate
from app.evaluation import service
from app.evaluation.schemas import EvaluationOut

router = APIRouter(
    prefix="/v1/clusters/{number}", tags=["figures"], responses=problem_responses(401, 404, 422, 500)
)


@router.get(
    "/years/{year}/evaluation",
    operation_id="getEvaluation",
    summary="Each member against each covenant target, and the cluster totals",
    description="For the period (default: the calendar year) and its like period one year "
    "earlier (cùng kỳ): each member at the end of the period, and a cluster-total row for "
    "`cluster_total` targets, with value, baseline, change, `met` / `not_met` / `unknown` and why. "
    "Successor-aware: a unit's days before it existed are its predecessors' figures, and only "
    "the days its own figures do not cover, so nothing is counted twice. Counts add; rates are "
    "the ratio of summed numerators and denominators. Exact numbers as decimal strings. Served "
    "from the read cache until the cluster's records, a unit it names (or a predecessor's "
    "figures), or the metric catalogue change.",
    response_model=EvaluationOut,
)
async def get_evaluation(
    request: Request,
    session: SessionDep,
    _: CurrentKey,
    number: ClusterNumber,
    year: Year,
    period_start: Annotated[IsoDate | None, Query(description="First day (default: 1 January).")] = None,
    period_end: Annotated[IsoDate | None, Query(description="Last day (default: 31 December).")] = None,
) -> Response:
    return await cached(
        request,
        tags=lambda out: [
            cluster_tag(number),
            METRICS,
            *map(unit_tag, units_shown(out.model_dump(mode="json"))),
        ],
        render=lambda: service.evaluate_cluster_year(
            session, number, year, period_start=period_start, period_end=period_end
        ),
    )
