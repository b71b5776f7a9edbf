from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from app.auth.dependencies import PUBLIC_VARIANT, AdminKey, CurrentKey, PublicReader, unpublished
from app.auth.principal import Principal
from app.clusters.tags import cluster_tag
from app.clusters.years import ClusterWriter, ClusterYearDep, YearPath, resolve_year
from app.core.cache import cached, json_answer
from app.core.config import app_settings
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import CONDITIONAL_PUT, IfNoneMatch
from app.core.exports import (
    EXPORT_RESPONSES,
    ExportFormat,
    FormatQuery,
    export_response,
    export_variant,
    negotiate,
)
from app.core.i18n import _
from app.core.idempotency import IdempotencyDep
from app.core.numbers import ExactNumberRoute
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch, UnitId
from app.core.revisions import RevisionOut
from app.core.types import PlainDecimal
from app.core.versioned import Conditions
from app.scoring import framework, sheets, standings
from app.scoring.exports import standings_filename, standings_tables
from app.scoring.schemas import (
    FrameworkOut,
    FrameworkPut,
    FreezeConflict,
    FreezeOut,
    ScoreSheetOut,
    ScoreSheetPut,
    Standings,
    ThawIn,
)
from app.units.tags import unit_tag

router = APIRouter(
    route_class=ExactNumberRoute,
    prefix="/v1/clusters/{number}/years/{year}",
    tags=["scoring"],
    responses=problem_responses(401, 404, 422, 500),
)

ScorerCode = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", description="A scorer's code in the framework.")
]
StandingsVersion = Annotated[
    int, Path(ge=1, le=2_147_483_647, description="A version of the standings."), PlainDecimal
]
FreezeNumber = Annotated[
    int, Path(ge=1, le=2_147_483_647, description="The freeze's number in the cluster-year."), PlainDecimal
]


async def _sheet_key(scorer: ScorerCode, unit_id: UnitId) -> sheets.SheetKey:
    return sheets.SheetKey(scorer, unit_id)


async def _freeze_number(freeze: FreezeNumber) -> int:
    return freeze


async def _standings_version(version: StandingsVersion) -> int:
    return version


# The path's parameters after `{year}`, as dependencies declared after the cluster-year: the
# document then lists them in the path's order, whatever a route's signature holds.
SheetKeyDep = Annotated[sheets.SheetKey, Depends(_sheet_key)]
FreezeDep = Annotated[int, Depends(_freeze_number)]
VersionDep = Annotated[int, Depends(_standings_version)]

_FROZEN = "While the standings are frozen (`…/standings/freezes`), 409 naming the freeze (`freeze_number`)."


@router.get(
    "/scoring-framework",
    operation_id="getScoringFramework",
    summary="A cluster's scoring framework for a year",
    description="Criteria (with their group, maximum and kind: criterion, bonus, penalty), classes "
    "with their thresholds, scorers (the cluster, Ministry departments) and how totals are combined "
    "and ties ranked.",
)
async def get_framework(
    session: SessionDep, _: CurrentKey, at: ClusterYearDep, response: Response
) -> FrameworkOut:
    out, etag = await framework.RECORD.get(session, at)
    response.headers["ETag"] = etag
    return out


