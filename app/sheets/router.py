from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import PUBLIC_VARIANT, PublicReader
from app.auth.principal import Principal
from app.awards.models import AwardStatus
from app.clusters.tags import cluster_tag
from app.clusters.years import ClusterYear, GroupingPath, YearPath, YearRef, resolve
from app.core.cache import cached, json_answer
from app.core.compression import Gzip
from app.core.config import app_settings
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import encoded_etag
from app.core.exports import (
    EXPORT_RESPONSES,
    ExportFormat,
    FormatQuery,
    export_response,
    export_variant,
    negotiate,
    representation_etag,
)
from app.core.identity import without_people
from app.core.time import today
from app.metrics.tags import METRICS
from app.pledges.service import without_figures
from app.rules.tags import RULES
from app.sheets import service
from app.sheets.exports import sheet_filename, sheet_tables
from app.sheets.schemas import ClusterYearSheet
from app.sheets.summary import ClusterYearItem, ClusterYearList, ClusterYearSummary, summary_of
from app.sheets.years import years_of
from app.units.tags import unit_tag, units_shown

PUBLIC_SHEET = (
    "**PUBLIC_READS**: on a server that sets it, this sheet (and its exports) is also readable "
    "without a credential, as the published results, counted per client address "
    "(`RATE_LIMIT_ANONYMOUS`); an anonymous caller gets the standings only while they are frozen "
    "(else `standings: null`), the awards only once granted, no votes (`votes: []`), and the "
    "pledges without the checks of amounts and counts (they tell each member's figures). A "
    "credential that is sent is checked as always (401 when it is not valid). Off by default: "
    "401 without a credential."
)


def published(sheet: ClusterYearSheet) -> ClusterYearSheet:
    """The sheet as anyone may read it (PUBLIC_READS): the standings only while frozen (a
    snapshot fixed for the conference), the awards only once granted; no votes (their candidates
    and turnout come before any award is granted, and the votes stay private); the pledges
    without the checks of amounts and counts (each member's figures, private as the evaluation's
    rows are)."""
    standings = sheet.standings if sheet.standings is not None and sheet.standings.frozen else None
    awards = [award for award in sheet.awards if award.status is AwardStatus.granted]
    update = {
        "standings": standings,
        "awards": awards,
        "votes": [],
        "pledges": without_figures(sheet.pledges),
    }
    trimmed = sheet.model_copy(update=update)
    return ClusterYearSheet.model_validate(without_people(trimmed.model_dump()))


years_router = APIRouter(
    prefix="/v1/clusters/{number}/years", tags=["clusters"], responses=problem_responses(401, 404, 422, 500)
)
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
    "targets and the members' pledges with their checks, the figures the conferences reported for "
    "the whole cluster, the evaluation over the reporting period, and notes on units that ceased. "
    "ETag/304 supported. **Exports**: `Accept: text/csv` or the XLSX media type, or "
    "`?format=csv|xlsx|json`: the CSV is the members (one row per membership, with the year's "
    "leader and deputy; UTF-8 with a BOM), the XLSX has a worksheet each for the members, the "
    "conferences, the covenant's targets, the pledges, the reported figures and the notes (a "
    "worksheet without rows is left out), each with a title row above its headers (the cluster, "
    "the year, the version, the day exported) and laid out for printing (landscape, one page "
    "wide, headers repeated, page numbers); "
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
    zone = app_settings(request).timezone
    shown: set[int] = set()

    async def render() -> Response:
        sheet = await _sheet(session, reader, at)
        shown.update(units_shown(sheet.model_dump(mode="json")))
        if fmt is not ExportFormat.json:
            return export_response(
                fmt, sheet_tables(sheet), sheet_filename(sheet), representation_etag(sheet), timezone=zone
            )
        return json_answer(sheet, {"Vary": "Accept", "ETag": representation_etag(sheet)})

    return await cached(
        request,
        tags=lambda _: [cluster_tag(at.grouping.number), METRICS, RULES, *map(unit_tag, shown)],
        render=render,
        variant=(PUBLIC_VARIANT if reader is None else "") + export_variant(fmt, zone),
    )


