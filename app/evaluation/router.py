from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import CurrentKey
from app.clusters.tags import cluster_tag
from app.clusters.years import YearPath, resolve_year
from app.core.cache import cached
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.types import IsoDate
from app.evaluation import service
from app.evaluation.schemas import EvaluationOut
from app.metrics.tags import METRICS
from app.rules.tags import RULES
from app.units.tags import unit_tag, units_shown

router = APIRouter(
    prefix="/v1/clusters/{number}", tags=["evaluation"], responses=problem_responses(401, 404, 422, 500)
)


@router.get(
    "/years/{year}/evaluation",
    operation_id="getEvaluation",
    summary="Each member against each covenant target, and the cluster totals",
    description="For the period (default: the cluster-year's reporting period: the covenant's own "
    "when it states one, else the statistical year, 15 December of the year before to 14 "
    "December, as dated data with its basis; the calendar year only for a year no rule covers) "
    "and its like period one year earlier (cùng kỳ); the answer says which period and why "
    "(`period_basis`, `period_rule`). `period_start` and `period_end` given together win; one "
    "given alone is completed from the reporting period (`period_basis: requested`). Each member "
    "at the end of the period, and a cluster-total row for "
    "`cluster_total` targets, with value, baseline, change, `met` / `not_met` / `unknown` and why. "
    "Successor-aware: a unit's days before it existed are its predecessors' figures, and only "
    "the days its own figures do not cover, so nothing is counted twice. Counts add; rates are "
    "the ratio of summed numerators and denominators. Exact numbers as decimal strings. Served "
    "from the read cache until the cluster's records, a unit it names (or a predecessor's "
    "figures), the metric catalogue, or the rules change.",
    response_model=EvaluationOut,
)
async def get_evaluation(
    request: Request,
    session: SessionDep,
    _: CurrentKey,
    at: YearPath,
    period_start: Annotated[
        IsoDate | None,
        Query(description="First day (default: the reporting period's, e.g. 15 December the year before)."),
    ] = None,
    period_end: Annotated[
        IsoDate | None,
        Query(description="Last day (default: the reporting period's, e.g. 14 December)."),
    ] = None,
) -> Response:
    async def render() -> EvaluationOut:
        cluster_year = await resolve_year(session, at)
        return await service.evaluate_cluster_year(
            session, cluster_year, period_start=period_start, period_end=period_end
        )

    return await cached(
        request,
        tags=lambda out: [
            cluster_tag(at.grouping.number),
            METRICS,
            RULES,
            *map(unit_tag, units_shown(out.model_dump(mode="json"))),
        ],
        render=render,
    )