@router.put(
    "/scoring-framework",
    operation_id="putScoringFramework",
    summary="Record or replace a cluster's scoring framework for a year (admin or the cluster's key)",
    description="Replaces the whole framework. 422 naming the field for: a code given twice, class "
    "thresholds that do not decrease strictly (only the last class may have none), a `weighted` "
    "combination without every scorer's weight, a tie-break order naming no criterion code or group "
    "(or given without `by_criteria_then_shared`, or missing with it). 409 when a replacement would "
    "drop a scorer or criterion with recorded scores, or lower a maximum below recorded points. "
    + _FROZEN
    + " Creating: 201 without `If-Match`. Replacing: `If-Match` with the current ETag (428 without, "
    "412 if stale); the previous version stays under `/revisions`. Every change bumps the standings "
    "`version`." + CONDITIONAL_PUT,
    responses={
        200: {"model": FrameworkOut, "description": "Replaced, or unchanged"},
        201: {"model": FrameworkOut, "description": "Created"},
        **problem_responses(403, 412, 413, 428, models={409: FreezeConflict}),
    },
)
async def put_framework(
    session: SessionDep,
    writer: ClusterWriter,
    at: ClusterYearDep,
    body: FrameworkPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> FrameworkOut:
    written = await framework.write_framework(
        session, at, body, Conditions(if_match, if_none_match), writer.actor
    )
    return written.answer(response)


@router.get(
    "/scoring-framework/revisions",
    operation_id="listScoringFrameworkRevisions",
    summary="Every version of a year's scoring framework",
)
async def framework_revisions(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[FrameworkOut]]:
    return await framework.RECORD.revisions(session, at, limit=limit, cursor=cursor)


@router.get(
    "/scores/{scorer}/units/{unit_id}",
    operation_id="getScoreSheet",
    summary="The points a scorer gave a member",
)
async def get_sheet(
    session: SessionDep, _: CurrentKey, at: ClusterYearDep, key: SheetKeyDep, response: Response
) -> ScoreSheetOut:
    out, etag = await sheets.get_sheet(session, at, key)
    response.headers["ETag"] = etag
    return out


@router.put(
    "/scores/{scorer}/units/{unit_id}",
    operation_id="putScoreSheet",
    summary="Record or replace the points a scorer gave a member (admin; the cluster's key for "
    "the cluster's own scores)",
    description="Points per criterion of the framework, each within `[0, max_points]` (a penalty "
    "as the positive deduction); an unknown criterion, one given twice or points above the maximum "
    "are 422 naming the item. Criteria items left out are named as missing in the standings; bonus "
    "and penalty items left out count 0. The unit must be a member of the cluster that year (409); "
    "without a framework, 409. **Who writes**: the scores of the `cluster` scorer, admin or the "
    "cluster's key; those of a `department` (a Ministry department), admin only: the Ministry "
    "enters them, so a cluster's secretariat cannot change what a department gave its members "
    "(403). " + _FROZEN + " Creating: 201 without `If-Match`. Replacing: `If-Match` (428 without, "
    "412 if stale); every version stays under `/revisions`. Every change bumps the standings "
    "`version`." + CONDITIONAL_PUT,
    responses={
        200: {"model": ScoreSheetOut, "description": "Replaced, or unchanged"},
        201: {"model": ScoreSheetOut, "description": "Created"},
        **problem_responses(403, 412, 413, 428, models={409: FreezeConflict}),
    },
)
async def put_sheet(
    session: SessionDep,
    writer: ClusterWriter,
    at: ClusterYearDep,
    key: SheetKeyDep,
    body: ScoreSheetPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> ScoreSheetOut:
    written = await sheets.write_sheet(session, at, key, body, Conditions(if_match, if_none_match), writer)
    return written.answer(response)


@router.get(
    "/scores/{scorer}/units/{unit_id}/revisions",
    operation_id="listScoreSheetRevisions",
    summary="Every version of the points a scorer gave a member",
)
async def sheet_revisions(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    key: SheetKeyDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[ScoreSheetOut]]:
    return await sheets.sheet_revisions(session, at, key, limit=limit, cursor=cursor)


_STANDINGS_DOC = (
    "Per member: each scorer's total (criteria + bonus − penalty), the combined total (the "
    "framework's `sum`, `mean` or `weighted` mean; exact, shown to 4 decimals when not a finite "
    "decimal), the rank (standard competition ranking 1, 1, 3, ties first broken by the "
    "framework's `tie_break_order` under `by_criteria_then_shared`) and the class. A member with a "
    "criterion missing from any scorer is **not ranked** (`rank: null`, `unranked_reason: "
    "missing_scores`, every missing scorer × criterion in `missing`) and has no combined total or "
    "class. `version` names the state (bumped by every framework or score change). **Exports**: "
    "`Accept: text/csv` or the XLSX media type, or `?format=csv|xlsx|json`, give a file with "
    "headers in the request's language (Vietnamese by default) and `Content-Disposition`; CSV is "
    "UTF-8 with a BOM. Another `Accept` is 406."
)


_PUBLIC_STANDINGS = (
    " **PUBLIC_READS**: on a server that sets it, this also answers without a credential when the "
    "answer is a frozen snapshot whose freeze is in effect (the published results), counted per "
    "client address (`RATE_LIMIT_ANONYMOUS`); otherwise (not frozen, or thawed since) 401 without "
    "a credential, as with PUBLIC_READS off (the default). A credential that is sent is checked "
    "as always."
)


def published(out: Standings) -> bool:
    """Whether anyone may read these standings (PUBLIC_READS): a frozen snapshot whose freeze is
    still in effect. Live standings change with every score; a thawed snapshot was withdrawn."""
    return out.frozen and out.freeze is not None and out.freeze.thawed_at is None


async def _standings_answer(
    request: Request,
    reader: Principal | None,
    number: int,
    fmt: ExportFormat,
    read: Callable[[], Awaitable[Standings]],
) -> Response:
    """Served from the read cache until a write of the cluster-year (or of a unit it names)
    commits; the CSV and XLSX variants are cached apart, and so is what an anonymous caller reads
    (PUBLIC_READS: stored only when published, and dropped by the thaw that withdraws it)."""

    shown: set[int] = set()
    zone = app_settings(request).timezone

    async def render() -> Response:
        out = await read()
        if reader is None and not published(out):
            raise unpublished(_("Without a credential, only frozen standings can be read."))
        shown.update(row.unit_id for row in out.rows)
        etag = standings.standings_etag(out)
        if fmt is not ExportFormat.json:
            return export_response(fmt, standings_tables(out), standings_filename(out), etag, timezone=zone)
        return json_answer(out, {"ETag": etag, "Vary": "Accept"})

    return await cached(
        request,
        tags=lambda _: [cluster_tag(number), *map(unit_tag, shown)],
        render=render,
        variant=(PUBLIC_VARIANT if reader is None else "") + export_variant(fmt, zone),
    )


@router.get(
    "/standings",
    operation_id="getStandings",
    summary="A cluster-year's standings: totals, ranks, classes, missing scores",
    description=_STANDINGS_DOC + " While frozen, the frozen snapshot." + _PUBLIC_STANDINGS,
    response_model=Standings,
    responses={**EXPORT_RESPONSES, **problem_responses(406)},
)
async def get_standings(
    session: SessionDep,
    reader: PublicReader,
    request: Request,
    path: YearPath,
    format: FormatQuery = None,
) -> Response:
    fmt = negotiate(request.headers.get("accept"), format)

    async def read() -> Standings:
        return await standings.get_standings(session, await resolve_year(session, path))

    return await _standings_answer(request, reader, path.grouping.number, fmt, read)


@router.get(
    "/standings/versions/{version}",
    operation_id="getStandingsVersion",
    summary="The standings at a version (frozen snapshots stay readable)",
    description="The latest frozen snapshot at `version`, or the current standings if `version` is "
    "current; 404 for a version never frozen and since changed. " + _STANDINGS_DOC + _PUBLIC_STANDINGS,
    response_model=Standings,
    responses={**EXPORT_RESPONSES, **problem_responses(406)},
)
async def get_standings_version(
    session: SessionDep,
    reader: PublicReader,
    request: Request,
    path: YearPath,
    version: VersionDep,
    format: FormatQuery = None,
) -> Response:
    fmt = negotiate(request.headers.get("accept"), format)

    async def read() -> Standings:
        return await standings.get_standings(session, await resolve_year(session, path), version)

    return await _standings_answer(request, reader, path.grouping.number, fmt, read)


@router.get(
    "/standings/freezes",
    operation_id="listStandingsFreezes",
    summary="Every freeze of a cluster-year's standings, with its snapshot",
)
async def list_freezes(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[FreezeOut]:
    return await standings.list_freezes(session, at, limit=limit, after=decode_cursor(cursor))


@router.post(
    "/standings/freezes",
    operation_id="createStandingsFreeze",
    summary="Freeze the framework, the scores and the standings for the conference (admin or the "
    "cluster's key)",
    description="Stores the standings as they are now (their `version`), readable later under "
    "`…/standings/versions/{version}`; until an admin thaws it, framework and score writes are 409 "
    "naming the freeze. 409 when already frozen, or without a framework. `Idempotency-Key`: a "
    "retry replays the first answer.",
    status_code=201,
    responses=problem_responses(403, models={409: FreezeConflict}),
)
async def freeze(
    session: SessionDep,
    writer: ClusterWriter,
    idempotency: IdempotencyDep,
    at: ClusterYearDep,
    response: Response,
) -> FreezeOut:
    return await idempotency.run(
        lambda: standings.freeze(session, at, writer.actor),
        response=response,
        headers=lambda out: {
            "Location": f"/v1/clusters/{at.number}/years/{at.year}/standings/freezes/{out.number}"
        },
    )


@router.get(
    "/standings/freezes/{freeze}",
    operation_id="getStandingsFreeze",
    summary="One freeze of the standings, with its snapshot",
)
async def get_freeze(session: SessionDep, _: CurrentKey, at: ClusterYearDep, freeze: FreezeDep) -> FreezeOut:
    return await standings.get_freeze(session, at, freeze)


@router.post(
    "/standings/freezes/{freeze}/thaw",
    operation_id="thawStandingsFreeze",
    summary="Thaw frozen standings (admin, with a reason)",
    description="Ends the freeze; who, when and why are recorded on it, and its snapshot stays "
    "readable. 409 when it was already thawed.",
    responses=problem_responses(403, 413, models={409: FreezeConflict}),
)
async def thaw(
    session: SessionDep, key: AdminKey, at: ClusterYearDep, freeze: FreezeDep, body: ThawIn
) -> FreezeOut:
    return await standings.thaw(session, at, freeze, body.reason, key.actor)
