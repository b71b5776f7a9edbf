"""RFC 9457 problem details for every non-2xx answer."""

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app.core.i18n import N_, Localized, _, catalog, current_locale, label
from app.core.numbers import json_problem
from app.core.request_id import HEADER as REQUEST_ID_HEADER
from app.core.request_id import current_request_id
from app.core.unavailable import unavailable_cause
from app.core.validation import field_message

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"


class FieldError(BaseModel):
    loc: list[str] = Field(
        description="Where the error is: `body`, `query`, `path` or `header`, then the field path; a "
        'list item by its index as text (`["body", "targets", "0", "comparator"]`).'
    )
    message: Localized = Field(description="What is wrong, in the request's language.")
    type: str = Field(description="Pydantic's error type (`missing`, `int_type`, …), in every language.")


class Problem(BaseModel):
    """An RFC 9457 problem. Besides the standard members, a problem may carry the members below
    that apply to it; programs read those, people read `title` and `detail`.

    These are the members every feature shares or the core raises itself. A feature whose
    problems carry members of their own declares them in a subclass, in the feature
    (`MembershipConflict`, `FiguresBatchProblem`, …), and names it where the status is documented:
    `problem_responses(…, models={409: MembershipConflict})`."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "/problems/not-found",
                "title": "Không tìm thấy",
                "status": 404,
                "detail": "Không tìm thấy đơn vị có mã số 9999.",
                "instance": "/v1/units/9999",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
            }
        },
    )

    type: str = Field(default="about:blank", description="A URI reference naming the problem type.")
    title: Localized = Field(description="The status, in the request's language.")
    status: int
    detail: Localized | None = Field(default=None, description="What happened, in the request's language.")
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Field errors (validation).")
    request_id: str | None = Field(
        default=None, description="The request's `X-Request-ID`: quote it when reporting a problem."
    )
    field: str | None = Field(default=None, description="The request field the problem is about.")
    current_etag: str | None = Field(default=None, description="412: the ETag of the current version.")
    constraint: str | None = Field(default=None, description="The database rule the change breaks.")
    available: list[str] | None = Field(default=None, description="406: the media types served.")
    idempotency_key: str | None = Field(
        default=None, description="422: the `Idempotency-Key` already used with another request."
    )
    parameters: list[str] | None = Field(
        default=None,
        description="400: the query parameters the problem is about: those the operation does not "
        "take (`unknown-parameter`), or a parameter and its deprecated name given different values "
        "(`conflicting-parameters`).",
    )
    accepted_parameters: list[str] | None = Field(
        default=None,
        description="400 `unknown-parameter`: the query parameters the operation takes (deprecated "
        "names left out).",
    )


class AppError(Exception):
    """A problem raised by services; routers and handlers turn it into problem+json."""

    status = 400
    slug = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[FieldError] | None = None,
        **extra: Any,
    ) -> None:
        """`slug` names this problem's type (`/problems/<slug>`) where the class's own is too
        general: a client tells one 409 from another by `type`, never by `detail`."""
        super().__init__(detail)
        if slug is not None:
            self.slug = slug
        self.detail = detail
        self.headers = headers
        self.errors = errors
        self.extra = extra


class BadRequest(AppError):
    status, slug = 400, "bad-request"


class Unauthorized(AppError):
    status, slug = 401, "unauthorized"


class Forbidden(AppError):
    status, slug = 403, "forbidden"


class NotFound(AppError):
    status, slug = 404, "not-found"


class NotAcceptable(AppError):
    status, slug = 406, "not-acceptable"


class Conflict(AppError):
    status, slug = 409, "conflict"


class PreconditionFailed(AppError):
    status, slug = 412, "precondition-failed"


class UnsupportedMediaType(AppError):
    status, slug = 415, "unsupported-media-type"


class Unprocessable(AppError):
    status, slug = 422, "unprocessable"


class PreconditionRequired(AppError):
    status, slug = 428, "precondition-required"


class DatabaseUnavailable(AppError):
    status, slug = 503, "database-unavailable"


TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    406: N_("Not Acceptable"),
    409: N_("Conflict"),
    412: N_("Precondition Failed"),
    413: N_("Content Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Content"),
    428: N_("Precondition Required"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}
"""Problem titles by status, translated (other statuses keep the English reason phrase)."""


def problem_response(
    status: int,
    *,
    slug: str | None = None,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": _(TITLES[status]) if status in TITLES else HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = [e.model_dump() for e in errors]
    body.update(extra)
    request_id = current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
        headers = {**(headers or {}), REQUEST_ID_HEADER: request_id}
    response = JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)
    # Also here, for the 500s the server's error handler sends outside LanguageMiddleware (and
    # outside NoSniffMiddleware).
    label(response.headers, current_locale())
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# SQLSTATE → (status, slug). The services name the conflicts they expect; these are the rest.
_SQLSTATE = {
    "23P01": (409, "overlapping-period"),
    "23505": (409, "already-exists"),
    "23503": (422, "reference-not-found"),
    "23514": (422, "constraint-violated"),
    "23502": (422, "constraint-violated"),
    "40001": (409, "concurrent-update"),
    "40P01": (409, "concurrent-update"),
}


def sqlstate(error: DBAPIError) -> str | None:
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)


def constraint_name(error: DBAPIError) -> str | None:
    cause = getattr(getattr(error, "orig", None), "__cause__", None)
    return getattr(cause, "constraint_name", None)


def _json_media(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _reads_json(request: Request) -> bool:
    """Whether the route matched reads its body as JSON (not a form or a file upload)."""
    body = getattr(request.scope.get("route"), "body_field", None)
    return body is not None and not isinstance(body.field_info, params.Form)


def _body_refused(exc: RequestValidationError) -> bool:
    return any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())


def install_error_handlers(app: FastAPI, *, retry_after: int) -> None:
    """Problem+json for every error; `retry_after` seconds on 503s when the database is unavailable."""

    async def app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return problem_response(
            exc.status,
            slug=exc.slug,
            detail=exc.detail,
            headers=exc.headers,
            instance=request.url.path,
            errors=exc.errors,
            **exc.extra,
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        undecodable = [e for e in exc.errors() if e.get("type") == "json_invalid"]
        if undecodable:
            loc = list(undecodable[0].get("loc", ()))
            position = loc[-1] if loc and isinstance(loc[-1], int) else None
            return problem_response(
                400,
                slug="malformed-body",
                detail=json_problem(str(undecodable[0].get("ctx", {}).get("error", "")), position),
                instance=request.url.path,
            )
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media and not _json_media(media) and _reads_json(request) and _body_refused(exc):
            return problem_response(
                415,
                slug="unsupported-media-type",
                detail=_(
                    "This operation reads a JSON body: send it with `Content-Type: application/json` "
                    "(this one is {media}).",
                    media=media,
                ),
                instance=request.url.path,
            )
        errors = [
            FieldError(
                loc=[str(part) for part in e.get("loc", ())],
                message=field_message(e),
                type=str(e.get("type", "")),
            )
            for e in exc.errors()
        ]
        return problem_response(
            422,
            slug="validation",
            detail=_("The request is not valid; see `errors`."),
            instance=request.url.path,
            errors=errors,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        slug = None
        if exc.status_code == 404 and detail == "Not Found":
            detail = _("No resource at {path}.", path=request.url.path)
        elif exc.status_code == 405:
            detail = _("{method} is not allowed here.", method=request.method)
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        elif exc.status_code == 400:
            slug = "malformed-body"
            detail = _("The request body cannot be decoded.")
        return problem_response(
            exc.status_code, slug=slug, detail=detail, headers=headers, instance=request.url.path
        )

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        """An outage, or constraint violations and bad data the services did not name themselves."""
        cause = unavailable_cause(exc)
        if cause is not None:
            return database_unavailable(request, cause)
        if not isinstance(exc, DBAPIError):
            return await unexpected_error(request, exc)
        state = sqlstate(exc)
        if state is not None and state.startswith("22"):
            return problem_response(
                422,
                slug="invalid-data",
                detail=_("A value cannot be stored as given."),
                instance=request.url.path,
            )
        if state not in _SQLSTATE:
            return await unexpected_error(request, exc)
        status, slug = _SQLSTATE[state]
        name = constraint_name(exc)
        detail = (
            _("The change breaks the rule `{constraint}`.", constraint=name)
            if name
            else _("The change breaks a rule of the data.")
        )
        return problem_response(status, slug=slug, detail=detail, instance=request.url.path, constraint=name)

    def database_unavailable(request: Request, cause: str) -> JSONResponse:
        """503, and one line in the log (an outage is not a bug: no traceback)."""
        logger.warning("database unavailable: %s %s (%s)", request.method, request.url.path, cause)
        return problem_response(
            DatabaseUnavailable.status,
            slug=DatabaseUnavailable.slug,
            detail=_(
                "The database is unavailable or did not answer in time; retry in {seconds} s.",
                seconds=retry_after,
            ),
            headers={"Retry-After": str(retry_after)},
            instance=request.url.path,
        )

    async def client_gone(request: Request, exc: Exception) -> JSONResponse:
        """The client closed the connection before its body ended (a truncated upload): not the
        server's error, and nothing was written. Answered (to nobody) as the malformed body it is,
        so the metrics count a 400, not a 500."""
        logger.info("client disconnected during its body: %s %s", request.method, request.url.path)
        return problem_response(
            400,
            slug="malformed-body",
            detail=_("The request body ended before it was complete (the client disconnected)."),
            instance=request.url.path,
        )

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            500, slug="internal", detail=_("An unexpected error occurred."), instance=request.url.path
        )

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    # Driver errors can arrive unwrapped: a refused connection, a timeout, the pool's own timeout.
    for driver_error in (SQLAlchemyError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        app.add_exception_handler(driver_error, database_error)
    app.add_exception_handler(Exception, unexpected_error)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the API serves at `path` (one path can span several routes); HEAD wherever
    GET (`app.core.head`)."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allowed_methods", None)
    if table is None:
        table = [
            (
                re.compile("^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"),
                sorted(m.upper() for m in operations),
            )
            for template, operations in app.openapi()["paths"].items()
        ]
        app.state.allowed_methods = table
    allowed = {m for pattern, methods in table if pattern.match(path) for m in methods}
    return sorted((allowed | {"HEAD"}) if "GET" in allowed else allowed)


RETRY_AFTER_HEADER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}
ACCEPT_ENCODING_HEADER = {
    "Accept-Encoding": {
        "description": "`identity` when the body had a `Content-Encoding` (RFC 7694): send it as is.",
        "schema": {"type": "string"},
    }
}


_REQUEST_ID = "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f"
DEFAULT_EXAMPLE_LOCALE = "vi"
_EXAMPLE_PROBLEMS: dict[int, dict[str, Any]] = {
    400: {
        "type": "/problems/malformed-body",
        "detail": "Nội dung yêu cầu không phải JSON hợp lệ (ở ký tự thứ 17).",
        "instance": "/v1/clusters/5/years/2025/covenant",
    },
    401: {
        "type": "/problems/unauthorized",
        "detail": "Cần có khóa API: `Authorization: Bearer <key>`.",
        "instance": "/v1/clusters/5/years/2025",
    },
    403: {
        "type": "/problems/forbidden",
        "detail": "Thao tác này cần khóa quản trị hoặc khóa của chính Cụm này.",
        "instance": "/v1/clusters/5/years/2025/covenant",
    },
    404: {
        "type": "/problems/not-found",
        "detail": "Không tìm thấy đơn vị có mã số 9999.",
        "instance": "/v1/units/9999",
    },
    406: {
        "type": "/problems/not-acceptable",
        "detail": "Tài nguyên này được cung cấp dưới dạng JSON, CSV hoặc XLSX; `Accept` không chấp "
        "nhận dạng nào trong số đó.",
        "instance": "/v1/clusters/5/years/2025",
        "available": [
            "application/json",
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ],
    },
    409: {
        "type": "/problems/not-a-member",
        "detail": "Đơn vị chủ trì (đơn vị 14) không phải là thành viên của Cụm 5 năm 2025.",
        "instance": "/v1/clusters/5/years/2025/covenant",
        "field": "host_unit_id",
    },
    412: {
        "type": "/problems/precondition-failed",
        "detail": "Bản ghi đã thay đổi kể từ lần đọc trước; vui lòng đọc lại rồi thực hiện lại.",
        "instance": "/v1/clusters/5/years/2025/covenant",
        "current_etag": '"covenant-5-2025-v3"',
    },
    413: {
        "type": "/problems/payload-too-large",
        "detail": "Nội dung yêu cầu vượt quá 1048576 byte.",
        "instance": "/v1/clusters/5/years/2025/covenant",
    },
    415: {
        "type": "/problems/unsupported-media-type",
        "detail": "Nội dung phải là `application/json`.",
        "instance": "/v1/clusters/5/years/2025/covenant",
    },
    422: {
        "type": "/problems/validation",
        "detail": "Yêu cầu không hợp lệ; xem chi tiết tại `errors`.",
        "instance": "/v1/clusters/5/years/2025/covenant",
        "errors": [
            {
                "loc": ["body", "targets", "0", "comparator"],
                "message": "Phải là một trong các giá trị: 'lt', 'le', 'eq', 'ge', 'gt'.",
                "type": "enum",
            }
        ],
    },
    428: {
        "type": "/problems/precondition-required",
        "detail": "Hãy gửi `If-Match` kèm ETag của lần đọc gần nhất, để không ghi đè thay đổi của "
        "người khác.",
        "instance": "/v1/clusters/5/years/2025/covenant",
    },
    429: {
        "type": "/problems/rate-limited",
        "detail": "Quá nhiều yêu cầu: hạn mức `reads` chỉ cho phép 600 yêu cầu trong 60 giây; vui "
        "lòng thử lại sau 12 giây.",
        "instance": "/v1/clusters/5/years/2025",
    },
    500: {
        "type": "/problems/internal",
        "detail": "Đã xảy ra lỗi ngoài dự kiến.",
        "instance": "/v1/clusters/5/years/2025",
    },
    503: {
        "type": "/problems/database-unavailable",
        "detail": "Cơ sở dữ liệu không khả dụng hoặc không phản hồi kịp; vui lòng thử lại sau 2 giây.",
        "instance": "/v1/clusters/5/years/2025",
    },
}
PROBLEM_EXAMPLES: dict[int, dict[str, Any]] = {
    status: {"title": TITLES[status], "status": status, "request_id": _REQUEST_ID, **example}
    for status, example in _EXAMPLE_PROBLEMS.items()
}
"""One example per status for the contract: a problem each status really answers, in the default
language (Vietnamese; the title is translated where it is shown, `_example`), so that a 401 is not
shown with a 404's detail."""


