"""CORS for the origins in `CORS_ORIGINS` (none by default), so that a web app on another origin
can call the API with its bearer key and read the headers it needs."""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from app.core.errors import problem_response
from app.core.i18n import _

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Accept-Language",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
)
EXPOSED_HEADERS = (
    "ETag",
    "Location",
    "X-Request-ID",
    "Idempotent-Replayed",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Content-Language",
    "WWW-Authenticate",
    "Allow",
    "Deprecation",
    "Sunset",
    "Link",
)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, answering a refused preflight with problem+json like every other 4xx."""

    def __init__(self, app: ASGIApp, *, origins: list[str], max_age: int) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=max_age,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode(errors="replace")
        problem = problem_response(
            response.status_code,
            slug="cors-refused",
            detail=_("{refused}. Allowed origins are set by CORS_ORIGINS.", refused=refused),
        )
        for name in ("vary", "access-control-allow-methods", "access-control-max-age"):
            if name in response.headers:
                problem.headers[name] = response.headers[name]
        return problem
