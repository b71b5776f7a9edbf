import asyncio
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import Response as RawResponse

from app.auth.dependencies import CurrentKey
from app.auth.principal import Principal
from app.auth.roles import Role
from app.core.config import Settings, app_settings
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.etag import CONDITIONAL_PUT, IfNoneMatch
from app.core.exports import content_disposition
from app.core.idempotency import IdempotencyDep
from app.core.negotiation import preferences
from app.core.numbers import ExactNumberRoute
from app.core.openapi import register_request_model
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch, UnitId
from app.core.revisions import RevisionOut, list_revisions
from app.core.time import today
from app.core.types import PlainDecimal
from app.figures import batch, service, template
from app.figures.problems import FigurePeriodConflict, FiguresBatchProblem
from app.figures.queries import RESOURCE
from app.figures.schemas import METRIC_KEY, BatchReport, FigureBatch, FigureItem, FigureSetOut, FigureSetPut
from app.figures.workbook import XLSX

BATCH_PATH = "/v1/figures:batch"
_TEMPLATE_EXAMPLE = (
    "\ufeffdon_vi_id,ma_don_vi,ngay_hieu_luc,nam,tu_ngay,den_ngay,chi_tieu,ten_chi_tieu,don_vi_tinh,"
    "gia_tri,tu_so,mau_so,nguon,ghi_chu,phien_ban\r\n,33,2025-12-15,2026,2025-12-15,2026-12-14,"
    "social_order_crimes,Tội phạm về trật tự xã hội,vụ,,,,,,\r\n"
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


class TemplateFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _template_format(accept: str | None, requested: TemplateFormat | None) -> TemplateFormat:
    """`format` when given; else XLSX when `Accept` prefers it to CSV; else CSV (also for an
    `Accept` that admits neither: the template has no other representation)."""
    if requested is not None:
        return requested
    ranges = preferences(accept)

    def quality(media: str) -> float:
        for candidate in (media, media.split("/")[0] + "/*", "*/*"):
            matching = [r.q for r in ranges if r.value == candidate]
            if matching:
                return max(matching)
        return 0.0

    better = quality(XLSX) > quality("text/csv")
    return TemplateFormat.xlsx if better else TemplateFormat.csv


@router.get(
    "/template.csv",
    operation_id="getFiguresTemplate",
    summary="A template for a bulk push, CSV or XLSX, pre-filled for the caller's unit",
    description="One row per metric of the catalogue: `chi_tieu` (its key), and for people to read "
    "`ten_chi_tieu` (its name, in the request's language) and `don_vi_tinh` (its unit of measure), "
    "which a push ignores; `nam`, `tu_ngay`, `den_ngay` hold a reporting year and its period: "
    "`year`'s default period (the statistical year, 15 December of the year before to 14 December, "
    "as dated data; the calendar year for a year no rule covers) or, with `cluster`, that "
    "cluster-year's reporting period (its covenant's own when it states one; 404 for no such "
    "cluster). Without `year`: the statistical year containing today in Vietnam (from 15 December, "
    "the next year's).\n\n"
    "**The unit**: a unit key (or a person with a unit grant) gets its own unit filled in "
    "(`ma_don_vi`, `ngay_hieu_luc`), and the period kept to the days the unit exists; `unit` names "
    "another (by id): for an admin any unit (404 for none), for a unit key a unit it may write "
    "figures for (its predecessors), 403 otherwise, the same whether the unit exists; 409 "
    "`unit-not-in-period` for a unit that does not exist in the period. Without it, an admin's "
    "template leaves the unit to be filled in.\n\n"
    "**CSV** (the default): UTF-8 with a BOM, the ASCII header. **XLSX** (`?format=xlsx`, or "
    "`Accept` preferring the XLSX media type): the same columns under their Vietnamese labels "
    "(`Mã đơn vị`, `Từ ngày`, …, accepted by a push), code cells formatted as text, days as dates, "
    "data validation on the unit codes of the period, the metric keys, the days and the numbers, the "
    "lists on a sheet `Danh mục` and the instructions on `Hướng dẫn`. Fill it in and push it back "
    "as it is (`POST /v1/figures:batch`).",
    response_class=RawResponse,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": _TEMPLATE_EXAMPLE},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
            "headers": {
                "Content-Disposition": {
                    "description": "`attachment` with the file name (`mau-so-lieu-2026-33.xlsx`).",
                    "schema": {"type": "string"},
                },
            },
            "description": "The template",
        },
        **problem_responses(403, 404, models={409: FigurePeriodConflict}),
    },
)
async def figures_template(
    request: Request,
    session: SessionDep,
    key: CurrentKey,
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
    unit: Annotated[
        int | None,
        Query(
            ge=1,
            le=2_147_483_647,
            description="The unit to fill in, by id (default: a unit key's own; none for an admin).",
        ),
        PlainDecimal,
    ] = None,
    format_: Annotated[
        TemplateFormat | None,
        Query(alias="format", description="`csv` or `xlsx`; overrides `Accept`."),
    ] = None,
) -> RawResponse:
    settings = app_settings(request)
    fmt = _template_format(request.headers.get("accept"), format_)
    content = await template.template(
        session, key, year=year, cluster=cluster, unit=unit, today=today(settings.timezone)
    )
    if fmt is TemplateFormat.xlsx:
        body = await asyncio.to_thread(
            template.xlsx_bytes,
            content,
            max_rows=settings.figures_batch_max_rows,
            max_bytes=settings.max_batch_bytes,
            max_unpacked=_max_unpacked(settings),
        )
        media = XLSX
    else:
        body, media = template.csv_bytes(content), "text/csv; charset=utf-8"
    return RawResponse(
        body,
        media_type=media,
        headers={
            "Content-Disposition": content_disposition(f"{content.filename}.{fmt.value}"),
            "Vary": "Accept",
        },
    )


