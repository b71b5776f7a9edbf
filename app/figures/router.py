import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import Response as RawResponse

from app.auth.dependencies import CurrentKey
from app.auth.principal import Principal
from app.auth.roles import Role
from app.core.config import app_settings
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import CONDITIONAL_PUT, IfNoneMatch
from app.core.idempotency import IdempotencyDep
from app.core.numbers import ExactNumberRoute
from app.core.openapi import register_request_model
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch, UnitId
from app.core.revisions import RevisionOut, list_revisions
from app.core.time import today
from app.core.types import PlainDecimal
from app.figures import batch, service
from app.figures.problems import FigurePeriodConflict, FiguresBatchProblem
from app.figures.queries import RESOURCE
from app.figures.schemas import METRIC_KEY, BatchReport, FigureBatch, FigureItem, FigureSetOut, FigureSetPut

BATCH_PATH = "/v1/figures:batch"
_TEMPLATE_EXAMPLE = (
    "\ufeffdon_vi_id,ma_don_vi,ngay_hieu_luc,nam,tu_ngay,den_ngay,chi_tieu,gia_tri,tu_so,mau_so,"
    "nguon,ghi_chu,phien_ban\r\n,,,2026,2025-12-15,2026-12-14,social_order_crimes,,,,,,\r\n"
)
register_request_model(FigureBatch)

Period = Annotated[
    str,
    Path(
        pattern=r"^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$",
        description="The period's first and last day, `YYYY-MM-DD..YYYY-MM-DD` (e.g. "
        "`2024-12-15..2025-12-14`).",
        examples=["2024-12-15..2025-06-14"],
    ),
]


async def _figure_writer(session: SessionDep, key: CurrentKey, unit_id: UnitId) -> Principal:
    """Admin; a unit key for its own unit, or for a unit it succeeded (transitively)."""
    await service.ensure_writer(session, key, unit_id)
    return key


FigureWriter = Annotated[Principal, Depends(_figure_writer)]


async def _batch_writer(key: CurrentKey) -> Principal:
    if key.role not in (Role.admin, Role.unit):
        raise service.forbidden()
    return key


BatchWriter = Annotated[Principal, Depends(_batch_writer)]

unit_figures_router = APIRouter(
    route_class=ExactNumberRoute,
    prefix="/v1/units/{unit_id}/figures",
    tags=["figures"],
    responses=problem_responses(401, 404, 422, 500),
)
router = APIRouter(
    route_class=ExactNumberRoute,
    prefix="/v1/figures",
    tags=["figures"],
    responses=problem_responses(401, 422, 500),
)


@unit_figures_router.get("/{period}", operation_id="getFigureSet", summary="A unit's figures for a period")
async def get_figure_set(
    session: SessionDep, _: CurrentKey, unit_id: UnitId, period: Period, response: Response
) -> FigureSetOut:
    out, etag = await service.get_set(session, unit_id, period)
    response.headers["ETag"] = etag
    return out