@router.get(
    "/summary",
    operation_id="getClusterYearSummary",
    summary="The cluster-year as a results screen shows it",
    description="What a phone's results screen shows, from the year sheet itself: the members in "
    "rank order (by name when not ranked) with rank, total and class, leader and deputy, the "
    "awards, and the link to the whole sheet; under 1 KB gzip for a six-member cluster. JSON only, "
    "with an ETag of its own (304 while unchanged). Served from the read cache as the sheet is. "
    + PUBLIC_SHEET.replace("this sheet (and its exports)", "this summary"),
    response_model=ClusterYearSummary,
)
async def cluster_year_summary(
    session: SessionDep, reader: PublicReader, request: Request, at: YearPath
) -> Response:
    shown: set[int] = set()

    async def render() -> Response:
        brief = summary_of(await _sheet(session, reader, at))
        shown.update(units_shown(brief.model_dump(mode="json")))
        return json_answer(brief, {"ETag": representation_etag(brief)})

    return await cached(
        request,
        tags=lambda _: [cluster_tag(at.grouping.number), METRICS, RULES, *map(unit_tag, shown)],
        render=render,
        variant=PUBLIC_VARIANT if reader is None else "",
    )


async def _sheet(session: AsyncSession, reader: Principal | None, at: YearRef) -> ClusterYearSheet:
    """The sheet as this reader may read it (`published` for an anonymous one); 404 when there is
    no such cluster."""
    sheet = await service.cluster_year(session, at)
    return published(sheet) if reader is None else sheet


@years_router.get(
    "",
    operation_id="listClusterYears",
    summary="A cluster's years, each with its sheet's ETag: a home screen in one call",
    description="Every year the cluster had members (up to this year) or a record of its own, the "
    "latest first, each with the link and the current ETag of its sheet and of its summary: send "
    "them back in `If-None-Match` to learn in a 304 that a year is unchanged. The ETags are those "
    "of the JSON representation this request would be answered with: the published one without a "
    "credential (under **PUBLIC_READS**), in the request's language, gzip-coded when it accepts "
    "gzip and the answer is large enough to be compressed. Served from the read cache until a "
    "write to the cluster, a unit it names, the metric catalogue or the rules commits.",
    response_model=ClusterYearList,
)
async def cluster_years(
    session: SessionDep, reader: PublicReader, request: Request, cluster: GroupingPath
) -> Response:
    now = today(request.app.state.settings.timezone)
    shown: set[int] = set()

    async def render() -> ClusterYearList:
        grouping = await resolve(session, cluster)
        years = await years_of(session, grouping.id, now)
        sheets = await service.cluster_years(session, [ClusterYear(cluster, y, grouping) for y in years])
        items = []
        for year, whole in zip(years, sheets, strict=True):
            sheet = published(whole) if reader is None else whole
            shown.update(units_shown(sheet.model_dump(mode="json")))
            href = f"/v1/clusters/{cluster.number}/years/{year}"
            items.append(
                ClusterYearItem(
                    year=year,
                    href=href,
                    etag=_served_etag(request, sheet),
                    summary_href=f"{href}/summary",
                    summary_etag=_served_etag(request, summary_of(sheet)),
                )
            )
        return ClusterYearList(cluster=cluster.number, items=items)

    return await cached(
        request,
        tags=lambda _: [cluster_tag(cluster.number), METRICS, RULES, *map(unit_tag, shown)],
        render=render,
        variant=f"{PUBLIC_VARIANT if reader is None else ''}{now.year}",
    )


def _served_etag(request: Request, representation: BaseModel) -> str:
    """The ETag this request would be answered with for `representation` in JSON: the gzip one
    when it asks for gzip and the policy compresses a body that size (`RepresentationMiddleware`)."""
    etag = representation_etag(representation)
    gzip: Gzip | None = request.app.state.gzip
    size = len(json_answer(representation).body)
    if gzip is not None and gzip.applies(request.headers.get("accept-encoding"), "application/json", size):
        return encoded_etag(etag)
    return etag