def _max_unpacked(settings: Settings) -> int:
    """The most bytes an XLSX batch's parts inflate to (`MAX_XLSX_INFLATED_BYTES`)."""
    return settings.max_xlsx_inflated_bytes


_CSV_DOC = (
    "**CSV** (`text/csv`, UTF-8 with or without a BOM, comma-separated, one header line): "
    "`don_vi_id` (unit id) or `ma_don_vi` (unit code) with `ngay_hieu_luc` (a day on which that code "
    "names the unit), `nam` (reporting year), `tu_ngay`, `den_ngay` (the period's first and last day, "
    "`YYYY-MM-DD`), `chi_tieu` (metric key), `gia_tri` (value) or `tu_so` and `mau_so` (a rate's "
    "numerator and denominator), optional `nguon` (source), `ghi_chu` (note) and `phien_ban` "
    "(expected version); `ten_chi_tieu` and `don_vi_tinh` (the template's columns to read) are "
    "ignored. Numbers are ASCII digits with a dot before decimals: no thousands separator, "
    "no sign, no exponent, no `%`; counts, amounts in đồng and a rate's parts are whole numbers. A "
    "value written the way a spreadsheet writes it (`1.250` for 1250, `98,5`, `01/07/2025`, a code `8` "
    "for `08`) is refused with what to write (`kind`: `thousands-separator`, `decimal-comma`, "
    "`date-format`, `leading-zero`, …), once per column (`repeated`). A quote that is never closed is a "
    "422 naming its line. A header may also name a column by its JSON field name or its Vietnamese "
    "label (`Mã đơn vị`, `Từ ngày`, `Đến ngày`, `Năm`, `Chỉ tiêu`, `Giá trị`, `Tử số`, `Mẫu số`, "
    "`Nguồn`, `Ghi chú`, `Phiên bản`, `Đơn vị (id)`, `Ngày hiệu lực`), in any case and spacing; see "
    "`GET /v1/figures/template.csv`.\n\n"
    "**XLSX** (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`, the template's "
    "workbook filled in): the sheet `Số liệu` (else the first sheet), its row 1 the header, each "
    "row numbered as the sheet shows it, under the rules of the CSV; a date cell is a day (a time of "
    "day is refused), a number cell a number (an integral one is whole; a fractional one is "
    "`not-whole` where a whole number is due; one of 2^53 or more, `imprecise-number`), a code typed as "
    "the number `8` is `leading-zero`. Limits, each checked before the next: the body "
    "(`MAX_BATCH_BYTES`); the zip's directory (at most 1,000 parts); the parts' declared sizes, "
    "together at most `MAX_BATCH_BYTES` unpacked (413 `payload-too-large` before anything is "
    "inflated: a zip bomb); the bytes actually inflated, counted against the same cap (a part "
    "holding more than it declares is refused, 400 `malformed-body`); then openpyxl's read-only "
    "mode, every row to the sheet's end whatever dimension it declares, the first 64 columns, at "
    "most `FIGURES_BATCH_MAX_ROWS` rows (413 `too-many-rows`) and twice that counting blank ones. "
    "An older `.xls` or a password-protected workbook is 400 `malformed-body`."
)


@router.post(
    ":batch",
    operation_id="recordFigures",
    summary="Push many figures at once, JSON, CSV or XLSX (admin or a unit key)",
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
                XLSX: {"schema": {"type": "string", "format": "binary"}},
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
    limits = batch.Limits(
        settings.figures_batch_max_rows, settings.figures_batch_listed_problems, _max_unpacked(settings)
    )
    # The body's shape is checked, and its rows read, off the event loop: reads keep being served.
    rows = await asyncio.to_thread(
        batch.parse_body, await request.body(), request.headers.get("content-type"), limits
    )
    if dry_run:
        return await batch.push(session, rows, key, limits, dry_run=True)
    return await idempotency.run(
        lambda: batch.push(session, rows, key, limits, dry_run=False), response=response, status_code=200
    )