@unit_figures_router.put(
    "/{period}",
    operation_id="putFigureSet",
    summary="Record a unit's figures for a period (admin, the unit's key, or a successor's)",
    description="Values per metric of the catalogue: `value` for counts and amounts (a count is a "
    "whole number); `numerator` and `denominator` for a rate (a bare percentage `value` is kept but "
    "flagged `re_aggregable: false`). The reporting `year` is that of the period's first or last day; "
    "a period spans at most 366 days. Creating: 201 without `If-Match`. Replacing: `If-Match` with "
    "the current ETag (428 without, 412 if stale); every push is a version under `/revisions`. A unit "
    "key writes its own figures, and those of a unit it succeeded (transitively) for that unit's "
    "lifetime, recorded in `written_by`; any other key 403. A period outside the unit's existence is "
    "409 naming its `predecessors` or `successors`. `Idempotency-Key`: a retry replays the first "
    "answer." + CONDITIONAL_PUT,
    responses={
        200: {"model": FigureSetOut, "description": "Replaced, or unchanged"},
        201: {"model": FigureSetOut, "description": "Created"},
        **problem_responses(403, 412, 413, 428, models={409: FigurePeriodConflict}),
    },
)
async def put_figure_set(
    session: SessionDep,
    key: FigureWriter,
    idempotency: IdempotencyDep,
    unit_id: UnitId,
    period: Period,
    body: FigureSetPut,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> FigureSetOut:
    def headers(out: FigureSetOut) -> dict[str, str]:
        return {"ETag": service.set_etag(out), "Location": f"/v1/units/{unit_id}/figures/{period}"}

    put = await idempotency.run(
        lambda: service.put_set(session, unit_id, period, body, if_match, key, if_none_match=if_none_match),
        response=response,
        status_code=lambda put: 201 if put.created else 200,
        headers=lambda put: headers(put.out),
        remembered=lambda put: put.out,
    )
    response.status_code = 201 if put.created else 200
    return put.out


@unit_figures_router.get(
    "/{period}/revisions",
    operation_id="listFigureSetRevisions",
    summary="Every version of a unit's figures for a period",
)
async def figure_set_revisions(
    session: SessionDep,
    _: CurrentKey,
    unit_id: UnitId,
    period: Period,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[FigureSetOut]]:
    record_id = await service.set_record_id(session, unit_id, period)
    return await list_revisions(
        session, RESOURCE, record_id, FigureSetOut, limit=limit, after=decode_cursor(cursor)
    )


@router.get(
    "",
    operation_id="listFigures",
    summary="Figures as pushed, one value per item",
    description="Each value with its set's unit, reporting year and period; filter by unit id, "
    "reporting year and metric key.",
)
async def list_figures(
    session: SessionDep,
    _: CurrentKey,
    unit: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="A unit's id."), PlainDecimal
    ] = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="The reporting year."), PlainDecimal
    ] = None,
    metric: Annotated[str | None, Query(pattern=METRIC_KEY, description="A metric's key.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[FigureItem]:
    return await service.list_values(
        session, unit=unit, year=year, metric=metric, limit=limit, offset=decode_cursor(cursor) or 0
    )


@router.get(
    "/template.csv",
    operation_id="getFiguresTemplate",
    summary="A CSV template for a bulk push, from the catalogue",
    description="UTF-8 with a BOM (spreadsheets read it as such): the Vietnamese header, then one "
    "row per metric of the catalogue with `chi_tieu` filled in, and `nam`, `tu_ngay`, `den_ngay` "
    "with a reporting year and its period: `year`'s default period (the statistical year, 15 "
    "December of the year before to 14 December, as dated data; the calendar year for a year no "
    "rule covers) or, with `cluster`, that cluster-year's reporting period (its covenant's own "
    "when it states one; 404 for no such cluster). Without `year`: the statistical year containing "
    "today in Vietnam (from 15 December, the next year's).",
    response_class=RawResponse,
    responses={
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": _TEMPLATE_EXAMPLE,
                }
            },
            "description": "The template",
        },
        **problem_responses(404),
    },
)
async def figures_template(
    request: Request,
    session: SessionDep,
    _: CurrentKey,
    year: Annotated[
        int | None,
        Query(ge=2000, le=2100, description="The reporting year (default: the one containing today)."),
        PlainDecimal,
    ] = None,
    cluster: Annotated[
        int | None,
        Query(ge=1, le=999, description="A cluster's number: its reporting period for the year."),
        PlainDecimal,
    ] = None,
) -> RawResponse:
    day = today(app_settings(request).timezone)
    body = await batch.template(session, year=year, cluster=cluster, today=day)
    return RawResponse(body, media_type="text/csv; charset=utf-8")


