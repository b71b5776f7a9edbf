from fastapi import APIRouter, Request, Response

from app.auth.dependencies import PUBLIC_VARIANT, PublicReader
from app.awards.models import AwardStatus
from app.clusters.tags import cluster_tag
from app.clusters.years import YearPath, resolve_year
from app.core.cache import cached, json_answer
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
from app.core.identity import without_people
from app.metrics.tags import METRICS
from app.rules.tags import RULES
from app.sheets import service
from app.sheets.exports import sheet_filename, sheet_tables
from app.sheets.schemas import ClusterYearSheet
from app.units.tags import unit_tag, units_shown

PUBLIC_SHEET = (
    "**PUBLIC_READS**: on a server that sets it, this sheet (and its exports) is also readable "
    "without a credential, as the published results, counted per client address "
    "(`RATE_LIMIT_ANONYMOUS`); an anonymous caller gets the standings only while they are frozen "
    "(else `standings: null`), the awards only once granted, and no votes (`votes: []`). A "
    "credential that is sent is checked as always (401 when it is not valid). Off by default: "
    "401 without a credential."
)


def published(sheet: ClusterYearSheet) -> ClusterYearSheet:
    """The sheet as anyone may read it (PUBLIC_READS): the standings only while frozen (a
    snapshot fixed for the conference), the awards only once granted; no votes (their candidates
    and turnout come before any award is granted, and the votes stay private)."""
    standings = sheet.standings if sheet.standings is not None and sheet.standings.frozen else None
    awards = [award for award in sheet.awards if award.status is AwardStatus.granted]
    trimmed = sheet.model_copy(update={"standings": standings, "awards": awards, "votes": []})
    return ClusterYearSheet.model_validate(without_people(trimmed.model_dump()))


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
    "next year's leadership, the year's conferences by date (its timeline), the covenant with its "
    "targets, the figures the conferences reported for the whole cluster, and notes on units that "
    "ceased. ETag/304 supported. **Exports**: `Accept: text/csv` or the XLSX media type, or "
    "`?format=csv|xlsx|json`: the CSV is the members (one row per membership, with the year's "
    "leader and deputy; UTF-8 with a BOM), the XLSX has a worksheet each for the members, the "
    "conferences, the covenant's targets, the reported figures and the notes; "
    "headers in the request's language (Vietnamese by default), `Content-Disposition` with the "
    "file name. Another `Accept` is 406. Served from the in-process read cache until a write "
    "it shows commits (the cluster's records, a unit it names, the metric catalogue, the rules). "
    + PUBLIC_SHEET,
    response_model=ClusterYearSheet,
    responses={**EXPORT_RESPONSES, **problem_responses(406)},
)
async def cluster_year(
    session: SessionDep,
    reader: PublicReader,
    request: Request,
    at: YearPath,
    format: FormatQuery = None,
) -> Response:
    fmt = negotiate(request.headers.get("accept"), format)
    shown: set[int] = set()

    async def render() -> Response:
        sheet = await service.cluster_year(session, await resolve_year(session, at))
        if reader is None:
            sheet = published(sheet)
        shown.update(units_shown(sheet.model_dump(mode="json")))
        if fmt is not ExportFormat.json:
            return export_response(
                fmt, sheet_tables(sheet), sheet_filename(sheet), representation_etag(sheet)
            )
        return json_answer(sheet, {"Vary": "Accept", "ETag": representation_etag(sheet)})

    return await cached(
        request,
        tags=lambda _: [cluster_tag(at.grouping.number), METRICS, RULES, *map(unit_tag, shown)],
        render=render,
        variant=PUBLIC_VARIANT if reader is None else "",
    )