def problem_examples() -> dict[str, dict[str, Any]]:
    """The contract's `components/examples`: `Problem<status>` for each status, its title
    translated; each problem response refers to its own (`problem_responses`)."""
    translated = catalog(DEFAULT_EXAMPLE_LOCALE)
    return {
        f"Problem{status}": {
            "summary": example["type"],
            "value": {**example, "title": translated.get(example["title"], example["title"])},
        }
        for status, example in PROBLEM_EXAMPLES.items()
    }


def problem_responses(
    *statuses: int, models: Mapping[int, type[Problem]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, typed as problem+json.

    Each status is documented as a `Problem`, or as the subclass `models` names for it: a
    feature's problem with members of its own (`models={409: MembershipConflict}`). A status
    `models` names is documented whether or not it is also listed.

    Operations with a body (413) can also meet an undecodable one (400) and refuse a
    `Content-Encoding` (415); operations that reach the database (500) can also find it
    unavailable (503).
    """
    models = models or {}
    statuses = (*statuses, *(s for s in models if s not in statuses))
    if 413 in statuses:
        statuses = (400, *statuses, *(() if 415 in statuses else (415,)))
    if 500 in statuses:
        statuses = (*statuses, 503)
    descriptions = {
        400: "The body is not decodable (e.g. not UTF-8)",
        401: "Missing or invalid API key",
        403: "The key's role may not do this",
        404: "Not found",
        406: "None of the media types `Accept` names (nor `format`) is served here",
        409: "Conflicts with the stored state",
        412: "`If-Match` does not match the current version, or `If-None-Match` does (`*`: the record "
        "exists)",
        413: "Request body too large",
        415: "The body's media type is not one the operation reads, or it has a `Content-Encoding` "
        "(none is accepted: send it as is)",
        422: "Validation failed; `errors` lists the fields",
        428: "`If-Match` is required to change a versioned record",
        500: "Unexpected error (no internals are revealed)",
        503: "The database is unavailable or did not answer in time; retry after `Retry-After` seconds",
    }
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = models.get(status, Problem)
        responses[status] = {
            "model": model,
            "description": descriptions[status],
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": f"#/components/schemas/{model.__name__}"},
                    "examples": {"problem": {"$ref": f"#/components/examples/Problem{status}"}},
                }
            },
            **({"headers": RETRY_AFTER_HEADER} if status == 503 else {}),
            **({"headers": ACCEPT_ENCODING_HEADER} if status == 415 else {}),
        }
    return responses