_CSV_DOC = (
    "**CSV** (`text/csv`, UTF-8 with or without a BOM, comma-separated, one header line): "
    "`don_vi_id` (unit id) or `ma_don_vi` (unit code) with `ngay_hieu_luc` (a day on which that code "
    "names the unit), `nam` (reporting year), `tu_ngay`, `den_ngay` (the period's first and last day, "
    "`YYYY-MM-DD`), `chi_tieu` (metric key), `gia_tri` (value) or `tu_so` and `mau_so` (a rate's "
    "numerator and denominator), optional `nguon` (source), `ghi_chu` (note) and `phien_ban` "
    "(expected version). Numbers are ASCII digits with a dot before decimals: no thousands separator, "
    "no sign, no exponent, no `%`; counts, amounts in đồng and a rate's parts are whole numbers. A "
    "value written the way a spreadsheet writes it (`1.250` for 1250, `98,5`, `01/07/2025`, a code `8` "
    "for `08`) is refused with what to write (`kind`: `thousands-separator`, `decimal-comma`, "
    "`date-format`, `leading-zero`, …), once per column (`repeated`). A quote that is never closed is a "
    "422 naming its line. The JSON field names are accepted as headers too; see "
    "`GET /v1/figures/template.csv`."
)


@router.post(
    ":batch",
    operation_id="recordFigures",
    summary="Push many figures at once, JSON or CSV (admin or a unit key)",
    description="All or nothing: every row is checked, and any bad row rejects the whole batch "
    "with a report (`rows`: row number as in the file, column, kind, problem; the first "
    "`FIGURES_BATCH_LISTED_PROBLEMS` in full, the rest counted per column and kind in "
    "`more_problems`), 422, or "
    "409 when every problem is a conflict with what is stored (a period outside the unit's "
    "existence, or an `expected_version` that is not the set's). Rows of one unit and period form a "
    "set, created or replaced as a new version (a replaced set's values are exactly the batch's). "
    "**If-Match in a batch**: a row may carry `expected_version`; without it, the set is created or "
    "replaced whatever its version. A unit key whose batch names a unit it may not write for (not "
    "its own, nor one it succeeded) gets 403 listing only those rows (`forbidden_rows`), whether or "
    "not such a unit exists. `dry_run=true` checks everything and answers as the push would (200 with the "
    "sets it would create or replace, or the same problem), writing nothing. "
    "`Idempotency-Key`: a retry with the same body replays the first answer. Bodies up to "
    "`MAX_BATCH_BYTES` (16 MiB by default) and `FIGURES_BATCH_MAX_ROWS` rows (10,000 by default; 413 "
    "`too-many-rows` past either, before any row is read). The key's right to every unit named is "
    "checked before the rows are. " + _CSV_DOC,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/FigureBatch"}},
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "ma_don_vi,ngay_hieu_luc,nam,tu_ngay,den_ngay,chi_tieu,gia_tri,tu_so,mau_so\n"
                    "34,2025-01-01,2025,2024-12-15,2025-06-14,social_order_crimes,412,,\n",
                },
            },
        }
    },
    responses=problem_responses(415, models=dict.fromkeys((403, 409, 413, 422), FiguresBatchProblem)),
)
async def push_figures(
    request: Request,
    session: SessionDep,
    key: BatchWriter,
    idempotency: IdempotencyDep,
    response: Response,
    dry_run: Annotated[bool, Query(description="Check and report without writing.")] = False,
) -> BatchReport:
    settings = request.app.state.settings
    limits = batch.Limits(settings.figures_batch_max_rows, settings.figures_batch_listed_problems)
    # The body's shape is checked, and its rows read, off the event loop: reads keep being served.
    rows = await asyncio.to_thread(
        batch.parse_body, await request.body(), request.headers.get("content-type"), limits
    )
    if dry_run:
        return await batch.push(session, rows, key, limits, dry_run=True)
    return await idempotency.run(
        lambda: batch.push(session, rows, key, limits, dry_run=False), response=response, status_code=200
    )
