from fastapi import APIRouter, Request, Response

from app.auth.dependencies import CurrentKey
from app.core.cache import METRICS, RULES, cached, cluster_tag, json_answer, unit_tag, units_shown
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.exports import (
    EXPORT_RESPONSES,
    ExportFormat,
    FormatQuery,
    export_response,
    negotiate,
    representation_etag,
)
from app.core.params import ClusterNumber, Year
from app.sheets import service
from app.sheets.exports import sheet_filename, sheet_tables
from app.sheets.schemas import ClusterYearSheet

router = APIRouter(
    prefix="/v1/clusters/{number}/years/{year}",
    tags=["clusters"],
    responses=problem_responses(401, 404, 422, 500),
)


@router.get(
    "",
    operation_id="getClusterYear",
    summary="The cluster-year sheet: one call per screen",
    description="Members with their periods and lineage, leader and deputy with the decision, "
    "next year's leadership, the covenant with its targets, the figures the conferences reported "
    "for the whole cluster, and notes on units that ceased. ETag/304 supported. **Exports**: "
    "`Accept: text/csv` or the XLSX media type, or `?format=csv|xlsx|json`: the CSV is the members "
    "(one row per membership, with the year's leader and deputy; UTF-8 with a BOM), the XLSX has a "
    "worksheet each for the members, the covenant's targets, the reported figures and the notes; "
    "headers in the request's language (Vietnamese by default), `Content-Disposition` with the "
    "file name. Another `Accept` is 406. Served from the in-process read cache until a write "
    "it shows commits (the cluster's records, a unit it names, the metric catalogue, the rules).",
    response_model=ClusterYearSheet,
    responses={**EXPORT_RESPONSES, **problem_responses(406)},
)
async def cluster_year(
    session: SessionDep,
    _: CurrentKey,
    request: Request,
    number: ClusterNumber,
    year: Year,
    format: FormatQuery = None,
) -> Response:
    fmt = negotiate(request.headers.get("accept"), format)
    shown: set[int] = set()

    async def render() -> Response:
        sheet = await service.cluster_year(session, number, year)
        shown.update(units_shown(sheet.model_dump(mode="json")))
        if fmt is not ExportFormat.json:
            return export_response(
                fmt, sheet_tables(sheet), sheet_filename(sheet), representation_etag(sheet)
            )
        return json_answer(sheet, {"Vary": "Accept", "ETag": representation_etag(sheet)})

    return await cached(
        request,
        tags=lambda _: [cluster_tag(number), METRICS, RULES, *map(unit_tag, shown)],
        render=render,
    )
